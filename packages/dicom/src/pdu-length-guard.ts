const P_DATA_TF = 0x04;
const HEADER_BYTES = 6;
/** A-ASSOCIATE-RQ/AC carry presentation contexts and user items: a few KB in practice. */
const MAX_CONTROL_PDU_BYTES = 64 * 1024;

/** Why a PDU header was refused. */
export interface PduViolation {
  type: number;
  length: number;
  limit: number;
}

/**
 * Watches PDU headers on the raw byte stream of an association. dcmjs-dimse accumulates a
 * whole PDU in memory (re-concatenating every chunk) before looking at it, whatever length
 * the header claims: a peer announcing 4 GB would be buffered until memory runs out. This
 * sees each header as soon as its 6 bytes arrive, so the connection is cut after at most one
 * chunk. P-DATA-TF PDUs may not exceed the maxPduLength we advertised.
 */
export class PduLengthGuard {
  readonly #maxPduLength: number;
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerFill = 0;
  /** Body bytes of the current PDU still to come. */
  #remaining = 0;

  constructor(maxPduLength: number) {
    this.#maxPduLength = maxPduLength;
  }

  /** Feeds the next chunk; returns the first violation found, if any. */
  feed(chunk: Buffer): PduViolation | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#remaining > 0) {
        const skip = Math.min(this.#remaining, chunk.length - offset);
        this.#remaining -= skip;
        offset += skip;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.#headerFill, chunk.length - offset);
      chunk.copy(this.#header, this.#headerFill, offset, offset + take);
      this.#headerFill += take;
      offset += take;
      if (this.#headerFill < HEADER_BYTES) return undefined;
      this.#headerFill = 0;
      const type = this.#header.readUInt8(0);
      const length = this.#header.readUInt32BE(2);
      const limit = type === P_DATA_TF ? this.#maxPduLength : MAX_CONTROL_PDU_BYTES;
      if (length > limit) return { type, length, limit };
      this.#remaining = length;
    }
    return undefined;
  }
}

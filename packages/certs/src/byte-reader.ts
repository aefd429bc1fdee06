import { CertsError } from "./certs-error.js";

/**
 * Big-endian reads over a buffer that fail with ERR_CERTS_CORRUPT_KEYSTORE instead of a
 * RangeError, so a truncated keystore is reported as such, with its file name.
 */
export class ByteReader {
  readonly #bytes: Buffer;
  readonly #file: string;
  #offset = 0;

  constructor(bytes: Buffer, file: string) {
    this.#bytes = bytes;
    this.#file = file;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  u16(): number {
    return this.take(2).readUInt16BE(0);
  }

  u32(): number {
    return this.take(4).readUInt32BE(0);
  }

  /** A Java `long`; keystores hold a creation time here that nobody needs. */
  skipU64(): void {
    this.take(8);
  }

  /** A u32 length, then that many bytes. */
  lengthPrefixed(): Buffer {
    return this.take(this.u32());
  }

  /** A Java `DataOutput.writeUTF` string: u16 length, then modified UTF-8. */
  javaUtf(): string {
    return decodeModifiedUtf8(this.take(this.u16()));
  }

  take(length: number): Buffer {
    if (length > this.remaining) {
      throw new CertsError(
        "ERR_CERTS_CORRUPT_KEYSTORE",
        `${this.#file} ends early (wanted ${length} bytes at offset ${this.#offset}, ${this.remaining} left); the keystore is truncated or not a keystore. Copy it again in binary mode.`,
        { details: { file: this.#file, offset: this.#offset } },
      );
    }
    const slice = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return slice;
  }
}

/**
 * Java's modified UTF-8: NUL is two bytes and characters beyond the BMP are surrogate pairs
 * of three bytes each, so it is decoded to UTF-16 units directly rather than as UTF-8.
 */
function decodeModifiedUtf8(bytes: Buffer): string {
  const units: number[] = [];
  for (let i = 0; i < bytes.length;) {
    const first = bytes[i] ?? 0;
    if (first < 0x80) {
      units.push(first);
      i += 1;
    } else if ((first & 0xe0) === 0xc0) {
      units.push(((first & 0x1f) << 6) | ((bytes[i + 1] ?? 0) & 0x3f));
      i += 2;
    } else {
      units.push(
        ((first & 0x0f) << 12) | (((bytes[i + 1] ?? 0) & 0x3f) << 6) | ((bytes[i + 2] ?? 0) & 0x3f),
      );
      i += 3;
    }
  }
  return units.map((unit) => String.fromCharCode(unit)).join("");
}

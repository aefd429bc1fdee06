import { MllpError, MllpFrameTooLargeError } from "./errors.js";

/**
 * How messages are delimited on the byte stream:
 * - `MLLP`: start block 0x0B, end block 0x1C 0x0D (both configurable, as in Mirth);
 * - `FRAME`: custom start and end byte sequences (the start may be empty);
 * - `RAW`: no framing; a message ends when the peer closes or after an idle gap.
 */
export type FramingMode = "MLLP" | "RAW" | "FRAME";

/** Bytes as Mirth writes them ("0B", "1C0D", "0x1C 0x0D") or as bytes. */
export type FrameBytes = string | Uint8Array | readonly number[];

export interface FramingOptions {
  /** Default `MLLP`. */
  mode?: FramingMode;
  /** Start block; default 0x0B for MLLP. Required (may be empty) for FRAME. */
  startBytes?: FrameBytes;
  /** End block; default 0x1C 0x0D for MLLP. Required and non-empty for FRAME. */
  endBytes?: FrameBytes;
  /** Largest frame accepted, in bytes of content; default 64 MiB. */
  maxFrameBytes?: number;
  /**
   * Accept an end block whose trailing CR (0x0D) is missing: the frame ends at the bytes
   * before it, and a CR that follows is swallowed. Default true for MLLP, false for FRAME.
   */
  lenientEnd?: boolean;
}

/** Framing with every default applied; what the decoder and encoder use. */
export interface ResolvedFraming {
  mode: FramingMode;
  start: Buffer;
  end: Buffer;
  maxFrameBytes: number;
  lenientEnd: boolean;
}

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
const MLLP_START = Buffer.from([0x0b]);
const MLLP_END = Buffer.from([0x1c, 0x0d]);
const CR = 0x0d;

/** Parses Mirth-style hex ("1C0D", "0x1C 0x0D", "1c,0d") or copies bytes. */
export function parseFrameBytes(value: FrameBytes, setting: string): Buffer {
  if (typeof value !== "string") {
    const bytes = Buffer.from(value as Uint8Array);
    if (Array.from(value as ArrayLike<number>).some((b) => !Number.isInteger(b) || b < 0 || b > 255)) {
      throw invalid(`${setting} holds a value that is not a byte (0-255)`);
    }
    return bytes;
  }
  const hex = value.replace(/0x/gi, "").replace(/[\s,:]/g, "");
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) {
    throw invalid(`${setting} "${value}" is not a sequence of hex bytes such as "0B" or "1C0D"`);
  }
  return Buffer.from(hex, "hex");
}

/** Applies defaults and checks the framing; throws ERR_MLLP_INVALID_OPTIONS. */
export function resolveFraming(options: FramingOptions = {}): ResolvedFraming {
  const mode = options.mode ?? "MLLP";
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1) {
    throw invalid(`maxFrameBytes must be a positive integer, not ${String(maxFrameBytes)}`);
  }
  if (mode === "RAW") {
    return { mode, start: Buffer.alloc(0), end: Buffer.alloc(0), maxFrameBytes, lenientEnd: false };
  }
  if (mode !== "MLLP" && mode !== "FRAME") throw invalid(`unknown framing mode "${String(mode)}"`);
  if (mode === "FRAME" && options.endBytes === undefined) {
    throw invalid("FRAME mode needs endBytes (and usually startBytes)");
  }
  const start = options.startBytes === undefined ? (mode === "MLLP" ? MLLP_START : Buffer.alloc(0)) : parseFrameBytes(options.startBytes, "startBytes");
  const end = options.endBytes === undefined ? MLLP_END : parseFrameBytes(options.endBytes, "endBytes");
  if (end.length === 0) throw invalid("endBytes is empty; use RAW mode for unframed messages");
  if (mode === "MLLP" && start.length === 0) throw invalid("startBytes is empty; MLLP needs a start block");
  return { mode, start, end, maxFrameBytes, lenientEnd: options.lenientEnd ?? mode === "MLLP" };
}

/** Wraps one message in the start and end blocks (RAW: the bytes as they are); strings are encoded first. */
export function encodeFrame(payload: Buffer | string, framing: ResolvedFraming, encoding: BufferEncoding = "utf8"): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, encoding) : payload;
  if (framing.mode === "RAW") return body;
  return Buffer.concat([framing.start, body, framing.end]);
}

/**
 * Splits a byte stream into frames. Push every chunk read from the socket; each call returns
 * the frames it completed, in order. Handles frames split across reads, many frames in one
 * read, and bytes before a start block (discarded, counted in `discardedBytes`). A frame
 * larger than maxFrameBytes throws `MllpFrameTooLargeError`; the decoder is then unusable
 * and the connection should be closed. Memory stays linear in the frame size: chunks are
 * kept as a list and joined once.
 */
export class FrameDecoder {
  readonly framing: ResolvedFraming;
  /** Bytes seen outside any frame (before a start block), discarded. */
  discardedBytes = 0;
  /** Frames completed so far. */
  frameCount = 0;
  readonly #end: Buffer;
  readonly #swallow: number | undefined;
  #inFrame: boolean;
  /** Content chunks of the frame being read (or of the RAW message). */
  #chunks: Buffer[] = [];
  #length = 0;
  /** Bytes of a possible start block split across reads. */
  #startCarry: Buffer = Buffer.alloc(0);
  #pendingSwallow = false;
  #failed = false;

  constructor(framing: FramingOptions | ResolvedFraming = {}) {
    this.framing = isResolved(framing) ? framing : resolveFraming(framing);
    const { end, lenientEnd, mode } = this.framing;
    const lenient = lenientEnd && end.length >= 2 && end[end.length - 1] === CR;
    this.#end = lenient ? end.subarray(0, end.length - 1) : end;
    this.#swallow = lenient ? CR : undefined;
    this.#inFrame = mode === "RAW" || this.framing.start.length === 0;
  }

  /** Bytes held for an unfinished frame (or RAW message). */
  get bufferedBytes(): number {
    return this.#length;
  }

  /** True while part of a frame has been read but not its end. */
  get inFrame(): boolean {
    if (this.framing.mode === "RAW" || this.framing.start.length === 0) return this.#length > 0;
    return this.#inFrame;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.#failed) throw new MllpError("ERR_MLLP_INVALID_OPTIONS", "the frame decoder failed earlier and cannot be reused");
    const frames: Buffer[] = [];
    if (this.framing.mode === "RAW") {
      this.#append(chunk);
      return frames;
    }
    let data = chunk;
    while (data.length > 0) {
      if (this.#pendingSwallow) {
        this.#pendingSwallow = false;
        if (data[0] === this.#swallow) data = data.subarray(1);
        continue;
      }
      data = this.#inFrame ? this.#readFrame(data, frames) : this.#seekStart(data);
    }
    return frames;
  }

  /**
   * The peer closed, or (RAW) went quiet: returns the RAW message buffered so far. For MLLP
   * and FRAME an unfinished frame cannot be trusted and is dropped; its size is returned in
   * `droppedBytes` so it can be logged.
   */
  flush(): { frame: Buffer | undefined; droppedBytes: number } {
    const length = this.#length;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#length = 0;
    if (this.framing.mode === "RAW") {
      return { frame: length === 0 ? undefined : Buffer.concat(chunks, length), droppedBytes: 0 };
    }
    const dropped = length + (this.#inFrame && this.framing.start.length > 0 ? this.framing.start.length : 0);
    this.#inFrame = this.framing.start.length === 0;
    this.discardedBytes += this.#startCarry.length;
    this.#startCarry = Buffer.alloc(0);
    return { frame: undefined, droppedBytes: dropped };
  }

  #seekStart(chunk: Buffer): Buffer {
    const start = this.framing.start;
    const data = this.#startCarry.length === 0 ? chunk : Buffer.concat([this.#startCarry, chunk]);
    const index = data.indexOf(start);
    if (index === -1) {
      // Keep the longest tail that could still begin a start block.
      const keep = longestPrefixSuffix(data, start);
      this.discardedBytes += data.length - keep;
      this.#startCarry = Buffer.from(data.subarray(data.length - keep));
      return Buffer.alloc(0);
    }
    this.discardedBytes += index;
    this.#startCarry = Buffer.alloc(0);
    this.#inFrame = true;
    return data.subarray(index + start.length);
  }

  #readFrame(chunk: Buffer, frames: Buffer[]): Buffer {
    const end = this.#end;
    // The end block may have begun in the previous read: search from its possible start.
    const overlap = Math.min(end.length - 1, this.#length);
    const view = overlap === 0 ? chunk : Buffer.concat([this.#tail(overlap), chunk]);
    const index = view.indexOf(end);
    if (index === -1) {
      this.#append(chunk);
      return Buffer.alloc(0);
    }
    const frameLength = this.#length - overlap + index;
    if (frameLength > this.framing.maxFrameBytes) this.#tooLarge();
    if (index > overlap) this.#chunks.push(chunk.subarray(0, index - overlap));
    const frame = Buffer.concat(this.#chunks, frameLength);
    this.#chunks = [];
    this.#length = 0;
    this.#inFrame = this.framing.start.length === 0;
    this.frameCount++;
    frames.push(frame);
    if (this.#swallow !== undefined) this.#pendingSwallow = true;
    return chunk.subarray(index - overlap + end.length);
  }

  #append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#length += chunk.length;
    // An unfinished frame may hold the first bytes of the end block, hence the allowance.
    if (this.#length > this.framing.maxFrameBytes + Math.max(this.#end.length - 1, 0)) this.#tooLarge();
    this.#chunks.push(chunk);
  }

  #tail(count: number): Buffer {
    const parts: Buffer[] = [];
    let needed = count;
    for (let i = this.#chunks.length - 1; i >= 0 && needed > 0; i--) {
      const part = this.#chunks[i]!;
      const take = Math.min(needed, part.length);
      parts.unshift(part.subarray(part.length - take));
      needed -= take;
    }
    return Buffer.concat(parts);
  }

  #tooLarge(): never {
    this.#failed = true;
    this.#chunks = [];
    this.#length = 0;
    throw new MllpFrameTooLargeError(this.framing.maxFrameBytes);
  }
}

function isResolved(value: FramingOptions | ResolvedFraming): value is ResolvedFraming {
  return Buffer.isBuffer((value as ResolvedFraming).start) && Buffer.isBuffer((value as ResolvedFraming).end);
}

/** Length of the longest proper prefix of `pattern` that `data` ends with. */
function longestPrefixSuffix(data: Buffer, pattern: Buffer): number {
  for (let length = Math.min(pattern.length - 1, data.length); length > 0; length--) {
    if (data.subarray(data.length - length).equals(pattern.subarray(0, length))) return length;
  }
  return 0;
}

function invalid(message: string): MllpError {
  return new MllpError("ERR_MLLP_INVALID_OPTIONS", `invalid framing: ${message}.`);
}

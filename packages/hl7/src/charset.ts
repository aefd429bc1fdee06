import { Hl7CharsetError, Hl7Error } from "./errors.js";

/** How the text of a message maps to and from bytes. */
export interface Hl7Charset {
  /** Normalized name: "ascii", "latin1", "utf-8", "windows-1252", "iso-8859-2", ... */
  readonly name: string;
  decode(bytes: Uint8Array): string;
  encode(text: string): Buffer;
}

/**
 * HL7 table 0211 names (and the aliases senders use in practice) to our normalized
 * names. Multi-byte Asian sets and UTF-16/32 are absent on purpose: an MSH we cannot read
 * as ASCII, or bytes we cannot write back, would break the round trip.
 */
const CHARSET_NAMES: Record<string, string> = {
  ASCII: "ascii",
  "ISO IR6": "ascii",
  "US-ASCII": "ascii",
  "8859/1": "latin1",
  "ISO IR100": "latin1",
  "ISO-8859-1": "latin1",
  "ISO8859-1": "latin1",
  LATIN1: "latin1",
  "8859/2": "iso-8859-2",
  "8859/3": "iso-8859-3",
  "8859/4": "iso-8859-4",
  "8859/5": "iso-8859-5",
  "8859/6": "iso-8859-6",
  "8859/7": "iso-8859-7",
  "8859/8": "iso-8859-8",
  "8859/9": "iso-8859-9",
  "8859/15": "iso-8859-15",
  "UNICODE UTF-8": "utf-8",
  "UTF-8": "utf-8",
  UTF8: "utf-8",
  "WINDOWS-1252": "windows-1252",
  CP1252: "windows-1252",
};

/** The charset used when MSH-18 is empty, unless the caller names another. */
export const DEFAULT_CHARSET = "latin1";

/** By normalized name and by MSH-18 label as written. */
const cache = new Map<string, Hl7Charset>();

/**
 * The charset for an MSH-18 value (or a normalized name). Unknown names throw rather
 * than guess: silently decoding with the wrong table produces mojibake in a chart.
 */
export function resolveCharset(msh18: string, fallback: string = DEFAULT_CHARSET): Hl7Charset {
  const known = msh18 === "" ? undefined : cache.get(msh18);
  if (known !== undefined) return known;
  const label = msh18.trim() === "" ? fallback : msh18.trim();
  const name = CHARSET_NAMES[label.toUpperCase()] ?? normalizedName(label);
  if (name === undefined) {
    throw new Hl7CharsetError(
      "ERR_HL7_UNSUPPORTED_CHARSET",
      "MSH-18 names a character set that is not supported",
      { position: { segment: 1 } },
    );
  }
  let charset = cache.get(name);
  if (charset === undefined) {
    charset = createCharset(name);
    cache.set(name, charset);
  }
  // Also remember the label as written, so the next message skips the normalization.
  if (msh18 !== "" && cache.size < 256) cache.set(msh18, charset);
  return charset;
}

function normalizedName(label: string): string | undefined {
  const lower = label.toLowerCase();
  return Object.values(CHARSET_NAMES).includes(lower) ? lower : undefined;
}

function createCharset(name: string): Hl7Charset {
  switch (name) {
    case "latin1":
      return rangeCharset(name, 0xff);
    case "ascii":
      return rangeCharset(name, 0x7f);
    case "utf-8":
      return utf8Charset();
    default:
      return singleByteCharset(name);
  }
}

/** ASCII and Latin-1 are the first 128/256 code points, so Buffer's latin1 codec is exact. */
function rangeCharset(name: string, max: number): Hl7Charset {
  return {
    name,
    decode(bytes) {
      if (max < 0xff) {
        const bad = bytes.findIndex((byte) => byte > max);
        if (bad !== -1) throw invalidBytes(bad);
      }
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
    },
    encode(text) {
      for (let i = 0; i < text.length; i++) {
        if (text.charCodeAt(i) > max) throw unencodable(name, i);
      }
      return Buffer.from(text, "latin1");
    },
  };
}

function utf8Charset(): Hl7Charset {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  return {
    name: "utf-8",
    decode(bytes) {
      try {
        return decoder.decode(bytes);
      } catch (error) {
        throw invalidBytes(undefined, error);
      }
    },
    encode(text) {
      const lone = firstLoneSurrogate(text);
      if (lone !== -1) throw unencodable("utf-8", lone);
      return Buffer.from(text, "utf8");
    },
  };
}

/**
 * Single-byte sets through a 256-entry table built once from TextDecoder. The WHATWG
 * tables map "iso-8859-9" to windows-1254, so bytes 0x80-0x9F of every ISO 8859 part are
 * pinned to the C1 controls the ISO standard puts there.
 */
function singleByteCharset(name: string): Hl7Charset {
  const decoder = new TextDecoder(name);
  const table = new Uint16Array(256);
  const valid = new Uint8Array(256);
  const reverse = new Map<number, number>();
  for (let byte = 0; byte < 256; byte++) {
    const char = decoder.decode(Uint8Array.of(byte));
    const iso = name.startsWith("iso-8859-") && byte >= 0x80 && byte <= 0x9f;
    const code = iso ? byte : char.charCodeAt(0);
    if (char.length !== 1 || (code === 0xfffd && !iso)) continue;
    table[byte] = code;
    valid[byte] = 1;
    reverse.set(code, byte);
  }
  const utf16 = new TextDecoder("utf-16le");
  return {
    name,
    decode(bytes) {
      const units = new Uint16Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) {
        const byte = bytes[i] ?? 0;
        if (valid[byte] === 0) throw invalidBytes(i);
        units[i] = table[byte] ?? 0;
      }
      return utf16.decode(units);
    },
    encode(text) {
      const out = Buffer.allocUnsafe(text.length);
      for (let i = 0; i < text.length; i++) {
        const byte = reverse.get(text.charCodeAt(i));
        if (byte === undefined) throw unencodable(name, i);
        out[i] = byte;
      }
      return out;
    },
  };
}

function firstLoneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (code >= 0xdc00 && code <= 0xdfff) return i;
  }
  return -1;
}

function invalidBytes(offset: number | undefined, cause?: unknown): Hl7CharsetError {
  return new Hl7CharsetError(
    "ERR_HL7_INVALID_BYTES",
    "The message bytes are not valid in the character set declared by MSH-18",
    { position: offset === undefined ? {} : { offset }, cause },
  );
}

function unencodable(name: string, offset: number): Hl7Error {
  return new Hl7Error(
    "ERR_HL7_UNENCODABLE_CHARACTER",
    `The character at offset ${offset} cannot be written in ${name}`,
  );
}

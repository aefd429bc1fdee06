import type { Hl7Charset } from "./charset.js";
import type { Hl7Delimiters } from "./delimiters.js";

/** The explicit HL7 null: a field holding `""` means "delete this value", unlike an empty one. */
export const HL7_NULL = '""';

/**
 * Escapes text for use as one HL7 value (§2.7): every delimiter, the escape character
 * itself and line breaks (which would end the segment) become escape sequences.
 */
export function escapeHl7(value: string, delimiters: Hl7Delimiters): string {
  const { field, component, repetition, escape, subcomponent, truncation } = delimiters;
  let out = "";
  let last = 0;
  for (let i = 0; i < value.length; i++) {
    const char = value.charAt(i);
    let sequence: string | undefined;
    if (char === escape) sequence = "E";
    else if (char === field) sequence = "F";
    else if (char === component) sequence = "S";
    else if (char === subcomponent) sequence = "T";
    else if (char === repetition) sequence = "R";
    else if (char === truncation) sequence = "P";
    else if (char === "\r") sequence = "X0D";
    else if (char === "\n") sequence = "X0A";
    if (sequence === undefined) continue;
    out += value.slice(last, i) + escape + sequence + escape;
    last = i + 1;
  }
  return last === 0 ? value : out + value.slice(last);
}

/**
 * Decodes the escape sequences of one raw value. Delimiter escapes and `\Xhh..\` become
 * text; charset switches (`\C..\`, `\M..\`), `\Z..\` and formatting codes (`\.br\`,
 * `\H\`, `\N\`, ...) have no plain-text meaning and stay as written, as do unknown ones.
 */
export function unescapeHl7(raw: string, delimiters: Hl7Delimiters, charset?: Hl7Charset): string {
  const escape = delimiters.escape;
  let start = raw.indexOf(escape);
  if (start === -1) return raw;
  let out = "";
  let last = 0;
  while (start !== -1) {
    const end = raw.indexOf(escape, start + 1);
    if (end === -1) break;
    const decoded = decodeSequence(raw.slice(start + 1, end), delimiters, charset);
    if (decoded === undefined) {
      start = raw.indexOf(escape, end + 1);
      continue;
    }
    out += raw.slice(last, start) + decoded;
    last = end + 1;
    start = raw.indexOf(escape, last);
  }
  return out + raw.slice(last);
}

function decodeSequence(
  body: string,
  delimiters: Hl7Delimiters,
  charset: Hl7Charset | undefined,
): string | undefined {
  switch (body) {
    case "F":
      return delimiters.field;
    case "S":
      return delimiters.component;
    case "T":
      return delimiters.subcomponent;
    case "R":
      return delimiters.repetition;
    case "E":
      return delimiters.escape;
    case "P":
      return delimiters.truncation;
    default:
      return body.charAt(0) === "X" ? decodeHex(body.slice(1), charset) : undefined;
  }
}

function decodeHex(hex: string, charset: Hl7Charset | undefined): string | undefined {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const bytes = Buffer.from(hex, "hex");
  if (charset === undefined) return bytes.toString("latin1");
  try {
    return charset.decode(bytes);
  } catch {
    // Bytes the charset rejects are kept as the sender wrote them rather than guessed at.
    return undefined;
  }
}

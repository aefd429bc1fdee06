import { resolveCharset } from "./charset.js";
import { readDelimiters, type Hl7Delimiters } from "./delimiters.js";
import { Hl7ParseError } from "./errors.js";
import { Hl7Message } from "./hl7-message.js";
import { Hl7Segment, segmentName, type Hl7Codec } from "./hl7-segment.js";

export interface ParseHl7Options {
  /**
   * The charset assumed when MSH-18 is empty. HL7 says ASCII; "latin1" (the default)
   * accepts the 8859-1 bytes many senders omit to declare, and is lossless either way.
   */
  defaultCharset?: string;
}

const CR = 13;
const LF = 10;
const BOM = "\uFEFF";
/** The UTF-8 byte-order mark EF BB BF as the header line, read as Latin-1, shows it. */
const UTF8_BOM_AS_LATIN1 = "\u00EF\u00BB\u00BF";

/**
 * Parses one ER7 message. Delimiters come from its MSH-1/MSH-2; segments end with CR,
 * LF or CRLF. For bytes, MSH-18 is read from the (ASCII) MSH first and decides how the
 * rest is decoded. Throws `Hl7ParseError` (or a subclass) and nothing else for bad input.
 */
export function parseHl7(input: Buffer | string, options: ParseHl7Options = {}): Hl7Message {
  const bytes = typeof input === "string" ? undefined : input;
  const head = bytes === undefined ? (input as string) : headerLine(bytes);
  const bom = head.startsWith(BOM)
    ? BOM
    : head.startsWith(UTF8_BOM_AS_LATIN1)
      ? UTF8_BOM_AS_LATIN1
      : "";
  const prefixLength = lineBreaksAt(head, bom.length);
  const startsWithMsh = head.startsWith("MSH", prefixLength);
  if (
    !startsWithMsh &&
    head.trim() === "" &&
    (bytes === undefined || bytes.toString("latin1").trim() === "")
  ) {
    throw new Hl7ParseError("ERR_HL7_EMPTY_INPUT", "The input holds no HL7 message");
  }
  if (!startsWithMsh) {
    throw new Hl7ParseError(
      "ERR_HL7_MISSING_MSH",
      "The message does not start with an MSH segment",
      {
        position: { segment: 1, offset: prefixLength },
      },
    );
  }
  const delimiters = readDelimiters(head, prefixLength);
  // A UTF-8 byte-order mark is as good a declaration as an empty MSH-18 gets.
  const fallback = bom === UTF8_BOM_AS_LATIN1 ? "utf-8" : options.defaultCharset;
  const charset = resolveCharset(msh18(head, prefixLength, delimiters), fallback);
  const text = bytes === undefined ? head : charset.decode(bytes);
  // Line breaks are one byte in every supported charset; only UTF-8 shrinks the mark.
  const textPrefix =
    bom === UTF8_BOM_AS_LATIN1 && charset.name === "utf-8" ? prefixLength - 2 : prefixLength;
  const codec: Hl7Codec = { delimiters, charset };
  const segments: Hl7Segment[] = [];
  const separators: string[] = [];
  const length = text.length;
  let position = textPrefix;
  let nextCr = text.indexOf("\r", position);
  let nextLf = text.indexOf("\n", position);
  while (position < length) {
    if (nextCr !== -1 && nextCr < position) nextCr = text.indexOf("\r", position);
    if (nextLf !== -1 && nextLf < position) nextLf = text.indexOf("\n", position);
    let end = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextCr, nextLf);
    if (end === -1) end = length;
    const after = lineBreaksAt(text, end);
    const raw = text.slice(position, end);
    const name = segmentName(raw, delimiters.field);
    if (name === undefined) {
      if (after === length && raw.trim() === "" && separators.length > 0) {
        // Padding after the last segment belongs to its terminator, so it round-trips.
        separators[separators.length - 1] += raw;
        break;
      }
      throw new Hl7ParseError(
        "ERR_HL7_INVALID_SEGMENT_NAME",
        "A segment does not start with a valid name",
        {
          position: { segment: segments.length + 1, offset: position },
        },
      );
    }
    if (name === "MSH" && segments.length > 0) {
      throw new Hl7ParseError(
        "ERR_HL7_MULTIPLE_MESSAGES",
        "A second MSH segment starts another message; split the input first",
        {
          position: { segment: segments.length + 1, offset: position },
        },
      );
    }
    segments.push(new Hl7Segment(raw, name, codec));
    separators.push(text.slice(end, after));
    position = after;
  }
  return new Hl7Message({
    codec,
    segments,
    separators,
    prefix: text.slice(0, textPrefix),
    text,
    ...(bytes === undefined ? {} : { bytes }),
  });
}

/** End of the run of CR/LF characters starting at `start`. */
function lineBreaksAt(text: string, start: number): number {
  let end = start;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    if (code !== CR && code !== LF) break;
    end++;
  }
  return end;
}

/** The first line that is not a line break, as Latin-1: MSH is ASCII whatever MSH-18 says. */
function headerLine(bytes: Buffer): string {
  let start = 0;
  while (start < bytes.length && (bytes[start] === CR || bytes[start] === LF)) start++;
  let end = start;
  while (end < bytes.length && bytes[end] !== CR && bytes[end] !== LF) end++;
  return bytes.toString("latin1", 0, end);
}

/** The first repetition's first component of MSH-18, read from the raw MSH line. */
function msh18(text: string, start: number, delimiters: Hl7Delimiters): string {
  const separator = delimiters.field.charCodeAt(0);
  const repetition = delimiters.repetition.charCodeAt(0);
  const component = delimiters.component.charCodeAt(0);
  // One pass over the MSH line: count field separators (the one after "MSH" is the first).
  let separators = 1;
  let valueStart = -1;
  for (let i = start + 4; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === CR || code === LF) return valueStart === -1 ? "" : text.slice(valueStart, i);
    if (valueStart === -1) {
      if (code === separator && ++separators === 17) valueStart = i + 1;
    } else if (code === separator || code === repetition || code === component) {
      return text.slice(valueStart, i);
    }
  }
  return valueStart === -1 ? "" : text.slice(valueStart);
}

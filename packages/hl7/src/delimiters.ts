import { Hl7ParseError } from "./errors.js";

/** The separators of one message, read from its MSH-1 and MSH-2. */
export interface Hl7Delimiters {
  readonly field: string;
  readonly component: string;
  readonly repetition: string;
  readonly escape: string;
  readonly subcomponent: string;
  /** The v2.7 truncation character, the optional fifth character of MSH-2. */
  readonly truncation?: string;
  readonly segment: "\r";
}

export const DEFAULT_DELIMITERS: Hl7Delimiters = Object.freeze({
  field: "|",
  component: "^",
  repetition: "~",
  escape: "\\",
  subcomponent: "&",
  segment: "\r",
});

/** MSH-2 exactly as a sender would write it for these delimiters. */
export function encodingCharacters(delimiters: Hl7Delimiters): string {
  const { component, repetition, escape, subcomponent, truncation } = delimiters;
  return component + repetition + escape + subcomponent + (truncation ?? "");
}

/** Valid delimiter sets seen so far: nearly every message of a feed uses the same one. */
const cache = new Map<string, Hl7Delimiters>();
const CACHE_LIMIT = 256;

/**
 * Reads the delimiters of the header segment (MSH, FHS or BHS) starting at `start`.
 * A delimiter may not be alphanumeric, a line break or a duplicate of another one:
 * any of those would make the message ambiguous to split.
 */
export function readDelimiters(text: string, start = 0): Hl7Delimiters {
  const field = text.charAt(start + 3);
  if (!isDelimiterChar(field)) {
    throw new Hl7ParseError("ERR_HL7_INVALID_DELIMITERS", "MSH-1 is not a valid field separator", {
      position: { segment: 1, offset: start + 3 },
    });
  }
  let end = start + 4;
  while (end < text.length && end < start + 10) {
    const char = text.charAt(end);
    if (char === field || char === "\r" || char === "\n") break;
    end++;
  }
  const chars = text.slice(start + 4, end);
  const cached = cache.get(field + chars);
  if (cached !== undefined) return cached;
  const unique = new Set(chars + field);
  const valid =
    (chars.length === 4 || chars.length === 5) &&
    unique.size === chars.length + 1 &&
    [...chars].every(isDelimiterChar);
  if (!valid) {
    throw new Hl7ParseError(
      "ERR_HL7_INVALID_DELIMITERS",
      "MSH-2 must hold 4 or 5 distinct encoding characters",
      { position: { segment: 1, offset: start + 4 } },
    );
  }
  const delimiters: Hl7Delimiters = {
    field,
    component: chars.charAt(0),
    repetition: chars.charAt(1),
    escape: chars.charAt(2),
    subcomponent: chars.charAt(3),
    segment: "\r",
    ...(chars.length === 5 ? { truncation: chars.charAt(4) } : {}),
  };
  Object.freeze(delimiters);
  if (cache.size < CACHE_LIMIT) cache.set(field + chars, delimiters);
  return delimiters;
}

function isDelimiterChar(char: string): boolean {
  if (char.length !== 1) return false;
  const code = char.charCodeAt(0);
  const alphanumeric =
    (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
  return !alphanumeric && code !== 13 && code !== 10;
}

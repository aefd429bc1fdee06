import type { Hl7Charset } from "./charset.js";
import type { Hl7Delimiters } from "./delimiters.js";
import { Hl7UsageError } from "./errors.js";
import { escapeHl7, unescapeHl7 } from "./escape.js";
import { parseHl7Path, type Hl7Path } from "./hl7-path.js";

/**
 * Keys of the location-based accessors `Hl7Message` uses, so that it does not parse a
 * path twice; symbols keep them off the public surface.
 */
export const readLocation = Symbol("readLocation");
export const writeLocation = Symbol("writeLocation");

/** What a segment needs from its message to read and write values. */
export interface Hl7Codec {
  readonly delimiters: Hl7Delimiters;
  readonly charset: Hl7Charset;
}

/** The part of a path below the segment. */
export type Hl7FieldLocation = Pick<Hl7Path, "field" | "repetition" | "component" | "subcomponent">;

/**
 * One segment. It keeps its raw text and splits it into fields only when a field is
 * read or written; an untouched segment serializes as exactly the text it came from.
 */
export class Hl7Segment {
  readonly name: string;
  readonly #codec: Hl7Codec;
  readonly #isMsh: boolean;
  #raw: string | undefined;
  #fields: string[] | undefined;
  #modified = false;

  /** Built by the parser and `Hl7Message.addSegment`; `name` is the three-character segment ID. */
  constructor(raw: string, name: string, codec: Hl7Codec) {
    this.#raw = raw;
    this.name = name;
    this.#codec = codec;
    this.#isMsh = name === "MSH";
  }

  /** True once any value of this segment was set. */
  get modified(): boolean {
    return this.#modified;
  }

  /** Number of fields after the segment name (for MSH, counting MSH-1). */
  get fieldCount(): number {
    const fields = this.#split();
    return this.#isMsh ? fields.length : fields.length - 1;
  }

  /** Decoded value at a segment-relative path such as `5.1` or `3[2].4.2`; see `Hl7Message.get`. */
  get(path: string): string | undefined {
    return this[readLocation](this.#relative(path), true);
  }

  /** Raw ER7 text at a segment-relative path, escape sequences untouched. */
  getRaw(path: string): string | undefined {
    return this[readLocation](this.#relative(path), false);
  }

  /** Escapes `value` and stores it at a segment-relative path, creating what is missing. */
  set(path: string, value: string): void {
    this[writeLocation](this.#relative(path), escapeHl7(value, this.#codec.delimiters));
  }

  /** Stores raw ER7 text (delimiters and escapes kept as given) at a segment-relative path. */
  setRaw(path: string, raw: string): void {
    this[writeLocation](this.#relative(path), raw);
  }

  /** Decoded values of each repetition of a field (1-based field number). */
  repetitions(field: number): string[] {
    const raw = this[readLocation]({ field }, false);
    if (raw === undefined) return [];
    if (this.#isMsh && field <= 2) return [raw];
    const count = raw.split(this.#codec.delimiters.repetition).length;
    return Array.from(
      { length: count },
      (_, i) => this[readLocation]({ field, repetition: i + 1 }, true) ?? "",
    );
  }

  toString(): string {
    this.#raw ??= this.#split().join(this.#codec.delimiters.field);
    return this.#raw;
  }

  /** Reads a location; `decode` applies the rule documented on `Hl7Message.get`. */
  [readLocation](location: Hl7FieldLocation, decode: boolean): string | undefined {
    const { field, repetition, component, subcomponent } = location;
    if (field === undefined) return this.toString();
    const d = this.#codec.delimiters;
    if (this.#isMsh && field <= 2) {
      const atomic = field === 1 ? d.field : this.#split()[1];
      const whole = (repetition ?? 1) === 1 && (component ?? 1) === 1 && (subcomponent ?? 1) === 1;
      return whole ? atomic : undefined;
    }
    const index = this.#isMsh ? field - 1 : field;
    // Reads of an untouched segment scan its text instead of splitting it into an array.
    let value =
      this.#fields === undefined ? piece(this.#raw ?? "", d.field, index + 1) : this.#fields[index];
    if (value === undefined) return undefined;
    let level = 0;
    if (repetition !== undefined || component !== undefined) {
      value = piece(value, d.repetition, repetition ?? 1);
      level = 1;
    }
    if (value !== undefined && component !== undefined) {
      value = piece(value, d.component, component);
      level = 2;
    }
    if (value !== undefined && subcomponent !== undefined) {
      value = piece(value, d.subcomponent, subcomponent);
      level = 3;
    }
    if (value === undefined || !decode) return value;
    // Decoding a value that still has structure below it would make its escaped
    // delimiters indistinguishable from real ones, so such values stay raw.
    if (level < 3 && value.includes(d.subcomponent)) return value;
    if (level < 2 && value.includes(d.component)) return value;
    if (level < 1 && value.includes(d.repetition)) return value;
    return unescapeHl7(value, d, this.#codec.charset);
  }

  /** Stores raw text at a location, padding missing fields/repetitions/components. */
  [writeLocation](location: Hl7FieldLocation, raw: string): void {
    const { field, repetition, component, subcomponent } = location;
    if (field === undefined) {
      throw new Hl7UsageError(
        "ERR_HL7_INVALID_PATH",
        "A path to set must name a field, e.g. PID.5",
      );
    }
    if (this.#isMsh && field <= 2) {
      throw new Hl7UsageError(
        "ERR_HL7_READ_ONLY",
        "MSH-1 and MSH-2 define the delimiters and cannot be set",
      );
    }
    const d = this.#codec.delimiters;
    const fields = this.#split();
    const index = this.#isMsh ? field - 1 : field;
    while (fields.length <= index) fields.push("");
    if (repetition === undefined && component === undefined) {
      fields[index] = raw;
    } else {
      const reps = padded(fields[index] ?? "", d.repetition, repetition ?? 1);
      const r = (repetition ?? 1) - 1;
      if (component === undefined) {
        reps[r] = raw;
      } else {
        const comps = padded(reps[r] ?? "", d.component, component);
        if (subcomponent === undefined) {
          comps[component - 1] = raw;
        } else {
          const subs = padded(comps[component - 1] ?? "", d.subcomponent, subcomponent);
          subs[subcomponent - 1] = raw;
          comps[component - 1] = subs.join(d.subcomponent);
        }
        reps[r] = comps.join(d.component);
      }
      fields[index] = reps.join(d.repetition);
    }
    this.#raw = undefined;
    this.#modified = true;
  }

  /** A path for this segment: relative (`5.1`) or naming this segment (`PID.5.1`). */
  #relative(path: string): Hl7Path {
    const parsed = parseHl7Path(path);
    if ((parsed.segment !== undefined && parsed.segment !== this.name) || parsed.occurrence !== 1) {
      throw new Hl7UsageError(
        "ERR_HL7_INVALID_PATH",
        `Invalid path '${path.slice(0, 40)}' for a ${this.name} segment: use a relative path such as 5.1`,
      );
    }
    return parsed;
  }

  #split(): string[] {
    this.#fields ??= (this.#raw ?? "").split(this.#codec.delimiters.field);
    return this.#fields;
  }
}

/** The `index`-th (1-based) piece of `text` split on `separator`, without splitting it all. */
function piece(text: string, separator: string, index: number): string | undefined {
  let start = 0;
  for (let i = 1; i < index; i++) {
    const next = text.indexOf(separator, start);
    if (next === -1) return undefined;
    start = next + 1;
  }
  const end = text.indexOf(separator, start);
  return end === -1 ? text.slice(start) : text.slice(start, end);
}

/** `text` split on `separator`, with empty pieces added up to `count`. */
function padded(text: string, separator: string, count: number): string[] {
  const pieces = text.split(separator);
  while (pieces.length < count) pieces.push("");
  return pieces;
}

/**
 * The name of the segment whose raw text is `raw`, or undefined when it does not start
 * with an upper-case letter and two upper-case letters or digits, followed by the field separator or its end.
 */
export function segmentName(raw: string, fieldSeparator: string): string | undefined {
  if (raw.length < 3 || (raw.length > 3 && raw.charAt(3) !== fieldSeparator)) return undefined;
  for (let i = 0; i < 3; i++) {
    const code = raw.charCodeAt(i);
    const letter = code >= 65 && code <= 90;
    // A leading digit is never an HL7 segment ID, and could not be an XML element name.
    if (!(letter || (i > 0 && code >= 48 && code <= 57))) return undefined;
  }
  return raw.slice(0, 3);
}

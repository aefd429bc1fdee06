import { escapeHl7, HL7_NULL } from "./escape.js";
import type { Hl7Delimiters } from "./delimiters.js";
import { Hl7UsageError } from "./errors.js";
import { parseHl7Path, type Hl7Path } from "./hl7-path.js";
import {
  Hl7Segment,
  readLocation,
  segmentName,
  writeLocation,
  type Hl7Codec,
} from "./hl7-segment.js";
import { hl7ToXml } from "./hl7-to-xml.js";

const LINEAR_SEARCH_LIMIT = 32;

/** @internal What the parser hands to a new message. */
export interface Hl7MessageInit {
  codec: Hl7Codec;
  segments: Hl7Segment[];
  /** The line-break run after each segment ("" after the last when the input had none). */
  separators: string[];
  /** Line breaks before MSH, kept so the text round-trips. */
  prefix: string;
  text: string;
  bytes?: Buffer;
}

/**
 * A parsed HL7 v2 message. Values stay raw until read; an untouched message serializes
 * to exactly its input, and a changed one re-encodes only the segments that changed.
 */
export class Hl7Message implements Iterable<Hl7Segment> {
  readonly delimiters: Hl7Delimiters;
  /** The normalized charset name used to decode and encode the bytes. */
  readonly charset: string;
  readonly #codec: Hl7Codec;
  readonly #segments: Hl7Segment[];
  readonly #separators: string[];
  readonly #prefix: string;
  /** The input text, or undefined once segments were added or removed. */
  #text: string | undefined;
  readonly #bytes: Buffer | undefined;
  #index: Map<string, Hl7Segment[]> | undefined;

  /** @internal Use `parseHl7` or `hl7FromXml`. */
  constructor(init: Hl7MessageInit) {
    this.#codec = init.codec;
    this.delimiters = init.codec.delimiters;
    this.charset = init.codec.charset.name;
    this.#segments = init.segments;
    this.#separators = init.separators;
    this.#prefix = init.prefix;
    this.#text = init.text;
    this.#bytes = init.bytes;
  }

  /**
   * The decoded text at `path` (`PID.5.1`, `PID.3[2].1`, `OBX[3].5`, `PID.3.4.2`), or
   * undefined when the segment or element is absent. A value that still contains
   * delimiters of a lower level (a whole field with components, a whole segment) is
   * returned raw, because decoding it would blur escaped and real delimiters. An explicit
   * HL7 null comes back as `""` (two quote characters); see `isNull`.
   */
  get(path: string): string | undefined {
    const parsed = parseHl7Path(path);
    return this.#find(parsed)?.[readLocation](parsed, true);
  }

  /** The raw ER7 text at `path`, escape sequences untouched. */
  getRaw(path: string): string | undefined {
    const parsed = parseHl7Path(path);
    return this.#find(parsed)?.[readLocation](parsed, false);
  }

  /** True when the element at `path` holds the explicit HL7 null `""`, not merely nothing. */
  isNull(path: string): boolean {
    return this.getRaw(path) === HL7_NULL;
  }

  /** Escapes `value` and stores it at `path`, creating missing segments, fields, repetitions and components. */
  set(path: string, value: string): void {
    this.setRaw(path, escapeHl7(value, this.delimiters));
  }

  /** Stores raw ER7 text at `path`: delimiters in it structure the value, escapes stay as written. */
  setRaw(path: string, raw: string): void {
    const parsed = parseHl7Path(path);
    const name = requireSegment(parsed, path);
    let segment = this.#find(parsed);
    while (segment === undefined) {
      this.addSegment(name);
      segment = this.#find(parsed);
    }
    segment[writeLocation](parsed, raw);
  }

  /** The segments in order, or only those named `name`. */
  segments(name?: string): Hl7Segment[] {
    if (name === undefined) return [...this.#segments];
    return [...(this.#byName().get(name) ?? [])];
  }

  [Symbol.iterator](): Iterator<Hl7Segment> {
    return this.segments()[Symbol.iterator]();
  }

  /** The decoded value of each repetition of the field at `path`, e.g. `PID.3`. */
  repetitions(path: string): string[] {
    const parsed = parseHl7Path(path);
    if (parsed.field === undefined) return [];
    return this.#find(parsed)?.repetitions(parsed.field) ?? [];
  }

  /**
   * Inserts a segment, by default at the end. `text` is raw ER7 (`"ZPI|1|A^B"`) or its
   * raw fields (`["ZPI", "1", "A^B"]`); use `set` afterwards for values that need escaping.
   */
  addSegment(text: string | string[], index?: number): Hl7Segment {
    const raw = typeof text === "string" ? text : text.join(this.delimiters.field);
    const name = segmentName(raw, this.delimiters.field);
    const at = index ?? this.#segments.length;
    if (
      name === undefined ||
      name === "MSH" ||
      /[\r\n]/.test(raw) ||
      at < 1 ||
      at > this.#segments.length
    ) {
      throw new Hl7UsageError(
        "ERR_HL7_INVALID_SEGMENT",
        "A new segment must be one line starting with a 3-character name other than MSH, placed after MSH",
      );
    }
    const segment = new Hl7Segment(raw, name, this.#codec);
    if (at === this.#segments.length) {
      const last = this.#separators.length - 1;
      const trailing = this.#separators[last] ?? "";
      this.#separators[last] = trailing === "" ? "\r" : trailing;
      this.#separators.push(trailing);
    } else {
      this.#separators.splice(at, 0, "\r");
    }
    this.#segments.splice(at, 0, segment);
    this.#structureChanged();
    return segment;
  }

  /** Removes the `occurrence`-th (1-based) segment named `name`; false when there is none. */
  removeSegment(name: string, occurrence = 1): boolean {
    if (name === "MSH") {
      throw new Hl7UsageError("ERR_HL7_READ_ONLY", "The MSH segment cannot be removed");
    }
    const segment = this.#byName().get(name)?.[occurrence - 1];
    if (segment === undefined) return false;
    const at = this.#segments.indexOf(segment);
    const [separator] = this.#separators.splice(at, 1);
    if (at === this.#segments.length - 1) this.#separators[at - 1] = separator ?? "";
    this.#segments.splice(at, 1);
    this.#structureChanged();
    return true;
  }

  /** ER7 text: the input itself when nothing changed. */
  toString(): string {
    if (this.#text !== undefined && !this.#segments.some((segment) => segment.modified)) {
      return this.#text;
    }
    let out = this.#prefix;
    for (let i = 0; i < this.#segments.length; i++) {
      out += String(this.#segments[i]) + (this.#separators[i] ?? "\r");
    }
    return out;
  }

  /** The bytes in the message's charset: a copy of the input bytes when nothing changed. */
  toBuffer(): Buffer {
    const text = this.toString();
    if (this.#bytes !== undefined && text === this.#text) return Buffer.from(this.#bytes);
    return this.#codec.charset.encode(text);
  }

  /** The message in Mirth's HL7Message XML layout; see the README. */
  toXml(): string {
    return hl7ToXml(this);
  }

  /** MSH-9.1, e.g. "ADT". */
  get messageType(): string | undefined {
    return this.get("MSH.9.1");
  }

  /** MSH-9.2, e.g. "A01". */
  get triggerEvent(): string | undefined {
    return this.get("MSH.9.2");
  }

  /** MSH-10, the message control id. */
  get controlId(): string | undefined {
    return this.get("MSH.10");
  }

  /** MSH-12 (its first component), e.g. "2.5.1". */
  get version(): string | undefined {
    return this.get("MSH.12.1");
  }

  #find(path: Hl7Path): Hl7Segment | undefined {
    const name = requireSegment(path, path.segment ?? "");
    if (this.#segments.length > LINEAR_SEARCH_LIMIT)
      return this.#byName().get(name)?.[path.occurrence - 1];
    // A typical message has a dozen segments: scanning them beats building an index.
    let remaining = path.occurrence;
    for (const segment of this.#segments) {
      if (segment.name === name && --remaining === 0) return segment;
    }
    return undefined;
  }

  #byName(): Map<string, Hl7Segment[]> {
    if (this.#index === undefined) {
      this.#index = new Map();
      for (const segment of this.#segments) {
        const list = this.#index.get(segment.name);
        if (list === undefined) this.#index.set(segment.name, [segment]);
        else list.push(segment);
      }
    }
    return this.#index;
  }

  #structureChanged(): void {
    this.#index = undefined;
    this.#text = undefined;
  }
}

function requireSegment(path: Hl7Path, text: string): string {
  if (path.segment === undefined) {
    throw new Hl7UsageError(
      "ERR_HL7_INVALID_PATH",
      `Invalid HL7 path '${text.slice(0, 40)}': a message path starts with a segment name`,
    );
  }
  return path.segment;
}

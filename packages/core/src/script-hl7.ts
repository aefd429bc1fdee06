import { parseHl7, type Hl7Message } from "@node-mirth/hl7";

/** One segment as a script sees it: enough to build a path such as `OBX[2].5`. */
export interface ScriptSegmentRef {
  name: string;
  /** 1-based occurrence among the segments of the same name. */
  occurrence: number;
}

/**
 * The host side of a script's HL7 `msg` (or `tmp`): the text is parsed on the first
 * access only, so a script that never touches `msg` costs no parse, and it is serialized
 * again only when something was changed.
 */
export class ScriptHl7Document {
  readonly #text: string;
  #message: Hl7Message | undefined;
  #changed = false;

  constructor(text: string) {
    this.#text = text;
  }

  /** Decoded text at `path`, or "" when absent (as Mirth's `.toString()` on a missing node). */
  get(path: string): string {
    return this.#parsed().get(path) ?? "";
  }

  getRaw(path: string): string {
    return this.#parsed().getRaw(path) ?? "";
  }

  has(path: string): boolean {
    return this.#parsed().getRaw(path) !== undefined;
  }

  set(path: string, value: string): void {
    this.#parsed().set(path, value);
    this.#changed = true;
  }

  setRaw(path: string, raw: string): void {
    this.#parsed().setRaw(path, raw);
    this.#changed = true;
  }

  repetitions(path: string): string[] {
    return this.#parsed().repetitions(path);
  }

  segments(name?: string): ScriptSegmentRef[] {
    const seen = new Map<string, number>();
    return this.#parsed()
      .segments(name)
      .map((segment) => {
        const occurrence = (seen.get(segment.name) ?? 0) + 1;
        seen.set(segment.name, occurrence);
        return { name: segment.name, occurrence };
      });
  }

  addSegment(text: string, index?: number): void {
    this.#parsed().addSegment(text, index);
    this.#changed = true;
  }

  removeSegment(name: string, occurrence?: number): boolean {
    const removed = this.#parsed().removeSegment(name, occurrence);
    if (removed) this.#changed = true;
    return removed;
  }

  toXml(): string {
    return this.#parsed().toXml();
  }

  /** The ER7 text: the original string itself when the script changed nothing. */
  toString(): string {
    if (!this.#changed || this.#message === undefined) return this.#text;
    return this.#message.toString();
  }

  #parsed(): Hl7Message {
    this.#message ??= parseHl7(this.#text);
    return this.#message;
  }
}

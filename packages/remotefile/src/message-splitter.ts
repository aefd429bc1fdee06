import { StringDecoder } from "node:string_decoder";
import { Hl7MessageSplitter } from "@node-mirth/hl7";

/** How a file becomes messages: one per file, one per non-empty line, or one per HL7 message of a batch. */
export type SplitMode = "file" | "lines" | "hl7-batch";

export type TextCharset = "utf8" | "latin1" | "ascii" | "utf16le";

const BATCH_ENVELOPE = /^(FHS|BHS|BTS|FTS)(\||$)/;

/** Batch header and trailer segments frame messages but are not messages. */
function withoutEnvelope(piece: string): string {
  return piece
    .split(/(?<=\r\n|\r|\n)/)
    .filter((line) => !BATCH_ENVELOPE.test(line))
    .join("");
}

/**
 * Turns a file's chunks into messages as they arrive, so a large batch file is never held
 * whole: decoding keeps multi-byte characters split across chunks intact.
 */
export class MessageSplitter {
  readonly #mode: Exclude<SplitMode, "file">;
  readonly #decoder: StringDecoder;
  readonly #hl7 = new Hl7MessageSplitter();
  #pending = "";

  constructor(options: { mode: Exclude<SplitMode, "file">; charset: TextCharset }) {
    this.#mode = options.mode;
    this.#decoder = new StringDecoder(options.charset);
  }

  push(chunk: Buffer): string[] {
    return this.#take(this.#decoder.write(chunk));
  }

  end(): string[] {
    const rest = this.#take(this.#decoder.end());
    if (this.#mode === "lines") {
      const last = this.#pending.replace(/\r$/, "");
      this.#pending = "";
      return last.trim() === "" ? rest : [...rest, last];
    }
    return [...rest, ...this.#hl7.end().map(withoutEnvelope).filter((m) => m.trim() !== "")];
  }

  #take(text: string): string[] {
    if (this.#mode === "hl7-batch") return this.#hl7.push(text).map(withoutEnvelope).filter((m) => m.trim() !== "");
    const lines = (this.#pending + text).split("\n");
    this.#pending = lines.pop()!;
    return lines.map((line) => line.replace(/\r$/, "")).filter((line) => line.trim() !== "");
  }
}

/**
 * Splits a stream of concatenated ER7 messages at each line that starts with `MSH`.
 * Blank text before the first MSH is dropped; anything else there is returned as its own
 * piece, so that parsing it fails loudly instead of data vanishing.
 */
export function splitMessages(text: string): string[] {
  const splitter = new Hl7MessageSplitter();
  return [...splitter.push(text), ...splitter.end()];
}

/** Splits ER7 text arriving in chunks (e.g. a file read in pieces) into whole messages. */
export class Hl7MessageSplitter {
  #buffer = "";
  /** Where the search for the next message start resumes. */
  #scanFrom = 1;

  /** Adds a chunk; returns the messages it completed. */
  push(chunk: string): string[] {
    this.#buffer += chunk;
    const messages: string[] = [];
    for (;;) {
      const start = this.#nextStart();
      if (start === -1) return messages;
      this.#emit(this.#buffer.slice(0, start), messages);
      this.#buffer = this.#buffer.slice(start);
      this.#scanFrom = 1;
    }
  }

  /** Returns the last message, if any; the splitter can then be reused. */
  end(): string[] {
    const messages: string[] = [];
    this.#emit(this.#buffer, messages);
    this.#buffer = "";
    this.#scanFrom = 1;
    return messages;
  }

  /** Blank text (line breaks around messages) is not a message. */
  #emit(text: string, messages: string[]): void {
    if (text.trim() !== "") messages.push(text);
  }

  /** Offset of the next "MSH" that follows a line break, or -1 if none is complete yet. */
  #nextStart(): number {
    const buffer = this.#buffer;
    for (let i = this.#scanFrom; i + 3 <= buffer.length; i++) {
      const code = buffer.charCodeAt(i - 1);
      if ((code === 13 || code === 10) && buffer.startsWith("MSH", i)) {
        return i;
      }
    }
    this.#scanFrom = Math.max(1, buffer.length - 2);
    return -1;
  }
}

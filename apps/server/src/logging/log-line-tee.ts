/**
 * The stream pino writes its second copy of every line to; `/ws/serverlog` subscribes here.
 * Lines are already redacted by pino before they arrive. It matches S-AUTH's
 * `LogLineSource` contract (`subscribe(listener) => unsubscribe`).
 */
export class LogLineTee {
  readonly #listeners = new Set<(line: string) => void>();

  subscribe(listener: (line: string) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** pino's stream interface: one call per serialized line (with its trailing newline). */
  write(chunk: string): void {
    const line = chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk;
    for (const listener of this.#listeners) {
      try {
        listener(line);
      } catch {
        // A slow or broken subscriber (one WebSocket) must never break logging for the rest.
      }
    }
  }
}

/** What a destination keeps open between sends: a connection, a socket pool, an association. */
export interface ClosableClient {
  close(): Promise<void>;
}

/**
 * The client a destination connector reuses across sends. It is built at once, so a bad
 * trust store or client key fails the deploy rather than the first send; `close` (on stop)
 * drops it, and the next `get` builds a fresh one, reading key material from disk again
 * (certificate rotation by stop/start).
 */
export class DestinationClient<T extends ClosableClient> {
  readonly #build: () => T;
  #current: T | undefined;

  constructor(build: () => T) {
    this.#build = build;
    this.#current = build();
  }

  get(): T {
    this.#current ??= this.#build();
    return this.#current;
  }

  async close(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    await current?.close();
  }
}

import type { MessageStore, StoreWrite } from "./message-store.js";

export interface GroupCommitOptions {
  store: MessageStore;
  /** A window is committed early once it holds this many writes. */
  maxWrites?: number;
  /**
   * How long the first write of a window waits for company, in ms. 0 (the default) means
   * "until the current turn of the event loop ends": concurrent dispatches land in one
   * window without adding latency, and windows also grow while the previous commit runs.
   */
  maxDelayMs?: number;
}

export interface GroupCommitMetrics {
  /** Transactions committed. */
  commits: number;
  /** `write` calls served: messages' stage changes, not rows. */
  groups: number;
  writes: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Many callers, one transaction: every `write` made while a window is open is committed
 * together, and each caller's promise resolves only after that commit (so after the
 * fsync for a durable store). One commit is in flight at a time; the store has one writer.
 */
export class GroupCommit {
  readonly #store: MessageStore;
  readonly #maxWrites: number;
  readonly #maxDelayMs: number;
  #pending: StoreWrite[] = [];
  #waiters: Waiter[] = [];
  #inFlight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #metrics: GroupCommitMetrics = { commits: 0, groups: 0, writes: 0 };

  constructor(options: GroupCommitOptions) {
    this.#store = options.store;
    this.#maxWrites = options.maxWrites ?? 10_000;
    this.#maxDelayMs = options.maxDelayMs ?? 0;
  }

  write(batch: readonly StoreWrite[]): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    for (const write of batch) this.#pending.push(write);
    if (this.#inFlight === undefined) {
      if (this.#pending.length >= this.#maxWrites) this.#commitNow();
      else this.#schedule();
    }
    return done;
  }

  /** Resolves once everything written so far is committed (or has failed). */
  async flush(): Promise<void> {
    while (this.#inFlight !== undefined || this.#pending.length > 0) {
      if (this.#inFlight === undefined) this.#commitNow();
      await this.#inFlight;
    }
  }

  metrics(): GroupCommitMetrics {
    return { ...this.#metrics };
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer =
      this.#maxDelayMs > 0
        ? setTimeout(() => this.#commitNow(), this.#maxDelayMs)
        : setImmediate(() => this.#commitNow());
  }

  #commitNow(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
      this.#timer = undefined;
    }
    if (this.#inFlight !== undefined || this.#pending.length === 0) return;
    const batch = this.#pending;
    const waiters = this.#waiters;
    this.#pending = [];
    this.#waiters = [];
    this.#metrics = {
      commits: this.#metrics.commits + 1,
      groups: this.#metrics.groups + waiters.length,
      writes: this.#metrics.writes + batch.length,
    };
    this.#inFlight = this.#store
      .write(batch)
      .then(
        () => {
          for (const waiter of waiters) waiter.resolve();
        },
        (error: unknown) => {
          for (const waiter of waiters) waiter.reject(error);
        },
      )
      .finally(() => {
        this.#inFlight = undefined;
        // Whatever arrived during the commit is the next window; it has waited long enough.
        if (this.#pending.length > 0) this.#commitNow();
      });
  }
}

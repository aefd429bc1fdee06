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
  /**
   * How long a write made with `{ lazy: true }` may wait for company, in ms (default 5). A
   * destination lane does not wait for its SENT commit, so nothing is slowed by the wait,
   * while consecutive sends share one fsync instead of paying one each. An ordinary write
   * arriving meanwhile takes the lazy ones along in its window.
   */
  lazyDelayMs?: number;
}

export interface GroupCommitWriteOptions {
  /** Nobody waits on this commit urgently: it may wait up to `lazyDelayMs` for others. */
  lazy?: boolean;
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
  readonly #lazyDelayMs: number;
  /** Whether the open window holds a write that is not lazy. */
  #eager = false;
  /** When the first lazy write of the open window arrived (performance.now()). */
  #lazySince: number | undefined;
  #timerLazy = false;
  #pending: StoreWrite[] = [];
  #waiters: Waiter[] = [];
  #inFlight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #metrics: GroupCommitMetrics = { commits: 0, groups: 0, writes: 0 };

  constructor(options: GroupCommitOptions) {
    this.#store = options.store;
    this.#maxWrites = options.maxWrites ?? 10_000;
    this.#maxDelayMs = options.maxDelayMs ?? 0;
    this.#lazyDelayMs = options.lazyDelayMs ?? 5;
  }

  write(batch: readonly StoreWrite[], options?: GroupCommitWriteOptions): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    for (const write of batch) this.#pending.push(write);
    if (options?.lazy === true) this.#lazySince ??= performance.now();
    else this.#eager = true;
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
    if (this.#timer !== undefined) {
      // A lazy timer gives way to the shorter wait of an ordinary write.
      if (!this.#timerLazy || !this.#eager) return;
      this.#clearTimer();
    }
    if (this.#eager) {
      this.#timerLazy = false;
      this.#timer =
        this.#maxDelayMs > 0
          ? setTimeout(() => this.#commitNow(), this.#maxDelayMs)
          : setImmediate(() => this.#commitNow());
      return;
    }
    // Only lazy writes: bounded by the first one's arrival, whatever commits came between.
    const waited = performance.now() - (this.#lazySince ?? performance.now());
    this.#timerLazy = true;
    this.#timer = setTimeout(() => this.#commitNow(), Math.max(0, this.#lazyDelayMs - waited));
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
  }

  #commitNow(): void {
    this.#clearTimer();
    if (this.#inFlight !== undefined || this.#pending.length === 0) return;
    const batch = this.#pending;
    const waiters = this.#waiters;
    this.#pending = [];
    this.#waiters = [];
    this.#eager = false;
    this.#lazySince = undefined;
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
        // Whatever arrived during the commit is the next window; it has waited long enough,
        // unless it is only lazy writes still inside their wait.
        if (this.#pending.length === 0) return;
        if (this.#eager || this.#pending.length >= this.#maxWrites) this.#commitNow();
        else this.#schedule();
      });
  }
}

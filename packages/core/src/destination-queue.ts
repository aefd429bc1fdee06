import { setTimeout as delay } from "node:timers/promises";
import type { QueuePolicy } from "./channel-schema.js";

/** The wait before retry number `retry` (1-based): interval × multiplier^(retry-1), capped. */
export function retryDelayMs(
  policy: Pick<QueuePolicy, "retryIntervalMs" | "backoffMultiplier" | "maxRetryIntervalMs">,
  retry: number,
): number {
  const raw = policy.retryIntervalMs * policy.backoffMultiplier ** Math.max(0, retry - 1);
  return Math.min(raw, policy.maxRetryIntervalMs);
}

export interface QueueEntry {
  messageId: number;
  /** Orders messages per key when the destination has several workers. */
  laneKey?: string;
  /** Attempts already made (persisted, so it survives a restart). */
  sendAttempts: number;
  /** Resolves once the entry's QUEUED status is committed; a send never precedes it. */
  ready: Promise<void>;
  /** waitForPrevious: resolves once the previous destination is done with this message. */
  after?: Promise<void>;
}

/** A retryable failure; `retryAfterMs` is the least wait the peer asked for, if it did. */
export interface AttemptRetry {
  retryAfterMs?: number;
}

/**
 * One attempt at an entry. `final` says no retry is left after it. The callback persists
 * the outcome and answers a retry only for a retryable failure that is not final.
 */
export type AttemptEntry<E extends QueueEntry> = (
  entry: E,
  final: boolean,
) => Promise<"done" | AttemptRetry>;

interface Lane<E> {
  items: E[];
  wake: (() => void) | undefined;
  /** The running worker; a resolved promise while stopped. */
  worker: Promise<void>;
}

/**
 * A destination's queue: FIFO lanes, one worker each. With one thread there is one lane and
 * strict order; with N threads a message goes to the lane of its key's hash (order per key)
 * or round-robin without a key. The head of a lane is retried with backoff and blocks its
 * lane until it is sent or its retry budget is spent (then `attempt` dead-letters it).
 */
export class DestinationQueue<E extends QueueEntry> {
  readonly #policy: QueuePolicy;
  readonly #attempt: AttemptEntry<E>;
  readonly #lanes: Lane<E>[];
  #next = 0;
  #running = false;
  #stop = new AbortController();
  #idleWaiters: (() => void)[] = [];

  constructor(options: { policy: QueuePolicy; attempt: AttemptEntry<E> }) {
    this.#policy = options.policy;
    this.#attempt = options.attempt;
    this.#lanes = Array.from({ length: options.policy.threads }, () => ({
      items: [],
      wake: undefined,
      worker: Promise.resolve(),
    }));
  }

  get size(): number {
    return this.#lanes.reduce((sum, lane) => sum + lane.items.length, 0);
  }

  /**
   * Adds an entry to its lane. Ignored while the queue is stopped: every entry is QUEUED in
   * the store already, and recovery puts it back in order at the next start, whereas a
   * stale entry kept here would be sent ahead of older ones.
   */
  enqueue(entry: E): void {
    if (!this.#running) return;
    const lane = this.#lanes[this.#laneOf(entry)];
    if (lane === undefined) throw new Error("unreachable: lane index out of range");
    lane.items.push(entry);
    lane.wake?.();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stop = new AbortController();
    for (const lane of this.#lanes) lane.worker = this.#work(lane);
  }

  /**
   * Stops the workers after the attempt each is making (a backoff wait ends at once);
   * entries left in memory stay QUEUED in the store and come back with recovery.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stop.abort();
    const workers = this.#lanes.map((lane) => lane.worker);
    // Cleared now, not after the workers: a worker cut off by a deadline must not touch
    // the lanes of a later start. Each worker holds its current entry itself.
    for (const lane of this.#lanes) {
      lane.items = [];
      lane.wake?.();
      lane.worker = Promise.resolve();
    }
    this.#notifyIdle();
    await Promise.all(workers);
  }

  /** Resolves when every lane is empty (or the queue stops). */
  idle(): Promise<void> {
    if (this.size === 0 || !this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #laneOf(entry: E): number {
    const lanes = this.#lanes.length;
    if (lanes === 1) return 0;
    if (entry.laneKey === undefined) return this.#next++ % lanes;
    let hash = 0;
    for (let i = 0; i < entry.laneKey.length; i++)
      hash = (Math.imul(hash, 31) + entry.laneKey.charCodeAt(i)) | 0;
    return Math.abs(hash) % lanes;
  }

  async #work(lane: Lane<E>): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const entry = lane.items[0];
      if (entry === undefined) {
        this.#notifyIdle();
        await new Promise<void>((resolve) => (lane.wake = resolve));
        lane.wake = undefined;
        continue;
      }
      const accepted = await entry.ready.then(
        () => true,
        // Its commit failed, so it was never accepted: the dispatch was rejected instead.
        () => false,
      );
      if (signal.aborted) return;
      if (accepted && !(await this.#deliver(entry, signal))) return;
      lane.items.shift();
    }
  }

  /** All attempts at one entry; false when the queue stopped before it was done. */
  async #deliver(entry: E, signal: AbortSignal): Promise<boolean> {
    if (entry.after !== undefined && !(await untilAborted(entry.after, signal))) return false;
    for (;;) {
      const result = await this.#attempt(entry, entry.sendAttempts >= this.#policy.retryCount);
      if (signal.aborted) return false;
      if (result === "done") return true;
      try {
        const backoff = retryDelayMs(this.#policy, entry.sendAttempts);
        await delay(Math.max(backoff, result.retryAfterMs ?? 0), undefined, { signal });
      } catch {
        return false;
      }
    }
  }

  #notifyIdle(): void {
    if (this.size > 0 && this.#running) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** True when `promise` settled first, false when the signal aborted first. */
async function untilAborted(promise: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  return new Promise((resolve) => {
    const onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      },
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      },
    );
  });
}

import { describe, expect, it } from "vitest";
import { DestinationQueue, retryDelayMs, type QueueEntry } from "./destination-queue.js";
import { queuePolicySchema } from "./channel-schema.js";

describe("retryDelayMs", () => {
  it("grows by the multiplier and stops at the cap", () => {
    const policy = { retryIntervalMs: 100, backoffMultiplier: 2, maxRetryIntervalMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6].map((retry) => retryDelayMs(policy, retry))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(retryDelayMs({ ...policy, backoffMultiplier: 1 }, 9)).toBe(100);
  });
});

describe("DestinationQueue", () => {
  it("retries the head of a lane and gives up after its budget (final attempt flagged)", async () => {
    const calls: [number, boolean][] = [];
    const queue = new DestinationQueue<QueueEntry>({
      policy: queuePolicySchema.parse({ mode: "always", retryCount: 2, retryIntervalMs: 0 }),
      attempt: (entry, final) => {
        calls.push([entry.messageId, final]);
        entry.sendAttempts++;
        return Promise.resolve(final || entry.messageId === 2 ? "done" : {});
      },
    });
    queue.start();
    queue.enqueue({ messageId: 1, sendAttempts: 0, ready: Promise.resolve() });
    queue.enqueue({ messageId: 2, sendAttempts: 0, ready: Promise.resolve() });
    await queue.idle();
    await queue.stop();
    expect(calls).toEqual([
      [1, false],
      [1, false],
      [1, true],
      [2, false],
    ]);
  });

  it("waits at least the retry-after the peer asked for, beyond its own backoff", async () => {
    const at: number[] = [];
    const queue = new DestinationQueue<QueueEntry>({
      policy: queuePolicySchema.parse({ mode: "always", retryCount: 3, retryIntervalMs: 1 }),
      attempt: (entry) => {
        at.push(performance.now());
        entry.sendAttempts++;
        return Promise.resolve(at.length === 1 ? { retryAfterMs: 300 } : at.length === 2 ? {} : "done");
      },
    });
    queue.start();
    queue.enqueue({ messageId: 1, sendAttempts: 0, ready: Promise.resolve() });
    await queue.idle();
    await queue.stop();
    expect(at).toHaveLength(3);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(295);
    // Without a hint the next wait is the policy's own backoff again.
    expect(at[2]! - at[1]!).toBeLessThan(295);
  });

  it("ignores entries while stopped; they are recovered from the store instead", async () => {
    const seen: number[] = [];
    const queue = new DestinationQueue<QueueEntry>({
      policy: queuePolicySchema.parse({}),
      attempt: (entry) => {
        seen.push(entry.messageId);
        return Promise.resolve("done");
      },
    });
    queue.enqueue({ messageId: 1, sendAttempts: 0, ready: Promise.resolve() });
    expect(queue.size).toBe(0);
    queue.start();
    queue.enqueue({ messageId: 2, sendAttempts: 0, ready: Promise.resolve() });
    await queue.idle();
    await queue.stop();
    expect(seen).toEqual([2]);
  });

  it("skips an entry whose commit failed, and stops promptly during a long backoff", async () => {
    const seen: number[] = [];
    const queue = new DestinationQueue<QueueEntry>({
      policy: queuePolicySchema.parse({
        mode: "always",
        retryCount: 5,
        retryIntervalMs: 3_600_000,
      }),
      attempt: (entry) => {
        seen.push(entry.messageId);
        return Promise.resolve({});
      },
    });
    queue.start();
    queue.enqueue({
      messageId: 1,
      sendAttempts: 0,
      ready: Promise.reject(new Error("commit failed")),
    });
    queue.enqueue({ messageId: 2, sendAttempts: 0, ready: Promise.resolve() });
    while (seen.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    await queue.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(seen).toEqual([2]);
  });
});

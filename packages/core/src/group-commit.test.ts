import { describe, expect, it } from "vitest";
import { GroupCommit } from "./group-commit.js";
import { MemoryStore } from "./memory-store.js";
import type { StoreWrite } from "./message-store.js";

function insert(messageId: number): StoreWrite[] {
  return [{ op: "insertMessage", channelId: "c", messageId, receivedAt: 1 }];
}

describe("GroupCommit", () => {
  it("commits concurrent writes in one transaction and resolves each after it", async () => {
    const store = new MemoryStore();
    const group = new GroupCommit({ store });
    await Promise.all(Array.from({ length: 100 }, (_, i) => group.write(insert(i + 1))));
    expect(store.metrics().commits).toBe(1);
    expect(group.metrics()).toEqual({ commits: 1, groups: 100, writes: 100 });
    expect(await store.maxMessageId("c")).toBe(100);
    await store.close();
  });

  it("starts the next window while a commit is in flight and commits it right after", async () => {
    const store = new MemoryStore();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const write = store.write.bind(store);
    let calls = 0;
    store.write = async (batch) => {
      if (calls++ === 0) await gate;
      return write(batch);
    };
    const group = new GroupCommit({ store });
    const first = group.write(insert(1));
    await new Promise((resolve) => setImmediate(resolve));
    const later = [group.write(insert(2)), group.write(insert(3))];
    release();
    await Promise.all([first, ...later]);
    expect(group.metrics().commits).toBe(2);
    expect(await store.maxMessageId("c")).toBe(3);
    await store.close();
  });

  it("commits early when a window reaches its write bound", async () => {
    const store = new MemoryStore();
    const group = new GroupCommit({ store, maxWrites: 10, maxDelayMs: 60_000 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => group.write(insert(i + 1))));
    expect(group.metrics().commits).toBe(1);
    await store.close();
  });

  it("rejects every caller of a failed window and keeps serving the next one", async () => {
    const store = new MemoryStore();
    const group = new GroupCommit({ store });
    const results = await Promise.allSettled([group.write(insert(1)), group.write(insert(1))]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(await store.maxMessageId("c")).toBe(0);
    await group.write(insert(2));
    await group.flush();
    expect(await store.maxMessageId("c")).toBe(2);
    await store.close();
  });

  it("lets lazy writes of different turns share one commit, bounded by lazyDelayMs", async () => {
    const store = new MemoryStore();
    const group = new GroupCommit({ store, lazyDelayMs: 50 });
    const started = performance.now();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) {
      writes.push(group.write(insert(i + 1), { lazy: true }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(store.metrics().commits).toBe(0);
    await Promise.all(writes);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(group.metrics()).toEqual({ commits: 1, groups: 5, writes: 5 });
    await store.close();
  });

  it("takes waiting lazy writes along with an ordinary write, without waiting", async () => {
    const store = new MemoryStore();
    const group = new GroupCommit({ store, lazyDelayMs: 60_000 });
    const lazy = group.write(insert(1), { lazy: true });
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([group.write(insert(2)), lazy]);
    expect(group.metrics().commits).toBe(1);
    expect(await store.maxMessageId("c")).toBe(2);
    await store.close();
  });

  it("commits lazy writes at once on flush", async () => {
    const store = new MemoryStore();
    const group = new GroupCommit({ store, lazyDelayMs: 60_000 });
    const lazy = group.write(insert(1), { lazy: true });
    await group.flush();
    await lazy;
    expect(await store.maxMessageId("c")).toBe(1);
    await store.close();
  });
});

import { statSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { createTempDir, runCommand, TS_SOURCE_HOOK } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";
import { describeMessageStoreContract } from "./message-store-contract.js";
import { SOURCE_CONNECTOR_ID, type StoreWrite } from "./message-store.js";
import { SqliteStore } from "./sqlite-store.js";

describeMessageStoreContract("SqliteStore", async () => {
  const dir = await createTempDir();
  const store = new SqliteStore({ dataDir: dir.path });
  return {
    store,
    dispose: async () => {
      await store.close();
      await dir.remove();
    },
  };
});

function message(messageId: number, content: string): StoreWrite[] {
  return [
    { op: "insertMessage", channelId: "c", messageId, receivedAt: messageId },
    {
      op: "setStatus",
      channelId: "c",
      messageId,
      connectorId: SOURCE_CONNECTOR_ID,
      status: "SENT",
      updatedAt: 1,
    },
    {
      op: "putContent",
      channelId: "c",
      messageId,
      connectorId: SOURCE_CONNECTOR_ID,
      kind: "raw",
      content,
    },
  ];
}

describe("SqliteStore on disk", () => {
  it("runs in WAL with synchronous=FULL and incremental auto-vacuum", async () => {
    await using dir = await createTempDir();
    const store = new SqliteStore({ dataDir: `${dir.path}/nested/data` });
    await store.close();
    const db = new DatabaseSync(store.path);
    try {
      expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
      // 2 = INCREMENTAL; synchronous is per connection, so it is checked on the store's own below.
      expect(db.prepare("PRAGMA auto_vacuum").get()).toEqual({ auto_vacuum: 2 });
    } finally {
      db.close();
    }
  });

  it("keeps committed messages and statistics across a reopen", async () => {
    await using dir = await createTempDir();
    const first = new SqliteStore({ dataDir: dir.path });
    await first.write([
      ...message(1, "A"),
      { op: "addStatistics", channelId: "c", connectorId: "source", delta: { received: 1 } },
    ]);
    await first.close();
    const second = new SqliteStore({ dataDir: dir.path });
    try {
      expect((await second.getMessage("c", 1))?.connectors[0]?.content.raw).toBe("A");
      expect((await second.getStatistics("c")).source?.received).toBe(1);
      expect(await second.maxMessageId("c")).toBe(1);
    } finally {
      await second.close();
    }
  });

  it("gives the pages of pruned messages back to the file system", async () => {
    await using dir = await createTempDir();
    const store = new SqliteStore({ dataDir: dir.path });
    try {
      const body = "x".repeat(4_000);
      for (let start = 1; start <= 2_000; start += 200) {
        const batch: StoreWrite[] = [];
        for (let id = start; id < start + 200; id++) batch.push(...message(id, body + String(id)));
        await store.write(batch);
      }
      store.checkpoint();
      const before = store.pageCounts();
      const sizeBefore = statSync(store.path).size;
      const result = await store.prune({ channelId: "c", receivedBefore: 1_900, batchSize: 250 });
      expect(result).toEqual({ deleted: 1_899, batches: 8, complete: true });
      store.checkpoint();
      const after = store.pageCounts();
      expect(after.pages).toBeLessThan(before.pages / 4);
      expect(after.freePages).toBe(0);
      expect(statSync(store.path).size).toBeLessThan(sizeBefore / 4);
      expect(await store.maxMessageId("c")).toBe(2_000);
    } finally {
      await store.close();
    }
  });

  it("commits a write on its worker before resolving: another connection already sees it", async () => {
    await using dir = await createTempDir();
    const store = new SqliteStore({ dataDir: dir.path });
    const observer = new DatabaseSync(store.path, { readOnly: true });
    try {
      await store.write(message(7, "seen"));
      expect(observer.prepare("SELECT content FROM contents WHERE message_id = 7").get()).toEqual({ content: "seen" });
      expect(store.metrics()).toEqual({ commits: 1, writes: 3 });
    } finally {
      observer.close();
      await store.close();
    }
  });

  it("rolls a failing batch back whole and keeps writing afterwards", async () => {
    await using dir = await createTempDir();
    const store = new SqliteStore({ dataDir: dir.path });
    try {
      // The status row's message does not exist: the foreign key fails the whole batch.
      const orphan: StoreWrite = { op: "setStatus", channelId: "c", messageId: 99, connectorId: "d", status: "SENT", updatedAt: 1 };
      await expect(store.write([...message(1, "A"), orphan])).rejects.toMatchObject({
        code: "ERR_STORE_WRITE_FAILED",
        details: { writes: 4 },
      });
      expect(await store.getMessage("c", 1)).toBeUndefined();
      await store.write(message(2, "B"));
      expect((await store.getMessage("c", 2))?.connectors[0]?.content.raw).toBe("B");
    } finally {
      await store.close();
    }
  });

  it("finishes the writes already posted before close() returns, and refuses later ones", async () => {
    await using dir = await createTempDir();
    const store = new SqliteStore({ dataDir: dir.path });
    const posted = [1, 2, 3].map((id) => store.write(message(id, `m${id}`)));
    await store.close();
    await Promise.all(posted);
    await expect(store.write(message(4, "late"))).rejects.toMatchObject({ code: "ERR_STORE_CLOSED" });
    const reopened = new SqliteStore({ dataDir: dir.path });
    try {
      expect(await reopened.maxMessageId("c")).toBe(3);
    } finally {
      await reopened.close();
    }
  });

  it("never keeps a process alive once its writes are done", async () => {
    await using dir = await createTempDir();
    const script = [
      `import { SqliteStore } from ${JSON.stringify(new URL("./sqlite-store.ts", import.meta.url).pathname)};`,
      `const store = new SqliteStore({ dataDir: ${JSON.stringify(dir.path)} });`,
      `await store.write([{ op: "insertMessage", channelId: "c", messageId: 1, receivedAt: 1 }]);`,
      `console.log("written");`,
    ].join("\n");
    const result = await runCommand(process.execPath, ["--import", TS_SOURCE_HOOK, "--input-type=module", "-e", script], {
      timeoutMs: 20_000,
    });
    expect(result.code).toBe(0);
    expect(result.stdout.toString().trim()).toBe("written");
  });
});

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SOURCE_CONNECTOR_ID, type MessageStore, type StoreWrite } from "./message-store.js";

export interface StoreUnderTest {
  store: MessageStore;
  /** Closes the store and removes whatever it created. */
  dispose(): Promise<void>;
}

const CHANNEL = "contract-channel";

function received(
  messageId: number,
  receivedAt: number,
  raw = `MSH|^~\\&|A|B|${messageId}`,
): StoreWrite[] {
  return [
    { op: "insertMessage", channelId: CHANNEL, messageId, receivedAt },
    {
      op: "setStatus",
      channelId: CHANNEL,
      messageId,
      connectorId: SOURCE_CONNECTOR_ID,
      status: "RECEIVED",
      updatedAt: receivedAt,
    },
    {
      op: "putContent",
      channelId: CHANNEL,
      messageId,
      connectorId: SOURCE_CONNECTOR_ID,
      kind: "raw",
      content: raw,
    },
  ];
}

type StatusWrite = Extract<StoreWrite, { op: "setStatus" }>;

/** `value` is a status, or a status with the optional fields of the write. */
function status(
  messageId: number,
  connectorId: string,
  value: StatusWrite["status"] | (Partial<StatusWrite> & Pick<StatusWrite, "status">),
): StoreWrite {
  const extra = typeof value === "string" ? { status: value } : value;
  return { op: "setStatus", channelId: CHANNEL, messageId, connectorId, updatedAt: 1, ...extra };
}

/**
 * The one behaviour every MessageStore must have. Each implementation's test file calls
 * this with a factory; a new store (PostgreSQL) passes it before it is used anywhere.
 */
export function describeMessageStoreContract(
  name: string,
  create: () => Promise<StoreUnderTest>,
): void {
  describe(`MessageStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: MessageStore;

    beforeEach(async () => {
      subject = await create();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.dispose();
    });

    it("commits a batch as one transaction and reads back every content kind", async () => {
      await store.write([
        ...received(1, 1_000),
        status(1, SOURCE_CONNECTOR_ID, "TRANSFORMED"),
        {
          op: "putContent",
          channelId: CHANNEL,
          messageId: 1,
          connectorId: "source",
          kind: "transformed",
          content: "T",
        },
        status(1, "d1", { status: "QUEUED", laneKey: "k1" }),
        {
          op: "putContent",
          channelId: CHANNEL,
          messageId: 1,
          connectorId: "d1",
          kind: "encoded",
          content: "E",
        },
        {
          op: "putMetadata",
          channelId: CHANNEL,
          messageId: 1,
          values: { mrn: "123", type: "ADT" },
        },
      ]);
      expect(store.metrics().commits).toBe(1);
      const detail = await store.getMessage(CHANNEL, 1);
      expect(detail?.receivedAt).toBe(1_000);
      expect(detail?.metadata).toEqual({ mrn: "123", type: "ADT" });
      expect(detail?.connectors.map((c) => [c.connectorId, c.status])).toEqual([
        ["source", "TRANSFORMED"],
        ["d1", "QUEUED"],
      ]);
      expect(detail?.connectors[0]?.content).toEqual({ raw: "MSH|^~\\&|A|B|1", transformed: "T" });
      expect(detail?.connectors[1]?.content).toEqual({ encoded: "E" });
      expect(detail?.connectors[1]?.laneKey).toBe("k1");
      expect(
        await store.getContent({ channelId: CHANNEL, messageId: 1, connectorId: "d1" }, "encoded"),
      ).toBe("E");
      expect(
        await store.getContent({ channelId: CHANNEL, messageId: 1, connectorId: "d1" }, "sent"),
      ).toBeUndefined();
    });

    it("rolls back a whole batch that fails", async () => {
      await expect(
        store.write([...received(1, 1), status(99, "d1", "QUEUED")]),
      ).rejects.toMatchObject({ code: "ERR_STORE_WRITE_FAILED" });
      expect(await store.getMessage(CHANNEL, 1)).toBeUndefined();
      await store.write(received(1, 1));
      await expect(store.write(received(1, 2))).rejects.toMatchObject({
        code: "ERR_STORE_WRITE_FAILED",
      });
      expect((await store.getMessage(CHANNEL, 1))?.receivedAt).toBe(1);
    });

    it("keeps send attempts, lane key and dead-letter flag unless a write changes them", async () => {
      await store.write([
        ...received(1, 1),
        status(1, "d1", { status: "QUEUED", laneKey: "A", sendAttempts: 2 }),
      ]);
      await store.write([
        status(1, "d1", { status: "ERROR", deadLetter: true, error: "peer refused" }),
      ]);
      const [record] = (await store.getMessage(CHANNEL, 1))!.connectors.filter(
        (c) => c.connectorId === "d1",
      );
      expect(record).toMatchObject({
        status: "ERROR",
        sendAttempts: 2,
        laneKey: "A",
        deadLetter: true,
      });
      expect(record?.error).toBe("peer refused");
      expect((await store.listDeadLetters(CHANNEL)).map((r) => r.messageId)).toEqual([1]);
      await store.write([
        status(1, "d1", { status: "QUEUED", deadLetter: false, sendAttempts: 0 }),
      ]);
      expect(await store.listDeadLetters(CHANNEL)).toEqual([]);
    });

    it("lists unfinished work oldest first, without dead letters", async () => {
      await store.write([
        ...received(1, 1),
        ...received(2, 2),
        ...received(3, 3),
        ...received(4, 4),
      ]);
      await store.write([
        status(1, "source", "TRANSFORMED"),
        status(1, "d1", "QUEUED"),
        status(1, "d2", "SENT"),
        status(2, "source", "TRANSFORMED"),
        status(2, "d1", "PENDING"),
        status(3, "source", "TRANSFORMED"),
        status(3, "d1", { status: "ERROR", deadLetter: true }),
      ]);
      const work = await store.listUnfinished(CHANNEL);
      expect(work.received).toEqual([4]);
      expect(work.queued.map((r) => [r.messageId, r.connectorId, r.status])).toEqual([
        [1, "d1", "QUEUED"],
        [2, "d1", "PENDING"],
      ]);
      expect(await store.maxMessageId(CHANNEL)).toBe(4);
      expect(await store.maxMessageId("other")).toBe(0);
    });

    it("pages one destination's queue after a message id", async () => {
      const batch: StoreWrite[] = [];
      for (let id = 1; id <= 10; id++) {
        batch.push(
          ...received(id, id),
          status(id, "d1", id === 4 ? "SENT" : "QUEUED"),
          status(id, "d2", "QUEUED"),
        );
      }
      batch.push(
        status(6, "d1", { status: "ERROR", deadLetter: true }),
        status(7, "d1", "PENDING"),
      );
      await store.write(batch);
      const page = async (afterMessageId: number, limit: number) =>
        (
          await store.listQueued(
            { channelId: CHANNEL, connectorId: "d1" },
            { afterMessageId, limit },
          )
        ).map((r) => r.messageId);
      expect(await page(0, 4)).toEqual([1, 2, 3, 5]);
      expect(await page(5, 4)).toEqual([7, 8, 9, 10]);
      expect(await page(10, 4)).toEqual([]);
    });

    it("adds statistics deltas and persists them per connector", async () => {
      await store.write([
        { op: "addStatistics", channelId: CHANNEL, connectorId: "source", delta: { received: 1 } },
        {
          op: "addStatistics",
          channelId: CHANNEL,
          connectorId: "source",
          delta: { received: 2, filtered: 1 },
        },
        { op: "addStatistics", channelId: CHANNEL, connectorId: "d1", delta: { queued: 1 } },
      ]);
      await store.write([
        {
          op: "addStatistics",
          channelId: CHANNEL,
          connectorId: "d1",
          delta: { queued: -1, sent: 1 },
        },
      ]);
      expect(await store.getStatistics(CHANNEL)).toEqual({
        source: { received: 3, filtered: 1, queued: 0, sent: 0, errored: 0 },
        d1: { received: 0, filtered: 0, queued: 0, sent: 1, errored: 0 },
      });
    });

    it("searches by status, time range, metadata and bounded text, newest first, with paging", async () => {
      const batch: StoreWrite[] = [];
      for (let id = 1; id <= 20; id++) {
        batch.push(...received(id, id * 100, id % 2 === 0 ? `MSH|EVEN|${id}` : `MSH|ODD|${id}`));
        batch.push(status(id, "d1", id % 5 === 0 ? "ERROR" : "SENT"));
        batch.push({
          op: "putMetadata",
          channelId: CHANNEL,
          messageId: id,
          values: { parity: String(id % 2) },
        });
      }
      await store.write(batch);
      const ids = async (query: Omit<Parameters<MessageStore["search"]>[0], "channelId">) =>
        (await store.search({ channelId: CHANNEL, ...query })).map((m) => m.messageId);
      expect(await ids({ statuses: ["ERROR"] })).toEqual([20, 15, 10, 5]);
      expect(await ids({ receivedFrom: 300, receivedTo: 500 })).toEqual([5, 4, 3]);
      expect(await ids({ metadata: { parity: "0" }, limit: 3 })).toEqual([20, 18, 16]);
      expect(await ids({ metadata: { parity: "0" }, limit: 3, beforeMessageId: 16 })).toEqual([
        14, 12, 10,
      ]);
      expect(await ids({ text: "ODD|1", limit: 10 })).toEqual([19, 17, 15, 13, 11, 1]);
      // The text scan looks at the 4 newest candidates only: 20, 19, 18, 17.
      expect(await ids({ text: "ODD", textScanLimit: 4 })).toEqual([19, 17]);
      const [summary] = await store.search({ channelId: CHANNEL, limit: 1 });
      expect(summary).toEqual({
        channelId: CHANNEL,
        messageId: 20,
        receivedAt: 2_000,
        statuses: { source: "RECEIVED", d1: "ERROR" },
        metadata: { parity: "0" },
      });
      expect(await store.search({ channelId: "nothing-here" })).toEqual([]);
    });

    it("removes messages with all their rows, and overwrites one by delete + insert in a batch", async () => {
      await store.write([...received(1, 1), ...received(2, 2), status(1, "d1", "SENT")]);
      expect(await store.removeMessages(CHANNEL, [1, 7])).toBe(1);
      expect(await store.getMessage(CHANNEL, 1)).toBeUndefined();
      expect(
        await store.getContent({ channelId: CHANNEL, messageId: 1, connectorId: "source" }, "raw"),
      ).toBeUndefined();
      await store.write([
        { op: "deleteMessage", channelId: CHANNEL, messageId: 2 },
        ...received(2, 5, "NEW"),
      ]);
      const detail = await store.getMessage(CHANNEL, 2);
      expect(detail?.receivedAt).toBe(5);
      expect(detail?.connectors[0]?.content.raw).toBe("NEW");
    });

    it("deletes one content kind and keeps the others", async () => {
      await store.write([
        ...received(1, 1),
        status(1, "d1", "QUEUED"),
        {
          op: "putContent",
          channelId: CHANNEL,
          messageId: 1,
          connectorId: "d1",
          kind: "encoded",
          content: "E",
        },
      ]);
      await store.write([
        {
          op: "deleteContent",
          channelId: CHANNEL,
          messageId: 1,
          connectorId: "d1",
          kind: "encoded",
        },
      ]);
      expect(
        await store.getContent({ channelId: CHANNEL, messageId: 1, connectorId: "d1" }, "encoded"),
      ).toBeUndefined();
      expect(
        await store.getContent({ channelId: CHANNEL, messageId: 1, connectorId: "source" }, "raw"),
      ).toBeDefined();
    });

    it("prunes old finished messages in bounded batches and never unfinished ones", async () => {
      const batch: StoreWrite[] = [];
      for (let id = 1; id <= 25; id++) {
        batch.push(
          ...received(id, id),
          status(id, "source", "TRANSFORMED"),
          status(id, "d1", "SENT"),
        );
      }
      batch.push(status(3, "d1", "QUEUED"));
      await store.write(batch);
      const first = await store.prune({
        channelId: CHANNEL,
        receivedBefore: 21,
        batchSize: 5,
        maxBatches: 2,
      });
      expect(first).toEqual({ deleted: 10, batches: 2, complete: false });
      const rest = await store.prune({ channelId: CHANNEL, receivedBefore: 21, batchSize: 5 });
      expect(rest.deleted).toBe(9);
      expect(rest.complete).toBe(true);
      const left = (await store.search({ channelId: CHANNEL, limit: 100 }))
        .map((m) => m.messageId)
        .sort((a, b) => a - b);
      expect(left).toEqual([3, 21, 22, 23, 24, 25]);
    });

    it("refuses every call after close with ERR_STORE_CLOSED", async () => {
      await store.close();
      await expect(async () => store.write(received(1, 1))).rejects.toMatchObject({
        code: "ERR_STORE_CLOSED",
      });
      await expect(async () => store.search({ channelId: CHANNEL })).rejects.toMatchObject({
        code: "ERR_STORE_CLOSED",
      });
    });
  });
}

import { parseHl7 } from "@node-mirth/hl7";
import { createTempDir } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";
import { createTestConnectors, hl7, until } from "./__tests__/test-connectors.js";
import type { ChannelInput } from "./channel-schema.js";
import { createEngine } from "./create-engine.js";
import type { EngineEvent } from "./engine-events.js";
import { MemoryStore } from "./memory-store.js";
import { SqliteStore } from "./sqlite-store.js";

type DestinationInput = ChannelInput["destinations"][number];

function destination(id: string, extra: Partial<DestinationInput> = {}): DestinationInput {
  return {
    id,
    name: id.toUpperCase(),
    connector: { type: "record", properties: { name: id } },
    ...extra,
  };
}

function channel(extra: Partial<ChannelInput> = {}): ChannelInput {
  return {
    id: "adt",
    name: "ADT in",
    source: { type: "test", properties: {} },
    destinations: [destination("d1")],
    ...extra,
  };
}

type StoreKind = "MemoryStore" | "SqliteStore";

async function setup(input: ChannelInput, kind: StoreKind = "MemoryStore") {
  const kit = createTestConnectors();
  const dir = kind === "SqliteStore" ? await createTempDir() : undefined;
  const store = dir === undefined ? new MemoryStore() : new SqliteStore({ dataDir: dir.path });
  const engine = createEngine({ store, plugins: kit.plugins });
  const events: EngineEvent[] = [];
  engine.subscribe((event) => events.push(event));
  await engine.deploy(input);
  return {
    kit,
    store,
    engine,
    events,
    dispatch: (content: string) => kit.source(input.id).dispatch({ content }),
    async [Symbol.asyncDispose]() {
      await engine.close();
      await store.close();
      await dir?.remove();
    },
  };
}

function ackCode(content: string | undefined): string | undefined {
  return content === undefined ? undefined : parseHl7(content).get("MSA.1");
}

describe.each<StoreKind>(["MemoryStore", "SqliteStore"])("pipeline statuses on %s", (kind) => {
  const open = (input: ChannelInput) => setup(input, kind);

  it("takes a message RECEIVED → TRANSFORMED → QUEUED → SENT and keeps every content kind", async () => {
    await using t = await open(channel({ ack: { mode: "afterCommit" } }));
    t.kit.behaviour.set("d1", { response: "OK" });
    const result = await t.dispatch(hl7({ controlId: "C42" }));
    expect(result.status).toBe("RECEIVED");
    expect(ackCode(result.response?.content)).toBe("AA");
    expect(parseHl7(result.response!.content).get("MSA.2")).toBe("C42");
    await t.engine.idle("adt");
    const detail = await t.engine.messages.get("adt", result.messageId);
    expect(detail?.connectors.map((c) => [c.connectorId, c.status])).toEqual([
      ["source", "TRANSFORMED"],
      ["d1", "SENT"],
    ]);
    expect(Object.keys(detail!.connectors[0]!.content).sort()).toEqual([
      "maps",
      "raw",
      "transformed",
    ]);
    expect(Object.keys(detail!.connectors[1]!.content).sort()).toEqual([
      "encoded",
      "response",
      "sent",
    ]);
    expect(t.kit.sentTo("d1").map((s) => s.messageId)).toEqual([result.messageId]);
    const statuses = t.events
      .filter((e) => e.type === "message")
      .map((e) => `${e.connectorId}:${e.status}`);
    expect(statuses).toEqual(["source:RECEIVED", "source:TRANSFORMED", "d1:QUEUED", "d1:SENT"]);
    const persisted = await t.engine.statistics("adt");
    expect(persisted).toEqual({
      source: { received: 1, filtered: 0, queued: 0, sent: 0, errored: 0 },
      d1: { received: 0, filtered: 0, queued: 0, sent: 1, errored: 0 },
    });
    const published = t.events.filter((e) => e.type === "statistics");
    expect(published.at(-1)).toMatchObject({ channelId: "adt", statistics: persisted });
  });

  it("filters with a field rule (MSH.9.1 == ADT) and answers AR for the filtered message", async () => {
    await using t = await open(
      channel({
        ack: { mode: "afterTransform" },
        filter: { rules: [{ type: "field", field: "MSH.9.1", operator: "==", value: "ADT" }] },
      }),
    );
    const adt = await t.dispatch(hl7());
    const oru = await t.dispatch(hl7({ type: "ORU^R01" }));
    expect([adt.status, ackCode(adt.response?.content)]).toEqual(["TRANSFORMED", "AA"]);
    expect([oru.status, ackCode(oru.response?.content)]).toEqual(["FILTERED", "AR"]);
    await t.engine.idle("adt");
    expect(t.kit.sentTo("d1").map((s) => s.messageId)).toEqual([adt.messageId]);
    expect((await t.engine.statistics("adt")).source?.filtered).toBe(1);
  });

  it("runs mapper steps on the host: set a field from a value, a field or the channel map", async () => {
    await using t = await open(
      channel({
        transformer: {
          steps: [
            { type: "mapper", field: "PID.5.1", from: { value: "SMITH" } },
            { type: "mapper", field: "PID.18", from: { field: "PID.3.1" } },
          ],
        },
        destinations: [
          destination("d1", {
            filter: {
              combine: "or",
              rules: [{ type: "field", field: "PID.5.1", operator: "==", value: ["X", "SMITH"] }],
            },
          }),
        ],
      }),
    );
    await t.dispatch(hl7({ mrn: "777" }));
    await t.engine.idle("adt");
    const [sent] = t.kit.sentTo("d1");
    expect(parseHl7(sent!.content).get("PID.5.1")).toBe("SMITH");
    expect(parseHl7(sent!.content).get("PID.18")).toBe("777");
  });

  it("stores a message that is not HL7 as ERROR and answers AR, never dropping it", async () => {
    await using t = await open(channel());
    const result = await t.dispatch("this is not HL7");
    expect(result.status).toBe("ERROR");
    expect(result.response?.outcome).toBe("reject");
    expect(ackCode(result.response?.content)).toBe("AR");
    const detail = await t.engine.messages.get("adt", result.messageId);
    expect(detail?.connectors[0]?.status).toBe("ERROR");
    expect(detail?.connectors[0]?.content.raw).toBe("this is not HL7");
    expect((await t.engine.statistics("adt")).source).toMatchObject({ received: 1, errored: 1 });
    expect(t.kit.sent).toEqual([]);
  });

  it("marks a destination whose transformer fails as ERROR and still delivers the others", async () => {
    await using t = await open(
      channel({
        destinations: [
          destination("d1"),
          destination("d2", {
            transformer: { steps: [{ type: "javascript", script: 'throw new Error("boom");' }] },
          }),
        ],
      }),
    );
    const result = await t.dispatch(hl7());
    await t.engine.idle("adt");
    const detail = await t.engine.messages.get("adt", result.messageId);
    expect(detail?.connectors.map((c) => c.status)).toEqual(["TRANSFORMED", "SENT", "ERROR"]);
    expect(detail?.connectors[2]?.content.error).toContain("boom");
    expect((await t.engine.statistics("adt")).d2?.errored).toBe(1);
  });
});

describe("raw bytes", () => {
  it("decodes HL7 bytes with the charset MSH-18 names, and keeps bytes that are not HL7 losslessly", async () => {
    await using t = await setup(channel());
    const latin1 = Buffer.from(
      hl7({ name: "MÜLLER^JÖRG" }).replace("|P|2.5", "|P|2.5||||||8859/1"),
      "latin1",
    );
    const utf8 = Buffer.from(
      hl7({ name: "MÜLLER^JÖRG" }).replace("|P|2.5", "|P|2.5||||||UNICODE UTF-8"),
      "utf8",
    );
    const junk = Buffer.from([0xff, 0x00, 0x41]);
    const results = [
      await t.kit.source("adt").dispatch({ content: latin1 }),
      await t.kit.source("adt").dispatch({ content: utf8 }),
      await t.kit.source("adt").dispatch({ content: junk }),
    ];
    await t.engine.idle("adt");
    const raws = await Promise.all(
      results.map(
        async (r) => (await t.engine.messages.get("adt", r.messageId))?.connectors[0]?.content.raw,
      ),
    );
    expect(raws[0]).toContain("MÜLLER^JÖRG");
    expect(raws[1]).toContain("MÜLLER^JÖRG");
    expect(Buffer.from(raws[2]!, "latin1")).toEqual(junk);
    expect(results.map((r) => r.status)).toEqual(["RECEIVED", "RECEIVED", "ERROR"]);
  });
});

describe("other data types", () => {
  it("passes JSON through a JavaScript transformer and answers with the bare outcome", async () => {
    await using t = await setup(
      channel({
        dataType: "JSON",
        ack: { mode: "afterTransform" },
        transformer: { steps: [{ type: "javascript", script: "msg.seen = true;" }] },
      }),
    );
    const result = await t.dispatch('{"patient":"P1"}');
    expect(result).toMatchObject({
      status: "TRANSFORMED",
      response: { outcome: "accept", content: "" },
    });
    await t.engine.idle("adt");
    expect(JSON.parse(t.kit.sentTo("d1")[0]!.content)).toEqual({ patient: "P1", seen: true });
    // Content the transformer cannot read is stored as ERROR and answered with an error.
    const garbage = await t.dispatch("not json at all");
    expect(garbage).toMatchObject({ status: "ERROR", response: { outcome: "error" } });
    expect(
      (await t.engine.messages.get("adt", garbage.messageId))?.connectors[0]?.content.raw,
    ).toBe("not json at all");
  });
});

describe("ACK policies", () => {
  it("afterDestination answers with the destination's response, or AE when it failed", async () => {
    await using t = await setup(
      channel({
        ack: { mode: "afterDestination", destination: "d1", useResponse: true },
        destinations: [destination("d1")],
      }),
    );
    t.kit.behaviour.set("d1", { response: "MSH|^~\\&|PEER|||||||ACK|9|P|2.5\rMSA|AA|MSG1" });
    const ok = await t.dispatch(hl7());
    expect(ok.status).toBe("SENT");
    expect(ok.response?.content).toContain("MSH|^~\\&|PEER");
    t.kit.behaviour.set("d1", { failTimes: 1, retryable: false });
    const failed = await t.dispatch(hl7());
    expect(failed.status).toBe("ERROR");
    expect(failed.response?.outcome).toBe("error");
  });

  it("afterDestination answers AR for a filtered message and AA when that destination is disabled", async () => {
    await using t = await setup(
      channel({
        ack: { mode: "afterDestination", destination: "d2" },
        filter: { rules: [{ type: "field", field: "MSH.9.1", operator: "==", value: "ADT" }] },
        destinations: [destination("d1"), destination("d2", { enabled: false })],
      }),
    );
    const adt = await t.dispatch(hl7());
    const oru = await t.dispatch(hl7({ type: "ORU^R01" }));
    expect([adt.status, ackCode(adt.response?.content)]).toEqual(["TRANSFORMED", "AA"]);
    expect([oru.status, ackCode(oru.response?.content)]).toEqual(["FILTERED", "AR"]);
  });

  it("afterDestination without useResponse builds AA; none answers nothing", async () => {
    await using t = await setup(channel({ ack: { mode: "afterDestination", destination: "d1" } }));
    const result = await t.dispatch(hl7());
    expect(result.status).toBe("SENT");
    expect(ackCode(result.response?.content)).toBe("AA");
    await using quiet = await setup(channel({ id: "quiet", ack: { mode: "none" } }));
    const silent = await quiet.dispatch(hl7());
    expect(silent.response).toBeUndefined();
  });

  it("afterTransform answers AE when the source transformer fails, and the message is stored as ERROR", async () => {
    await using t = await setup(
      channel({
        ack: { mode: "afterTransform" },
        transformer: {
          steps: [
            {
              type: "javascript",
              script: 'if (msg.get("PID.3.1") === "BAD") throw new Error("no");',
            },
          ],
        },
      }),
    );
    const good = await t.dispatch(hl7());
    expect([good.status, ackCode(good.response?.content)]).toEqual(["TRANSFORMED", "AA"]);
    const bad = await t.dispatch(hl7({ mrn: "BAD" }));
    expect([bad.status, ackCode(bad.response?.content)]).toEqual(["ERROR", "AE"]);
    expect(
      (await t.engine.messages.get("adt", bad.messageId))?.connectors.map((c) => c.status),
    ).toEqual(["ERROR"]);
  });
});

describe("JavaScript in the sandbox", () => {
  it("shares maps between stages, resolves $() and fills metadata columns", async () => {
    await using t = await setup(
      channel({
        transformer: {
          steps: [
            {
              type: "javascript",
              script: 'channelMap.put("mrn", msg.get("PID.3.1")); msg.set("PID.5.1", "SMITH");',
            },
            { type: "mapper", field: "PID.5.2", from: { javascript: '$("mrn") + "-X"' } },
          ],
        },
        metadataColumns: [
          { name: "mrn", expression: '$("mrn")' },
          { name: "family", expression: "PID.5.1" },
        ],
        destinations: [
          destination("d1", {
            filter: { rules: [{ type: "javascript", script: 'return $("mrn") === "12345";' }] },
          }),
          destination("d2", {
            filter: { rules: [{ type: "javascript", script: 'return $("mrn") === "other";' }] },
          }),
        ],
      }),
    );
    const result = await t.dispatch(hl7());
    await t.engine.idle("adt");
    const [sent] = t.kit.sentTo("d1");
    expect(parseHl7(sent!.content).get("PID.5.1")).toBe("SMITH");
    expect(parseHl7(sent!.content).get("PID.5.2")).toBe("12345-X");
    expect(t.kit.sentTo("d2")).toEqual([]);
    const detail = await t.engine.messages.get("adt", result.messageId);
    expect(detail?.metadata).toEqual({ mrn: "12345", family: "SMITH" });
    expect(detail?.connectors.map((c) => c.status)).toEqual(["TRANSFORMED", "SENT", "FILTERED"]);
    expect(
      await t.engine.messages.search({ channelId: "adt", metadata: { mrn: "12345" } }),
    ).toHaveLength(1);
  });

  it("routes what a script sends with router.routeMessage into another channel", async () => {
    const kit = createTestConnectors();
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: kit.plugins });
    try {
      await engine.deploy(
        channel({
          id: "copy",
          name: "Copy",
          source: { type: "channel", properties: {} },
          destinations: [destination("c1")],
        }),
      );
      await engine.deploy(
        channel({
          transformer: {
            steps: [{ type: "javascript", script: 'router.routeMessage("copy", msg.toString());' }],
          },
        }),
      );
      await kit.source("adt").dispatch({ content: hl7() });
      await engine.idle("adt");
      await until(() => kit.sentTo("c1").length === 1);
      expect(kit.sentTo("c1")[0]?.content).toContain("PID|1||12345");
    } finally {
      await engine.close();
      await store.close();
    }
  });
});

describe("destination queues", () => {
  const fast = { retryIntervalMs: 1, maxRetryIntervalMs: 5 };

  it("never: retries in line, then ERROR without dead-letter", async () => {
    await using t = await setup(
      channel({
        destinations: [destination("d1", { queue: { mode: "never", retryCount: 2, ...fast } })],
      }),
    );
    t.kit.behaviour.set("d1", { failTimes: Number.POSITIVE_INFINITY });
    const result = await t.dispatch(hl7());
    await t.engine.idle("adt");
    const record = (await t.engine.messages.get("adt", result.messageId))?.connectors[1];
    expect(record).toMatchObject({
      status: "ERROR",
      sendAttempts: 3,
      deadLetter: false,
      error: "peer said no",
    });
    expect(await t.engine.deadLetters.list("adt")).toEqual([]);
    expect((await t.engine.statistics("adt")).d1).toMatchObject({ errored: 1, queued: 0 });
  });

  it("onFailure: retries with backoff until sent", async () => {
    await using t = await setup(
      channel({
        destinations: [
          destination("d1", {
            queue: { mode: "onFailure", retryCount: 5, backoffMultiplier: 2, ...fast },
          }),
        ],
      }),
    );
    t.kit.behaviour.set("d1", { failTimes: 3 });
    const result = await t.dispatch(hl7());
    await t.engine.idle("adt");
    expect(t.kit.sentTo("d1")).toEqual([
      expect.objectContaining({ messageId: result.messageId, attempt: 4 }),
    ]);
    expect((await t.engine.messages.get("adt", result.messageId))?.connectors[1]).toMatchObject({
      status: "SENT",
      sendAttempts: 4,
    });
  });

  it("always: a poison message goes to dead-letter after its budget and does not block its lane; it can be re-queued", async () => {
    await using t = await setup(
      channel({
        destinations: [destination("d1", { queue: { mode: "always", retryCount: 2, ...fast } })],
      }),
    );
    t.kit.behaviour.set("d1", { failTimes: 3 });
    const poison = await t.dispatch(hl7({ controlId: "P" }));
    const next = await t.dispatch(hl7({ controlId: "N" }));
    await t.engine.idle("adt");
    expect(t.kit.sentTo("d1").map((s) => s.messageId)).toEqual([next.messageId]);
    const dead = await t.engine.deadLetters.list("adt");
    expect(dead.map((r) => [r.messageId, r.connectorId, r.status, r.sendAttempts])).toEqual([
      [poison.messageId, "d1", "ERROR", 3],
    ]);
    expect(
      await t.engine.deadLetters.requeue("adt", [
        { messageId: poison.messageId, destinationId: "d1" },
      ]),
    ).toBe(1);
    await t.engine.idle("adt");
    expect(t.kit.sentTo("d1").map((s) => s.messageId)).toEqual([next.messageId, poison.messageId]);
    expect(await t.engine.deadLetters.list("adt")).toEqual([]);
  });

  it("keeps FIFO order per lane while the head is retried", async () => {
    await using t = await setup(
      channel({
        destinations: [
          destination("d1", { queue: { mode: "onFailure", retryCount: 10, ...fast } }),
        ],
      }),
    );
    t.kit.behaviour.set("d1", { failTimes: 4 });
    const ids: number[] = [];
    for (let i = 0; i < 30; i++)
      ids.push((await t.dispatch(hl7({ controlId: `M${i}` }))).messageId);
    await t.engine.idle("adt");
    expect(t.kit.sentTo("d1").map((s) => s.messageId)).toEqual(ids);
  });

  it("with N workers and a group-by key keeps order per key", async () => {
    await using t = await setup(
      channel({
        destinations: [
          destination("d1", {
            queue: { mode: "always", threads: 4, groupBy: "PID.3.1", retryCount: 5, ...fast },
          }),
        ],
      }),
    );
    t.kit.behaviour.set("d1", { failTimes: 6 });
    const byKey = new Map<string, number[]>();
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const mrn = `P${i % 5}`;
        return t.dispatch(hl7({ mrn, controlId: `M${i}` })).then((r) => ({ mrn, id: r.messageId }));
      }),
    );
    for (const { mrn, id } of results.sort((a, b) => a.id - b.id))
      byKey.set(mrn, [...(byKey.get(mrn) ?? []), id]);
    await t.engine.idle("adt");
    const sent = t.kit.sentTo("d1");
    expect(sent).toHaveLength(60);
    for (const [mrn, ids] of byKey) {
      const order = sent
        .filter((s) => parseHl7(s.content).get("PID.3.1") === mrn)
        .map((s) => s.messageId);
      expect(order).toEqual(ids);
    }
    const laneKeys = new Set(
      (await t.engine.messages.get("adt", 1))?.connectors.map((c) => c.laneKey),
    );
    expect(laneKeys.has("P0")).toBe(true);
  });

  it("waitForPrevious: a destination starts a message only after the previous one finished it", async () => {
    const releases: (() => void)[] = [];
    await using t = await setup(
      channel({ destinations: [destination("d1"), destination("d2", { waitForPrevious: true })] }),
    );
    t.kit.behaviour.set("d1", {
      gate: () => new Promise<void>((resolve) => releases.push(resolve)),
    });
    await t.dispatch(hl7());
    await until(() => releases.length === 1);
    expect(t.kit.sent).toEqual([]);
    releases[0]!();
    await t.engine.idle("adt");
    expect(t.kit.sent.map((s) => s.destination)).toEqual(["d1", "d2"]);
  });
});

describe.each<StoreKind>(["MemoryStore", "SqliteStore"])("queue buffer on %s", (kind) => {
  const fast = { retryIntervalMs: 1, maxRetryIntervalMs: 2 };

  it("keeps at most bufferSize messages in memory and reads the rest back in order", async () => {
    await using t = await setup(
      channel({
        ack: { mode: "afterDestination", destination: "d1" },
        destinations: [
          destination("d1", { queue: { mode: "always", retryCount: 50, bufferSize: 5, ...fast } }),
        ],
      }),
      kind,
    );
    let pages = 0;
    const listQueued = t.store.listQueued.bind(t.store);
    t.store.listQueued = (ref, page) => {
      pages++;
      expect(page.limit).toBeLessThanOrEqual(5);
      return listQueued(ref, page);
    };
    t.kit.behaviour.set("d1", { failTimes: 20 });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => t.dispatch(hl7({ controlId: `M${i}` }))),
    );
    // Overflowed messages are answered as soon as they are durably queued.
    expect(results.every((r) => ackCode(r.response?.content) === "AA")).toBe(true);
    await t.engine.idle("adt");
    expect(t.kit.sentTo("d1").map((s) => s.messageId)).toEqual(
      results.map((r) => r.messageId).sort((a, b) => a - b),
    );
    expect(pages).toBeGreaterThan(3);
    expect((await t.engine.statistics("adt")).d1).toMatchObject({ queued: 0, sent: 40 });
  });

  it("keeps order per key when an overflowed queue has several workers", async () => {
    await using t = await setup(
      channel({
        destinations: [
          destination("d1", {
            queue: {
              mode: "always",
              retryCount: 50,
              threads: 3,
              groupBy: "PID.3.1",
              bufferSize: 4,
              ...fast,
            },
          }),
        ],
      }),
      kind,
    );
    t.kit.behaviour.set("d1", { failTimes: 10 });
    const sentIds: Record<string, number[]> = {};
    for (let i = 0; i < 45; i++) {
      const mrn = `P${i % 4}`;
      const result = await t.dispatch(hl7({ mrn }));
      (sentIds[mrn] ??= []).push(result.messageId);
    }
    await t.engine.idle("adt");
    const sent = t.kit.sentTo("d1");
    expect(sent).toHaveLength(45);
    for (const [mrn, ids] of Object.entries(sentIds)) {
      expect(
        sent.filter((s) => parseHl7(s.content).get("PID.3.1") === mrn).map((s) => s.messageId),
      ).toEqual(ids);
    }
  });
});

describe.each<StoreKind>(["MemoryStore", "SqliteStore"])("storage modes on %s", (kind) => {
  const open = (input: ChannelInput) => setup(input, kind);

  async function kinds(storage: ChannelInput["storage"]) {
    await using t = await open(channel({ storage }));
    t.kit.behaviour.set("d1", { response: "R" });
    const result = await t.dispatch(hl7());
    await t.engine.idle("adt");
    const detail = await t.engine.messages.get("adt", result.messageId);
    const stats = await t.engine.statistics("adt");
    return {
      detail,
      stats,
      kinds: detail?.connectors.map(
        (c) => `${c.connectorId}:${Object.keys(c.content).sort().join(",")}`,
      ),
      sent: t.kit.sent.length,
    };
  }

  it("development keeps every kind, production drops intermediate ones", async () => {
    expect((await kinds("development")).kinds).toEqual([
      "source:maps,raw,transformed",
      "d1:encoded,response,sent",
    ]);
    expect((await kinds("production")).kinds).toEqual(["source:raw", "d1:encoded,response,sent"]);
  });

  it("raw keeps raw only, the encoded content only while queued", async () => {
    expect((await kinds("raw")).kinds).toEqual(["source:raw", "d1:"]);
  });

  it("metadata keeps statuses only; disabled keeps no message but still counts", async () => {
    const metadata = await kinds("metadata");
    expect(metadata.kinds).toEqual(["source:", "d1:"]);
    expect(metadata.detail?.connectors[1]?.status).toBe("SENT");
    const disabled = await kinds("disabled");
    expect(disabled.detail).toBeUndefined();
    expect(disabled.sent).toBe(1);
    expect(disabled.stats.d1?.sent).toBe(1);
  });
});

describe("Channel Writer and router", () => {
  it("routes from one channel into another in process, with the target's ACK as response", async () => {
    const kit = createTestConnectors();
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: kit.plugins });
    try {
      await engine.deploy(
        channel({
          id: "target",
          name: "Target",
          source: { type: "channel", properties: {} },
          destinations: [destination("t1")],
        }),
      );
      await engine.deploy(
        channel({
          id: "front",
          destinations: [
            destination("w", {
              connector: { type: "channel", properties: { channelId: "Target" } },
            }),
          ],
        }),
      );
      const result = await kit.source("front").dispatch({ content: hl7({ controlId: "R1" }) });
      await engine.idle("front");
      await engine.idle("target");
      expect(kit.sentTo("t1")).toHaveLength(1);
      const front = await engine.messages.get("front", result.messageId);
      expect(ackCode(front?.connectors[1]?.content.response)).toBe("AA");
      const routed = await engine.router.routeMessage("target", hl7({ controlId: "R2" }));
      expect(routed.status).toBe("RECEIVED");
      await engine.idle("target");
      expect(kit.sentTo("t1")).toHaveLength(2);
      await expect(engine.router.routeMessage("nowhere", "x")).rejects.toMatchObject({
        code: "ERR_CHANNEL_NOT_DEPLOYED",
      });
    } finally {
      await engine.close();
      await store.close();
    }
  });
});

describe("group commit in the pipeline", () => {
  it("lets concurrent dispatches share commits, and answers each only after its own is durable", async () => {
    await using t = await setup(channel());
    const before = t.store.metrics().commits;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => t.dispatch(hl7({ controlId: `M${i}` }))),
    );
    const afterReceive = t.store.metrics().commits - before;
    // Every answered message is already in the store.
    for (const result of results)
      expect(await t.store.getMessage("adt", result.messageId)).toBeDefined();
    expect(afterReceive).toBeLessThanOrEqual(3);
    await t.engine.idle("adt");
    expect(t.store.metrics().commits - before).toBeLessThan(30);
    expect(t.engine.commitMetrics().groups).toBeGreaterThanOrEqual(600);
  });

  it("makes dispatch wait while the processing backlog is full", async () => {
    const kit = createTestConnectors();
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: kit.plugins, maxBacklog: 5 });
    try {
      await engine.deploy(channel());
      const results = await Promise.all(
        Array.from({ length: 50 }, () => kit.source("adt").dispatch({ content: hl7() })),
      );
      expect(new Set(results.map((r) => r.messageId)).size).toBe(50);
      await engine.idle("adt");
      expect(kit.sentTo("d1")).toHaveLength(50);
    } finally {
      await engine.close();
      await store.close();
    }
  });
});

describe("no PHI in events", () => {
  it("logs a failing script by kind, never with the content its error quotes", async () => {
    await using t = await setup(
      channel({
        transformer: {
          steps: [
            { type: "javascript", script: 'throw new Error("bad patient " + msg.get("PID.3.1"));' },
          ],
        },
      }),
    );
    const result = await t.dispatch(hl7({ mrn: "SECRET-MRN-991" }));
    await t.engine.idle("adt");
    const published = JSON.stringify(t.events);
    expect(published).not.toContain("SECRET-MRN-991");
    expect(
      t.events.some((e) => e.type === "log" && e.text.includes("source processing failed")),
    ).toBe(true);
    // The store keeps the full error for the operator who may see content.
    const detail = await t.engine.messages.get("adt", result.messageId);
    expect(detail?.connectors[0]?.content.error).toContain("SECRET-MRN-991");
  });
});

describe("halt and the postprocessor", () => {
  it("halt leaves unsent work QUEUED in the store and the next start sends it", async () => {
    await using t = await setup(
      channel({
        destinations: [
          destination("d1", {
            queue: { mode: "always", retryCount: 100, retryIntervalMs: 3_600_000 },
          }),
        ],
      }),
    );
    t.kit.behaviour.set("d1", { failTimes: 1 });
    const result = await t.dispatch(hl7());
    await until(() => t.kit.behaviour.get("d1")?.failTimes === 0);
    await t.engine.halt("adt");
    expect((await t.store.listUnfinished("adt")).queued.map((r) => r.messageId)).toEqual([
      result.messageId,
    ]);
    await t.engine.start("adt");
    await t.engine.idle("adt");
    expect(t.kit.sentTo("d1").map((s) => s.messageId)).toEqual([result.messageId]);
  });

  it("gives a response transformer the destination's response", async () => {
    await using t = await setup(
      channel({
        destinations: [
          destination("d1", {
            responseTransformer: {
              steps: [
                {
                  type: "javascript",
                  script:
                    'logger.info("rt " + response.getStatus() + " " + response.getMessage());',
                },
              ],
            },
          }),
        ],
      }),
    );
    t.kit.behaviour.set("d1", { response: "PEER-OK" });
    await t.dispatch(hl7());
    await t.engine.idle("adt");
    expect(t.events.find((e) => e.type === "log" && e.text.startsWith("rt"))).toMatchObject({
      text: "rt SENT PEER-OK",
    });
  });

  it("runs the postprocessor after the last destination, with the destinations' responses in responseMap", async () => {
    await using t = await setup(
      channel({
        postprocessor: 'logger.info("post " + $("D1") + " " + $("D2"));',
        destinations: [destination("d1"), destination("d2")],
      }),
    );
    t.kit.behaviour.set("d1", { response: "R1" });
    t.kit.behaviour.set("d2", { response: "R2" });
    await t.dispatch(hl7());
    await until(() => t.events.some((e) => e.type === "log" && e.text.startsWith("post")));
    const line = t.events.find((e) => e.type === "log" && e.text.startsWith("post"));
    expect(line).toMatchObject({
      type: "log",
      level: "info",
      channelId: "adt",
      text: "post R1 R2",
    });
  });
});

describe("PENDING and the response status", () => {
  const withResponseTransformer = (script: string, queue?: DestinationInput["queue"]) =>
    channel({
      destinations: [
        destination("d1", {
          responseTransformer: { steps: [{ type: "javascript", script }] },
          ...(queue === undefined ? {} : { queue }),
        }),
      ],
    });

  it("commits PENDING before the response transformer; a crash then sends the message again", async () => {
    await using t = await setup(withResponseTransformer('channelMap.put("seen", "yes");'));
    // The SENT commit "crashes": the store keeps what was committed before it.
    const write = t.store.write.bind(t.store);
    let crashed = false;
    t.store.write = async (batch) => {
      if (!crashed && batch.some((w) => w.op === "setStatus" && w.status === "SENT")) {
        crashed = true;
        throw new Error("power cut");
      }
      return write(batch);
    };
    t.kit.behaviour.set("d1", { response: "PEER-OK" });
    const result = await t.dispatch(hl7());
    await until(() => crashed);
    await t.engine.halt("adt");
    const pending = await t.engine.messages.search({ channelId: "adt", statuses: ["PENDING"] });
    expect(pending.map((m) => [m.messageId, m.statuses.d1])).toEqual([
      [result.messageId, "PENDING"],
    ]);
    const stored = await t.engine.messages.get("adt", result.messageId);
    expect(stored?.connectors.find((c) => c.connectorId === "d1")?.content.response).toBe(
      "PEER-OK",
    );
    await t.engine.start("adt");
    await t.engine.idle("adt");
    expect(t.kit.sentTo("d1").map((s) => s.messageId)).toEqual([
      result.messageId,
      result.messageId,
    ]);
    const after = await t.engine.messages.search({ channelId: "adt" });
    expect(after[0]?.statuses.d1).toBe("SENT");
  });

  it("publishes PENDING, then SENT, for a destination with a response transformer only", async () => {
    await using t = await setup(
      channel({
        destinations: [
          destination("d1", {
            responseTransformer: { steps: [{ type: "javascript", script: "// nothing" }] },
          }),
          destination("d2"),
        ],
      }),
    );
    t.kit.behaviour.set("d1", { response: "R1" });
    t.kit.behaviour.set("d2", { response: "R2" });
    await t.dispatch(hl7());
    await t.engine.idle("adt");
    const statuses = (id: string) =>
      t.events.flatMap((e) => (e.type === "message" && e.connectorId === id ? [e.status] : []));
    expect(statuses("d1")).toEqual(["QUEUED", "PENDING", "SENT"]);
    expect(statuses("d2")).toEqual(["QUEUED", "SENT"]);
  });

  it("responseStatus = ERROR fails the delivery for good, with responseStatusMessage", async () => {
    await using t = await setup(
      withResponseTransformer(
        'if (response.getMessage() == "NAK") { responseStatus = ERROR; responseStatusMessage = "peer said no"; }',
        { mode: "always", retryCount: 3, retryIntervalMs: 1 },
      ),
    );
    t.kit.behaviour.set("d1", { response: "NAK" });
    const result = await t.dispatch(hl7());
    await t.engine.idle("adt");
    expect(t.kit.sentTo("d1")).toHaveLength(1);
    const stored = await t.engine.messages.get("adt", result.messageId);
    const d1 = stored?.connectors.find((c) => c.connectorId === "d1");
    expect(d1).toMatchObject({ status: "ERROR", error: "peer said no", deadLetter: true });
    expect((await t.engine.statistics("adt")).d1).toMatchObject({ sent: 0, errored: 1, queued: 0 });
  });

  it("responseStatus = QUEUED retries per the queue policy; SENT accepts", async () => {
    await using t = await setup(
      withResponseTransformer(
        'var n = ($g("tries") || 0) + 1; $g("tries", n); responseStatus = n < 3 ? QUEUED : SENT;',
        { mode: "onFailure", retryCount: 5, retryIntervalMs: 1 },
      ),
    );
    t.kit.behaviour.set("d1", { response: "OK" });
    const result = await t.dispatch(hl7());
    await t.engine.idle("adt");
    expect(t.kit.sentTo("d1")).toHaveLength(3);
    const stored = await t.engine.messages.get("adt", result.messageId);
    expect(stored?.connectors.find((c) => c.connectorId === "d1")).toMatchObject({
      status: "SENT",
      sendAttempts: 3,
    });
  });
});

describe("waitForPrevious chains", () => {
  it("runs a chained destination's transformer after the previous one's response transformer, with its response and maps", async () => {
    await using t = await setup(
      channel({
        destinations: [
          destination("d1", {
            responseTransformer: {
              steps: [{ type: "javascript", script: 'channelMap.put("ackCode", "AA-" + msg);' }],
            },
          }),
          destination("d2", {
            waitForPrevious: true,
            transformer: {
              steps: [
                {
                  type: "javascript",
                  script: 'msg.set("ZRS.1", $r("D1")); msg.set("ZRS.2", $("ackCode"));',
                },
              ],
            },
          }),
        ],
      }),
    );
    t.kit.behaviour.set("d1", { response: "PEER1" });
    const result = await t.dispatch(hl7());
    await t.engine.idle("adt");
    const sent = t.kit.sentTo("d2")[0]?.content ?? "";
    const parsed = parseHl7(sent);
    expect(parsed.get("ZRS.1")).toBe("PEER1");
    expect(parsed.get("ZRS.2")).toBe("AA-PEER1");
    const stored = await t.engine.messages.get("adt", result.messageId);
    expect(stored?.connectors.find((c) => c.connectorId === "d2")?.content.encoded).toBe(sent);
  });

  it("lets a chained destination's filter decide on the previous response (FILTERED)", async () => {
    await using t = await setup(
      channel({
        destinations: [
          destination("d1"),
          destination("d2", {
            waitForPrevious: true,
            filter: {
              rules: [{ type: "javascript", script: 'return responseMap.get("D1") == "GO";' }],
            },
          }),
        ],
      }),
    );
    t.kit.behaviour.set("d1", { response: "STOP" });
    const stopped = await t.dispatch(hl7());
    await t.engine.idle("adt");
    t.kit.behaviour.set("d1", { response: "GO" });
    const went = await t.dispatch(hl7());
    await t.engine.idle("adt");
    expect(t.kit.sentTo("d2").map((s) => s.messageId)).toEqual([went.messageId]);
    const summary = await t.engine.messages.search({ channelId: "adt" });
    expect(Object.fromEntries(summary.map((m) => [m.messageId, m.statuses.d2]))).toEqual({
      [stopped.messageId]: "FILTERED",
      [went.messageId]: "SENT",
    });
    expect((await t.engine.statistics("adt")).d2).toMatchObject({
      filtered: 1,
      sent: 1,
      queued: 0,
    });
  });

  it("runs a chained destination's transformer again when its message is recovered", async () => {
    await using t = await setup(
      channel({
        destinations: [
          destination("d1"),
          destination("d2", {
            waitForPrevious: true,
            queue: { mode: "always", retryCount: 100, retryIntervalMs: 3_600_000 },
            transformer: { steps: [{ type: "javascript", script: 'msg.addSegment("ZRS|X");' }] },
          }),
        ],
      }),
    );
    t.kit.behaviour.set("d2", { failTimes: 1 });
    const result = await t.dispatch(hl7());
    await until(() => t.kit.behaviour.get("d2")?.failTimes === 0);
    await t.engine.halt("adt");
    // Stored while queued: the transformer's input, so recovery transforms it once, not twice.
    const stored = await t.engine.messages.get("adt", result.messageId);
    const queued = stored?.connectors.find((c) => c.connectorId === "d2");
    expect(queued?.status).toBe("QUEUED");
    expect(queued?.content.encoded).not.toContain("ZRS");
    await t.engine.start("adt");
    await t.engine.idle("adt");
    const sent = t.kit.sentTo("d2").map((s) => s.content);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.match(/\rZRS\|X/g)).toHaveLength(1);
  });
});

import { join } from "node:path";
import { createTempDir } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createTestConnectors, hl7, until } from "./__tests__/test-connectors.js";
import type { ChannelInput } from "./channel-schema.js";
import { createEngine, type EngineOptions } from "./create-engine.js";
import { defineConnector } from "./define-connector.js";
import type { EngineEvent } from "./engine-events.js";
import { MemoryStore } from "./memory-store.js";
import { SOURCE_CONNECTOR_ID, type MessageStore, type StoreWrite } from "./message-store.js";
import { SqliteStore } from "./sqlite-store.js";

function channel(extra: Partial<ChannelInput> = {}): ChannelInput {
  return {
    id: "adt",
    name: "ADT in",
    source: { type: "test", properties: {} },
    destinations: [
      { id: "d1", name: "D1", connector: { type: "record", properties: { name: "d1" } } },
    ],
    ...extra,
  };
}

/** An engine on `store` (a fresh MemoryStore by default); disposing it closes the engine, then the store. */
function engineOn(options: Omit<EngineOptions, "store"> & { store?: MessageStore }) {
  const store = options.store ?? new MemoryStore();
  const engine = createEngine({ ...options, store });
  return {
    engine,
    store,
    [Symbol.asyncDispose]: async () => {
      await engine.close();
      await store.close();
    },
  };
}

const hostPlugin = defineConnector({
  type: "host",
  propertiesSchema: z.object({ host: z.string().min(1), port: z.int().min(1).max(65535) }),
  createDestination: () => ({ send: () => Promise.resolve({ status: "SENT" as const }) }),
});

describe("createEngine deploy", () => {
  it("reports every problem of a channel in one ERR_CHANNEL_INVALID", async () => {
    const kit = createTestConnectors();
    await using fixture = engineOn({ plugins: [...kit.plugins, hostPlugin], env: {} });
    const { engine } = fixture;
    const error = await engine
      .deploy({
        id: "bad",
        source: { type: "nope", properties: {} },
        destinations: [
          {
            id: "d1",
            name: "D1",
            connector: { type: "host", properties: { host: "${MISSING_HOST}", port: 0 } },
          },
          { id: "d2", name: "D2", connector: { type: "record", properties: {} } },
        ],
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ERR_CHANNEL_INVALID" });
    const issues = (error as { details: { issues: { path: string }[] } }).details.issues.map(
      (i) => i.path,
    );
    expect(issues).toEqual([
      "name",
      "source.type",
      "destinations.0.connector.properties.host",
      "destinations.0.connector.properties.port",
      "destinations.1.connector.properties.name",
    ]);
    expect(engine.channels()).toEqual([]);
  });

  it("hands each connector the channel id and the engine's data directory, resolved", async () => {
    const store = new MemoryStore();
    const seen: { channelId: string; dataDir: string }[] = [];
    const recording = defineConnector({
      ...hostPlugin,
      type: "recording",
      createDestination: (_properties, env) => {
        seen.push({ channelId: env.channelId, dataDir: env.dataDir });
        return { send: () => Promise.resolve({ status: "SENT" as const }) };
      },
    });
    await using fixture = engineOn({ store, plugins: [recording], dataDir: "relative/data" });
    const { engine } = fixture;
    await engine.deploy({
      id: "env",
      name: "Env",
      source: { type: "channel", properties: {} },
      destinations: [
        {
          id: "d1",
          name: "D1",
          connector: { type: "recording", properties: { host: "h", port: 1 } },
        },
      ],
    });
    expect(seen).toEqual([{ channelId: "env", dataDir: join(process.cwd(), "relative/data") }]);
  });

  it("reports invalid connector properties of a valid document once, without building the connector", async () => {
    const store = new MemoryStore();
    let built = 0;
    const counting = defineConnector({
      ...hostPlugin,
      type: "counting",
      createDestination: () => {
        built++;
        return { send: () => Promise.resolve({ status: "SENT" as const }) };
      },
    });
    await using fixture = engineOn({ store, plugins: [counting] });
    const { engine } = fixture;
    const error = await engine
      .deploy({
        id: "props",
        name: "Props",
        source: { type: "channel", properties: {} },
        destinations: [
          {
            id: "d1",
            name: "D1",
            connector: { type: "counting", properties: { host: "", port: 1 } },
          },
        ],
      })
      .catch((e: unknown) => e);
    const issues = (error as { details: { issues: { path: string }[] } }).details.issues;
    expect(issues.map((i) => i.path)).toEqual(["destinations.0.connector.properties.host"]);
    expect(built).toBe(0);
  });

  it("reports script compile errors and bad field rules with the valid document's paths", async () => {
    const kit = createTestConnectors();
    await using fixture = engineOn({ plugins: kit.plugins });
    const { engine } = fixture;
    const error = await engine
      .deploy(
        channel({
          dataType: "JSON",
          filter: { rules: [{ type: "field", field: "PID.3", operator: "exists" }] },
          transformer: { steps: [{ type: "javascript", script: "this is not javascript(" }] },
        }),
      )
      .catch((e: unknown) => e);
    const paths = (error as { details: { issues: { path: string }[] } }).details.issues.map(
      (i) => i.path,
    );
    expect(paths).toEqual(["filter.rules.0", "transformer.steps.0.script"]);
  });

  it("deployAll leaves the good channels running when one is bad", async () => {
    const kit = createTestConnectors();
    await using fixture = engineOn({ plugins: kit.plugins });
    const { engine } = fixture;
    const reports = await engine.deployAll([
      channel(),
      { id: "broken" },
      channel({ id: "second" }),
    ]);
    expect(reports.map((r) => [r.channelId, r.ok, r.error?.code])).toEqual([
      ["adt", true, undefined],
      ["broken", false, "ERR_CHANNEL_INVALID"],
      ["second", true, undefined],
    ]);
    expect(engine.channels().map((c) => [c.id, c.state])).toEqual([
      ["adt", "started"],
      ["second", "started"],
    ]);
  });

  it("refuses a second plugin of the same type and resolves ${VAR} in connector properties", async () => {
    const store = new MemoryStore();
    await using fixture = engineOn({
      store,
      configurationMap: { PEER: "127.0.0.1" },
      plugins: [hostPlugin],
    });
    const { engine } = fixture;
    expect(() => engine.registerPlugin(hostPlugin)).toThrow(
      expect.objectContaining({ code: "ERR_CONNECTOR_DUPLICATE_TYPE" }),
    );
    await engine.deploy({
      id: "vars",
      name: "Vars",
      source: { type: "channel", properties: {} },
      destinations: [
        {
          id: "d1",
          name: "D1",
          connector: { type: "host", properties: { host: "${PEER}", port: 2575 } },
        },
      ],
    });
    expect(engine.status("vars").state).toBe("started");
  });
});

describe("createEngine lifecycle", () => {
  it("starts, pauses (refusing input), resumes, stops and undeploys, publishing each state", async () => {
    const kit = createTestConnectors();
    const fixture = engineOn({ plugins: kit.plugins });
    const { engine } = fixture;
    {
      await using _closes = fixture;
      const states: string[] = [];
      engine.subscribe((event: EngineEvent) => {
        if (event.type === "channelState") states.push(event.state);
      });
      await engine.deploy(channel());
      await engine.pause("adt");
      await expect(engine.dispatch("adt", { content: hl7() })).rejects.toMatchObject({
        code: "ERR_CHANNEL_NOT_STARTED",
      });
      await engine.resume("adt");
      await engine.dispatch("adt", { content: hl7() });
      await engine.stop("adt");
      expect(engine.status("adt").state).toBe("stopped");
      await engine.start("adt");
      await engine.halt("adt");
      await engine.undeploy("adt");
      expect(() => engine.status("adt")).toThrow(
        expect.objectContaining({ code: "ERR_CHANNEL_NOT_DEPLOYED" }),
      );
      expect(states).toEqual([
        "deployed",
        "starting",
        "started",
        "paused",
        "started",
        "stopping",
        "stopped",
        "starting",
        "started",
        "stopping",
        "stopped",
        "undeployed",
      ]);
      expect(kit.sentTo("d1")).toHaveLength(1);
    }
    await expect(engine.deploy(channel())).rejects.toMatchObject({ code: "ERR_ENGINE_CLOSED" });
  });

  it("redeploys a changed channel without losing its queue", async () => {
    const kit = createTestConnectors();
    await using fixture = engineOn({ plugins: kit.plugins });
    const { engine } = fixture;
    const queued = { mode: "always" as const, retryCount: 1_000, retryIntervalMs: 60_000 };
    await engine.deploy(
      channel({
        destinations: [
          {
            id: "d1",
            name: "D1",
            connector: { type: "record", properties: { name: "d1" } },
            queue: queued,
          },
        ],
      }),
    );
    kit.behaviour.set("d1", { failTimes: 1 });
    const result = await engine.dispatch("adt", { content: hl7() });
    // The first attempt failed; the retry waits a minute, so the message sits in the queue.
    await until(() => kit.behaviour.get("d1")?.failTimes === 0);
    await engine.deploy(
      channel({
        name: "ADT in v2",
        destinations: [
          {
            id: "d1",
            name: "D1",
            connector: { type: "record", properties: { name: "d1" } },
            queue: { ...queued, retryIntervalMs: 1 },
          },
        ],
      }),
    );
    await engine.idle("adt");
    expect(kit.sentTo("d1").map((s) => s.messageId)).toEqual([result.messageId]);
    expect(engine.status("adt").name).toBe("ADT in v2");
  });
});

describe("redeploy safety", () => {
  it("keeps the running version when the new one is invalid, and a disabled destination keeps its queue", async () => {
    const kit = createTestConnectors();
    await using fixture = engineOn({ plugins: kit.plugins });
    const { engine, store } = fixture;
    const d1 = { id: "d1", name: "D1", connector: { type: "record", properties: { name: "d1" } } };
    const slow = { mode: "always" as const, retryCount: 100, retryIntervalMs: 3_600_000 };
    await engine.deploy(channel({ destinations: [{ ...d1, queue: slow }] }));
    await expect(engine.deploy(channel({ name: "" }))).rejects.toMatchObject({
      code: "ERR_CHANNEL_INVALID",
    });
    expect(engine.status("adt")).toMatchObject({ name: "ADT in", state: "started" });
    kit.behaviour.set("d1", { failTimes: 1 });
    const result = await engine.dispatch("adt", { content: hl7() });
    await until(() => kit.behaviour.get("d1")?.failTimes === 0);
    await engine.deploy(channel({ destinations: [{ ...d1, enabled: false, queue: slow }] }));
    expect((await store.listUnfinished("adt")).queued.map((r) => r.messageId)).toEqual([
      result.messageId,
    ]);
    await engine.deploy(
      channel({ destinations: [{ ...d1, queue: { ...slow, retryIntervalMs: 1 } }] }),
    );
    await engine.idle("adt");
    expect(kit.sentTo("d1").map((s) => s.messageId)).toEqual([result.messageId]);
  });
});

describe("deploy and undeploy scripts", () => {
  it("runs the deploy script before the first message and the undeploy script on undeploy", async () => {
    const kit = createTestConnectors();
    await using fixture = engineOn({ plugins: kit.plugins });
    const { engine } = fixture;
    const logs: string[] = [];
    engine.subscribe((event) => {
      if (event.type === "log") logs.push(event.text);
    });
    await engine.deploy(
      channel({
        deployScript: 'globalChannelMap.put("facility", "WEST"); logger.info("deployed");',
        undeployScript: 'logger.info("undeployed " + globalChannelMap.get("facility"));',
        transformer: {
          steps: [{ type: "mapper", field: "MSH.4", from: { javascript: '$("facility")' } }],
        },
      }),
    );
    await engine.dispatch("adt", { content: hl7() });
    await engine.idle("adt");
    expect(kit.sentTo("d1")[0]?.content).toContain("|SEND|WEST|");
    await engine.undeploy("adt");
    expect(logs).toEqual(["deployed", "undeployed WEST"]);
  });

  it("refuses the deploy when the deploy script fails", async () => {
    const kit = createTestConnectors();
    await using fixture = engineOn({ plugins: kit.plugins });
    const { engine } = fixture;
    await expect(
      engine.deploy(channel({ deployScript: 'throw new Error("no");' })),
    ).rejects.toMatchObject({
      code: "ERR_CHANNEL_DEPLOY_SCRIPT_FAILED",
    });
    expect(engine.channels()).toEqual([]);
  });
});

describe("global scripts", () => {
  it("runs deploy once per deploy call, preprocessor and postprocessor around every channel's own, undeploy at undeploy and close", async () => {
    const kit = createTestConnectors();
    const store = new MemoryStore();
    await using fixture = engineOn({
      store,
      plugins: kit.plugins,
      globalScripts: {
        deploy:
          'globalMap.put("deploys", (globalMap.get("deploys") || 0) + 1); logger.info("g-deploy");',
        undeploy: 'logger.info("g-undeploy " + globalMap.get("deploys"));',
        preprocessor: 'channelMap.put("order", "g"); return message.replace("|SEND|", "|GLOBAL|");',
        postprocessor: 'logger.info("g-post " + channelMap.get("order"));',
      },
    });
    const { engine } = fixture;
    const logs: string[] = [];
    engine.subscribe((event) => {
      if (event.type === "log") logs.push(event.text);
    });
    await engine.deployAll([
      channel({
        preprocessor: 'channelMap.put("order", channelMap.get("order") + "c"); return message;',
        postprocessor: 'channelMap.put("order", channelMap.get("order") + "p");',
      }),
      channel({ id: "other", name: "Other" }),
    ]);
    await engine.dispatch("adt", { content: hl7() });
    await engine.idle("adt");
    await until(() => logs.some((line) => line.startsWith("g-post")));
    expect(kit.sentTo("d1")[0]?.content).toContain("|GLOBAL|");
    await engine.undeploy("other");
    await engine.deploy(channel({ id: "third", name: "Third" }));
    await engine.close();
    expect(logs).toEqual(["g-deploy", "g-post gcp", "g-undeploy 1", "g-deploy", "g-undeploy 2"]);
  });

  it("refuses every deploy while a global preprocessor does not compile; a failing global deploy script is logged", async () => {
    const kit = createTestConnectors();
    const store = new MemoryStore();
    const broken = createEngine({
      store,
      plugins: kit.plugins,
      globalScripts: { preprocessor: "return (;" },
    });
    const failing = createEngine({
      store,
      plugins: kit.plugins,
      globalScripts: { deploy: 'throw new Error("no");' },
    });
    const logs: string[] = [];
    failing.subscribe((event) => {
      if (event.type === "log") logs.push(event.text);
    });
    try {
      const error = await broken.deploy(channel()).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ERR_CHANNEL_INVALID" });
      expect(
        (error as { details: { issues: { path: string }[] } }).details.issues.map((i) => i.path),
      ).toEqual(["globalScripts.preprocessor"]);
      await failing.deploy(channel());
      expect(failing.status("adt").state).toBe("started");
      expect(logs).toEqual(["global deploy script failed (script error)"]);
    } finally {
      await broken.close();
      await failing.close();
      await store.close();
    }
  });
});

describe("stop with a deadline", () => {
  it("finishes even when a send hangs; the message stays QUEUED and is sent after restart", async () => {
    const kit = createTestConnectors();
    await using fixture = engineOn({ plugins: kit.plugins, stopTimeoutMs: 50 });
    const { engine, store } = fixture;
    await engine.deploy(channel());
    let hung = 0;
    kit.behaviour.set("d1", {
      gate: () => {
        hung++;
        return new Promise<void>(() => undefined);
      },
    });
    const result = await engine.dispatch("adt", { content: hl7() });
    await until(() => hung === 1);
    await engine.stop("adt");
    expect(engine.status("adt").state).toBe("stopped");
    expect((await store.listUnfinished("adt")).queued.map((r) => r.messageId)).toEqual([
      result.messageId,
    ]);
    kit.behaviour.set("d1", {});
    await engine.start("adt");
    await engine.idle("adt");
    expect(kit.sentTo("d1").map((s) => s.messageId)).toEqual([result.messageId]);
  });
});

describe("recovery", () => {
  function crashedState(): StoreWrite[] {
    const now = Date.now();
    return [
      // Message 1: processed, destination QUEUED with its encoded content.
      { op: "insertMessage", channelId: "adt", messageId: 1, receivedAt: now },
      {
        op: "setStatus",
        channelId: "adt",
        messageId: 1,
        connectorId: SOURCE_CONNECTOR_ID,
        status: "TRANSFORMED",
        updatedAt: now,
      },
      {
        op: "setStatus",
        channelId: "adt",
        messageId: 1,
        connectorId: "d1",
        status: "QUEUED",
        updatedAt: now,
      },
      {
        op: "putContent",
        channelId: "adt",
        messageId: 1,
        connectorId: "d1",
        kind: "encoded",
        content: hl7({ controlId: "ONE" }),
      },
      // Message 2: only received (committed and acknowledged, then the process died).
      { op: "insertMessage", channelId: "adt", messageId: 2, receivedAt: now },
      {
        op: "setStatus",
        channelId: "adt",
        messageId: 2,
        connectorId: SOURCE_CONNECTOR_ID,
        status: "RECEIVED",
        updatedAt: now,
      },
      {
        op: "putContent",
        channelId: "adt",
        messageId: 2,
        connectorId: SOURCE_CONNECTOR_ID,
        kind: "raw",
        content: hl7({ controlId: "TWO" }),
      },
    ];
  }

  it("sends QUEUED messages again and processes RECEIVED ones before taking new input", async () => {
    await using dir = await createTempDir();
    const before = new SqliteStore({ dataDir: dir.path });
    await before.write(crashedState());
    await before.close();
    const kit = createTestConnectors();
    const store = new SqliteStore({ dataDir: dir.path });
    await using fixture = engineOn({ store, plugins: kit.plugins });
    const { engine } = fixture;
    await engine.deploy(channel());
    // Message 2 was processed during start; new input gets the next id.
    expect((await store.getMessage("adt", 2))?.connectors[0]?.status).toBe("TRANSFORMED");
    const next = await engine.dispatch("adt", { content: hl7({ controlId: "THREE" }) });
    expect(next.messageId).toBe(3);
    await engine.idle("adt");
    expect(kit.sentTo("d1").map((s) => s.messageId)).toEqual([1, 2, 3]);
    expect((await store.listUnfinished("adt")).queued).toEqual([]);
  });

  it("recovers a queue longer than its buffer, reading it back in pages, in order", async () => {
    const kit = createTestConnectors();
    const store = new MemoryStore();
    const now = Date.now();
    const writes: StoreWrite[] = [];
    for (let id = 1; id <= 30; id++) {
      writes.push(
        { op: "insertMessage", channelId: "adt", messageId: id, receivedAt: now },
        {
          op: "setStatus",
          channelId: "adt",
          messageId: id,
          connectorId: SOURCE_CONNECTOR_ID,
          status: "TRANSFORMED",
          updatedAt: now,
        },
        {
          op: "setStatus",
          channelId: "adt",
          messageId: id,
          connectorId: "d1",
          status: "QUEUED",
          updatedAt: now,
        },
        {
          op: "putContent",
          channelId: "adt",
          messageId: id,
          connectorId: "d1",
          kind: "encoded",
          content: hl7(),
        },
      );
    }
    await store.write(writes);
    await using fixture = engineOn({ store, plugins: kit.plugins });
    const { engine } = fixture;
    await engine.deploy(
      channel({
        destinations: [
          {
            id: "d1",
            name: "D1",
            connector: { type: "record", properties: { name: "d1" } },
            queue: { mode: "always", bufferSize: 4 },
          },
        ],
      }),
    );
    await engine.idle("adt");
    expect(kit.sentTo("d1").map((s) => s.messageId)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
  });

  it("a restart while an overflowed queue is being read back neither duplicates nor reorders", async () => {
    const kit = createTestConnectors();
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: kit.plugins });
    let releaseSend: () => void = () => undefined;
    const sendGate = new Promise<void>((resolve) => (releaseSend = resolve));
    let releaseRead: () => void = () => undefined;
    const readGate = new Promise<void>((resolve) => (releaseRead = resolve));
    let reads = 0;
    const listQueued = store.listQueued.bind(store);
    store.listQueued = async (ref, page) => {
      if (reads++ === 0) await readGate;
      return listQueued(ref, page);
    };
    try {
      await engine.deploy(
        channel({
          destinations: [
            {
              id: "d1",
              name: "D1",
              connector: { type: "record", properties: { name: "d1" } },
              queue: { mode: "always", bufferSize: 2 },
            },
          ],
        }),
      );
      kit.behaviour.set("d1", {
        gate: (message) => (message.messageId === 1 ? sendGate : Promise.resolve()),
      });
      for (let i = 0; i < 6; i++) await engine.dispatch("adt", { content: hl7() });
      releaseSend();
      await until(() => reads === 1);
      await engine.stop("adt");
      await engine.start("adt");
      releaseRead();
      await engine.idle("adt");
      expect(kit.sentTo("d1").map((s) => s.messageId)).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      releaseSend();
      releaseRead();
      await engine.close();
      await store.close();
    }
  });

  it("stops the channel with ERR_CHANNEL_RECOVERY_FAILED when recovery fails", async () => {
    const kit = createTestConnectors();
    const store = new MemoryStore();
    await store.write(crashedState());
    store.listUnfinished = () => Promise.reject(new Error("disk unreadable"));
    await using fixture = engineOn({ store, plugins: kit.plugins });
    const { engine } = fixture;
    await expect(engine.deploy(channel())).rejects.toMatchObject({
      code: "ERR_CHANNEL_RECOVERY_FAILED",
    });
    expect(engine.status("adt").state).toBe("failed");
    await expect(engine.dispatch("adt", { content: hl7() })).rejects.toMatchObject({
      code: "ERR_CHANNEL_NOT_STARTED",
    });
    expect(kit.sent).toEqual([]);
  });

  it("marks unrecoverable work ERROR when the storage mode kept no content", async () => {
    const kit = createTestConnectors();
    const store = new MemoryStore();
    await store.write(crashedState().filter((write) => write.op !== "putContent"));
    await using fixture = engineOn({ store, plugins: kit.plugins });
    const { engine } = fixture;
    await engine.deploy(channel({ storage: "metadata" }));
    const detail1 = await store.getMessage("adt", 1);
    const detail2 = await store.getMessage("adt", 2);
    expect(detail1?.connectors[1]).toMatchObject({
      status: "ERROR",
      error: "Content not stored (storage mode)",
    });
    expect(detail2?.connectors[0]).toMatchObject({ status: "ERROR" });
    expect(kit.sent).toEqual([]);
  });
});

describe("reprocess", () => {
  it("reprocesses as a new message or in place, and refuses what it cannot", async () => {
    const kit = createTestConnectors();
    await using fixture = engineOn({ plugins: kit.plugins });
    const { engine } = fixture;
    await engine.deploy(channel());
    const first = await engine.dispatch("adt", {
      content: hl7({ controlId: "A" }),
      sourceMap: { remote: "10.0.0.1" },
    });
    await engine.idle("adt");
    const [copy] = await engine.messages.reprocess("adt", { messageIds: [first.messageId] });
    const [inPlace] = await engine.messages.reprocess("adt", {
      messageIds: [first.messageId],
      overwrite: true,
    });
    await engine.idle("adt");
    expect(copy?.messageId).toBe(2);
    expect(inPlace?.messageId).toBe(first.messageId);
    expect(kit.sentTo("d1").map((s) => s.messageId)).toEqual([1, 2, 1]);
    expect((await engine.messages.search({ channelId: "adt" })).map((m) => m.messageId)).toEqual([
      2, 1,
    ]);
    await expect(engine.messages.reprocess("adt", { messageIds: [99] })).rejects.toMatchObject({
      code: "ERR_MESSAGE_NOT_FOUND",
    });
    await engine.deploy(channel({ id: "meta", storage: "metadata" }));
    const meta = await engine.dispatch("meta", { content: hl7() });
    await engine.idle("meta");
    await expect(
      engine.messages.reprocess("meta", { messageIds: [meta.messageId] }),
    ).rejects.toMatchObject({
      code: "ERR_MESSAGE_CONTENT_NOT_STORED",
    });
    expect(await engine.messages.remove("adt", [2])).toBe(1);
    const pruned = await engine.messages.prune({ channelId: "adt", olderThanMs: -1_000 });
    expect(pruned.deleted).toBe(1);
  });
});

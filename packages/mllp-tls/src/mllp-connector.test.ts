import { join } from "node:path";
import { tmpdir } from "node:os";
import { createEngine, EgressPolicy, MemoryStore, type DestinationContext, type LogLevel, type OutboundMessage, type SourceContext } from "@node-mirth/core";
import { buildAck, parseHl7 } from "@node-mirth/hl7";
import { freePort } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";
import { ackHandler, frameClient, mllpFrame, msa } from "./__tests__/helpers.js";
import { adt } from "./__tests__/adt-message.js";
import { mllp, mllpPropertiesSchema } from "./mllp-connector.js";
import { MllpListener } from "./mllp-listener.js";
import { MllpSender } from "./mllp-sender.js";

const env = { channelId: "test", policy: { allowInsecureBind: false }, dataDir: join(tmpdir(), "node-mirth-connector-test") };

function outbound(content: string): OutboundMessage {
  return { channelId: "test", messageId: 1, destinationId: "d1", content, dataType: "HL7V2", channelMap: new Map(), sourceMap: new Map() };
}

function destinationContext(): DestinationContext & { lines: string[] } {
  const lines: string[] = [];
  return { policy: env.policy, log: (level: LogLevel, text: string) => lines.push(`${level}: ${text}`), signal: new AbortController().signal, lines };
}

describe("mllp properties", () => {
  it("applies defaults and reads numbers and booleans written as strings", () => {
    const props = mllpPropertiesSchema.parse({ port: "6661", keepConnectionOpen: "false" });
    expect(props).toMatchObject({ port: 6661, mode: "MLLP", keepConnectionOpen: false, maxFrameBytes: 64 * 1024 * 1024, charset: "utf8" });
  });

  it("reports bad framing, unknown keys and bad TLS properties", () => {
    const result = mllpPropertiesSchema.safeParse({ port: 1, mode: "FRAME", colour: "red", tls: { enabled: true, rejectUnauthorised: false } });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["", "tls"]));
    expect(mllpPropertiesSchema.safeParse({ port: 1, mode: "FRAME" }).error?.issues[0]?.message).toContain("FRAME mode needs endBytes");
  });

  it("a destination needs host and port: the engine refuses the channel at deploy", async () => {
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [mllp()], env: {} });
    try {
      const error = await engine
        .deploy({
          id: "nohost",
          name: "No host",
          source: { type: "mllp", properties: { port: 0 } },
          destinations: [{ id: "d1", name: "D1", connector: { type: "mllp", properties: { port: 0 } } }],
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ERR_CHANNEL_INVALID" });
      expect(JSON.stringify((error as { details: unknown }).details)).toContain("needs host");
    } finally {
      await engine.close();
      await store.close();
    }
  });
});

describe("mllp destination", () => {
  const plugin = mllp();

  it("checks the egress allow-list at deploy", () => {
    const egress = new EgressPolicy({ allowed_mllp: ["10.1.2.3"] });
    const props = mllpPropertiesSchema.parse({ host: "127.0.0.1", port: 6661 });
    expect(() => plugin.createDestination!(props, { ...env, policy: { allowInsecureBind: false, egress } })).toThrow(
      expect.objectContaining({ code: "ERR_POLICY_EGRESS_DENIED" }),
    );
  });

  it("maps AA to SENT, AE to a retryable ERROR and AR to a permanent one, with the ACK as response", async () => {
    await using receiver = new MllpListener({
      onMessage: (message) => {
        const parsed = parseHl7(message);
        const id = parsed.controlId ?? "";
        const outcome = id.startsWith("AE") ? "error" : id.startsWith("AR") ? "reject" : "accept";
        return Promise.resolve(buildAck(parsed, { outcome, text: "said so" })!.toString());
      },
    });
    const { port } = await receiver.start();
    const destination = plugin.createDestination!(mllpPropertiesSchema.parse({ host: "127.0.0.1", port }), env);
    const ctx = destinationContext();
    try {
      const sent = await destination.send(outbound(adt("AA1")), ctx);
      expect(sent).toMatchObject({ status: "SENT", message: expect.stringContaining("answered AA (said so)") });
      expect(sent.content).toContain("MSA|AA|AA1");
      expect(await destination.send(outbound(adt("AE1")), ctx)).toMatchObject({ status: "ERROR", retryable: true, message: expect.stringContaining("ERR_MLLP_NEGATIVE_ACK") });
      expect(await destination.send(outbound(adt("AR1")), ctx)).toMatchObject({ status: "ERROR", retryable: false, message: expect.stringContaining("ERR_MLLP_REJECTED") });
    } finally {
      await destination.stop?.();
    }
  });

  it("reports a missing or non-HL7 response as a retryable ERROR with a clear message", async () => {
    await using receiver = new MllpListener({ onMessage: () => Promise.resolve("thanks") });
    const { port } = await receiver.start();
    const destination = plugin.createDestination!(mllpPropertiesSchema.parse({ host: "127.0.0.1", port, responseTimeoutMs: 200 }), env);
    try {
      expect(await destination.send(outbound(adt("N1")), destinationContext())).toMatchObject({
        status: "ERROR",
        retryable: true,
        message: expect.stringMatching(/^ERR_MLLP_INVALID_RESPONSE: the response \(6 bytes\) is not an HL7 v2 message/),
      });
      const raw = { ...outbound("plain text"), dataType: "RAW" as const };
      expect(await destination.send(raw, destinationContext())).toMatchObject({ status: "SENT", content: "thanks" });
    } finally {
      await destination.stop?.();
    }
    await receiver.stop();
    const down = plugin.createDestination!(mllpPropertiesSchema.parse({ host: "127.0.0.1", port }), env);
    expect(await down.send(outbound(adt("N2")), destinationContext())).toMatchObject({ status: "ERROR", retryable: true, message: expect.stringContaining("ERR_MLLP_CONNECT_FAILED") });
    await down.stop?.();
  });
});

describe("mllp source", () => {
  const plugin = mllp();

  it("answers AE when the channel cannot take a message, so the peer sends it again", async () => {
    const port = await freePort("127.0.0.1");
    const source = plugin.createSource!(mllpPropertiesSchema.parse({ port }), env);
    const lines: string[] = [];
    const ctx: SourceContext = {
      channelId: "test",
      dispatch: () => Promise.reject(Object.assign(new Error("stopped"), { code: "ERR_CHANNEL_NOT_STARTED" })),
      policy: env.policy,
      log: (_level, text) => lines.push(text),
      signal: new AbortController().signal,
    };
    await source.start(ctx);
    try {
      await using client = await frameClient(port);
      client.socket.write(mllpFrame(adt("NS1")));
      const nack = parseHl7(await client.next());
      expect([nack.get("MSA.1"), nack.get("MSA.2")]).toEqual(["AE", "NS1"]);
      expect(nack.get("MSA.3")).toContain("ERR_CHANNEL_NOT_STARTED");
      client.socket.write(mllpFrame("not hl7"));
      await client.closed;
    } finally {
      await source.stop();
    }
  });
});

describe("mllp in the engine", () => {
  it("decodes received bytes with the charset property (latin1 feeds keep their umlauts)", async () => {
    const port = await freePort("127.0.0.1");
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [mllp()], env: {} });
    try {
      await engine.deploy({
        id: "latin1",
        name: "Latin-1 feed",
        source: { type: "mllp", properties: { port, charset: "latin1" } },
        destinations: [{ id: "none", name: "None", connector: { type: "channel", properties: {} }, enabled: false }],
      });
      await using sender = new MllpSender({ host: "127.0.0.1", port, encoding: "latin1" });
      await sender.send(adt("L1").replace("DOE^JANE", "MÜLLER^RENÉ"));
      const [stored] = await engine.messages.search({ channelId: "latin1" });
      expect(JSON.stringify(await engine.messages.get("latin1", stored!.messageId))).toContain("MÜLLER^RENÉ");
    } finally {
      await engine.close();
      await store.close();
    }
  });

  it("receives, stores, ACKs, and delivers to a downstream MLLP receiver; unparseable input is stored as ERROR and answered AR", async () => {
    const delivered: string[] = [];
    await using downstream = new MllpListener({
      onMessage: (message) => {
        delivered.push(parseHl7(message).controlId ?? "");
        return ackHandler(message);
      },
    });
    const { port: downstreamPort } = await downstream.start();
    const port = await freePort("127.0.0.1");
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [mllp()], env: {} });
    try {
      await engine.deploy({
        id: "adt",
        name: "ADT in",
        source: { type: "mllp", properties: { port } },
        destinations: [{ id: "out", name: "RIS", connector: { type: "mllp", properties: { host: "127.0.0.1", port: downstreamPort } } }],
      });
      await using sender = new MllpSender({ host: "127.0.0.1", port });
      for (const id of ["E1", "E2", "E3"]) expect(await sender.send(adt(id))).toMatchObject({ outcome: "accepted", ackCode: "AA" });
      await using raw = await frameClient(port);
      raw.socket.write(mllpFrame("garbage, not HL7"));
      expect(msa(await raw.next())[0]).toBe("AR");
      await engine.idle("adt");
      expect(delivered).toEqual(["E1", "E2", "E3"]);
      const sent = await engine.messages.search({ channelId: "adt", statuses: ["SENT"] });
      expect(sent).toHaveLength(3);
      const errored = await engine.messages.search({ channelId: "adt", statuses: ["ERROR"] });
      expect(errored).toHaveLength(1);
      const detail = await engine.messages.get("adt", sent[0]!.messageId);
      expect(JSON.stringify(detail)).toContain("MLLP");

      await engine.stop("adt");
      await expect(new MllpSender({ host: "127.0.0.1", port }).send(adt("E4"))).rejects.toMatchObject({ code: "ERR_MLLP_CONNECT_FAILED" });
    } finally {
      await engine.close();
      await store.close();
    }
  });
});

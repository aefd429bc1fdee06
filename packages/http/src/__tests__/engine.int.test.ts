import { createEngine, EgressPolicy, MemoryStore, SqliteStore } from "@node-mirth/core";
import { createTempDir, freePort } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";
import { http } from "../http-connector.js";
import { startTestServer } from "./test-server.js";

const retrying = { mode: "onFailure", retryCount: 5, retryIntervalMs: 10 } as const;

function channel(input: { sourcePort: number; destination: Record<string, unknown>; queue?: Record<string, unknown> }) {
  return {
    id: "lab",
    name: "Lab results over HTTP",
    dataType: "RAW",
    source: { type: "http", properties: { port: input.sourcePort, basePath: "/lab" } },
    destinations: [{ id: "out", name: "Partner", connector: { type: "http", properties: input.destination }, queue: input.queue ?? retrying }],
  };
}

describe("http() in the engine: listener -> store -> sender", () => {
  it("a 503 is retried by the engine, then delivered; templates filled per message; the response is stored", async () => {
    const statuses = [503, 503, 200];
    await using partner = await startTestServer({
      handler: (_req, res, index) => {
        res.writeHead(statuses[index] ?? 200, { "content-type": "text/plain" });
        res.end(index < 2 ? "busy" : "accepted by partner");
      },
    });
    await using dir = await createTempDir("http-engine-");
    const store = new SqliteStore({ dataDir: dir.path });
    const engine = createEngine({ store, plugins: [http()], env: { PARTNER_PORT: String(partner.port) } });
    try {
      const sourcePort = await freePort();
      await engine.deploy(
        channel({
          sourcePort,
          destination: {
            url: "http://127.0.0.1:${PARTNER_PORT}/inbox/${message.messageId}",
            headers: { "X-Source-Path": "${sourceMap.path}" },
            query: { day: "${date('yyyyMMdd')}" },
            contentType: "application/hl7-v2",
          },
        }),
      );
      const response = await fetch(`http://127.0.0.1:${sourcePort}/lab/results`, { method: "POST", body: "MSH|^~\\&|LAB" });
      expect(response.status).toBe(200);
      const messageId = Number(response.headers.get("x-message-id"));
      await engine.idle("lab");
      expect(partner.requests).toHaveLength(3);
      const last = partner.requests[2]!;
      expect(last.url).toMatch(new RegExp(`^/inbox/${messageId}\\?day=\\d{8}$`));
      expect(last.headers["x-source-path"]).toBe("/results");
      expect(last.headers["content-type"]).toBe("application/hl7-v2; charset=utf-8");
      expect(last.body).toBe("MSH|^~\\&|LAB");
      const detail = await store.getMessage("lab", messageId);
      const out = detail!.connectors.find((c) => c.connectorId === "out")!;
      expect(out).toMatchObject({ status: "SENT", sendAttempts: 3 });
      expect(out.content.response).toBe("accepted by partner");
    } finally {
      await engine.close();
      await store.close();
    }
  });

  it("a 429 with Retry-After holds the engine's next attempt that long", async () => {
    await using partner = await startTestServer({
      handler: (_req, res, index) => {
        res.writeHead(index === 0 ? 429 : 200, index === 0 ? { "retry-after": "1" } : {});
        res.end();
      },
    });
    const engine = createEngine({ store: new MemoryStore(), plugins: [http()] });
    try {
      const sourcePort = await freePort();
      await engine.deploy(channel({ sourcePort, destination: { url: `http://127.0.0.1:${partner.port}/` } }));
      expect((await fetch(`http://127.0.0.1:${sourcePort}/lab`, { method: "POST", body: "m" })).status).toBe(200);
      await engine.idle("lab");
      expect(partner.requests).toHaveLength(2);
      expect(partner.requests[1]!.at - partner.requests[0]!.at).toBeGreaterThanOrEqual(950);
    } finally {
      await engine.close();
    }
  });

  it("reports the Retry-After to the engine, so its queue waits and a stop need not wait for a held send", async () => {
    await using partner = await startTestServer({
      handler: (_req, res) => {
        res.writeHead(503, { "retry-after": "7" });
        res.end();
      },
    });
    const plugin = http();
    const props = plugin.propertiesSchema.parse({ url: `http://127.0.0.1:${partner.port}/` });
    const destination = plugin.createDestination!(props, { channelId: "lab", policy: { allowInsecureBind: false }, dataDir: "data" });
    try {
      const response = await destination.send(
        { channelId: "lab", messageId: 1, destinationId: "out", content: "m", dataType: "RAW", channelMap: new Map(), sourceMap: new Map() },
        { policy: { allowInsecureBind: false }, log: () => undefined, signal: new AbortController().signal },
      );
      expect(response).toMatchObject({ status: "ERROR", retryable: true, retryAfterMs: 7_000 });
    } finally {
      await destination.stop?.();
    }
  });

  it("a permanent 4xx is not retried; includeResponseMetadata stores status and headers with the body", async () => {
    await using partner = await startTestServer({
      handler: (_req, res) => {
        res.writeHead(422, { "content-type": "application/json", "x-partner-ref": "r-1" });
        res.end('{"error":"bad"}');
      },
    });
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [http()] });
    try {
      const sourcePort = await freePort();
      await engine.deploy(channel({ sourcePort, destination: { url: `http://127.0.0.1:${partner.port}/`, includeResponseMetadata: true } }));
      const response = await fetch(`http://127.0.0.1:${sourcePort}/lab`, { method: "POST", body: "m" });
      const messageId = Number(response.headers.get("x-message-id"));
      await engine.idle("lab");
      expect(partner.requests).toHaveLength(1);
      const out = (await store.getMessage("lab", messageId))!.connectors.find((c) => c.connectorId === "out")!;
      expect(out.status).toBe("ERROR");
      const stored = JSON.parse(out.content.response ?? "{}") as { statusCode: number; headers: Record<string, string>; body: string };
      expect(stored).toMatchObject({ statusCode: 422, body: '{"error":"bad"}' });
      expect(stored.headers["x-partner-ref"]).toBe("r-1");
    } finally {
      await engine.close();
    }
  });

  it("deploy refuses cleartext credentials, a denied egress host, and a non-loopback listener without TLS", async () => {
    const engine = createEngine({
      store: new MemoryStore(),
      plugins: [http()],
      env: {},
      policy: { egress: new EgressPolicy({ allowed_http: ["partner.example"] }) },
    });
    try {
      const sourcePort = await freePort();
      await expect(
        engine.deploy(channel({ sourcePort, destination: { url: "http://partner.example/in", credentials: { type: "bearer", token: "t" } } })),
      ).rejects.toMatchObject({ code: "ERR_CHANNEL_INVALID", message: expect.stringContaining("Refused insecure setting: HTTP sender of channel lab: credential header authorization over http://") });
      await expect(engine.deploy(channel({ sourcePort, destination: { url: "https://elsewhere.example/in" } }))).rejects.toMatchObject({
        code: "ERR_CHANNEL_INVALID",
        message: expect.stringContaining("Egress denied: http destination elsewhere.example:443 is not on the allow-list"),
      });
      const exposed = channel({ sourcePort, destination: { url: "https://partner.example/in" } });
      exposed.source.properties = { ...exposed.source.properties, host: "0.0.0.0" } as typeof exposed.source.properties;
      await expect(engine.deploy(exposed)).rejects.toMatchObject({ cause: expect.objectContaining({ code: "ERR_POLICY_INSECURE_BIND" }) });
    } finally {
      await engine.close();
    }
  });

  it("binary: a base64 source body and a base64 destination body carry the same bytes end to end", async () => {
    await using partner = await startTestServer({ handler: (_req, res) => res.end(Buffer.from([0xff, 0x00, 0x7f])) });
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [http()] });
    try {
      const sourcePort = await freePort();
      const document = channel({
        sourcePort,
        destination: { url: `http://127.0.0.1:${partner.port}/`, bodyEncoding: "base64", contentType: "application/octet-stream", responseEncoding: "base64" },
      });
      document.source.properties = { ...document.source.properties, bodyAs: "base64" } as typeof document.source.properties;
      await engine.deploy(document);
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const response = await fetch(`http://127.0.0.1:${sourcePort}/lab`, { method: "POST", body: bytes });
      await engine.idle("lab");
      expect(partner.requests[0]!.raw.equals(bytes)).toBe(true);
      expect(partner.requests[0]!.headers["content-type"]).toBe("application/octet-stream");
      const out = (await store.getMessage("lab", Number(response.headers.get("x-message-id"))))!.connectors.find((c) => c.connectorId === "out")!;
      expect(out.content.response).toBe(Buffer.from([0xff, 0x00, 0x7f]).toString("base64"));
    } finally {
      await engine.close();
    }
  });

  it("a template naming a missing map value is a permanent error and nothing is sent", async () => {
    await using partner = await startTestServer({ handler: (_req, res) => res.end() });
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [http()] });
    try {
      const sourcePort = await freePort();
      await engine.deploy(channel({ sourcePort, destination: { url: `http://127.0.0.1:${partner.port}/\${channelMap.mrn}` } }));
      const response = await fetch(`http://127.0.0.1:${sourcePort}/lab`, { method: "POST", body: "m" });
      await engine.idle("lab");
      const out = (await store.getMessage("lab", Number(response.headers.get("x-message-id"))))!.connectors.find((c) => c.connectorId === "out")!;
      expect(out).toMatchObject({ status: "ERROR", sendAttempts: 1 });
      expect(out.error).toContain("ERR_TEMPLATE_VALUE_MISSING");
      expect(partner.requests).toHaveLength(0);
    } finally {
      await engine.close();
    }
  });
});

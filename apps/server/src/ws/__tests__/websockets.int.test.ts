import { createEngine, MemoryStore, type ChannelInput, type Engine } from "@node-mirth/core";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startAuthTestApp, type AuthTestApp, type AuthTestAppOptions } from "../../auth/__tests__/auth-test-app.js";
import {
  attachWebSockets,
  DASHBOARD_STATUS_PATH,
  SERVER_LOG_PATH,
  WS_CLOSE_SESSION_ENDED,
  WS_CLOSE_TOO_SLOW,
  type AttachedWebSockets,
} from "../attach-websockets.js";
import type { LogLineSource } from "../log-line-source.js";

const HL7 = "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20260101080000||ADT^A01|MSG0001|P|2.5\rPID|1||SECRET-MRN-4711||DOE^JANE\r";

const sink: ChannelInput = {
  id: "sink",
  name: "Sink",
  source: { type: "channel", properties: {} },
  destinations: [{ id: "keep", name: "Keep", enabled: false, connector: { type: "channel", properties: { channelId: "sink" } } }],
};
const feeder: ChannelInput = {
  id: "feeder",
  name: "Feeder",
  source: { type: "channel", properties: {} },
  destinations: [{ id: "to-sink", name: "To Sink", connector: { type: "channel", properties: { channelId: "sink" } } }],
};

class TestLogLines implements LogLineSource {
  readonly listeners = new Set<(line: string) => void>();
  subscribe(listener: (line: string) => void) {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
  emit(line: string) {
    for (const listener of this.listeners) listener(line);
  }
}

interface Rig extends AsyncDisposable {
  app: AuthTestApp;
  engine: Engine;
  logLines: TestLogLines;
  sockets: AttachedWebSockets;
  wsUrl: string;
  session(): Promise<string>;
}

async function startRig(options: AuthTestAppOptions & { heartbeatMs?: number } = {}): Promise<Rig> {
  const { heartbeatMs, ...appOptions } = options;
  const app = await startAuthTestApp(appOptions);
  const store = new MemoryStore();
  const engine = createEngine({ store, env: {} });
  await engine.deployAll([sink, feeder]);
  const logLines = new TestLogLines();
  const sockets = attachWebSockets({
    servers: [app.server],
    auth: app.auth,
    engine,
    logLines,
    ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
  });
  const user = await app.addUser({ username: "olga", role: "viewer" });
  return {
    app,
    engine,
    logLines,
    sockets,
    wsUrl: app.url.replace("http:", "ws:"),
    async session() {
      const res = await app.call("/api/users/_login", { body: { username: "olga", password: user.password, totp: app.freshCode(user.secret!) } });
      return ((await res.json()) as { sessionId: string }).sessionId;
    },
    async [Symbol.asyncDispose]() {
      await sockets.close();
      await engine.close();
      await store.close();
      await app.close();
    },
  };
}

/** Opens a socket and collects its frames from the first byte on; rejects with the refusal status. */
async function connect(url: string, headers: Record<string, string> = {}, options: { autoPong?: boolean } = {}) {
  const ws = new WebSocket(url, { headers, handshakeTimeout: 5_000, ...options });
  const frames: string[] = [];
  ws.on("message", (data: Buffer) => frames.push(data.toString("utf8")));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => {
      ws.terminate();
      reject(new Error(`refused ${res.statusCode}`));
    });
    ws.once("error", reject);
  });
  const next = async (predicate: (frame: string) => boolean) => {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const found = frames.find(predicate);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no frame matched; got ${frames.join(" | ")}`);
  };
  return { ws, frames, closed, next };
}

describe("WebSocket upgrades", () => {
  it("refuses without a session (401), with a dead one (401), from another origin (403) and on other paths (404)", async () => {
    await using rig = await startRig();
    const sessionId = await rig.session();
    await expect(connect(`${rig.wsUrl}${DASHBOARD_STATUS_PATH}`)).rejects.toThrow("refused 401");
    await expect(connect(`${rig.wsUrl}${SERVER_LOG_PATH}`)).rejects.toThrow("refused 401");
    await expect(connect(`${rig.wsUrl}${SERVER_LOG_PATH}`, { "x-session-id": "B".repeat(43) })).rejects.toThrow("refused 401");
    await expect(
      connect(`${rig.wsUrl}${DASHBOARD_STATUS_PATH}`, { cookie: `JSESSIONID=${sessionId}`, origin: "https://evil.example" }),
    ).rejects.toThrow("refused 403");
    await expect(connect(`${rig.wsUrl}/ws/other`, { "x-session-id": sessionId })).rejects.toThrow("refused 404");
    const host = new URL(rig.app.url).host;
    const sameOrigin = await connect(`${rig.wsUrl}${DASHBOARD_STATUS_PATH}`, { cookie: `JSESSIONID=${sessionId}`, origin: `http://${host}` });
    sameOrigin.ws.close();
  });
});

describe("/ws/dashboardstatus", () => {
  it("sends a snapshot, then pushes state changes on stop/start and statistics, never message content", async () => {
    await using rig = await startRig();
    const sessionId = await rig.session();
    const client = await connect(`${rig.wsUrl}${DASHBOARD_STATUS_PATH}`, { "x-session-id": sessionId });
    const snapshot = JSON.parse(await client.next((frame) => frame.includes('"snapshot"'))) as { channels: { id: string; state: string }[] };
    expect(snapshot.channels.map((channel) => [channel.id, channel.state]).sort()).toEqual([
      ["feeder", "started"],
      ["sink", "started"],
    ]);

    await rig.engine.stop("feeder");
    await client.next((frame) => frame.includes('"channelState"') && frame.includes('"stopped"'));
    await rig.engine.start("feeder");
    await client.next((frame) => frame.includes('"channelState"') && frame.includes('"feeder"') && frame.includes('"started"'));

    await rig.engine.dispatch("feeder", { content: HL7 });
    await rig.engine.idle("feeder");
    await rig.engine.idle("sink");
    const statistics = JSON.parse(await client.next((frame) => frame.includes('"statistics"') && frame.includes('"feeder"'))) as {
      statistics: Record<string, { received: number }>;
    };
    expect(statistics.statistics.source?.received).toBe(1);
    expect(client.frames.join("\n")).not.toContain("SECRET-MRN-4711");
    expect(client.frames.every((frame) => !frame.includes('"type":"message"'))).toBe(true);
    client.ws.close();
  });

  it("closes with 4001 when the session logs out", async () => {
    await using rig = await startRig();
    const sessionId = await rig.session();
    const dashboard = await connect(`${rig.wsUrl}${DASHBOARD_STATUS_PATH}`, { cookie: `JSESSIONID=${sessionId}` });
    const log = await connect(`${rig.wsUrl}${SERVER_LOG_PATH}`, { cookie: `JSESSIONID=${sessionId}` });
    const other = await connect(`${rig.wsUrl}${SERVER_LOG_PATH}`, { "x-session-id": await rig.session() });
    expect((await rig.app.call("/api/users/_logout", { method: "POST", sessionId })).status).toBe(204);
    expect(await dashboard.closed).toEqual({ code: WS_CLOSE_SESSION_ENDED, reason: "session ended" });
    expect((await log.closed).code).toBe(WS_CLOSE_SESSION_ENDED);
    expect(other.ws.readyState).toBe(WebSocket.OPEN);
    other.ws.close();
  });

  it("closes with 4001 when the session expires while idle", async () => {
    await using rig = await startRig({ realClock: true, config: { session_idle_timeout_seconds: 1 } });
    const sessionId = await rig.session();
    const dashboard = await connect(`${rig.wsUrl}${DASHBOARD_STATUS_PATH}`, { "x-session-id": sessionId });
    const started = Date.now();
    expect((await dashboard.closed).code).toBe(WS_CLOSE_SESSION_ENDED);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect((await rig.app.call("/api/users/current", { sessionId })).status).toBe(401);
  });
});

describe("/ws/serverlog", () => {
  it("streams log lines to live sessions and stops feeding a closed socket", async () => {
    await using rig = await startRig();
    const client = await connect(`${rig.wsUrl}${SERVER_LOG_PATH}`, { "x-session-id": await rig.session() });
    rig.logLines.emit('{"level":30,"msg":"channel deployed","channelId":"feeder"}');
    expect(await client.next((frame) => frame.includes("channel deployed"))).toBe('{"level":30,"msg":"channel deployed","channelId":"feeder"}');
    expect(rig.logLines.listeners.size).toBe(1);
    client.ws.close();
    await client.closed;
    await expect.poll(() => rig.logLines.listeners.size).toBe(0);
  });

  it("closes every socket with 1001 when the server stops them", async () => {
    await using rig = await startRig();
    const client = await connect(`${rig.wsUrl}${SERVER_LOG_PATH}`, { "x-session-id": await rig.session() });
    await Promise.all([rig.sockets.close(), rig.sockets.close()]);
    expect((await client.closed).code).toBe(1001);
    await expect(connect(`${rig.wsUrl}${SERVER_LOG_PATH}`, { "x-session-id": await rig.session() })).rejects.toThrow();
  });
});

describe("slow consumers", () => {
  it("closes a client that stops reading with 4002 instead of buffering without bound", async () => {
    await using rig = await startRig();
    const client = await connect(`${rig.wsUrl}${SERVER_LOG_PATH}`, { "x-session-id": await rig.session() });
    const transport = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    transport.pause();
    const line = JSON.stringify({ level: 30, msg: "x".repeat(1024) });
    // Enough to fill the loopback socket buffers and then the 1 MiB allowance many times over.
    for (let index = 0; index < 40_000; index += 1) rig.logLines.emit(line);
    transport.resume();
    expect((await client.closed).code).toBe(WS_CLOSE_TOO_SLOW);
    expect(client.frames.length).toBeLessThan(40_000);
  });
});

describe("heartbeat", () => {
  it("keeps a client that answers pings and cuts one that does not", async () => {
    await using rig = await startRig({ heartbeatMs: 50 });
    const sessionId = await rig.session();
    const live = await connect(`${rig.wsUrl}${SERVER_LOG_PATH}`, { "x-session-id": sessionId });
    const silent = await connect(`${rig.wsUrl}${SERVER_LOG_PATH}`, { "x-session-id": sessionId }, { autoPong: false });
    let pings = 0;
    live.ws.on("ping", () => (pings += 1));
    expect((await silent.closed).code).toBe(1006);
    await expect.poll(() => pings, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    live.ws.close();
    await live.closed;
  });
});

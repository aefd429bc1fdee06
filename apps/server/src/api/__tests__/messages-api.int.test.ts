import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestServer, type TestServer } from "../../__tests__/start-test-server.js";
import { callApi, hl7Message, sinkChannel, writerChannel } from "./api-fixtures.js";

interface SearchPage {
  messages: { messageId: number; metadata: Record<string, string>; statuses: Record<string, string> }[];
  nextCursor?: number;
}

describe("messages, queues and metrics API (real server, real engine)", () => {
  let server: TestServer;
  let admin: string;
  let operator: string;
  let viewer: string;
  const call = (request: Parameters<typeof callApi>[1]) => callApi(server.url, request);
  const search = async (query: string) => {
    const answer = await call({ method: "GET", path: `/api/channels/archive/messages${query}`, sessionId: operator });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as SearchPage;
  };

  beforeAll(async () => {
    server = await startTestServer();
    admin = (await (await server.createTestUser({ role: "admin" })).login()).sessionId;
    operator = (await (await server.createTestUser({ role: "operator" })).login()).sessionId;
    viewer = (await (await server.createTestUser({ role: "viewer" })).login()).sessionId;
    const channels = [
      { ...sinkChannel("archive"), metadataColumns: [{ name: "patientId", expression: "PID.3.1" }] },
      // Retries far apart: what it queues stays queued for the test.
      writerChannel({ id: "waiting", targetChannelId: "later", retryCount: 1_000 }),
      // No retry budget: a failed send goes to dead-letter.
      writerChannel({ id: "doomed", targetChannelId: "later", retryCount: 0 }),
    ];
    for (const channel of channels) {
      expect((await call({ method: "POST", path: "/api/channels", sessionId: admin, body: channel })).status).toBe(201);
      expect((await call({ method: "POST", path: `/api/channels/${channel.id}/_deploy`, sessionId: admin })).status).toBe(200);
    }
    for (const patientId of ["P-1", "P-2", "P-3"]) {
      await server.engine.dispatch("archive", { content: hl7Message({ controlId: `C${patientId}`, patientId }) });
    }
    await server.engine.dispatch("waiting", { content: hl7Message({ controlId: "W1", patientId: "P-W" }) });
    await server.engine.dispatch("doomed", { content: hl7Message({ controlId: "D1", patientId: "P-D" }) });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it("pages a search newest first with a cursor until the last page", async () => {
    const first = await search("?limit=2");
    expect(first.messages.map((message) => message.metadata.patientId)).toEqual(["P-3", "P-2"]);
    expect(first.nextCursor).toBe(first.messages[1]!.messageId);
    const second = await search(`?limit=2&before=${first.nextCursor}`);
    expect(second.messages.map((message) => message.metadata.patientId)).toEqual(["P-1"]);
    expect(second.nextCursor).toBeUndefined();
  });

  it("filters by metadata, text, status and time range", async () => {
    expect((await search("?metadata=patientId%3DP-2")).messages.map((message) => message.metadata.patientId)).toEqual(["P-2"]);
    expect((await search("?text=P-3")).messages).toHaveLength(1);
    const statuses = new Set((await search("")).messages.flatMap((message) => Object.values(message.statuses)));
    const [status] = [...statuses];
    expect((await search(`?status=${status}&status=ERROR`)).messages.length).toBeGreaterThan(0);
    expect((await search(`?from=${Date.now() + 60_000}`)).messages).toEqual([]);
    expect((await search(`?to=${new Date(Date.now() + 60_000).toISOString()}`)).messages).toHaveLength(3);
  });

  it("refuses an unknown status, a bad limit and an unknown query parameter, naming each", async () => {
    const answer = await call({ method: "GET", path: "/api/channels/archive/messages?status=LOST&limit=0&colour=red", sessionId: operator });
    expect(answer).toMatchObject({ status: 400, body: { code: "ERR_API_INVALID_REQUEST" } });
    const paths = (answer.body as { details: { issues: { path: string }[] } }).details.issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["query.status.0", "query.limit", "query.colour"]));
  });

  it("shows one message with its stored content to an operator", async () => {
    const [newest] = (await search("?metadata=patientId%3DP-3")).messages;
    const answer = await call({ method: "GET", path: `/api/channels/archive/messages/${newest!.messageId}`, sessionId: operator });
    expect(answer.status).toBe(200);
    const detail = answer.body as { connectors: { connectorId: string; content: Record<string, string> }[] };
    expect(detail.connectors.find((connector) => connector.connectorId === "source")?.content.raw).toContain("P-3^^^HOSP^MR");
    expect(await call({ method: "GET", path: "/api/channels/archive/messages/999999", sessionId: operator })).toMatchObject({
      status: 404,
      body: { code: "ERR_MESSAGE_NOT_FOUND" },
    });
  });

  it("reprocesses a message as a new one", async () => {
    const before = (await search("")).messages.length;
    const [oldest] = (await search("?metadata=patientId%3DP-1")).messages;
    const answer = await call({ method: "POST", path: "/api/channels/archive/messages/_reprocess", sessionId: operator, body: { messageIds: [oldest!.messageId] } });
    expect(answer.status).toBe(200);
    const [result] = (answer.body as { results: { messageId: number }[] }).results;
    expect(result!.messageId).toBeGreaterThan(oldest!.messageId);
    expect((await search("")).messages).toHaveLength(before + 1);
  });

  it("deletes one message and prunes the rest (admin)", async () => {
    const all = (await search("")).messages;
    const victim = all[0]!.messageId;
    expect((await call({ method: "DELETE", path: `/api/channels/archive/messages/${victim}`, sessionId: admin })).status).toBe(204);
    expect((await call({ method: "DELETE", path: `/api/channels/archive/messages/${victim}`, sessionId: admin })).status).toBe(404);
    const pruned = await call({ method: "POST", path: "/api/channels/archive/messages/_prune", sessionId: admin, body: { olderThanMs: 0 } });
    expect(pruned).toMatchObject({ status: 200, body: { deleted: all.length - 1, complete: true } });
    expect((await search("")).messages).toEqual([]);
  });

  it("lists a destination's queue, and dead letters apart", async () => {
    const queued = await call({ method: "GET", path: "/api/channels/waiting/queue", sessionId: operator });
    expect(queued.status).toBe(200);
    expect(queued.body).toEqual([expect.objectContaining({ channelId: "waiting", connectorId: "to-target", status: "QUEUED", deadLetter: false })]);
    expect((await call({ method: "GET", path: "/api/channels/waiting/queue?destination=elsewhere", sessionId: operator })).body).toEqual([]);
    await vi.waitFor(async () => {
      const dead = await call({ method: "GET", path: "/api/channels/doomed/queue?deadLetter=true", sessionId: operator });
      expect(dead.body).toEqual([expect.objectContaining({ connectorId: "to-target", deadLetter: true })]);
    }, { timeout: 10_000, interval: 50 });
  });

  it("re-queues a dead letter, which is then delivered once its target runs", async () => {
    expect((await call({ method: "POST", path: "/api/channels", sessionId: admin, body: sinkChannel("later") })).status).toBe(201);
    expect((await call({ method: "POST", path: "/api/channels/later/_deploy", sessionId: admin })).status).toBe(200);
    const dead = (await call({ method: "GET", path: "/api/channels/doomed/queue?deadLetter=true", sessionId: operator })).body as { messageId: number }[];
    const messageId = dead[0]!.messageId;
    const retried = await call({ method: "POST", path: "/api/channels/doomed/queue/_retry", sessionId: operator, body: { entries: [{ messageId, destinationId: "to-target" }] } });
    expect(retried).toMatchObject({ status: 200, body: { requeued: 1 } });
    await vi.waitFor(async () => {
      const detail = await call({ method: "GET", path: `/api/channels/doomed/messages/${messageId}`, sessionId: operator });
      const connectors = (detail.body as { connectors: { connectorId: string; status: string }[] }).connectors;
      expect(connectors.find((connector) => connector.connectorId === "to-target")?.status).toBe("SENT");
    }, { timeout: 10_000, interval: 50 });
  });

  it("writes an access-log line per call with the route pattern and user, never the query or content", () => {
    const lines = server.logs.map((line) => JSON.parse(line) as { msg?: string; route?: string; user?: string; status?: number });
    expect(lines).toContainEqual(expect.objectContaining({ msg: "api request", route: "/api/channels/:channelId/messages", status: 200, user: expect.stringMatching(/^operator-/) as string }));
    expect(server.logs.filter((line) => line.includes("P-3") || line.includes("P-W"))).toEqual([]);
  });

  it("serves Prometheus metrics to any role: counters per connector and status, queue depth, latency", async () => {
    const answer = await call({ method: "GET", path: "/metrics", sessionId: viewer });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = answer.body as string;
    expect(text).toMatch(/^# TYPE node_mirth_messages_total counter$/m);
    expect(text).toMatch(/^node_mirth_messages_total\{channel_id="doomed",channel="Writer doomed",connector="source",status="received"\} 1$/m);
    expect(text).toMatch(/^node_mirth_queue_depth\{channel_id="waiting",channel="Writer waiting",connector="to-target"\} 1$/m);
    expect(text).toMatch(/^node_mirth_message_latency_seconds_count\{channel_id="doomed",channel="Writer doomed",connector="to-target",status="SENT"\} 1$/m);
    expect(text).toMatch(/^node_mirth_api_requests_total\{method="GET",route="\/api\/channels\/:channelId\/messages",status="200"\} \d+$/m);
    expect(text).not.toContain("P-3");
    expect(await call({ method: "GET", path: "/metrics" })).toMatchObject({ status: 401, body: { code: "ERR_AUTH_REQUIRED" } });
  });
});

import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../__tests__/start-test-server.js";
import { callApi, sinkChannel } from "./api-fixtures.js";

interface EarlyAnswer {
  status: number;
  connection: string | undefined;
  body: unknown;
  /** Bytes of the body written when the answer arrived. */
  sentBytes: number;
}

/**
 * Declares a large body, sends only its first chunk, and waits for the answer: an answer
 * that arrives while most of the body was never sent proves the server decided without it.
 */
function sendPartOfLargeBody(url: string, options: { path: string; declaredBytes?: number; chunk: Buffer; headers?: Record<string, string> }): Promise<EarlyAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${options.path}`, {
      method: "POST",
      // Without a declared length the body goes chunked: the limit must hold while streaming too.
      headers: {
        "content-type": "application/json",
        ...(options.declaredBytes === undefined ? {} : { "content-length": String(options.declaredBytes) }),
        ...options.headers,
      },
      signal: AbortSignal.timeout(10_000),
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown,
          sentBytes: options.chunk.length,
        });
        req.destroy();
      });
    });
    req.on("error", (error) => {
      if ((error as NodeJS.ErrnoException).code !== "ECONNRESET") reject(error);
    });
    req.write(options.chunk);
  });
}

describe("request bodies: nothing is read before authentication (real HTTP)", () => {
  let server: TestServer;
  let developer: string;
  const call = (what: Parameters<typeof callApi>[1]) => callApi(server.url, what);

  beforeAll(async () => {
    server = await startTestServer();
    developer = (await (await server.createTestUser({ role: "developer" })).login()).sessionId;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it("answers 401 to an unauthenticated 50 MB body after its first 64 KiB, and closes the connection", async () => {
    const answer = await sendPartOfLargeBody(server.url, { path: "/api/channels", declaredBytes: 50 * 1024 * 1024, chunk: Buffer.alloc(64 * 1024, "[") });
    expect(answer).toMatchObject({ status: 401, connection: "close", body: { code: "ERR_AUTH_REQUIRED" } });
  });

  it("answers 401, not 400, to an unauthenticated malformed body", async () => {
    const answer = await call({ method: "POST", path: "/api/channels/x/_deploy", body: "{not json" });
    expect(answer).toMatchObject({ status: 401, body: { code: "ERR_AUTH_REQUIRED" } });
  });

  it("answers 401 to a forged session with a large body, without reading it", async () => {
    const answer = await sendPartOfLargeBody(server.url, {
      path: "/api/channels",
      declaredBytes: 20 * 1024 * 1024,
      chunk: Buffer.alloc(16 * 1024, "{"),
      headers: { "x-session-id": "forged-session-id" },
    });
    expect(answer.status).toBe(401);
    expect(answer.connection).toBe("close");
  });

  it("refuses a login body over 4 KiB with 413 before the rest arrives", async () => {
    const answer = await sendPartOfLargeBody(server.url, { path: "/api/users/_login", declaredBytes: 10 * 1024 * 1024, chunk: Buffer.alloc(8 * 1024, " ") });
    expect(answer).toMatchObject({ status: 413, body: { code: "ERR_API_BODY_TOO_LARGE" } });
  });

  it("stops reading a chunked login body at 4 KiB and answers 413", async () => {
    const answer = await sendPartOfLargeBody(server.url, { path: "/api/users/_login", chunk: Buffer.alloc(16 * 1024, " ") });
    expect(answer).toMatchObject({ status: 413, connection: "close", body: { code: "ERR_API_BODY_TOO_LARGE" } });
  });

  it("answers a malformed or over-specified login body with 400 and its code", async () => {
    expect(await call({ method: "POST", path: "/api/users/_login", body: '{"username": "a", ' })).toMatchObject({
      status: 400,
      body: { code: "ERR_API_MALFORMED_JSON" },
    });
    const extra = await call({ method: "POST", path: "/api/users/_login", body: { username: "a", password: "b", admin: true } });
    expect(extra).toMatchObject({ status: 400, body: { code: "ERR_API_INVALID_REQUEST" } });
    expect((extra.body as { message: string }).message).not.toContain('"b"');
  });

  it("answers an authenticated caller's bad bodies with 400, 413 and 415", async () => {
    expect(await call({ method: "POST", path: "/api/channels", sessionId: developer, body: "[1," })).toMatchObject({ status: 400, body: { code: "ERR_API_MALFORMED_JSON" } });
    const huge = { ...sinkChannel("huge"), description: "x".repeat(1024 * 1024 + 1) };
    expect(await call({ method: "POST", path: "/api/channels", sessionId: developer, body: huge })).toMatchObject({ status: 413, body: { code: "ERR_API_BODY_TOO_LARGE" } });
    expect(await call({ method: "POST", path: "/api/channels", sessionId: developer, body: "id=x", headers: { "content-type": "text/plain" } })).toMatchObject({
      status: 415,
      body: { code: "ERR_API_UNSUPPORTED_MEDIA_TYPE" },
    });
    expect(await call({ method: "POST", path: "/api/channels", sessionId: developer, body: "{}", headers: { "content-type": "application/json; charset=latin1" } })).toMatchObject({
      status: 415,
    });
    expect(await call({ method: "POST", path: "/api/channels/huge/_start", sessionId: developer, body: { force: true } })).toMatchObject({
      status: 400,
      body: { code: "ERR_API_INVALID_REQUEST" },
    });
  });

  it("answers an unknown route or method with a JSON 404, never an HTML page", async () => {
    for (const [method, path] of [["GET", "/api/nothing"], ["PATCH", "/api/channels"], ["GET", "/API/CHANNELS"]] as const) {
      const answer = await call({ method, path, sessionId: developer });
      expect(answer, `${method} ${path}`).toMatchObject({ status: 404, body: { code: "ERR_API_NOT_FOUND" } });
      expect(answer.headers.get("content-type")).toContain("application/json");
      expect(answer.headers.get("cache-control")).toBe("no-store");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });
});

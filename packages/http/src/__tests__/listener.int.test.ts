import { request as httpRequest } from "node:http";
import { createTempDir, describeWithPeers, makeTestPki, type TempDir, type TestPki } from "@node-mirth/test-peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpListener, type HttpInboundRequest, type HttpListenerOptions } from "../http-listener.js";
import { HttpSender } from "../http-sender.js";

/** A listener that records what it was handed and answers 200 "ok". */
function recording(options: Omit<HttpListenerOptions, "onRequest">): { listener: HttpListener; seen: HttpInboundRequest[] } {
  const seen: HttpInboundRequest[] = [];
  const listener = new HttpListener({
    ...options,
    onRequest: (request) => {
      seen.push(request);
      return Promise.resolve({ statusCode: 200, headers: { "content-type": "text/plain" }, body: "ok" });
    },
  });
  return { listener, seen };
}

describe("HttpListener over plain HTTP on loopback", () => {
  it("hands over body, path under basePath, query and headers; 404 outside basePath, 405 for other methods", async () => {
    const { listener, seen } = recording({ basePath: "/lab/", methods: ["POST"] });
    await using _ = listener;
    const { port } = await listener.start();
    const response = await fetch(`http://127.0.0.1:${port}/lab/results?mrn=1&tag=a&tag=b`, { method: "POST", body: "OBX|1", headers: { "x-feed": "lab" } });
    expect([response.status, await response.text()]).toEqual([200, "ok"]);
    expect(seen[0]).toMatchObject({ method: "POST", path: "/results", query: { mrn: "1", tag: ["a", "b"] }, remoteAddress: "127.0.0.1", partner: undefined });
    expect(seen[0]!.headers["x-feed"]).toBe("lab");
    expect(seen[0]!.body.toString()).toBe("OBX|1");
    expect((await fetch(`http://127.0.0.1:${port}/other`, { method: "POST", body: "x" })).status).toBe(404);
    const get = await fetch(`http://127.0.0.1:${port}/lab`, { method: "GET" });
    expect([get.status, get.headers.get("allow")]).toEqual([405, "POST"]);
    expect(seen).toHaveLength(1);
  });

  it("Basic: 401 with a challenge without or with wrong credentials; the user name is the partner; Authorization is not handed on", async () => {
    const { listener, seen } = recording({ auth: { type: "basic", users: [{ username: "lab", password: "s3cret" }] } });
    await using _ = listener;
    const { port } = await listener.start();
    const url = `http://127.0.0.1:${port}/`;
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    const none = await fetch(url, { method: "POST", body: "x" });
    expect([none.status, none.headers.get("www-authenticate")]).toEqual([401, 'Basic realm="node-mirth", charset="UTF-8"']);
    for (const authorization of [basic("lab", "wrong"), basic("other", "s3cret"), "Bearer s3cret"]) {
      expect((await fetch(url, { method: "POST", body: "x", headers: { authorization } })).status).toBe(401);
    }
    expect((await fetch(url, { method: "POST", body: "x", headers: { authorization: basic("lab", "s3cret") } })).status).toBe(200);
    expect(seen.map((r) => r.partner)).toEqual(["lab"]);
    expect(seen[0]!.headers.authorization).toBeUndefined();
  });

  it("bearer token and API key", async () => {
    const bearer = recording({ auth: { type: "bearer", tokens: ["tok-1", "tok-2"] } });
    await using _b = bearer.listener;
    const { port: bearerPort } = await bearer.listener.start();
    const post = (port: number, headers: Record<string, string>) => fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "x", headers }).then((r) => r.status);
    expect(await post(bearerPort, {})).toBe(401);
    expect(await post(bearerPort, { authorization: "Bearer tok-3" })).toBe(401);
    expect(await post(bearerPort, { authorization: "Bearer tok-2" })).toBe(200);

    const apiKey = recording({ auth: { type: "apiKey", header: "X-Partner-Key", keys: ["k-123"] } });
    await using _k = apiKey.listener;
    const { port: keyPort } = await apiKey.listener.start();
    expect(await post(keyPort, { "x-api-key": "k-123" })).toBe(401);
    expect(await post(keyPort, { "x-partner-key": "k-12" })).toBe(401);
    expect(await post(keyPort, { "x-partner-key": "k-123" })).toBe(200);
    expect(apiKey.seen).toHaveLength(1);
    expect(apiKey.seen[0]!.headers["x-partner-key"]).toBeUndefined();
  });

  it("a body over maxBodyBytes gets 413 (declared length or streamed), and the handler never runs", async () => {
    const { listener, seen } = recording({ maxBodyBytes: 1024 });
    await using _ = listener;
    const { port } = await listener.start();
    const declared = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "x".repeat(2048) });
    expect(declared.status).toBe(413);
    // Chunked, no Content-Length: the cap is found while reading.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, method: "POST", path: "/" }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 8; i++) req.write("y".repeat(256));
      req.end();
    });
    expect(streamed).toBe(413);
    expect((await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "z".repeat(1024) })).status).toBe(200);
    expect(seen.map((r) => r.body.length)).toEqual([1024]);
  });

  it("refuses a non-loopback bind without TLS; allowInsecureBind warns instead", async () => {
    for (const host of ["0.0.0.0", "::", "192.0.2.10"]) {
      const { listener } = recording({ host });
      await expect(listener.start()).rejects.toMatchObject({ code: "ERR_POLICY_INSECURE_BIND" });
    }
    const warnings: string[] = [];
    const { listener } = recording({ host: "localhost", allowInsecureBind: false, onWarning: (w) => warnings.push(w.code) });
    await using _ = listener;
    await listener.start();
    expect(warnings).toEqual([]);
  });

  it("a handler that throws is answered 500 without detail; stop() lets a request in flight finish", async () => {
    let release: (() => void) | undefined;
    const listener = new HttpListener({
      stopTimeoutMs: 5_000,
      onRequest: async (request) => {
        if (request.path === "/fail") throw new Error("PID|secret");
        await new Promise<void>((resolve) => (release = resolve));
        return { statusCode: 200, body: "late" };
      },
    });
    const { port } = await listener.start();
    const failed = await fetch(`http://127.0.0.1:${port}/fail`, { method: "POST", body: "x" });
    expect([failed.status, await failed.text()]).toEqual([500, "Internal error\n"]);
    const slow = fetch(`http://127.0.0.1:${port}/slow`, { method: "POST", body: "x" });
    await expect.poll(() => release !== undefined).toBe(true);
    const stopped = listener.stop();
    release!();
    const response = await slow;
    expect([response.status, await response.text()]).toEqual([200, "late"]);
    await stopped;
    await expect(fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "x" })).rejects.toThrow();
  });

  it("rejects options that cannot work", () => {
    expect(() => recording({ auth: { type: "mtls", allowedSubjects: ["x"] } })).toThrow(expect.objectContaining({ code: "ERR_HTTP_INVALID_OPTIONS" }));
    expect(() => recording({ auth: { type: "basic", users: [] } })).toThrow(expect.objectContaining({ code: "ERR_HTTP_INVALID_OPTIONS" }));
    expect(() => recording({ basePath: "lab" })).toThrow(expect.objectContaining({ code: "ERR_HTTP_INVALID_OPTIONS" }));
  });
});

describeWithPeers("HttpListener over HTTPS with mTLS (test CA made by openssl)", ["openssl"], (peers) => {
  let dir: TempDir;
  let pki: TestPki;

  beforeAll(async () => {
    dir = await createTempDir("http-listener-pki-");
    pki = await makeTestPki(dir.path, peers.bin.openssl);
  });
  afterAll(() => dir?.remove());

  const mtls = () => ({ enabled: true, keyStorePath: pki.serverKey, certStorePath: pki.serverCert, trustStorePath: pki.caCert, requireClientCert: true });
  const client = (withCert: "client" | "stranger" | "none") =>
    new HttpSender({
      tls: {
        trustStorePath: pki.caCert,
        ...(withCert === "client" ? { keyStorePath: pki.clientKey, certStorePath: pki.clientCert } : {}),
        ...(withCert === "stranger" ? { keyStorePath: pki.strangerKey, certStorePath: pki.strangerCert } : {}),
      },
    });

  it("mTLS subject allow-list: a listed CN passes, an unlisted one gets 403, no or an untrusted certificate fails the handshake", async () => {
    const allowed = recording({ tls: mtls(), auth: { type: "mtls", allowedSubjects: ["node-mirth-test-client"] } });
    await using _a = allowed.listener;
    const { port } = await allowed.listener.start();
    expect(allowed.listener.scheme).toBe("https");
    await using good = client("client");
    expect((await good.send({ url: `https://localhost:${port}/`, body: "x" })).statusCode).toBe(200);
    expect(allowed.seen.map((r) => [r.partner, r.peerCertificateSubject])).toEqual([["node-mirth-test-client", "node-mirth-test-client"]]);
    for (const who of ["none", "stranger"] as const) {
      await using other = client(who);
      await expect(other.send({ url: `https://localhost:${port}/`, body: "x" })).rejects.toMatchObject({ code: "ERR_HTTP_CONNECT_FAILED" });
    }

    const unlisted = recording({ tls: mtls(), auth: { type: "mtls", allowedSubjects: ["ris.partner.example"] } });
    await using _u = unlisted.listener;
    const { port: unlistedPort } = await unlisted.listener.start();
    await using again = client("client");
    await expect(again.send({ url: `https://localhost:${unlistedPort}/`, body: "x" })).rejects.toMatchObject({ code: "ERR_HTTP_STATUS", statusCode: 403 });
    expect(unlisted.seen).toHaveLength(0);
  });

  it("with TLS a non-loopback bind passes the guard", async () => {
    const { listener } = recording({ host: "0.0.0.0", tls: { enabled: true, keyStorePath: pki.serverKey, certStorePath: pki.serverCert } });
    await using _ = listener;
    const { port } = await listener.start();
    await using sender = new HttpSender({ tls: { trustStorePath: pki.caCert } });
    expect((await sender.send({ url: `https://localhost:${port}/`, body: "x" })).statusCode).toBe(200);
  });
});

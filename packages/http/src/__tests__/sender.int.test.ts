import { execFile } from "node:child_process";
import { once } from "node:events";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { EgressPolicy, type PolicyWarning } from "@node-mirth/core";
import { createTempDir, describeWithPeers, makeTestPki, TS_SOURCE_HOOK, type TempDir, type TestPki } from "@node-mirth/test-peers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type HttpStatusError } from "../errors.js";
import { HttpSender } from "../http-sender.js";
import { ok, startTestServer } from "./test-server.js";

describeWithPeers("HttpSender against real Node HTTP/HTTPS servers (test CA made by openssl)", ["openssl"], (peers) => {
  let dir: TempDir;
  let pki: TestPki;
  let tls: { key: Buffer; cert: Buffer; ca: Buffer };

  beforeAll(async () => {
    dir = await createTempDir("http-sender-pki-");
    pki = await makeTestPki(dir.path, peers.bin.openssl);
    tls = { key: await readFile(pki.serverKey), cert: await readFile(pki.serverCert), ca: await readFile(pki.caCert) };
  });
  afterAll(() => dir?.remove());

  it("keeps one pooled connection for many sequential sends (keep-alive)", async () => {
    await using server = await startTestServer({ handler: ok });
    await using sender = new HttpSender();
    const reused: boolean[] = [];
    for (let i = 0; i < 25; i++) {
      const response = await sender.send({ url: `http://127.0.0.1:${server.port}/in`, body: `m${i}` });
      expect(response.body.toString()).toBe("accepted");
      reused.push(response.reusedConnection);
    }
    expect(server.connections()).toBe(1);
    expect(new Set(server.requests.map((r) => r.connection))).toEqual(new Set([1]));
    expect(reused.filter(Boolean)).toHaveLength(24);
    expect(server.requests.map((r) => r.body)).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
  });

  it("bounds the pool: 30 concurrent sends over at most maxSockets connections", async () => {
    await using server = await startTestServer({ handler: (_req, res) => setTimeout(() => ok(_req, res, 0), 5) });
    await using sender = new HttpSender({ maxSockets: 3 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => sender.send({ url: `http://127.0.0.1:${server.port}/`, body: String(i) })));
    expect(server.requests).toHaveLength(30);
    expect(server.connections()).toBeLessThanOrEqual(3);
  });

  it("HTTPS with mTLS: the server sees our client certificate; the pool is reused over TLS too", async () => {
    await using server = await startTestServer({ tls: { ...tls, requestCert: true, rejectUnauthorized: true }, handler: ok });
    await using sender = new HttpSender({ tls: { trustStorePath: pki.caCert, keyStorePath: pki.clientKey, certStorePath: pki.clientCert } });
    for (let i = 0; i < 5; i++) await sender.send({ url: `https://localhost:${server.port}/`, body: "x" });
    expect(server.requests.map((r) => r.peerCN)).toEqual(Array(5).fill("node-mirth-test-client"));
    expect(server.connections()).toBe(1);

    await using anonymous = new HttpSender({ tls: { trustStorePath: pki.caCert } });
    await expect(anonymous.send({ url: `https://localhost:${server.port}/`, body: "x" })).rejects.toMatchObject({ code: "ERR_HTTP_CONNECT_FAILED" });
    expect(server.requests).toHaveLength(5);
  });

  it("refuses a server whose certificate names another host, and one from an untrusted CA", async () => {
    await using wrongHost = await startTestServer({ tls: { key: await readFile(pki.wrongHostKey), cert: await readFile(pki.wrongHostCert) }, handler: ok });
    await using sender = new HttpSender({ tls: { trustStorePath: pki.caCert } });
    await expect(sender.send({ url: `https://localhost:${wrongHost.port}/`, body: "x" })).rejects.toMatchObject({
      code: "ERR_HTTP_CONNECT_FAILED",
      message: expect.stringContaining("ERR_TLS_CERT_ALTNAME_INVALID"),
    });
    await using server = await startTestServer({ tls, handler: ok });
    await using untrusting = new HttpSender({ tls: { trustStorePath: pki.strangerCaCert } });
    await expect(untrusting.send({ url: `https://localhost:${server.port}/`, body: "x" })).rejects.toMatchObject({ code: "ERR_HTTP_CONNECT_FAILED" });
    // Node's public roots only (no trust store): our test CA is not among them.
    await using publicRoots = new HttpSender();
    await expect(publicRoots.send({ url: `https://localhost:${server.port}/`, body: "x" })).rejects.toMatchObject({ code: "ERR_HTTP_CONNECT_FAILED" });
    expect(wrongHost.requests).toHaveLength(0);
    expect(server.requests).toHaveLength(0);
  });

  it("verify:false is refused without MIRTH_ALLOW_INSECURE_TLS=1, and warned about with it", async () => {
    expect(() => new HttpSender({ tls: { rejectUnauthorized: false }, certs: { env: {} } })).toThrow(expect.objectContaining({ code: "ERR_CERTS_INSECURE_SETTING" }));
    const warnings: string[] = [];
    await using wrongHost = await startTestServer({ tls: { key: await readFile(pki.wrongHostKey), cert: await readFile(pki.wrongHostCert) }, handler: ok });
    await using insecure = new HttpSender({ tls: { rejectUnauthorized: false }, certs: { env: { MIRTH_ALLOW_INSECURE_TLS: "1" }, onWarning: (w) => warnings.push(w.message) } });
    expect((await insecure.send({ url: `https://localhost:${wrongHost.port}/`, body: "x" })).statusCode).toBe(200);
    expect(warnings.join("\n")).toMatch(/rejectUnauthorized: false/);
  });

  it("does not follow a redirect: the error names the location, and only one request was made", async () => {
    await using server = await startTestServer({
      handler: (_req, res) => {
        res.writeHead(302, { location: "https://elsewhere.example/inbox" });
        res.end("moved");
      },
    });
    await using sender = new HttpSender();
    await expect(sender.send({ url: `http://127.0.0.1:${server.port}/`, body: "x" })).rejects.toMatchObject({
      code: "ERR_HTTP_REDIRECT_REFUSED",
      message: expect.stringContaining("https://elsewhere.example/inbox"),
    });
    expect(server.requests).toHaveLength(1);
  });

  it("refuses credentials over cleartext http:// (header or URL user info) unless the escape is set", async () => {
    await using server = await startTestServer({ handler: ok });
    await using strict = new HttpSender({ env: {} });
    const url = `http://127.0.0.1:${server.port}/`;
    for (const headers of [{ Authorization: "Bearer abc" }, { "X-API-Key": "k" }] as Record<string, string>[]) {
      await expect(strict.send({ url, headers, body: "x" })).rejects.toMatchObject({ code: "ERR_POLICY_INSECURE_TLS" });
    }
    await expect(strict.send({ url: `http://user:secret@127.0.0.1:${server.port}/`, body: "x" })).rejects.toMatchObject({ code: "ERR_POLICY_INSECURE_TLS" });
    await using tlsAsked = new HttpSender({ tls: { enabled: true } });
    await expect(tlsAsked.send({ url, body: "x" })).rejects.toMatchObject({ code: "ERR_HTTP_INVALID_OPTIONS", message: expect.stringContaining("use https://") });
    await using custom = new HttpSender({ env: {}, credentialHeaders: ["X-Partner-Secret"] });
    await expect(custom.send({ url, headers: { "x-partner-secret": "s" }, body: "x" })).rejects.toMatchObject({ code: "ERR_POLICY_INSECURE_TLS" });
    expect(server.requests).toHaveLength(0);

    const warnings: PolicyWarning[] = [];
    await using allowed = new HttpSender({ env: { MIRTH_ALLOW_INSECURE_TLS: "1" }, onWarning: (w) => warnings.push(w) });
    await allowed.send({ url, headers: { Authorization: "Bearer abc" }, body: "x" });
    await allowed.send({ url, headers: { Authorization: "Bearer abc" }, body: "x" });
    expect(server.requests).toHaveLength(2);
    expect(warnings.map((w) => w.code)).toEqual(["WARN_POLICY_INSECURE_TLS", "WARN_POLICY_INSECURE_TLS"]);
  });

  it("maps statuses: 5xx/429/408 retryable, other 4xx permanent, with body; 429 Retry-After holds the next send", async () => {
    const answers = [
      { status: 503, headers: {} },
      { status: 404, headers: {} },
      { status: 429, headers: { "retry-after": "1" } },
      { status: 200, headers: {} },
    ];
    await using server = await startTestServer({
      handler: (_req, res, index) => {
        const a = answers[index]!;
        res.writeHead(a.status, a.headers);
        res.end(`answer ${a.status}`);
      },
    });
    await using sender = new HttpSender({ retryableStatuses: [] });
    const url = `http://127.0.0.1:${server.port}/`;
    const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as HttpStatusError);
    expect(await failure(sender.send({ url, body: "1" }))).toMatchObject({ statusCode: 503, retryable: true, retryAfterMs: undefined });
    const notFound = await failure(sender.send({ url, body: "2" }));
    expect(notFound).toMatchObject({ code: "ERR_HTTP_STATUS", statusCode: 404, retryable: false });
    expect(notFound?.body.toString()).toBe("answer 404");
    expect(await failure(sender.send({ url, body: "3" }))).toMatchObject({ statusCode: 429, retryable: true, retryAfterMs: 1000 });
    await sender.send({ url, body: "4" });
    const [, , limited, next] = server.requests;
    expect(next!.at - limited!.at).toBeGreaterThanOrEqual(950);
  });

  it("a response larger than maxResponseBytes is refused, declared or streamed", async () => {
    await using server = await startTestServer({
      handler: (req, res) => {
        if (req.url === "/declared") {
          res.writeHead(200, { "content-length": "5000" });
          res.end("x".repeat(5000));
        } else {
          res.writeHead(200);
          for (let i = 0; i < 10; i++) res.write("y".repeat(500));
          res.end();
        }
      },
    });
    await using sender = new HttpSender({ maxResponseBytes: 1000 });
    await expect(sender.send({ url: `http://127.0.0.1:${server.port}/declared` })).rejects.toMatchObject({ code: "ERR_HTTP_RESPONSE_TOO_LARGE" });
    await expect(sender.send({ url: `http://127.0.0.1:${server.port}/chunked` })).rejects.toMatchObject({ code: "ERR_HTTP_RESPONSE_TOO_LARGE" });
  });

  it("a peer that accepts TCP but never finishes the TLS handshake hits connectTimeoutMs", async () => {
    const sockets: Socket[] = [];
    const silent = createNetServer((socket) => sockets.push(socket));
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    try {
      await using sender = new HttpSender({ connectTimeoutMs: 300, tls: { trustStorePath: pki.caCert } });
      await expect(sender.send({ url: `https://localhost:${(silent.address() as AddressInfo).port}/`, body: "x" })).rejects.toMatchObject({ code: "ERR_HTTP_CONNECT_TIMEOUT" });
      expect(sockets).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("a silent server hits responseTimeoutMs", async () => {
    await using server = await startTestServer({ handler: () => {} });
    await using sender = new HttpSender({ responseTimeoutMs: 200 });
    await expect(sender.send({ url: `http://127.0.0.1:${server.port}/` })).rejects.toMatchObject({ code: "ERR_HTTP_RESPONSE_TIMEOUT" });
  });

  it("egress: a name resolving to an unlisted address is refused at connect; a listed one connects to the vetted address", async () => {
    await using server = await startTestServer({ handler: ok });
    const lookups: Record<string, string> = { "partner.test": "127.0.0.1", "rebound.test": "127.0.0.2", localhost: "127.0.0.1" };
    const egress = new EgressPolicy({ allowed_http: ["127.0.0.1"] }, { lookup: (name) => Promise.resolve([{ address: lookups[name] ?? "192.0.2.1", family: 4 }]) });
    await using sender = new HttpSender({ egress, tls: { trustStorePath: pki.caCert } });
    await expect(sender.send({ url: `http://rebound.test:${server.port}/`, body: "x" })).rejects.toMatchObject({
      code: "ERR_POLICY_EGRESS_DENIED",
      details: expect.objectContaining({ reason: "not-listed", resolved: "127.0.0.2" }),
    });
    expect(server.requests).toHaveLength(0);
    // partner.test does not exist in DNS: this only works because the socket goes to the vetted address.
    await sender.send({ url: `http://partner.test:${server.port}/`, body: "x" });
    expect(server.requests[0]!.headers.host).toBe(`partner.test:${server.port}`);
    await using tlsServer = await startTestServer({ tls, handler: ok });
    await sender.send({ url: `https://localhost:${tlsServer.port}/`, body: "x" });
    expect(tlsServer.requests).toHaveLength(1);
    await expect(sender.send({ url: `http://127.0.0.3:${server.port}/`, body: "x" })).rejects.toMatchObject({ code: "ERR_POLICY_EGRESS_DENIED" });
  });

  it("link-local and cloud-metadata addresses are refused by default, with no allow-list at all", async () => {
    await using sender = new HttpSender({ connectTimeoutMs: 2_000 });
    for (const url of ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://metadata.google.internal/computeMetadata/v1/"]) {
      await expect(sender.send({ url, method: "GET" })).rejects.toMatchObject({
        code: "ERR_POLICY_EGRESS_DENIED",
        details: expect.objectContaining({ reason: "link-local-or-metadata" }),
      });
    }
    const rebinding = new EgressPolicy({}, { lookup: () => Promise.resolve([{ address: "169.254.169.254", family: 4 }]) });
    await using rebound = new HttpSender({ egress: rebinding });
    await expect(rebound.send({ url: "http://innocent.test/", method: "GET" })).rejects.toMatchObject({ code: "ERR_POLICY_EGRESS_DENIED" });
  });

  it("with no trust store, NODE_EXTRA_CA_CERTS is respected (a child process, as the variable is read at start)", async () => {
    await using server = await startTestServer({ tls, handler: ok });
    const run = (extra: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
        if (extra.NODE_EXTRA_CA_CERTS === undefined) delete env.NODE_EXTRA_CA_CERTS;
        execFile(process.execPath, ["--import", TS_SOURCE_HOOK, join(import.meta.dirname, "extra-ca-child.ts"), `https://localhost:${server.port}/`], { env, timeout: 20_000 }, (error, stdout) =>
          error === null ? resolve(stdout) : reject(new Error("the child process failed", { cause: error })),
        );
      });
    expect(await run({})).toBe("ERR_HTTP_CONNECT_FAILED");
    expect(await run({ NODE_EXTRA_CA_CERTS: pki.caCert })).toBe("200");
    expect(server.requests).toHaveLength(1);
  });
});

import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { createEngine, EgressPolicy, MemoryStore, type EngineEvent, type PolicyWarning } from "@node-mirth/core";
import { createTempDir, describeWithPeers, freePort, makeTestPki, type TempDir, type TestPki } from "@node-mirth/test-peers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { smtp, type SmtpPropertiesInput } from "../smtp-connector.js";
import { isRetryableSmtpFailure } from "../smtp-failure.js";
import { SmtpSender, type SmtpEncryption } from "../smtp-sender.js";
import { startMailServer, type MailServerOptions } from "./mail-server.js";

const ADT = "MSH|^~\\&|HIS|FAC|LAB|FAC|20240101120000||ADT^A01|MSG1|P|2.5\rPID|1||12345^^^MR||DOE^JOHN";
const PDF = Buffer.from("%PDF-1.4 not really a pdf \u0000\u00ff binary");

describeWithPeers("SMTP sender against a real SMTP server (smtp-server, test CA made by openssl)", ["openssl"], (peers) => {
  let dir: TempDir;
  let pki: TestPki;
  let serverTls: { key: Buffer; cert: Buffer };

  beforeAll(async () => {
    dir = await createTempDir("smtp-pki-");
    pki = await makeTestPki(dir.path, peers.bin.openssl);
    serverTls = { key: await readFile(pki.serverKey), cert: await readFile(pki.serverCert) };
  });
  afterAll(() => dir?.remove());

  /** A channel whose transformer puts an MRN and a base64 PDF in the channel map, and one smtp destination. */
  const channel = (id: string, properties: SmtpPropertiesInput, queue: Record<string, unknown> = { mode: "never" }) => ({
    id,
    name: id,
    source: { type: "channel", properties: {} },
    transformer: {
      steps: [{ type: "javascript", script: `channelMap.put("mrn", msg.get("PID.3.1")); channelMap.put("pdf", "${PDF.toString("base64")}");` }],
    },
    destinations: [{ id: "mail", name: "Mail", connector: { type: "smtp", properties: properties as Record<string, unknown> }, queue }],
  });

  const mailProperties = (port: number, encryption: SmtpEncryption): SmtpPropertiesInput => ({
    smtpHost: "localhost",
    smtpPort: port,
    encryption,
    tls: { trustStorePath: pki.caCert },
    from: "Mirth <mirth@hospital.test>",
    to: "lab@hospital.test, ward7@hospital.test",
    cc: "audit@hospital.test",
    bcc: "archive@hospital.test",
    replyTo: "helpdesk@hospital.test",
    subject: "ADT for ${channelMap.mrn} on ${date('yyyy')}",
    body: "Message ${message.messageId}:\n${message.encodedData}",
    headers: { "X-Mirth-Channel": "${message.channelId}" },
    attachments: [
      { name: "${channelMap.mrn}.hl7", content: "${message.encodedData}", mimeType: "application/hl7-v2" },
      { name: "report.pdf", content: "${channelMap.pdf}", mimeType: "application/pdf", encoding: "base64" },
    ],
  });

  const serverFor = (encryption: SmtpEncryption): MailServerOptions =>
    encryption === "ssl" ? { secure: true, tls: serverTls } : encryption === "tls" ? { tls: serverTls } : {};

  it.each(["none", "tls", "ssl"] as const)("encryption %s: the engine delivers headers, body and attachments", async (encryption) => {
    await using server = await startMailServer(serverFor(encryption));
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [smtp()] });
    try {
      await engine.deploy(channel(`mail-${encryption}`, mailProperties(server.port, encryption)));
      const { messageId } = await engine.dispatch(`mail-${encryption}`, { content: ADT });
      const mail = await server.nextMail();
      await engine.idle(`mail-${encryption}`);

      expect(mail.secure).toBe(encryption !== "none");
      expect(mail.envelope.from).toBe("mirth@hospital.test");
      expect(mail.envelope.to.sort()).toEqual(["archive@hospital.test", "audit@hospital.test", "lab@hospital.test", "ward7@hospital.test"]);
      const { parsed } = mail;
      expect(parsed.from?.text).toBe('"Mirth" <mirth@hospital.test>');
      expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value.map((a) => a.address) : []).toEqual(["lab@hospital.test", "ward7@hospital.test"]);
      expect(parsed.cc && !Array.isArray(parsed.cc) ? parsed.cc.text : "").toBe("audit@hospital.test");
      expect(parsed.bcc).toBeUndefined();
      expect(parsed.headers.has("bcc")).toBe(false);
      expect(parsed.replyTo?.text).toBe("helpdesk@hospital.test");
      expect(parsed.subject).toBe(`ADT for 12345 on ${new Date().getFullYear()}`);
      expect(parsed.headers.get("x-mirth-channel")).toBe(`mail-${encryption}`);
      // Mail has CRLF line ends: HL7's segment CRs arrive as line breaks in the body (the attachment keeps them).
      expect(parsed.text?.trimEnd().replace(/\r\n?/g, "\n")).toBe(`Message ${messageId}:\n${ADT.replaceAll("\r", "\n")}`);
      expect(parsed.attachments.map((a) => [a.filename, a.contentType])).toEqual([
        ["12345.hl7", "application/hl7-v2"],
        ["report.pdf", "application/pdf"],
      ]);
      expect(parsed.attachments[0]!.content.toString("utf8")).toBe(ADT);
      expect(parsed.attachments[1]!.content.equals(PDF)).toBe(true);

      const detail = await engine.messages.get(`mail-${encryption}`, messageId);
      const destination = detail?.connectors.find((c) => c.connectorId === "mail");
      expect(destination?.status).toBe("SENT");
      expect(destination?.content.response).toBe(parsed.messageId);
    } finally {
      await engine.close();
      await store.close();
    }
  });

  it("html: the body goes out as text/html", async () => {
    await using server = await startMailServer({ tls: serverTls });
    await using sender = new SmtpSender({ host: "localhost", port: server.port, tls: { trustStorePath: pki.caCert } });
    const result = await sender.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "html", body: "<p>ORU <b>ready</b></p>", html: true });
    const { parsed } = await server.nextMail();
    expect(typeof parsed.html === "string" ? parsed.html.trimEnd() : parsed.html).toBe("<p>ORU <b>ready</b></p>");
    expect(result).toMatchObject({ messageId: parsed.messageId, accepted: ["b@hospital.test"], rejected: [] });
    expect(result.response).toMatch(/^250 /);
  });

  it("pool: one connection carries many mails (each new connection is vetted by the egress policy)", async () => {
    await using server = await startMailServer({ tls: serverTls });
    let vetted = 0;
    const egress = new EgressPolicy({ allowed_smtp: ["localhost"] }, { lookup: () => { vetted += 1; return Promise.resolve([{ address: "127.0.0.1", family: 4 }]); } });
    await using sender = new SmtpSender({ host: "localhost", port: server.port, pool: true, maxConnections: 1, egress, tls: { trustStorePath: pki.caCert } });
    for (let i = 0; i < 5; i++) await sender.send({ from: "a@hospital.test", to: "b@hospital.test", subject: `pooled ${i}`, body: "b" });
    expect(server.events.filter((e) => e === "connect")).toHaveLength(1);
    expect(server.events.filter((e) => e === "data")).toHaveLength(5);
    expect(vetted).toBe(1);
  });

  it("an aborted signal gives up the send: nothing is delivered", async () => {
    await using server = await startMailServer({ tls: serverTls });
    await using sender = new SmtpSender({ host: "localhost", port: server.port, tls: { trustStorePath: pki.caCert } });
    await expect(sender.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" }, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: "ERR_SMTP_SEND_FAILED",
    });
    expect(server.events.filter((e) => e === "data")).toEqual([]);
  });

  it("a server that never greets: ERR_SMTP_TIMEOUT after greetingTimeoutMs, retryable", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    try {
      await using sender = new SmtpSender({ host: "localhost", port: (silent.address() as AddressInfo).port, greetingTimeoutMs: 300, tls: { trustStorePath: pki.caCert } });
      const failure = await sender.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" }).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: "ERR_SMTP_TIMEOUT" });
      expect(isRetryableSmtpFailure(failure as never)).toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("tls: a server that offers no STARTTLS gets neither credentials nor mail (never a plaintext fallback)", async () => {
    await using server = await startMailServer({ tls: serverTls, noStartTls: true, users: { mirth: "s3cret" }, allowInsecureAuth: true });
    await using sender = new SmtpSender({ host: "localhost", port: server.port, encryption: "tls", auth: { user: "mirth", pass: "s3cret" }, tls: { trustStorePath: pki.caCert } });
    const failure = await sender.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "PHI" }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "ERR_SMTP_STARTTLS_UNAVAILABLE", message: expect.stringContaining("nothing was sent in plaintext") });
    expect(server.events).toEqual(["connect"]);
  });

  it("tls: an untrusted CA or a certificate for another host is refused", async () => {
    await using server = await startMailServer({ tls: serverTls });
    await using untrusting = new SmtpSender({ host: "localhost", port: server.port, tls: { trustStorePath: pki.strangerCaCert } });
    await expect(untrusting.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" })).rejects.toMatchObject({ code: "ERR_SMTP_TLS_FAILED" });
    await using wrongName = new SmtpSender({ host: "127.0.0.1", port: server.port, tls: { trustStorePath: pki.caCert, sniServerName: "mail.other.test" } });
    await expect(wrongName.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" })).rejects.toMatchObject({
      code: "ERR_SMTP_TLS_FAILED",
      message: expect.stringMatching(/altnames|ALTNAME/i),
    });
    expect(server.events.filter((e) => e.startsWith("mail:"))).toEqual([]);
  });

  it.each(["tls", "ssl"] as const)("%s with mTLS: the client certificate from keyStorePath/certStorePath is presented; without one, refused", async (encryption) => {
    await using server = await startMailServer({ ...serverFor(encryption), clientCa: await readFile(pki.caCert) });
    const tls = { trustStorePath: pki.caCert, keyStorePath: pki.clientKey, certStorePath: pki.clientCert };
    await using withCert = new SmtpSender({ host: "localhost", port: server.port, encryption, tls });
    await withCert.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "mtls", body: "b" });
    expect((await server.nextMail()).parsed.subject).toBe("mtls");
    await using withoutCert = new SmtpSender({ host: "localhost", port: server.port, encryption, tls: { trustStorePath: pki.caCert } });
    await expect(withoutCert.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" })).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_SMTP_(TLS_FAILED|CONNECT_FAILED)$/),
    });
    expect(server.events.filter((e) => e.startsWith("mail:"))).toHaveLength(1);
  });

  it("ssl with a server certificate nobody trusts is refused", async () => {
    await using server = await startMailServer({ secure: true, tls: serverTls });
    await using sender = new SmtpSender({ host: "localhost", port: server.port, encryption: "ssl" });
    await expect(sender.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" })).rejects.toMatchObject({ code: "ERR_SMTP_TLS_FAILED" });
  });

  it("credentials over none are refused unless MIRTH_ALLOW_INSECURE_TLS=1, which warns at every connection", async () => {
    await using server = await startMailServer({ users: { mirth: "s3cret" }, allowInsecureAuth: true });
    const options = { host: "localhost", port: server.port, encryption: "none" as const, auth: { user: "mirth", pass: "s3cret" } };
    expect(() => new SmtpSender({ ...options, env: {} })).toThrow(expect.objectContaining({ code: "ERR_POLICY_INSECURE_TLS" }));
    expect(() => new SmtpSender({ ...options, env: { MIRTH_ALLOW_INSECURE_TLS: "yes" } })).toThrow(expect.objectContaining({ code: "ERR_POLICY_INSECURE_TLS" }));
    const warnings: PolicyWarning[] = [];
    await using sender = new SmtpSender({ ...options, env: { MIRTH_ALLOW_INSECURE_TLS: "1" }, onPolicyWarning: (w) => warnings.push(w) });
    await sender.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" });
    await sender.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" });
    expect(server.events.filter((e) => e.startsWith("auth:"))).toEqual(["auth:mirth", "auth:mirth"]);
    expect(warnings.map((w) => w.code)).toEqual(["WARN_POLICY_INSECURE_TLS", "WARN_POLICY_INSECURE_TLS", "WARN_POLICY_INSECURE_TLS"]);

    // Without credentials, none is a plain (unauthenticated) relay and needs no escape.
    await using anonymous = new SmtpSender({ host: "localhost", port: server.port, encryption: "none", env: {} });
    await anonymous.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" });
  });

  it("a server that hides AUTH cannot turn configured credentials into an anonymous send", async () => {
    await using server = await startMailServer({ tls: serverTls });
    await using sender = new SmtpSender({ host: "localhost", port: server.port, auth: { user: "mirth", pass: "s3cret" }, tls: { trustStorePath: pki.caCert } });
    await expect(sender.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" })).rejects.toMatchObject({ code: "ERR_SMTP_AUTH_FAILED" });
    expect(server.events.filter((e) => e.startsWith("mail:"))).toEqual([]);
  });

  it("a wrong password is a permanent error: the engine does not retry it", async () => {
    await using server = await startMailServer({ tls: serverTls, users: { mirth: "s3cret" } });
    await using direct = new SmtpSender({ host: "localhost", port: server.port, auth: { user: "mirth", pass: "wrong" }, tls: { trustStorePath: pki.caCert } });
    const failure = await direct.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "ERR_SMTP_AUTH_FAILED", details: { responseCode: 535 } });
    expect(isRetryableSmtpFailure(failure as never)).toBe(false);

    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [smtp()], env: { SMTP_PASSWORD: "wrong" } });
    try {
      const properties = { ...mailProperties(server.port, "tls"), authentication: true, username: "mirth", password: "${SMTP_PASSWORD}" };
      await engine.deploy(channel("bad-login", properties, { mode: "onFailure", retryCount: 3, retryIntervalMs: 10 }));
      const { messageId } = await engine.dispatch("bad-login", { content: ADT });
      await engine.idle("bad-login");
      const record = (await engine.messages.get("bad-login", messageId))?.connectors.find((c) => c.connectorId === "mail");
      expect(record).toMatchObject({ status: "ERROR", sendAttempts: 1, error: expect.stringContaining("ERR_SMTP_AUTH_FAILED") });
      expect(server.events.filter((e) => e.startsWith("auth:"))).toEqual(["auth:mirth", "auth:mirth"]);
    } finally {
      await engine.close();
      await store.close();
    }
  });

  it("the right password from ${SMTP_PASSWORD} logs in over STARTTLS", async () => {
    await using server = await startMailServer({ tls: serverTls, users: { mirth: "s3cret" } });
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [smtp()], env: { SMTP_PASSWORD: "s3cret" } });
    try {
      const properties = { ...mailProperties(server.port, "tls"), authentication: "true", username: "mirth", password: "${SMTP_PASSWORD}" };
      await engine.deploy(channel("login", properties));
      await engine.dispatch("login", { content: ADT });
      expect((await server.nextMail()).secure).toBe(true);
      expect(server.events.slice(0, 2)).toEqual(["connect", "auth:mirth"]);
    } finally {
      await engine.close();
      await store.close();
    }
  });

  it("4xx is retryable, 5xx permanent", async () => {
    await using server = await startMailServer({
      tls: serverTls,
      rcptReply: (to) => (to.startsWith("busy") ? { code: 451, text: "4.3.0 mailbox busy, try later" } : to.startsWith("nobody") ? { code: 550, text: "5.1.1 no such user" } : undefined),
    });
    await using sender = new SmtpSender({ host: "localhost", port: server.port, tls: { trustStorePath: pki.caCert } });
    const busy = await sender.send({ from: "a@hospital.test", to: "busy@hospital.test", subject: "s", body: "b" }).catch((error: unknown) => error);
    expect(busy).toMatchObject({ code: "ERR_SMTP_TRANSIENT", details: { responseCode: 451 } });
    expect(isRetryableSmtpFailure(busy as never)).toBe(true);
    const nobody = await sender.send({ from: "a@hospital.test", to: "nobody@hospital.test", subject: "s", body: "b" }).catch((error: unknown) => error);
    expect(nobody).toMatchObject({ code: "ERR_SMTP_REJECTED", details: { responseCode: 550 } });
    expect(isRetryableSmtpFailure(nobody as never)).toBe(false);
    // One refused recipient among accepted ones: sent, and the refusal is reported.
    const partial = await sender.send({ from: "a@hospital.test", to: "nobody@hospital.test, lab@hospital.test", subject: "s", body: "b" });
    expect(partial).toMatchObject({ accepted: ["lab@hospital.test"], rejected: ["nobody@hospital.test"] });
  });

  it("through the engine: a 451 is retried and then delivered, a 550 is not retried", async () => {
    let busyReplies = 1;
    await using server = await startMailServer({
      tls: serverTls,
      rcptReply: (to) => {
        if (to.startsWith("nobody")) return { code: 550, text: "5.1.1 no such user" };
        if (busyReplies > 0) {
          busyReplies -= 1;
          return { code: 451, text: "4.3.0 try later" };
        }
        return undefined;
      },
    });
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [smtp()] });
    try {
      const queue = { mode: "onFailure", retryCount: 5, retryIntervalMs: 20 };
      await engine.deploy(channel("greylist", { ...mailProperties(server.port, "tls"), to: "lab@hospital.test", cc: "", bcc: "" }, queue));
      const first = await engine.dispatch("greylist", { content: ADT });
      await server.nextMail();
      await engine.idle("greylist");
      expect((await engine.messages.get("greylist", first.messageId))?.connectors.find((c) => c.connectorId === "mail")).toMatchObject({ status: "SENT", sendAttempts: 2 });

      await engine.deploy(channel("unknown-user", { ...mailProperties(server.port, "tls"), to: "nobody@hospital.test", cc: "", bcc: "" }, queue));
      const second = await engine.dispatch("unknown-user", { content: ADT });
      await engine.idle("unknown-user");
      expect((await engine.messages.get("unknown-user", second.messageId))?.connectors.find((c) => c.connectorId === "mail")).toMatchObject({
        status: "ERROR",
        sendAttempts: 1,
        error: expect.stringContaining("ERR_SMTP_REJECTED"),
      });
    } finally {
      await engine.close();
      await store.close();
    }
  });

  it("server down: the engine retries until it is up, then delivers", async () => {
    const port = await freePort("127.0.0.1");
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [smtp()] });
    // QUEUED is also the status before the first attempt: wait for one after a failed attempt.
    const failedOnce = new Promise<void>((resolve) => {
      engine.subscribe((event: EngineEvent) => {
        if (event.type !== "message" || event.connectorId !== "mail" || event.status !== "QUEUED") return;
        void engine.messages.get(event.channelId, event.messageId).then((detail) => {
          if ((detail?.connectors.find((c) => c.connectorId === "mail")?.sendAttempts ?? 0) > 0) resolve();
        });
      });
    });
    try {
      await engine.deploy(channel("down", mailProperties(port, "tls"), { mode: "onFailure", retryCount: 100, retryIntervalMs: 50 }));
      const { messageId } = await engine.dispatch("down", { content: ADT });
      await failedOnce;
      const queued = (await engine.messages.get("down", messageId))?.connectors.find((c) => c.connectorId === "mail");
      expect(queued).toMatchObject({ status: "QUEUED", error: expect.stringContaining("ERR_SMTP_CONNECT_FAILED") });
      await using server = await startMailServer({ tls: serverTls, port });
      expect((await server.nextMail()).parsed.subject).toMatch(/^ADT for 12345/);
      await engine.idle("down");
      const sent = (await engine.messages.get("down", messageId))?.connectors.find((c) => c.connectorId === "mail");
      expect(sent?.status).toBe("SENT");
      expect(sent?.sendAttempts).toBeGreaterThan(1);
    } finally {
      await engine.close();
      await store.close();
    }
  });

  it("egress allowed_smtp: connects to the vetted address; an unlisted one is refused at deploy and at connect", async () => {
    await using server = await startMailServer({ tls: serverTls });
    const lookups: string[] = [];
    const egress = new EgressPolicy(
      { allowed_smtp: ["mail.hospital.test"] },
      {
        lookup: (name) => {
          lookups.push(name);
          return Promise.resolve(name === "mail.hospital.test" ? [{ address: "127.0.0.1", family: 4 }] : [{ address: "169.254.169.254", family: 4 }]);
        },
      },
    );
    // mail.hospital.test exists only in the policy's lookup: delivery proves the vetted address was dialled.
    await using sender = new SmtpSender({ host: "mail.hospital.test", port: server.port, egress, tls: { trustStorePath: pki.caCert, sniServerName: "localhost" } });
    await sender.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "egress", body: "b" });
    expect((await server.nextMail()).parsed.subject).toBe("egress");
    expect(lookups).toEqual(["mail.hospital.test"]);

    await using denied = new SmtpSender({ host: "127.0.0.1", port: server.port, egress, tls: { trustStorePath: pki.caCert, sniServerName: "localhost" } });
    await expect(denied.send({ from: "a@hospital.test", to: "b@hospital.test", subject: "s", body: "b" })).rejects.toMatchObject({ code: "ERR_POLICY_EGRESS_DENIED" });
    expect(server.events.filter((e) => e === "connect")).toHaveLength(1);

    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [smtp()], policy: { egress } });
    try {
      await expect(engine.deploy(channel("egress", { ...mailProperties(server.port, "tls"), smtpHost: "relay.elsewhere.test" }))).rejects.toThrow(/ERR_POLICY_EGRESS_DENIED|not allowed|egress/i);
    } finally {
      await engine.close();
      await store.close();
    }
  });
});

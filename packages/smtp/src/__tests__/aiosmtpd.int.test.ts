import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createTempDir, describeWithPeers, makeTestPki, startPeer, type TempDir, type TestPki } from "@node-mirth/test-peers";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SmtpSender, type SmtpEncryption } from "../smtp-sender.js";

const ADT = "MSH|^~\\&|HIS|FAC|LAB|FAC|20240101120000||ADT^A01|MSG1|P|2.5\rPID|1||12345^^^MR||DOE^JOHN";

/** Debian's python3-aiosmtpd: an SMTP server nobody here wrote, storing each mail in a Maildir. */
describeWithPeers("SMTP sender against aiosmtpd (Debian python3-aiosmtpd)", [{ pythonModule: "aiosmtpd" }, "openssl"], (peers) => {
  const python = peers.python.aiosmtpd!;
  let dir: TempDir;
  let pki: TestPki;

  beforeAll(async () => {
    dir = await createTempDir("smtp-aiosmtpd-pki-");
    pki = await makeTestPki(dir.path, peers.bin.openssl);
  });
  afterAll(() => dir?.remove());

  /** aiosmtpd's own flags for each mode: STARTTLS (required by aiosmtpd too) or implicit TLS. */
  const tlsFlags = (encryption: SmtpEncryption): string[] =>
    encryption === "tls" ? ["--tlscert", pki.serverCert, "--tlskey", pki.serverKey] : encryption === "ssl" ? ["--smtpscert", pki.serverCert, "--smtpskey", pki.serverKey] : [];

  const startAiosmtpd = (encryption: SmtpEncryption) =>
    startPeer({
      command: python,
      args: (ctx) => ["-m", "aiosmtpd", "-n", "-l", `${ctx.host}:${ctx.port}`, ...tlsFlags(encryption), "-c", "aiosmtpd.handlers.Mailbox", join(ctx.dir, "Maildir")],
    });

  it.each(["none", "tls", "ssl"] as const)("encryption %s: aiosmtpd stores the mail with its headers, body and attachment", async (encryption) => {
    await using peer = await startAiosmtpd(encryption);
    await using sender = new SmtpSender({ host: "localhost", port: peer.port, encryption, tls: { trustStorePath: pki.caCert } });
    const result = await sender.send({
      from: "mirth@hospital.test",
      to: "lab@hospital.test",
      subject: `ADT via aiosmtpd (${encryption})`,
      body: "see attachment",
      headers: { "X-Mirth-Channel": "adt-out" },
      attachments: [{ filename: "adt.hl7", content: ADT, contentType: "application/hl7-v2" }],
    });
    expect(result.accepted).toEqual(["lab@hospital.test"]);
    expect(result.response).toMatch(/^250 /);

    const maildir = join(peer.dir, "Maildir", "new");
    const files = await readdir(maildir);
    expect(files).toHaveLength(1);
    const parsed = await simpleParser(await readFile(join(maildir, files[0]!)));
    expect(parsed.messageId).toBe(result.messageId);
    expect(parsed.subject).toBe(`ADT via aiosmtpd (${encryption})`);
    expect(parsed.headers.get("x-mirth-channel")).toBe("adt-out");
    expect(parsed.text?.trimEnd()).toBe("see attachment");
    expect(parsed.attachments.map((a) => [a.filename, a.contentType, a.content.toString("utf8")])).toEqual([["adt.hl7", "application/hl7-v2", ADT]]);
  });

  it("encryption tls against aiosmtpd without STARTTLS: refused, nothing stored", async () => {
    await using peer = await startAiosmtpd("none");
    await using sender = new SmtpSender({ host: "localhost", port: peer.port, encryption: "tls", tls: { trustStorePath: pki.caCert } });
    await expect(sender.send({ from: "mirth@hospital.test", to: "lab@hospital.test", subject: "s", body: "PHI" })).rejects.toMatchObject({
      code: "ERR_SMTP_STARTTLS_UNAVAILABLE",
    });
    const maildir = join(peer.dir, "Maildir", "new");
    expect(await readdir(maildir).catch(() => [])).toEqual([]);
  });
});

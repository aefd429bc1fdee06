/**
 * SmtpSender against a local smtp-server over STARTTLS (test CA made by openssl), one
 * connection per mail and pooled, beside nodemailer used bare with the same server, TLS
 * settings and concurrency: the ratio is what our checks (mail validation, egress-vetted
 * socket, error mapping) cost. Run after `pnpm build` (the code under test is dist/):
 * `pnpm bench` in this package. BENCH_SECONDS and BENCH_CONCURRENCY tune it.
 */
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { latencyPercentiles, writeBenchReport } from "@node-mirth/bench-harness";
import { createTempDir, makeTestPki } from "@node-mirth/test-peers";
import nodemailer from "nodemailer";
import { SMTPServer } from "smtp-server";
import type * as Smtp from "../src/index.js";

const smtp = (await import("../dist/index.js")) as unknown as typeof Smtp;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const ADT = "MSH|^~\\&|HIS|FAC|LAB|FAC|20240101120000||ADT^A01|MSG1|P|2.5\rPID|1||12345^^^MR||DOE^JOHN".repeat(8);

interface Run {
  name: string;
  mails: number;
  mailsPerSecond: number;
  latencyMicros: ReturnType<typeof latencyPercentiles>;
}

/** CONCURRENCY loops send back to back for SECONDS; one latency sample per mail. */
async function measure(name: string, send: (i: number) => Promise<unknown>): Promise<Run> {
  for (let i = 0; i < 20; i++) await send(i);
  const samples: number[] = [];
  const started = performance.now();
  const end = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, lane) => {
      for (let i = 0; performance.now() < end; i++) {
        const before = performance.now();
        await send(lane * 1_000_000 + i);
        samples.push(performance.now() - before);
      }
    }),
  );
  const elapsed = performance.now() - started;
  return { name, mails: samples.length, mailsPerSecond: Math.round((samples.length / elapsed) * 1000), latencyMicros: latencyPercentiles(samples) };
}

const dir = await createTempDir("smtp-bench-");
try {
  const pki = await makeTestPki(dir.path);
  const server = new SMTPServer({
    key: await readFile(pki.serverKey),
    cert: await readFile(pki.serverCert),
    authOptional: true,
    logger: false,
    // No reverse DNS of 127.0.0.1 per connection: that wait would dominate every figure.
    disableReverseLookup: true,
    closeTimeout: 1_000,
    onData(stream, _session, callback) {
      stream.on("end", () => callback());
      stream.resume();
    },
  });
  server.listen(0, "127.0.0.1");
  await once(server.server, "listening");
  const { port } = server.server.address() as AddressInfo;
  const ca = await readFile(pki.caCert);
  const mail = (i: number) => ({
    from: "mirth@hospital.test",
    to: "lab@hospital.test",
    subject: `ADT ${i}`,
    body: "see attachment",
    attachments: [{ filename: "adt.hl7", content: ADT, contentType: "application/hl7-v2" }],
  });

  const results: Run[] = [];
  for (const pool of [false, true]) {
    const mode = pool ? "pooled" : "connection per mail";
    // The address, not the name: nodemailer's own resolver would add a DNS query per connection.
    const bare = nodemailer.createTransport({
      host: "127.0.0.1",
      port,
      requireTLS: true,
      tls: { ca, servername: "localhost", minVersion: "TLSv1.2" },
      ...(pool ? { pool: true, maxConnections: CONCURRENCY } : {}),
    });
    results.push(
      await measure(`nodemailer bare, STARTTLS, ${mode}`, (i) => {
        const m = mail(i);
        return bare.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.body, attachments: m.attachments });
      }),
    );
    bare.close();
    const sender = new smtp.SmtpSender({ host: "localhost", port, tls: { trustStorePath: pki.caCert }, pool, maxConnections: CONCURRENCY });
    results.push(await measure(`SmtpSender, STARTTLS, ${mode}`, (i) => sender.send(mail(i))));
    await sender.close();
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));

  const rate = (name: string) => results.find((r) => r.name === name)?.mailsPerSecond ?? 0;
  const ratio = (ours: string, theirs: string) => Math.round((rate(ours) / Math.max(1, rate(theirs))) * 100) / 100;
  writeBenchReport(join(import.meta.dirname, ".."), {
    bench: "smtp",
    results: [...results, { concurrency: CONCURRENCY, seconds: SECONDS }],
    ratios: {
      perMailVsNodemailer: ratio("SmtpSender, STARTTLS, connection per mail", "nodemailer bare, STARTTLS, connection per mail"),
      pooledVsNodemailer: ratio("SmtpSender, STARTTLS, pooled", "nodemailer bare, STARTTLS, pooled"),
    },
  });
} finally {
  await dir.remove();
}

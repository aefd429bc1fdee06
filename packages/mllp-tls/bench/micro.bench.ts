/**
 * In-process micro benches of the connector alone: frame decoding, MllpSender -> MllpListener
 * round trips (plain and TLS, persistent and one connection per message), and node-hl7-server
 * on equal terms. The end-to-end bench with real processes is mllp.bench.ts (`pnpm bench:mllp`).
 * Run after `pnpm build` (the code under test is dist/): `node bench/micro.bench.ts`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as Mllp from "../src/index.js";
import { latencyPercentiles, writeBenchReport } from "@node-mirth/bench-harness";

const mllp = (await import("../dist/index.js")) as unknown as typeof Mllp;
const hl7 = await import("@node-mirth/hl7");
const { Server: Hl7Server } = await import("node-hl7-server");

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);

/** A ~1 KB ADT^A01. */
function message(id: string): string {
  return [
    `MSH|^~\\&|HIS|GENERAL|ENGINE|GENERAL|20240101120000||ADT^A01^ADT_A01|${id}|P|2.5.1`,
    "EVN|A01|20240101120000|||OPERATOR^JANE",
    `PID|1||${id}^^^HOSP^MR~987654^^^SSA^SS||DOE^JOHN^Q^JR^^^L||19700101|M|||123 MAIN ST^^SPRINGFIELD^IL^62701^USA^H||(217)555-0100^PRN^PH|||M|CHR|ACC${id}`,
    "NK1|1|DOE^JANE^^^^^L|SPO^Spouse^HL70063|123 MAIN ST^^SPRINGFIELD^IL^62701^USA^H|(217)555-0101",
    "PV1|1|I|4N^401^A^GENERAL^^^^^4 NORTH|E|||1234^SMITH^ALICE^^^DR^MD|5678^JONES^BOB^^^DR^MD||MED|||1|A0||1234^SMITH^ALICE^^^DR^MD|IN||SELF|||||||||||||||||||GENERAL||ADM|||20240101115500",
    "AL1|1|DA|70618^PENICILLIN^RXNORM|SV|HIVES",
    "DG1|1||I10^Essential hypertension^I10||20240101|A",
  ].join("\r") + "\r";
}

const ack = (raw: Buffer) => Promise.resolve(hl7.buildAck(hl7.parseHl7(raw), { outcome: "accept" })?.toString());

interface RoundTrip {
  name: string;
  messages: number;
  messagesPerSecond: number;
  latencyMicros: ReturnType<typeof latencyPercentiles>;
}

/** CONNECTIONS senders each send back to back for SECONDS; one sample per round trip. */
async function roundTrips(name: string, port: number, senderOptions: Partial<Mllp.MllpSenderOptions>): Promise<RoundTrip> {
  const samples: number[] = [];
  const senders = Array.from({ length: CONNECTIONS }, () => new mllp.MllpSender({ host: "localhost", port, ...senderOptions }));
  // Warm-up: connect and settle the JIT.
  await Promise.all(senders.map(async (sender, c) => { for (let i = 0; i < 50; i++) await sender.send(message(`W${c}-${i}`)); }));
  const end = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    senders.map(async (sender, c) => {
      for (let i = 0; performance.now() < end; i++) {
        const before = performance.now();
        const result = await sender.send(message(`B${c}-${i}`));
        if (result.outcome !== "accepted") throw new Error(`unexpected ${result.ackCode}`);
        samples.push(performance.now() - before);
      }
    }),
  );
  const elapsed = performance.now() - started;
  await Promise.all(senders.map((sender) => sender.close()));
  return { name, messages: samples.length, messagesPerSecond: Math.round((samples.length / elapsed) * 1000), latencyMicros: latencyPercentiles(samples) };
}

function decodeThroughput() {
  const frames = Buffer.concat(Array.from({ length: 1000 }, (_, i) => mllp.encodeFrame(message(`D${i}`), mllp.resolveFraming())));
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < frames.length; offset += 65_536) chunks.push(frames.subarray(offset, offset + 65_536));
  let bytes = 0;
  let count = 0;
  const end = performance.now() + SECONDS * 1000;
  const started = performance.now();
  while (performance.now() < end) {
    const decoder = new mllp.FrameDecoder();
    for (const chunk of chunks) count += decoder.push(chunk).length;
    bytes += frames.length;
  }
  const seconds = (performance.now() - started) / 1000;
  return { name: "FrameDecoder (1 KB frames, 64 KiB reads)", framesPerSecond: Math.round(count / seconds), megabytesPerSecond: Math.round(bytes / seconds / 1e6) };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function makePki(dir: string): { key: string; cert: string } | undefined {
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"),
      "-subj", "/CN=localhost", "-days", "365", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stdio: "ignore" });
    return { key: join(dir, "k.pem"), cert: join(dir, "c.pem") };
  } catch {
    return undefined;
  }
}

const dir = mkdtempSync(join(tmpdir(), "mllp-bench-"));
try {
  const results: unknown[] = [decodeThroughput()];

  const plain = new mllp.MllpListener({ onMessage: ack });
  const plainPort = (await plain.start()).port;
  const plainResult = await roundTrips("MllpSender -> MllpListener (MLLP, persistent)", plainPort, {});
  results.push(plainResult);
  const perMessage = await roundTrips("MllpSender -> MllpListener (MLLP, connection per message)", plainPort, { keepConnectionOpen: false });
  results.push(perMessage);
  await plain.stop();

  const hl7Port = await freePort();
  const server = new Hl7Server({ bindAddress: "127.0.0.1" });
  const inbound = server.createInbound({ port: hl7Port }, (_req, res) => void res.sendResponse("AA"));
  await new Promise((resolve) => inbound.once("listen", resolve));
  // node-hl7-server 2.5.0 re-handles earlier messages on a kept connection, so compare per message.
  const theirs = await roundTrips("MllpSender -> node-hl7-server (connection per message)", hl7Port, { keepConnectionOpen: false, checkControlId: false });
  results.push(theirs);
  await inbound.close();

  const pki = makePki(dir);
  let tlsResult: RoundTrip | undefined;
  if (pki !== undefined) {
    const tls = new mllp.MllpListener({ onMessage: ack, tls: { enabled: true, keyStorePath: pki.key, certStorePath: pki.cert } });
    const tlsPort = (await tls.start()).port;
    tlsResult = await roundTrips("MllpSender -> MllpListener (MLLPS, persistent)", tlsPort, { tls: { enabled: true, trustStorePath: pki.cert } });
    results.push(tlsResult);
    await tls.stop();
  }

  writeBenchReport(join(import.meta.dirname, ".."), {
    bench: "mllp",
    results,
    ratios: {
      listenerVsNodeHl7Server: Math.round((perMessage.messagesPerSecond / theirs.messagesPerSecond) * 100) / 100,
      ...(tlsResult === undefined ? {} : { tlsVsPlain: Math.round((tlsResult.messagesPerSecond / plainResult.messagesPerSecond) * 100) / 100 }),
    },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

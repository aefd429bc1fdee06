/**
 * `pnpm --filter @node-mirth/remotefile bench`: SFTP throughput against a real OpenSSH sshd
 * on loopback, node-mirth (dist/, run `pnpm build` first) beside the OpenSSH `sftp` client
 * moving the same files in the same run, alternating rounds.
 *
 *   1 KB files: upload and download N files per round (files/s, MB/s, per-file p50/p99)
 *   10 MB files: upload and download M files per round
 *   reader: FileReader polling the 1 KB files over SFTP (read + delete + ledger), files/s
 *
 * Each round includes connecting (SSH handshake) on both sides. Writes bench-results/sftp.json.
 */
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { latencyPercentiles, writeBenchReport } from "@node-mirth/bench-harness";
import { startSshd } from "@node-mirth/test-peers";
import { connectSftp, createFileNameMatcher, FileReader } from "../dist/index.js";

const SMALL_FILES = Number(process.env.BENCH_SMALL_FILES ?? 300);
const LARGE_FILES = Number(process.env.BENCH_LARGE_FILES ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KB = 1024;
const MB = 1024 * 1024;

interface Measured {
  seconds: number;
  files: number;
  bytes: number;
  perFileMs: number[];
}

interface Row {
  scenario: string;
  client: "node-mirth" | "openssh-sftp";
  filesPerSecond: number;
  mbPerSecond: number;
  latencyMicros: ReturnType<typeof latencyPercentiles> | null;
  rounds: number;
}

const sshd = await startSshd();
const work = join(tmpdir(), `remotefile-bench-${process.pid}`);
const cleanUp = async () => {
  rmSync(work, { recursive: true, force: true });
  await sshd.stop();
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
}

const connect = () =>
  connectSftp({ host: sshd.host, port: sshd.port, username: sshd.username, privateKeyPath: sshd.userKeyPath, knownHostsPath: sshd.knownHostsPath });

function payload(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

function openssh(batch: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      "sftp",
      ["-q", "-b", batch, "-i", sshd.userKeyPath, "-o", `UserKnownHostsFile=${sshd.knownHostsPath}`, "-o", "StrictHostKeyChecking=yes", "-P", String(sshd.port), `${sshd.username}@${sshd.host}`],
      { maxBuffer: 64 * MB },
      (error) => (error ? reject(error) : resolve()),
    );
  });
}

async function oursUpload(localFiles: { name: string; bytes: Buffer }[], remoteDir: string): Promise<Measured> {
  const started = performance.now();
  const client = await connect();
  const perFileMs: number[] = [];
  let bytes = 0;
  try {
    for (const file of localFiles) {
      const t = performance.now();
      await pipeline(Readable.from([file.bytes]), client.createWriteStream(`${remoteDir}/${file.name}`));
      perFileMs.push(performance.now() - t);
      bytes += file.bytes.length;
    }
  } finally {
    await client.close();
  }
  return { seconds: (performance.now() - started) / 1000, files: localFiles.length, bytes, perFileMs };
}

async function oursDownload(names: string[], remoteDir: string): Promise<Measured> {
  const started = performance.now();
  const client = await connect();
  const perFileMs: number[] = [];
  let bytes = 0;
  try {
    for (const name of names) {
      const t = performance.now();
      for await (const chunk of client.createReadStream(`${remoteDir}/${name}`) as AsyncIterable<Buffer>) bytes += chunk.length;
      perFileMs.push(performance.now() - t);
    }
  } finally {
    await client.close();
  }
  return { seconds: (performance.now() - started) / 1000, files: names.length, bytes, perFileMs };
}

async function theirs(direction: "put" | "get", names: string[], dirs: { local: string; remote: string; size: number }): Promise<Measured> {
  const batch = join(work, `${direction}.batch`);
  writeFileSync(batch, names.map((n) => (direction === "put" ? `put ${dirs.local}/${n} ${dirs.remote}/${n}` : `get ${dirs.remote}/${n} ${dirs.local}/${n}`)).join("\n") + "\n");
  const started = performance.now();
  await openssh(batch);
  return { seconds: (performance.now() - started) / 1000, files: names.length, bytes: names.length * dirs.size, perFileMs: [] };
}

function summarize(scenario: string, client: Row["client"], runs: Measured[]): Row {
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  const files = runs.reduce((s, r) => s + r.files, 0);
  const bytes = runs.reduce((s, r) => s + r.bytes, 0);
  const samples = runs.flatMap((r) => r.perFileMs);
  return {
    scenario,
    client,
    filesPerSecond: Math.round((files / seconds) * 10) / 10,
    mbPerSecond: Math.round((bytes / MB / seconds) * 10) / 10,
    latencyMicros: samples.length === 0 ? null : latencyPercentiles(samples),
    rounds: runs.length,
  };
}

async function scenario(label: string, size: number, count: number): Promise<Row[]> {
  const slug = label.replace(/\s+/g, "");
  const local = join(work, `${slug}-local`);
  const remoteOurs = join(work, `${slug}-remote-ours`);
  const remoteTheirs = join(work, `${slug}-remote-theirs`);
  const downloaded = join(work, `${slug}-downloaded`);
  for (const dir of [local, remoteOurs, remoteTheirs, downloaded]) mkdirSync(dir, { recursive: true });
  const files = Array.from({ length: count }, (_, i) => ({ name: `f${i}.bin`, bytes: payload(size, i) }));
  for (const file of files) writeFileSync(join(local, file.name), file.bytes);
  const names = files.map((f) => f.name);
  const runs: Record<string, Measured[]> = { oursPut: [], theirsPut: [], oursGet: [], theirsGet: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.oursPut!.push(await oursUpload(files, remoteOurs));
    runs.theirsPut!.push(await theirs("put", names, { local, remote: remoteTheirs, size }));
    runs.oursGet!.push(await oursDownload(names, remoteOurs));
    runs.theirsGet!.push(await theirs("get", names, { local: downloaded, remote: remoteTheirs, size }));
  }
  return [
    summarize(`${label} upload`, "node-mirth", runs.oursPut!),
    summarize(`${label} upload`, "openssh-sftp", runs.theirsPut!),
    summarize(`${label} download`, "node-mirth", runs.oursGet!),
    summarize(`${label} download`, "openssh-sftp", runs.theirsGet!),
  ];
}

async function readerScenario(count: number): Promise<Row> {
  const runs: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const dir = join(work, `reader-${round}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `m${i}.hl7`), payload(KB, i));
    let received = 0;
    const reader = new FileReader({
      connect,
      location: "bench://",
      directory: dir,
      matcher: createFileNameMatcher("*", false),
      stableMs: 0,
      maxFilesPerPoll: count,
      content: "binary",
      ledgerPath: join(work, `reader-${round}.sqlite`),
      dispatch: () => Promise.resolve({ messageId: ++received, status: "RECEIVED" }),
    });
    const started = performance.now();
    const report = await reader.poll();
    const seconds = (performance.now() - started) / 1000;
    await reader.stop();
    if (report.processed.length !== count) throw new Error(`reader processed ${report.processed.length} of ${count}`);
    runs.push({ seconds, files: count, bytes: count * KB, perFileMs: [] });
  }
  return summarize("1 KB reader (list, read, dispatch, ledger, delete)", "node-mirth", runs);
}

try {
  mkdirSync(work, { recursive: true });
  const results = [...(await scenario("1 KB", KB, SMALL_FILES)), ...(await scenario("10 MB", 10 * MB, LARGE_FILES)), await readerScenario(SMALL_FILES)];
  const ratio = (name: string, key: "filesPerSecond" | "mbPerSecond") => {
    const ours = results.find((r) => r.scenario === name && r.client === "node-mirth")!;
    const base = results.find((r) => r.scenario === name && r.client === "openssh-sftp")!;
    return Math.round((ours[key] / base[key]) * 100) / 100;
  };
  writeBenchReport(join(import.meta.dirname, ".."), {
    bench: "sftp",
    results,
    ratios: {
      smallUploadFilesPerSecondVsOpenSsh: ratio("1 KB upload", "filesPerSecond"),
      smallDownloadFilesPerSecondVsOpenSsh: ratio("1 KB download", "filesPerSecond"),
      largeUploadMbPerSecondVsOpenSsh: ratio("10 MB upload", "mbPerSecond"),
      largeDownloadMbPerSecondVsOpenSsh: ratio("10 MB download", "mbPerSecond"),
    },
  });
} finally {
  await cleanUp();
}

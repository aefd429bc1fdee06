/**
 * `pnpm --filter @node-mirth/dicom bench`: C-STOREs per second and MB/s with real dcmtk peers
 * on loopback, after `pnpm build` (the code under test is dist/).
 *
 *   ceiling: storescu -> storescp                                (dcmtk to dcmtk, one association)
 *   engine:  storescu -> dicom listener -> SQLite -> dicom sender -> storescp   (all SENT)
 *   ack:     C-STORE round trips, one at a time, answered after the durable commit (our
 *            sender as the modality), beside the same round trips straight to storescp.
 *
 * Writes bench-results/dicom.json. BENCH_INSTANCES, BENCH_PIXEL_BYTES, BENCH_ROUNDS tune it.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { latencyPercentiles, writeBenchReport } from "@node-mirth/bench-harness";
import { createEngine, SqliteStore } from "@node-mirth/core";
import { dicom, DicomSender } from "@node-mirth/dicom";

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 200);
const PIXEL_BYTES = Number(process.env.BENCH_PIXEL_BYTES ?? 512 * 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const ACK_SAMPLES = Number(process.env.BENCH_ACK_SAMPLES ?? 100);

/** dcmtk leaves Nagle on unless TCP_NODELAY=1: ~40 ms per C-STORE otherwise, for every dcmtk peer here. */
const DCMTK_ENV = { ...process.env, TCP_NODELAY: "1" };

const dir = mkdtempSync(join(tmpdir(), "dicom-bench-"));
const children: ChildProcess[] = [];
const round1 = (n: number) => Math.round(n * 10) / 10;

function cleanUp(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** N CT instances with random pixel data, made by dump2dcm. */
function makeStudy(count: number): string[] {
  const study = join(dir, "study");
  mkdirSync(study);
  const pixels = join(dir, "pixels.raw");
  writeFileSync(pixels, Buffer.from(Array.from({ length: PIXEL_BYTES }, (_, i) => (i * 7919) & 0xff)));
  const side = Math.floor(Math.sqrt(PIXEL_BYTES / 2));
  const files: string[] = [];
  for (let index = 0; index < count; index++) {
    const sop = `1.2.826.0.1.3680043.8.498.77.1.${index + 1}`;
    const dump = join(dir, "ct.dump");
    writeFileSync(
      dump,
      [
        "(0002,0002) UI =CTImageStorage",
        `(0002,0003) UI [${sop}]`,
        "(0002,0010) UI =LittleEndianExplicit",
        "(0008,0016) UI =CTImageStorage",
        `(0008,0018) UI [${sop}]`,
        "(0008,0060) CS [CT]",
        "(0010,0020) LO [BENCH]",
        "(0020,000d) UI [1.2.826.0.1.3680043.8.498.77]",
        "(0028,0002) US 1",
        "(0028,0004) CS [MONOCHROME2]",
        `(0028,0010) US ${side}`,
        `(0028,0011) US ${Math.ceil(PIXEL_BYTES / 2 / side)}`,
        "(0028,0100) US 16",
        "(0028,0101) US 12",
        "(0028,0102) US 11",
        "(0028,0103) US 0",
        `(7fe0,0010) OW =${pixels}`,
      ].join("\n") + "\n",
    );
    const file = join(study, `ct-${String(index).padStart(5, "0")}.dcm`);
    execFileSync("dump2dcm", ["--write-xfer-little", dump, file]);
    files.push(file);
  }
  return files;
}

async function startStorescp(out: string): Promise<number> {
  mkdirSync(out, { recursive: true });
  const port = await freePort();
  const child = spawn("storescp", ["-aet", "PACS", "-od", out, String(port)], { stdio: "ignore", env: DCMTK_ENV });
  children.push(child);
  for (let attempt = 0; attempt < 100; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once("error", () => resolve(true));
      probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(false)));
    });
    if (ok) return port;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("storescp did not start");
}

async function storescu(port: number, files: string[]): Promise<void> {
  const child = spawn("storescu", ["-aet", "CT01", "-aec", port === 0 ? "PACS" : "NMIRTH", "127.0.0.1", String(port), ...files], { stdio: "ignore", env: DCMTK_ENV });
  children.push(child);
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`storescu exited with ${code}`);
}

async function waitForFiles(out: string, count: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (readdirSync(out).length < count) {
    if (Date.now() > deadline) throw new Error(`only ${readdirSync(out).length} of ${count} instances arrived`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** How the engine keeps instances: inline in the message (the default) or as spooled files. */
const ENGINE_MODES = [
  { name: "inline", properties: {} },
  { name: "spooled", properties: { inlineMaxBytes: 0 } },
] as const;

/** C-STORE round trips one at a time, our sender playing the modality. */
async function timeRoundTrips(files: string[], target: { port: number; calledAeTitle: string }) {
  const samples = files.slice(0, Math.min(ACK_SAMPLES, files.length)).map((file) => readFileSync(file));
  const sender = new DicomSender({ host: "127.0.0.1", port: target.port, calledAeTitle: target.calledAeTitle, callingAeTitle: "CT01" });
  const ms: number[] = [];
  for (const sample of samples) {
    const t = performance.now();
    const result = await sender.store(sample);
    if (result.outcome !== "success") throw new Error(`C-STORE answered ${result.status}`);
    ms.push(performance.now() - t);
  }
  await sender.close();
  return latencyPercentiles(ms);
}

interface Row {
  name: string;
  instances: number;
  seconds: number;
  perSecond: number;
  mbPerSecond: number;
}

function row(name: string, seconds: number, bytes: number): Row {
  return { name, instances: INSTANCES, seconds: Math.round(seconds * 1000) / 1000, perSecond: round1(INSTANCES / seconds), mbPerSecond: round1(bytes / 1e6 / seconds) };
}

try {
  const files = makeStudy(INSTANCES);
  const bytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
  const results: unknown[] = [];
  const ceiling: Row[] = [];
  const engineRows: Record<string, Row[]> = Object.fromEntries(ENGINE_MODES.map((mode) => [mode.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Ceiling: dcmtk to dcmtk.
    const direct = join(dir, `direct-${round}`);
    const directPort = await startStorescp(direct);
    const started = performance.now();
    const child = spawn("storescu", ["-aet", "CT01", "-aec", "PACS", "127.0.0.1", String(directPort), ...files], { stdio: "ignore", env: DCMTK_ENV });
    children.push(child);
    await once(child, "exit");
    await waitForFiles(direct, INSTANCES);
    ceiling.push(row("storescu -> storescp", (performance.now() - started) / 1000, bytes));

    // The engine between them: instances inline in the store (default), then as spooled files.
    for (const mode of ENGINE_MODES) {
      const forwarded = join(dir, `forwarded-${mode.name}-${round}`);
      const pacsPort = await startStorescp(forwarded);
      const store = new SqliteStore({ dataDir: join(dir, `store-${mode.name}-${round}`) });
      const engine = createEngine({ store, plugins: [dicom()], env: {} });
      const port = await freePort();
      await engine.deploy({
        id: "bench",
        name: "bench",
        dataType: "JSON",
        source: { type: "dicom", properties: { port, aeTitle: "NMIRTH", spoolDirectory: join(dir, `spool-${mode.name}-${round}`), ...mode.properties } },
        transformer: { steps: [{ type: "javascript", script: 'channelMap.put("patient", msg.PatientID);' }] },
        destinations: [{ id: "pacs", name: "PACS", connector: { type: "dicom", properties: { host: "127.0.0.1", port: pacsPort, calledAeTitle: "PACS" } } }],
      });
      const started = performance.now();
      await storescu(port, files);
      await engine.idle("bench");
      await waitForFiles(forwarded, INSTANCES);
      engineRows[mode.name]!.push(row(`storescu -> listener -> SQLite -> sender -> storescp (${mode.name})`, (performance.now() - started) / 1000, bytes));
      const sent = await engine.messages.search({ channelId: "bench", statuses: ["SENT"], limit: INSTANCES + 1 });
      if (sent.length !== INSTANCES) throw new Error(`${sent.length} of ${INSTANCES} SENT`);
      if (round === ROUNDS - 1) {
        results.push({ name: `C-STORE round trip -> engine, ${mode.name} (answered after the durable commit)`, latencyMicros: await timeRoundTrips(files, { port, calledAeTitle: "NMIRTH" }) });
        await engine.idle("bench");
      }
      await engine.close();
      await store.close();
    }
    if (round === ROUNDS - 1) {
      results.push({ name: "C-STORE round trip -> storescp", latencyMicros: await timeRoundTrips(files, { port: directPort, calledAeTitle: "PACS" }) });
    }
    for (const child of children.splice(0)) child.kill("SIGTERM");
  }
  const best = (rows: Row[]) => rows.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const bestCeiling = best(ceiling);
  const inline = best(engineRows.inline!);
  const spooled = best(engineRows.spooled!);
  results.unshift(
    { ...bestCeiling, rounds: ceiling.map((r) => r.perSecond) },
    { ...inline, rounds: engineRows.inline!.map((r) => r.perSecond) },
    { ...spooled, rounds: engineRows.spooled!.map((r) => r.perSecond) },
    { instanceBytes: Math.round(bytes / INSTANCES), totalMB: round1(bytes / 1e6) },
  );
  writeBenchReport(join(import.meta.dirname, ".."), {
    bench: "dicom",
    results,
    ratios: {
      inlineVsDirect: Math.round((inline.perSecond / bestCeiling.perSecond) * 100) / 100,
      spooledVsDirect: Math.round((spooled.perSecond / bestCeiling.perSecond) * 100) / 100,
    },
  });
} finally {
  cleanUp();
}

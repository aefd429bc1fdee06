/**
 * `pnpm bench`: wrk (C, keep-alive connections) against, in the same run and alternating:
 *   - engine: HttpListener -> SqliteStore (durable group commit) -> response, in its own process,
 *     with a queued HTTP destination delivering to a sink process;
 *   - listener: HttpListener alone answering 200 (its own cost, no storage);
 *   - bare:   a bare Node HTTP server answering 200 with no work (the ceiling of this machine).
 * Requests/s and latency p50/p99 from wrk --latency; non-2xx answers are counted and must be 0.
 * Run after `pnpm build` (the code under test is dist/). Writes bench-results/http.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { writeBenchReport } from "@node-mirth/bench-harness";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WRK = process.env.WRK ?? "wrk";

/** A ~1 KB HL7 v2 ORU^R01: what a lab partner posts. */
const BODY = [
  "MSH|^~\\&|LAB|GENERAL|ENGINE|GENERAL|20240101120000||ORU^R01^ORU_R01|MSG0001|P|2.5.1",
  "PID|1||123456^^^HOSP^MR||DOE^JOHN^Q||19700101|M|||123 MAIN ST^^SPRINGFIELD^IL^62701^USA",
  "ORC|RE|ORD123|FIL456||CM",
  "OBR|1|ORD123|FIL456|24331-1^Lipid panel^LN|||20240101110000",
  ...Array.from({ length: 8 }, (_, i) => `OBX|${i + 1}|NM|2093-3^Cholesterol^LN||${180 + i}|mg/dL|<200|N|||F|||20240101115500`),
].join("\r") + "\r";

const dir = mkdtempSync(join(tmpdir(), "http-bench-"));
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a role process and waits for the JSON line with its port. */
async function startRole(file: string, args: string[] = []): Promise<number> {
  const child = spawn(process.execPath, [join(import.meta.dirname, file), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const lines = createInterface({ input: child.stdout });
  const timeout = setTimeout(() => child.kill("SIGKILL"), 30_000);
  for await (const line of lines) {
    clearTimeout(timeout);
    return (JSON.parse(line) as { port: number }).port;
  }
  throw new Error(`${file} exited before it listened`);
}

/** wrk prints "1.23ms", "456.00us", "1.02s". */
function toMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (match === null) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
}

interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  latencyMs: { p50: number; p90: number; p99: number };
  non2xx: number;
  socketErrors: string | undefined;
}

function runWrk(url: string, script: string): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(WRK, ["-t", String(THREADS), "-c", String(CONNECTIONS), "-d", `${SECONDS}s`, "--latency", "-s", script, url], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(child);
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${String(code)}:\n${out}`));
      const pick = (re: RegExp) => re.exec(out)?.[1];
      resolve({
        requestsPerSecond: Math.round(Number(pick(/Requests\/sec:\s+([\d.]+)/))),
        requests: Number(pick(/(\d+) requests in/)),
        latencyMs: { p50: toMs(pick(/^\s+50%\s+(\S+)/m) ?? ""), p90: toMs(pick(/^\s+90%\s+(\S+)/m) ?? ""), p99: toMs(pick(/^\s+99%\s+(\S+)/m) ?? "") },
        non2xx: Number(pick(/Non-2xx or 3xx responses: (\d+)/) ?? 0),
        socketErrors: pick(/Socket errors: (.+)/),
      });
    });
  });
}

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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const value = Number.isInteger(mid) ? ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2 : (sorted[Math.floor(mid)] ?? 0);
  return Math.round(value * 100) / 100;
}

try {
  const script = join(dir, "post.lua");
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(BODY)}\nwrk.headers["Content-Type"] = "application/hl7-v2"\n`);
  const sinkPort = await startRole("bare-server.ts");
  const barePort = await startRole("bare-server.ts");
  const enginePort = await freePort();
  await startRole("engine-server.ts", [join(dir, "data"), String(sinkPort), String(enginePort)]);
  const listenerPort = await startRole("listener-server.ts");
  const targets = { bare: `http://127.0.0.1:${barePort}/in`, listener: `http://127.0.0.1:${listenerPort}/in`, engine: `http://127.0.0.1:${enginePort}/in` };

  // Warm both up (JIT, SQLite page cache), then alternate so drift hits both alike.
  for (const url of Object.values(targets)) await runWrk(url, script);
  const runs: Record<keyof typeof targets, WrkResult[]> = { bare: [], listener: [], engine: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of ["engine", "listener", "bare"] as const) runs[name].push(await runWrk(targets[name], script));
  }
  const descriptions = {
    engine: "HttpListener -> SqliteStore (group commit) -> 200 with X-Message-Id; queued HTTP delivery to a sink",
    listener: "HttpListener alone, answering 200 without storage",
    bare: "bare Node http server, no storage",
  };
  const summary = (name: keyof typeof targets) => ({
    name,
    description: descriptions[name],
    requestsPerSecond: median(runs[name].map((r) => r.requestsPerSecond)),
    latencyMs: { p50: median(runs[name].map((r) => r.latencyMs.p50)), p99: median(runs[name].map((r) => r.latencyMs.p99)) },
    non2xx: runs[name].reduce((n, r) => n + r.non2xx, 0),
    socketErrors: runs[name].map((r) => r.socketErrors).filter((e) => e !== undefined),
    rounds: runs[name],
  });
  const engine = summary("engine");
  const bare = summary("bare");
  const listener = summary("listener");
  writeBenchReport(join(import.meta.dirname, ".."), {
    bench: "http",
    results: [
      { tool: `wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s --latency, POST ${Buffer.byteLength(BODY)} bytes, keep-alive`, rounds: ROUNDS },
      engine,
      listener,
      bare,
    ],
    ratios: {
      engineVsBareThroughput: Math.round((engine.requestsPerSecond / bare.requestsPerSecond) * 100) / 100,
      engineVsBareP99: Math.round((engine.latencyMs.p99 / bare.latencyMs.p99) * 100) / 100,
      listenerVsBareThroughput: Math.round((listener.requestsPerSecond / bare.requestsPerSecond) * 100) / 100,
    },
  });
  if (engine.non2xx + listener.non2xx + bare.non2xx > 0) {
    process.exitCode = 1;
    process.stderr.write("some requests were not answered 2xx\n");
  }
} finally {
  cleanUp();
}

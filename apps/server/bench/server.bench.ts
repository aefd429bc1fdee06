/**
 * bench:server — the demo channels (MLLP -> JavaScript transformer -> Channel Writer ->
 * archive channel -> file in out/, SQLite WAL synchronous=FULL, ACK after the durable commit) served by the
 * BUILT node-mirth server, against the same channels in a bare engine process. Reports, for
 * each: start-up time to ready, idle RSS, and MLLP throughput with p50/p99 ACK latency from
 * closed-loop keep-alive connections; and the server/engine ratios. Writes
 * bench-results/server.json. Run `pnpm build` first.
 */
import { latencyPercentiles, writeBenchReport } from "@node-mirth/bench-harness";
import { MllpSender } from "@node-mirth/mllp-tls";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const APP = join(import.meta.dirname, "..");
const NODE_MIRTH = join(APP, "dist", "main.js");
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1_000);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5_000);

if (!existsSync(NODE_MIRTH)) throw new Error(`${NODE_MIRTH} is missing: run pnpm build first`);

interface Target {
  name: string;
  args: string[];
  ready: RegExp;
  env?: Record<string, string>;
}

interface Started {
  child: ChildProcess;
  startupMs: number;
}

function start(target: Target, env: Record<string, string>): Promise<Started> {
  const began = performance.now();
  const child = spawn(process.execPath, target.args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${target.name} not ready in 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (target.ready.test(output)) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve({ child, startupMs: Math.round(performance.now() - began) });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${target.name} exited with ${code}:\n${output}`));
    });
  });
}

/** A port the kernel just handed out on loopback (test-peers needs its source hook; benches run plain node). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((text) => text.startsWith("VmRSS:"));
  return Math.round((Number(line?.replace(/\D+/g, "") ?? 0) / 1024) * 10) / 10;
}

function message(n: number): string {
  return `MSH|^~\\&|BENCH|HOSP|EHR|HOSP|20260101120000||ADT^A01|B${n}|P|2.5\rPID|1||P${n}^^^HOSP||Doe^Jane\r`;
}

/** Closed loop: each connection sends the next message when the previous ACK arrived. */
async function load(port: number): Promise<{ operations: number; opsPerSecond: number; latencyMicros: ReturnType<typeof latencyPercentiles> }> {
  const senders = Array.from({ length: CONNECTIONS }, () => new MllpSender({ host: "127.0.0.1", port, responseTimeoutMs: 30_000 }));
  let counter = 0;
  const run = async (sender: MllpSender, until: number, samples: number[] | undefined) => {
    while (performance.now() < until) {
      const before = performance.now();
      const result = await sender.send(message((counter += 1)));
      if (result.outcome !== "accepted") throw new Error(`ACK ${result.ackCode ?? result.outcome}`);
      samples?.push(performance.now() - before);
    }
  };
  try {
    const warmupEnd = performance.now() + WARMUP_MS;
    await Promise.all(senders.map((sender) => run(sender, warmupEnd, undefined)));
    const samples: number[] = [];
    const began = performance.now();
    await Promise.all(senders.map((sender) => run(sender, began + DURATION_MS, samples)));
    const elapsed = performance.now() - began;
    return { operations: samples.length, opsPerSecond: Math.round((samples.length / elapsed) * 1000), latencyMicros: latencyPercentiles(samples) };
  } finally {
    await Promise.all(senders.map((sender) => sender.close()));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

const targets: Target[] = [
  { name: "engine-only", args: [join(APP, "bench", "engine-only.ts")], ready: /^ready$/m },
  { name: "server", args: [NODE_MIRTH, "serve", "--demo"], ready: /node-mirth listening on/ },
];

const dir = { path: mkdtempSync(join(tmpdir(), "node-mirth-bench-server-")) };
const children = new Set<ChildProcess>();
const cleanUp = async () => {
  await Promise.all([...children].map((child) => stop(child)));
  rmSync(dir.path, { recursive: true, force: true });
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanUp().then(() => process.exit(130)));
}

const results = [];
try {
  for (const target of targets) {
    const mllpPort = await freePort();
    const env = {
      MIRTH_DATA_DIR: join(dir.path, target.name),
      PORT: String(await freePort()),
      DEMO_MLLP_PORT: String(mllpPort),
    };
    const { child, startupMs } = await start(target, env);
    children.add(child);
    const idleRssMb = rssMb(child.pid!);
    const measured = await load(mllpPort);
    const loadedRssMb = rssMb(child.pid!);
    await stop(child);
    children.delete(child);
    results.push({ name: target.name, connections: CONNECTIONS, durationMs: DURATION_MS, startupMs, idleRssMb, loadedRssMb, ...measured });
  }
} finally {
  await cleanUp();
}

const [engine, server] = results as [(typeof results)[number], (typeof results)[number]];
writeBenchReport(APP, {
  bench: "server",
  results,
  ratios: {
    serverVsEngineThroughput: Math.round((server.opsPerSecond / engine.opsPerSecond) * 100) / 100,
    serverVsEngineP50: Math.round((server.latencyMicros.p50 / engine.latencyMicros.p50) * 100) / 100,
    serverVsEngineP99: Math.round((server.latencyMicros.p99 / engine.latencyMicros.p99) * 100) / 100,
  },
});

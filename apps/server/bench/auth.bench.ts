/**
 * bench:auth — what authentication costs on the BUILT server: login latency (argon2id
 * m=19 MiB t=2 + TOTP + audit entry, one fresh account per login since a TOTP code is spent
 * once), authenticated reads (`GET /api/users/current`: session lookup + user row) against
 * the public `GET /api/health/live` as the baseline, and audited writes (`PUT /api/users/:id`:
 * row update + hash-chained audit entry in server.db, synchronous=FULL). Closed loop with
 * CONNECTIONS concurrent clients. Writes bench-results/auth.json. Run `pnpm build` first;
 * then `node bench/auth.bench.ts`.
 */
import { latencyPercentiles, writeBenchReport } from "@node-mirth/bench-harness";
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const APP = join(import.meta.dirname, "..");
const NODE_MIRTH = join(APP, "dist", "main.js");
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3_000);
const LOGINS = Number(process.env.BENCH_LOGINS ?? 24);
const PASSWORD = "bench password long enough";

if (!existsSync(NODE_MIRTH)) throw new Error(`${NODE_MIRTH} is missing: run pnpm build first`);

type Latency = ReturnType<typeof latencyPercentiles>;

/** RFC 6238 code for a base32 secret at `atMs` (the bench talks to the server as an authenticator app would). */
function totp(base32: string, atMs: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of base32) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const secret = Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 30_000)));
  const mac = createHmac("sha1", secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

function run(args: string[], options: { env: Record<string, string>; stdin?: string; ready?: RegExp }): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(process.execPath, [NODE_MIRTH, ...args], { env: { ...process.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stdin.end(options.stdin ?? "");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`node-mirth ${args.join(" ")} did not finish in 60 s:\n${output}`));
    }, 60_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (options.ready?.test(output)) {
        clearTimeout(timer);
        resolve({ child, output });
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (options.ready === undefined && code === 0) resolve({ child, output });
      else reject(new Error(`node-mirth ${args.join(" ")} exited with ${code}:\n${output}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

async function call(url: string, init: { method?: string; sessionId?: string; body?: unknown } = {}): Promise<Response> {
  const res = await fetch(url, {
    method: init.method ?? "GET",
    headers: {
      ...(init.sessionId === undefined ? {} : { "x-session-id": init.sessionId }),
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (res.status >= 300) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

/** Closed loop: each client sends the next request when the previous answer arrived. */
async function loop(name: string, request: () => Promise<unknown>): Promise<{ name: string; operations: number; opsPerSecond: number; latencyMicros: Latency }> {
  const warmupEnd = performance.now() + 500;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => { while (performance.now() < warmupEnd) await request(); }));
  const samples: number[] = [];
  const began = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < began + DURATION_MS) {
        const before = performance.now();
        await request();
        samples.push(performance.now() - before);
      }
    }),
  );
  const elapsed = performance.now() - began;
  return { name, operations: samples.length, opsPerSecond: Math.round((samples.length / elapsed) * 1000), latencyMicros: latencyPercentiles(samples) };
}

const dataDir = mkdtempSync(join(tmpdir(), "node-mirth-bench-auth-"));
// Port 0: the server says where it listens, so there is no window for another process to take a probed port.
const env = { MIRTH_DATA_DIR: dataDir, PORT: "0" };
let server: ChildProcess | undefined;
const results = [];
try {
  const created = await run(["admin", "create", "--username", "bench-admin", "--role", "admin", "--password-stdin"], { env, stdin: `${PASSWORD}\n` });
  const adminSecret = new URL(/otpauth:\/\/\S+/.exec(created.output)![0]).searchParams.get("secret")!;
  const listening = /node-mirth listening on (http:\/\/[\d.]+:\d+)/;
  const served = await run(["serve"], { env, ready: listening });
  server = served.child;
  const base = listening.exec(served.output)![1]!;
  const login = async (username: string, secret: string) => {
    const res = await call(`${base}/api/users/_login`, { method: "POST", body: { username, password: PASSWORD, totp: totp(secret, Date.now()) } });
    return ((await res.json()) as { sessionId: string }).sessionId;
  };
  const admin = await login("bench-admin", adminSecret);

  const accounts: { username: string; secret: string; id: number }[] = [];
  for (let index = 0; index < LOGINS; index += 1) {
    const res = await call(`${base}/api/users`, { method: "POST", sessionId: admin, body: { username: `bench-${index}`, password: PASSWORD, role: "viewer" } });
    const body = (await res.json()) as { user: { id: number; username: string }; otpauthUri: string };
    accounts.push({ username: body.user.username, id: body.user.id, secret: new URL(body.otpauthUri).searchParams.get("secret")! });
  }
  const loginSamples: number[] = [];
  const began = performance.now();
  const queue = [...accounts];
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (let account = queue.shift(); account !== undefined; account = queue.shift()) {
        const before = performance.now();
        await login(account.username, account.secret);
        loginSamples.push(performance.now() - before);
      }
    }),
  );
  results.push({
    name: "login (argon2id + TOTP + audit)",
    operations: loginSamples.length,
    opsPerSecond: Math.round((loginSamples.length / (performance.now() - began)) * 1000 * 10) / 10,
    latencyMicros: latencyPercentiles(loginSamples),
  });

  const health = await loop("GET /api/health/live (public baseline)", () => call(`${base}/api/health/live`).then((res) => res.arrayBuffer()));
  const current = await loop("GET /api/users/current (session)", () => call(`${base}/api/users/current`, { sessionId: admin }).then((res) => res.arrayBuffer()));
  let flip = false;
  const target = accounts[0]!.id;
  const write = await loop("PUT /api/users/:id (audited write)", () => {
    flip = !flip;
    return call(`${base}/api/users/${target}`, { method: "PUT", sessionId: admin, body: { role: flip ? "operator" : "viewer" } }).then((res) => res.arrayBuffer());
  });
  results.push(health, current, write);
  const verify = await (await call(`${base}/api/events/_verify`, { sessionId: admin })).json();
  results.push({ name: "audit chain after the run", ...(verify as object) });

  writeBenchReport(APP, {
    bench: "auth",
    results: results.map((result) => ({ ...result, connections: CONNECTIONS })),
    ratios: {
      sessionReadVsPublicThroughput: Math.round((current.opsPerSecond / health.opsPerSecond) * 100) / 100,
      sessionReadVsPublicP50: Math.round((current.latencyMicros.p50 / health.latencyMicros.p50) * 100) / 100,
      auditedWriteVsSessionReadThroughput: Math.round((write.opsPerSecond / current.opsPerSecond) * 100) / 100,
    },
  });
} finally {
  if (server !== undefined) await stop(server);
  rmSync(dataDir, { recursive: true, force: true });
}

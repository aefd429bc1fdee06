import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { findBinary } from "./find-binary.js";
import { freePort } from "./free-port.js";
import { createTempDir } from "./temp-dir.js";

export interface PeerLaunchContext {
  host: string;
  port: number;
  /** A private temp directory for the peer's config, keys and data; removed on stop. */
  dir: string;
}

export type PeerReadiness =
  | { kind: "tcp" }
  | { kind: "output"; pattern: RegExp }
  | { kind: "custom"; probe: (ctx: PeerLaunchContext) => Promise<boolean> };

export interface StartPeerOptions {
  /** Binary name looked up on PATH (and sbin), or an absolute path. */
  command: string;
  args: (ctx: PeerLaunchContext) => string[];
  /** Writes config files into ctx.dir before the peer starts. */
  prepare?: (ctx: PeerLaunchContext) => Promise<void>;
  env?: Record<string, string | undefined>;
  host?: string;
  ready?: PeerReadiness;
  readyTimeoutMs?: number;
}

export interface RunningPeer extends AsyncDisposable {
  host: string;
  port: number;
  dir: string;
  process: ChildProcess;
  /** Everything the peer printed so far (stdout and stderr interleaved), for diagnostics. */
  output(): string;
  stop(): Promise<void>;
}

const PORT_ATTEMPTS = 3;

/**
 * Starts a real peer on an ephemeral loopback port in a temp dir and resolves once it
 * answers. Whatever happens, a peer that did not become ready is killed and its dir removed.
 */
export async function startPeer(options: StartPeerOptions): Promise<RunningPeer> {
  const binary = findBinary(options.command);
  if (binary === undefined) throw new Error(`peer binary '${options.command}' is not installed`);
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    try {
      return await startOnce(binary, options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(binary: string, options: StartPeerOptions): Promise<RunningPeer> {
  const host = options.host ?? "127.0.0.1";
  const dir = await createTempDir("node-mirth-peer-");
  const ctx: PeerLaunchContext = { host, port: await freePort(host), dir: dir.path };
  await options.prepare?.(ctx);
  const child = spawn(binary, options.args(ctx), {
    cwd: ctx.dir,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString("utf8");
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await terminate(child);
      await dir.remove();
    })();
    return stopped;
  };
  const peer: RunningPeer = {
    host,
    port: ctx.port,
    dir: ctx.dir,
    process: child,
    output: () => output,
    stop,
    [Symbol.asyncDispose]: stop,
  };
  try {
    await waitUntilReady(peer, options, ctx);
    return peer;
  } catch (error) {
    await stop();
    throw new Error(
      `peer '${options.command}' did not become ready: ${(error as Error).message}\n--- peer output ---\n${output}`,
      { cause: error },
    );
  }
}

async function waitUntilReady(
  peer: RunningPeer,
  options: StartPeerOptions,
  ctx: PeerLaunchContext,
): Promise<void> {
  const readiness = options.ready ?? { kind: "tcp" };
  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  peer.process.once("exit", () => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited || peer.process.exitCode !== null) {
      throw new Error(`exited early with code ${peer.process.exitCode ?? "unknown"}`);
    }
    const ready =
      readiness.kind === "tcp"
        ? await canConnect(peer.host, peer.port)
        : readiness.kind === "output"
          ? readiness.pattern.test(peer.output())
          : await readiness.probe(ctx);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`not ready after ${timeoutMs} ms`);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** SIGTERM, then SIGKILL after a grace period: stop always finishes. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const grace = setTimeout(() => child.kill("SIGKILL"), 3_000);
  grace.unref();
  await exited;
  clearTimeout(grace);
}

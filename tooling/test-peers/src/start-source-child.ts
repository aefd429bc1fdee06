import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { TS_SOURCE_HOOK } from "./ts-source-hook-path.js";

export interface SourceChild {
  process: ChildProcess;
  /** Resolves when the child prints a line `ready`; rejects, with its stderr, if it exits first. */
  ready: Promise<void>;
  exited: Promise<void>;
}

/**
 * Runs a workspace TypeScript file (a test's engine process, say) in a child `node` from
 * source, for tests that kill and restart it. The child signals it is serving by printing
 * `ready` on a line of its own.
 */
export function startSourceChild(file: string, args: readonly string[]): SourceChild {
  const child = spawn(process.execPath, ["--import", TS_SOURCE_HOOK, file, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line === "ready") resolve();
    });
    void exited.then(() =>
      reject(new Error(`${file} exited (${child.exitCode ?? child.signalCode}) before ready: ${stderr}`)),
    );
  });
  return { process: child, ready, exited };
}

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { TS_SOURCE_HOOK, createTempDir } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";

const CHILD = join(import.meta.dirname, "crash-child.ts");
const KILLS = 12;

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
  /** Resolves when `count` more acks have arrived (or the child exited). */
  acks(count: number): Promise<void>;
}

/** Starts the engine child on `dataDir`; every `ack <n>` line lands in `acked`. */
function startChild(dataDir: string, deliveredFile: string, acked: Set<number>): Child {
  const child = spawn(process.execPath, ["--import", TS_SOURCE_HOOK, CHILD, dataDir, deliveredFile], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on("error", () => {
    // Writing to a killed child fails; the messages it never took were never acknowledged.
  });
  const waiters: { target: number; resolve: () => void }[] = [];
  let seen = 0;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line === "ready") markReady();
    const ack = /^ack (\d+)$/.exec(line);
    if (ack?.[1] === undefined) return;
    acked.add(Number(ack[1]));
    seen++;
    for (const waiter of waiters.splice(0)) {
      if (seen >= waiter.target) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  void exited.then(() => {
    for (const waiter of waiters.splice(0)) waiter.resolve();
    markReady();
  });
  const failIfEarly = exited.then(() => {
    if (child.signalCode !== "SIGKILL" && child.exitCode !== 0) {
      throw new Error(`engine child exited with ${child.exitCode}: ${stderr}`);
    }
  });
  return {
    process: child,
    ready: Promise.race([ready, failIfEarly]),
    exited,
    acks: (count) =>
      new Promise<void>((resolve) => waiters.push({ target: seen + count, resolve })),
  };
}

function deliveredNumbers(file: string): number[] {
  if (!existsSync(file)) return [];
  // A torn last line (killed mid-write) is not a delivery; every whole line is.
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

describe("crash safety", () => {
  it(
    `delivers every acknowledged message, in order per key, across ${KILLS} SIGKILLs at random moments`,
    { timeout: 90_000 },
    async () => {
      await using dir = await createTempDir("node-mirth-crash-");
      const dataDir = join(dir.path, "data");
      const deliveredFile = join(dir.path, "delivered.txt");
      const acked = new Set<number>();
      let next = 1;
      for (let round = 0; round < KILLS; round++) {
        const child = startChild(dataDir, deliveredFile, acked);
        try {
          await child.ready;
          const burst = 200 + Math.floor(Math.random() * 1_500);
          const lines: string[] = [];
          for (let i = 0; i < burst; i++) lines.push(String(next++));
          child.process.stdin?.write(`${lines.join("\n")}\n`);
          // A random moment: after a random number of acknowledgements, mid-stream.
          await child.acks(1 + Math.floor(Math.random() * burst));
        } finally {
          child.process.kill("SIGKILL");
          await child.exited;
        }
      }
      // A last run recovers what is left and exits cleanly once every queue is empty.
      const last = startChild(dataDir, deliveredFile, acked);
      try {
        await last.ready;
        last.process.stdin?.end();
        await last.exited;
        expect(last.process.exitCode).toBe(0);
      } finally {
        last.process.kill("SIGKILL");
      }

      const delivered = deliveredNumbers(deliveredFile);
      const unique = new Set(delivered);
      const lost = [...acked].filter((n) => !unique.has(n));
      expect(acked.size).toBeGreaterThan(KILLS);
      expect(lost).toEqual([]);
      // Order per key (the child's lanes group by PID-3 = K<n mod 5>): redeliveries after a
      // crash repeat a suffix of a key's sequence, they never overtake.
      for (let key = 0; key < 5; key++) {
        const firstSeen = [...unique].filter((n) => n % 5 === key);
        expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
      }
      const duplicates = delivered.length - unique.size;
      console.log(
        `crash safety: ${KILLS} kills, ${acked.size} acknowledged, ${unique.size} delivered, ${duplicates} duplicate deliveries`,
      );
    },
  );
});

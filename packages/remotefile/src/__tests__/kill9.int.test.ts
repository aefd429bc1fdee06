import { spawn } from "node:child_process";
import { readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createEngine, SqliteStore } from "@node-mirth/core";
import { createTempDir, TS_SOURCE_HOOK } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";
import { createFileNameMatcher } from "../file-filter.js";
import { FileReader, type PollReport } from "../file-reader.js";
import { LocalFileClient } from "../local-file-client.js";
import { CRASH_CHANNEL } from "./crash-channel.js";

const CHILD = join(import.meta.dirname, "crash-child.ts");

/** Runs the child until it prints `word`, then kill -9; bounded. */
function runUntilThenKill(args: string[], word: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TS_SOURCE_HOOK, CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child never said ${word}:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`${word}\n`)) child.kill("SIGKILL");
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (_code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL" && output.includes(`${word}\n`)) resolve();
      else reject(new Error(`child exited (${signal ?? "no signal"}) without saying ${word}:\n${output}`));
    });
  });
}

/** After the crash: the same store, channel and ledger in this process, one poll. */
async function restart(paths: { dataDir: string; inbox: string; ledgerPath: string }): Promise<{ report: PollReport; stored: string[] }> {
  const store = new SqliteStore({ dataDir: paths.dataDir });
  const engine = createEngine({ store, plugins: [] });
  try {
    await engine.deploy(CRASH_CHANNEL);
    const reader = new FileReader({
      connect: () => Promise.resolve(new LocalFileClient()),
      location: "file://",
      directory: paths.inbox,
      matcher: createFileNameMatcher("*.txt", false),
      stableMs: 0,
      split: "lines",
      afterProcessing: "move",
      moveToDirectory: `${paths.inbox}/done`,
      ledgerPath: paths.ledgerPath,
      dispatch: (raw) => engine.dispatch(CRASH_CHANNEL.id, raw),
    });
    const report = await reader.poll();
    await reader.stop();
    const summaries = await engine.messages.search({ channelId: CRASH_CHANNEL.id, limit: 1000 });
    const stored: string[] = [];
    for (const s of summaries) stored.push(JSON.stringify(await engine.messages.get(CRASH_CHANNEL.id, s.messageId)));
    return { report, stored };
  } finally {
    await engine.close();
    await store.close();
  }
}

const lines = (tag: string) => Array.from({ length: 10 }, (_, i) => `${tag}-line-${i}`);

describe("kill -9 of a file reader (SqliteStore, local files)", () => {
  it("between commit and move: the restart only finishes the move; nothing is read twice or lost", { timeout: 120_000 }, async () => {
    await using dir = await createTempDir("remotefile-kill9-");
    const paths = { dataDir: join(dir.path, "store"), inbox: join(dir.path, "in"), ledgerPath: join(dir.path, "ledger.sqlite") };
    await mkdir(paths.inbox);
    await writeFile(join(paths.inbox, "a.txt"), lines("A").join("\n"));
    await runUntilThenKill([paths.dataDir, paths.inbox, paths.ledgerPath, "ack"], "acking");
    expect(await readdir(paths.inbox)).toContain("a.txt");

    const { report, stored } = await restart(paths);
    expect(report.acknowledgedFromLedger).toEqual([join(paths.inbox, "a.txt")]);
    expect(report.messages).toBe(0);
    expect(stored).toHaveLength(10);
    for (const line of lines("A")) expect(stored.filter((s) => s.includes(line)).length).toBe(1);
    expect(await readdir(join(paths.inbox, "done"))).toEqual(["a.txt"]);
    expect(await readFile(join(paths.inbox, "done", "a.txt"), "utf8")).toBe(lines("A").join("\n"));
  });

  it("before the ledger row: the restart reads the file again; duplicates possible, nothing lost", { timeout: 120_000 }, async () => {
    await using dir = await createTempDir("remotefile-kill9-");
    const paths = { dataDir: join(dir.path, "store"), inbox: join(dir.path, "in"), ledgerPath: join(dir.path, "ledger.sqlite") };
    await mkdir(paths.inbox);
    await writeFile(join(paths.inbox, "b.txt"), lines("B").join("\n"));
    await runUntilThenKill([paths.dataDir, paths.inbox, paths.ledgerPath, "dispatch:4"], "dispatched");

    const { report, stored } = await restart(paths);
    expect(report.processed).toEqual([join(paths.inbox, "b.txt")]);
    expect(report.messages).toBe(10);
    // At-least-once: the 4 committed before the crash are stored again, none is missing.
    expect(stored).toHaveLength(14);
    for (const line of lines("B")) expect(stored.some((s) => s.includes(line))).toBe(true);
    expect(await readdir(join(paths.inbox, "done"))).toEqual(["b.txt"]);
  });
});

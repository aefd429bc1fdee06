import { createTempDir, freePort, runCommand, type TempDir } from "@node-mirth/test-peers";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const APP = join(import.meta.dirname, "..", "..");
const REPO = join(APP, "..", "..");
const NODE_MIRTH = join(APP, "dist", "main.js");
const START = join(REPO, "scripts", "start.mjs");

const ADT = [
  "MSH|^~\\&|SMOKE|HOSP|EHR|HOSP|20260101120000||ADT^A01|SMOKE-0001|P|2.5",
  "PID|1||SMOKE123^^^HOSP||Doe^Jane",
  "",
].join("\n");

interface StartedServer {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** `pnpm start` after its build step: `node scripts/start.mjs` in `cwd`, data in ./data. */
async function startLikeTheReadme(cwd: string, env: Record<string, string>): Promise<StartedServer> {
  const child = spawn(process.execPath, [START], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /node-mirth listening on (\S+?)"/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${output}`));
    });
  });
  return { child, url, output: () => output, exited };
}

describe("smoke: the built server started the README way", () => {
  let dir: TempDir;
  let server: StartedServer | undefined;
  let mllpPort: number;

  beforeAll(async () => {
    if (!existsSync(NODE_MIRTH)) throw new Error(`${NODE_MIRTH} is missing: run \`pnpm build\` first (pnpm start does)`);
    dir = await createTempDir("node-mirth-smoke-");
    mllpPort = await freePort();
    const port = await freePort();
    server = await startLikeTheReadme(dir.path, { PORT: String(port), DEMO_MLLP_PORT: String(mllpPort) });
  });

  afterAll(async () => {
    if (server !== undefined && server.child.exitCode === null) {
      server.child.kill("SIGKILL");
      await server.exited;
    }
    await dir?.remove();
  });

  it("listens on loopback with the data in ./data and the demo channels installed", () => {
    expect(server!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(existsSync(join(dir.path, "data", "messages.db"))).toBe(true);
    expect(existsSync(join(dir.path, "data", "channels", "demo-receiver.json"))).toBe(true);
    expect(server!.output()).toContain(`listening on 127.0.0.1:${mllpPort} (MLLP)`);
  });

  it("takes an HL7 message over MLLP with `node-mirth send` and answers AA", async () => {
    const file = join(dir.path, "adt.hl7");
    writeFileSync(file, ADT);
    const sent = await runCommand(process.execPath, [NODE_MIRTH, "send", "--port", String(mllpPort), file], { timeoutMs: 20_000 });
    expect(sent.stderr.toString()).toBe("");
    expect(sent.stdout.toString().trim()).toBe("AA");
    expect(sent.code).toBe(0);
  });

  it("never writes message content to its log", () => {
    expect(server!.output()).not.toContain("SMOKE123");
    expect(server!.output()).not.toContain("Doe^Jane");
  });

  it("stops gracefully on SIGTERM with exit 0", async () => {
    server!.child.kill("SIGTERM");
    expect(await server!.exited).toBe(0);
    expect(server!.output()).toContain("node-mirth stopped");
  });
});

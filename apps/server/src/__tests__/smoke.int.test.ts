import { createTempDir, freePort, runCommand, type TempDir } from "@node-mirth/test-peers";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { base32Decode } from "../auth/base32.js";
import { hotp, totpStep } from "../auth/totp.js";

const APP = join(import.meta.dirname, "..", "..");
const REPO = join(APP, "..", "..");
const NODE_MIRTH = join(APP, "dist", "main.js");
const START = join(REPO, "scripts", "start.mjs");
const MIRTH_CLI = join(APP, "dist", "cli", "mirth-cli.js");
const PASSWORD = "smoke test passphrase";

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
  let totpSecret: Uint8Array;
  let lastStep = Number.NEGATIVE_INFINITY;
  /**
   * A TOTP code never used before (the server refuses replays): this step, then the next,
   * both still accepted if the server's clock crosses a step boundary meanwhile.
   */
  const nextTotp = () => {
    lastStep = Math.max(lastStep + 1, totpStep(Date.now()));
    return hotp(totpSecret, { counter: lastStep });
  };

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

  it("creates the first admin with `node-mirth admin create` while the server runs", async () => {
    const created = await runCommand(process.execPath, [NODE_MIRTH, "admin", "create", "--username", "smoke", "--password-stdin"], {
      input: `${PASSWORD}\n`,
      cwd: dir.path,
      env: { MIRTH_DATA_DIR: join(dir.path, "data") },
      timeoutMs: 20_000,
    });
    expect(created.code).toBe(0);
    const uri = /otpauth:\/\/totp\/\S+/.exec(created.stdout.toString())?.[0];
    totpSecret = base32Decode(new URL(uri!).searchParams.get("secret")!)!;
  });

  it("finds the message in Demo Archive through the API", async () => {
    const login = await fetch(`${server!.url}/api/users/_login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "smoke", password: PASSWORD, totp: nextTotp() }),
    });
    expect(login.status).toBe(200);
    const { sessionId } = (await login.json()) as { sessionId: string };
    const found = await fetch(`${server!.url}/api/channels/demo-archive/messages?text=SMOKE123`, { headers: { "x-session-id": sessionId } });
    expect(found.status).toBe(200);
    const page = (await found.json()) as { messages: { messageId: number; statuses: Record<string, string> }[] };
    expect(page.messages).toHaveLength(1);
    // The receiver tagged it, forwarded it, and the archive kept it.
    const received = await fetch(`${server!.url}/api/channels/demo-receiver/messages`, { headers: { "x-session-id": sessionId } });
    const receiverPage = (await received.json()) as { messages: { statuses: Record<string, string>; metadata: Record<string, string> }[] };
    expect(receiverPage.messages[0]).toMatchObject({ statuses: { "to-archive": "SENT" }, metadata: { patientId: "SMOKE123" } });
    // ... and its file writer put it in ./data/out.
    const out = join(dir.path, "data", "out");
    const files = readdirSync(out);
    expect(files).toHaveLength(1);
    expect(readFileSync(join(out, files[0]!), "utf8")).toContain("SMOKE123");
  });

  it("finds it with `mirth-cli messages search` (the built CLI, logged in with --password-stdin and --totp)", async () => {
    if (!existsSync(MIRTH_CLI)) throw new Error(`${MIRTH_CLI} is missing: run \`pnpm build\` first`);
    const env = { XDG_CONFIG_HOME: join(dir.path, "config"), MIRTH_URL: server!.url };
    const login = await runCommand(process.execPath, [MIRTH_CLI, "login", "-u", "smoke", "--password-stdin", "--totp", nextTotp()], {
      input: `${PASSWORD}\n`,
      env,
      timeoutMs: 20_000,
    });
    expect(login.stderr.toString()).toBe("");
    expect(login.code).toBe(0);
    const search = await runCommand(process.execPath, [MIRTH_CLI, "--json", "messages", "search", "Demo Archive", "--text", "SMOKE123"], { env, timeoutMs: 20_000 });
    expect(search.code).toBe(0);
    const page = JSON.parse(search.stdout.toString()) as { messages: { channelId: string }[] };
    expect(page.messages).toEqual([expect.objectContaining({ channelId: "demo-archive" })]);
    const table = await runCommand(process.execPath, [MIRTH_CLI, "messages", "search", "Demo Archive"], { env, timeoutMs: 20_000 });
    expect(table.stdout.toString()).toMatch(/source=/);
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

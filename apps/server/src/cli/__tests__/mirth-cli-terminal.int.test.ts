import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { createTempDir, describeWithPeers } from "@node-mirth/test-peers";
import { beforeAll, expect, it } from "vitest";
import { startTestServer } from "../../__tests__/start-test-server.js";
import { EXIT } from "../exit-codes.js";
import { assertCliBuilt, BUILT_CLI } from "./run-built-cli.js";

/** Everything the terminal showed, and the exit code. */
interface TerminalSession {
  screen: string;
  code: number | null;
}

/**
 * Runs the built CLI on a real pseudo-terminal (util-linux `script`), typing each answer
 * only once its prompt is on the screen, as a person would.
 */
function runOnTerminal(
  script: string,
  options: { args: readonly string[]; env: Record<string, string>; answers: readonly (readonly [prompt: string, typed: string])[] },
): Promise<TerminalSession> {
  const command = [process.execPath, BUILT_CLI, ...options.args].map((part) => `'${part.replace(/'/g, "'\\''")}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn(script, ["-qfec", command, "/dev/null"], { env: { ...process.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    let next = 0;
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const onOutput = (chunk: Buffer) => {
      screen += chunk.toString("utf8");
      const answer = options.answers[next];
      if (answer !== undefined && screen.split(answer[0]).length - 1 > countBefore(next)) {
        next += 1;
        child.stdin.write(answer[1]);
      }
    };
    // How many times this prompt was already answered (the same prompt may come twice).
    const countBefore = (index: number) => options.answers.slice(0, index).filter(([prompt]) => prompt === options.answers[index]![0]).length;
    child.stdout.on("data", onOutput);
    child.stderr.on("data", onOutput);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ screen, code });
    });
  });
}

describeWithPeers("mirth-cli login on a terminal", ["script"], (peers) => {
  beforeAll(() => {
    assertCliBuilt();
  });

  it("asks for the password without echoing it, then for the TOTP code the server wants", async () => {
    await using server = await startTestServer();
    await using home = await createTempDir("mirth-cli-tty-");
    const user = await server.createTestUser({ role: "operator" });
    const totp = user.nextTotp();
    const session = await runOnTerminal(peers.bin.script!, {
      args: ["login", "--url", server.url, "-u", user.username],
      env: { XDG_CONFIG_HOME: home.path },
      answers: [
        [`password for ${user.username}: `, `${user.password}\r`],
        ["TOTP code: ", `${totp}\r`],
      ],
    });
    expect(session.code, session.screen).toBe(EXIT.ok);
    expect(session.screen).toContain(`logged in to ${server.url} as ${user.username} (operator)`);
    expect(server.audit.list({ limit: 100 }).filter((entry) => entry.action.startsWith("auth.")).length).toBeGreaterThan(0);
    expect(session.screen).not.toContain(user.password);
    expect(session.screen).not.toContain(totp);
    expect((await stat(join(home.path, "node-mirth", "session.json"))).mode & 0o777).toBe(0o600);
  });

  it("Ctrl-C at the password prompt ends mirth-cli with 130 and sends nothing", async () => {
    await using server = await startTestServer();
    await using home = await createTempDir("mirth-cli-tty-");
    const session = await runOnTerminal(peers.bin.script!, {
      args: ["login", "--url", server.url, "-u", "someone"],
      env: { XDG_CONFIG_HOME: home.path },
      answers: [["password for someone: ", "\u0003"]],
    });
    expect(session.code, session.screen).toBe(130);
    // Every login attempt is audited: none was made.
    expect(server.audit.list({ limit: 100 }).filter((entry) => entry.action.startsWith("auth."))).toEqual([]);
  });
});

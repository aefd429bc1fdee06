import { existsSync } from "node:fs";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { resolvePeers } from "./peer-requirements.js";
import { runCommand } from "./run-command.js";
import { startPeer } from "./start-peer.js";

// Node itself is the one peer every machine running these tests has.
const ECHO_SERVER = `
const net = require("node:net");
const [host, port] = process.argv.slice(1);
net.createServer((s) => s.pipe(s)).listen(Number(port), host, () => console.log("listening"));
`;

function roundTrip(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => socket.end(text));
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
    socket.on("end", () => resolve(received));
    socket.on("error", reject);
  });
}

describe("startPeer", () => {
  it("starts a peer on an ephemeral loopback port and removes its dir on stop", async () => {
    const peer = await startPeer({
      command: process.execPath,
      args: ({ host, port }) => ["-e", ECHO_SERVER, host, String(port)],
      ready: { kind: "output", pattern: /listening/ },
    });
    try {
      expect(peer.host).toBe("127.0.0.1");
      expect(peer.port).toBeGreaterThan(0);
      expect(await roundTrip(peer.host, peer.port, "MSH|^~\\&|")).toBe("MSH|^~\\&|");
      expect(existsSync(peer.dir)).toBe(true);
    } finally {
      await peer.stop();
    }
    expect(existsSync(peer.dir)).toBe(false);
    expect(peer.process.exitCode !== null || peer.process.signalCode !== null).toBe(true);
  });

  it("reports a peer that exits before it is ready, with its output", async () => {
    await expect(
      startPeer({
        command: process.execPath,
        args: () => ["-e", "console.error('bad config'); process.exit(3)"],
      }),
    ).rejects.toThrow(/exited early[\s\S]*bad config/);
  });

  it("refuses a binary that is not installed", async () => {
    await expect(
      startPeer({ command: "node-mirth-no-such-peer", args: () => [] }),
    ).rejects.toThrow(/not installed/);
  });
});

describe("resolvePeers", () => {
  it("names every missing requirement and resolves the present ones", () => {
    const { peers, missing } = resolvePeers([
      process.execPath,
      "node-mirth-no-such-peer",
      { pythonModule: "node_mirth_no_such_module" },
    ]);
    expect(peers.bin[process.execPath]).toBe(process.execPath);
    expect(missing).toEqual([
      "binary 'node-mirth-no-such-peer'",
      "python3 module 'node_mirth_no_such_module'",
    ]);
  });
});

describe("runCommand", () => {
  it("collects output and the exit code, feeding stdin", async () => {
    const result = await runCommand(process.execPath, [
      "-e",
      "process.stdin.pipe(process.stdout); process.stdin.on('end', () => process.exit(4))",
    ], { input: "PID|1||12345" });
    expect(result.stdout.toString()).toBe("PID|1||12345");
    expect(result.code).toBe(4);
    expect(result.timedOut).toBe(false);
  });

  it("kills a command that runs past its time limit", async () => {
    const result = await runCommand(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      timeoutMs: 200,
    });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe("SIGKILL");
  });
});

import { join } from "node:path";
import { parseHl7 } from "@node-mirth/hl7";
import { createTempDir, freePort, startSourceChild, type SourceChild } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";
import { MllpListener } from "../mllp-listener.js";
import { MllpSender } from "../mllp-sender.js";
import { ackHandler } from "./helpers.js";
import { adt } from "./adt-message.js";

const CHILD = join(import.meta.dirname, "kill-child.ts");
const KILLS = 5;
const CONNECTIONS = 3;

function startChild(dataDir: string, sourcePort: number, downstreamPort: number): SourceChild {
  return startSourceChild(CHILD, [dataDir, String(sourcePort), String(downstreamPort)]);
}

describe("kill -9", () => {
  it(
    `an MLLP-fed engine killed ${KILLS} times mid-stream delivers every message it ACKed, in order per connection`,
    { timeout: 120_000 },
    async () => {
      await using dir = await createTempDir("mllp-kill9-");
      const dataDir = join(dir.path, "data");
      const delivered: string[] = [];
      await using downstream = new MllpListener({
        onMessage: (message) => {
          delivered.push(parseHl7(message).controlId ?? "?");
          return ackHandler(message);
        },
      });
      const { port: downstreamPort } = await downstream.start();
      const acked = new Set<string>();
      const next = Array.from({ length: CONNECTIONS }, () => 1);

      for (let round = 0; round < KILLS; round++) {
        const sourcePort = await freePort("127.0.0.1");
        const child = startChild(dataDir, sourcePort, downstreamPort);
        try {
          await child.ready;
          // Several connections send as fast as ACKs come back; the child dies after a random number of ACKs.
          const target = acked.size + 20 + Math.floor(Math.random() * 300);
          let killed = false;
          const killAt = () => {
            if (!killed && acked.size >= target) {
              killed = true;
              child.process.kill("SIGKILL");
            }
          };
          await Promise.all(
            next.map(async (_, connection) => {
              const sender = new MllpSender({ host: "127.0.0.1", port: sourcePort, responseTimeoutMs: 10_000 });
              try {
                while (!killed) {
                  const id = `c${connection}-${next[connection]!}`;
                  try {
                    const result = await sender.send(adt(id));
                    if (result.outcome === "accepted") acked.add(id);
                  } catch {
                    break; // the engine died under us: this message was never ACKed
                  }
                  next[connection]!++;
                  killAt();
                }
              } finally {
                await sender.close();
              }
            }),
          );
        } finally {
          child.process.kill("SIGKILL");
          await child.exited;
        }
      }
      // The last run recovers and redelivers; once nothing ACKed is missing it stops cleanly.
      const last = startChild(dataDir, await freePort("127.0.0.1"), downstreamPort);
      try {
        await last.ready;
        const missing = () => [...acked].filter((id) => !delivered.includes(id));
        await expect.poll(() => missing().length, { timeout: 60_000, interval: 100 }).toBe(0);
        last.process.kill("SIGTERM");
        await last.exited;
        expect(last.process.exitCode).toBe(0);
      } finally {
        last.process.kill("SIGKILL");
      }

      const unique = [...new Set(delivered)];
      expect(acked.size).toBeGreaterThan(KILLS * 20);
      expect([...acked].filter((id) => !unique.includes(id))).toEqual([]);
      for (let connection = 0; connection < CONNECTIONS; connection++) {
        const numbers = unique.filter((id) => id.startsWith(`c${connection}-`)).map((id) => Number(id.split("-")[1]));
        expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      }
      console.log(`kill -9: ${KILLS} kills, ${acked.size} ACKed, ${unique.length} delivered, ${delivered.length - unique.length} duplicate deliveries`);
    },
  );
});

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createTempDir, freePort, startSourceChild, type SourceChild } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";
import { DicomListener } from "../dicom-listener.js";
import { DicomSender } from "../dicom-sender.js";
import { readPart10Meta } from "../part10.js";
import { syntheticInstance } from "./synthetic-instance.js";

const CHILD = join(import.meta.dirname, "kill-child.ts");
const KILLS = 4;
/** Modality 0 sends instances kept inline, modality 1 instances kept as spooled files. */
const MODALITIES = [{ patientId: "SMALL" }, { patientId: "L".repeat(600) }];

function startChild(dataDir: string, sourcePort: number, downstreamPort: number): SourceChild {
  return startSourceChild(CHILD, [dataDir, String(sourcePort), String(downstreamPort)]);
}

describe("kill -9", () => {
  it(`a DICOM-fed engine killed ${KILLS} times mid-stream delivers every instance it answered with Success, byte for byte`, { timeout: 180_000 }, async () => {
    await using dir = await createTempDir("dicom-kill9-");
    const dataDir = join(dir.path, "data");
    const delivered = new Map<string, Buffer>();
    await using pacs = new DicomListener({
      aeTitle: "PACS",
      port: 0,
      spoolDirectory: join(dir.path, "pacs"),
      onInstance: async (instance) => {
        const bytes = await readFile(instance.path);
        delivered.set(instance.sopInstanceUid, bytes.subarray(readPart10Meta(bytes).datasetOffset));
        return { status: 0 };
      },
    });
    const { port: downstreamPort } = await pacs.start();
    const acked = new Map<string, Buffer>();
    const next = MODALITIES.map(() => 1);

    for (let round = 0; round < KILLS; round++) {
      const sourcePort = await freePort("127.0.0.1");
      const child = startChild(dataDir, sourcePort, downstreamPort);
      try {
        await child.ready;
        const target = acked.size + 10 + Math.floor(Math.random() * 60);
        let killed = false;
        await Promise.all(
          MODALITIES.map(async (modality, index) => {
            const sender = new DicomSender({ host: "127.0.0.1", port: sourcePort, calledAeTitle: "NMIRTH", callingAeTitle: `CT0${index}`, responseTimeoutMs: 10_000 });
            try {
              while (!killed) {
                const uid = `1.2.99.${index}.${next[index]!}`;
                const instance = syntheticInstance(uid, modality.patientId);
                try {
                  const result = await sender.store(instance);
                  if (result.outcome === "success") acked.set(uid, instance.subarray(readPart10Meta(instance).datasetOffset));
                } catch {
                  break; // the engine died under us: this instance was never answered
                }
                next[index]!++;
                if (!killed && acked.size >= target) {
                  killed = true;
                  child.process.kill("SIGKILL");
                }
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
    // The last run recovers and sends again what was queued; then it stops cleanly.
    const last = startChild(dataDir, await freePort("127.0.0.1"), downstreamPort);
    try {
      await last.ready;
      const missing = () => [...acked.keys()].filter((uid) => !delivered.has(uid));
      await expect.poll(() => missing().length, { timeout: 90_000, interval: 100 }).toBe(0);
      last.process.kill("SIGTERM");
      await last.exited;
      expect(last.process.exitCode).toBe(0);
    } finally {
      last.process.kill("SIGKILL");
    }
    expect(acked.size).toBeGreaterThan(KILLS * 10);
    for (const [uid, dataset] of acked) expect(delivered.get(uid)?.equals(dataset), uid).toBe(true);
    expect([...acked.keys()].some((uid) => uid.startsWith("1.2.99.1."))).toBe(true);
  });
});

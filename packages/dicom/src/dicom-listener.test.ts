import { once } from "node:events";
import { mkdir, readdir, utimes, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticInstance } from "./__tests__/synthetic-instance.js";
import { DicomListener, type DicomListenerOptions } from "./dicom-listener.js";
import { DicomSender } from "./dicom-sender.js";

let dir: TempDir;
beforeAll(async () => {
  dir = await createTempDir("dicom-listener-");
});
afterAll(() => dir?.remove());

function listener(options: Partial<DicomListenerOptions> = {}) {
  const log: string[] = [];
  const instance = new DicomListener({
    aeTitle: "NMIRTH",
    port: 0,
    spoolDirectory: join(dir.path, "spool"),
    onInstance: () => Promise.resolve({ status: 0 }),
    log: (level, text) => log.push(`${level}: ${text}`),
    ...options,
  });
  return { instance, log };
}

/** Resolves with how long the server took to close a raw connection after `bytes` were written. */
async function closedAfter(port: number, bytes: Buffer): Promise<number> {
  const socket = connect({ host: "127.0.0.1", port });
  await once(socket, "connect");
  const started = Date.now();
  socket.on("error", () => {});
  socket.write(bytes);
  await once(socket, "close");
  return Date.now() - started;
}

describe("DicomListener", () => {
  it("at start, removes partial files older than idleTimeoutMs and keeps everything else", async () => {
    const spool = join(dir.path, "sweep");
    await mkdir(spool, { recursive: true });
    const old = new Date(Date.now() - 120_000);
    await writeFile(join(spool, ".incoming-crashed.dcm"), "partial");
    await utimes(join(spool, ".incoming-crashed.dcm"), old, old);
    await writeFile(join(spool, ".incoming-live.dcm"), "being written");
    await writeFile(join(spool, "1.2.3-kept.dcm"), "kept instance");
    await utimes(join(spool, "1.2.3-kept.dcm"), old, old);
    const { instance, log } = listener({ spoolDirectory: spool, idleTimeoutMs: 60_000 });
    await using _ = instance;
    await instance.start();
    expect((await readdir(spool)).sort()).toEqual([".incoming-live.dcm", "1.2.3-kept.dcm"]);
    expect(log.join("\n")).toContain(".incoming-crashed.dcm");
  });

  it("refuses a bad AE title at construction", () => {
    expect(() => listener({ aeTitle: "WAY_TOO_LONG_AE_TITLE" })).toThrow(expect.objectContaining({ code: "ERR_DICOM_INVALID_OPTIONS" }));
    expect(() => listener({ aeTitle: " PADDED" })).toThrow(expect.objectContaining({ code: "ERR_DICOM_INVALID_OPTIONS" }));
  });

  it("cuts a connection whose PDU header claims more than the limit, before buffering it", async () => {
    const { instance, log } = listener({ maxPduLength: 16_384 });
    await using _ = instance;
    const { port } = await instance.start();
    // A P-DATA-TF header announcing 1 GiB.
    const header = Buffer.from([0x04, 0x00, 0x40, 0x00, 0x00, 0x00]);
    await closedAfter(port, header);
    expect(log.join("\n")).toMatch(/ERR_DICOM_PDU_TOO_LARGE: .* type 4 with 1073741824 bytes \(limit 16384\)/);
  });

  it("closes a connection that sends no association request within associationTimeoutMs", async () => {
    const { instance } = listener({ associationTimeoutMs: 300 });
    await using _ = instance;
    const { port } = await instance.start();
    // The library checks its timers once a second.
    expect(await closedAfter(port, Buffer.alloc(0))).toBeLessThan(5_000);
  }, 10_000);

  it("rejects associations beyond maxAssociations as transient", async () => {
    const { instance } = listener({ maxAssociations: 1 });
    await using _ = instance;
    const { port } = await instance.start();
    await using first = new DicomSender({ host: "127.0.0.1", port, calledAeTitle: "NMIRTH", callingAeTitle: "ONE", idleCloseMs: 60_000 });
    expect(await first.store(syntheticInstance("1.2.8.1"))).toMatchObject({ outcome: "success" });
    await using second = new DicomSender({ host: "127.0.0.1", port, calledAeTitle: "NMIRTH", callingAeTitle: "TWO" });
    await expect(second.store(syntheticInstance("1.2.8.2"))).rejects.toMatchObject({ code: "ERR_DICOM_ASSOCIATION_REJECTED", details: { transient: true } });
  });

  it("refuses an instance above maxInstanceBytes with 0xA700 and leaves no file behind", async () => {
    const spool = join(dir.path, "too-large");
    let handed = 0;
    const { instance, log } = listener({
      spoolDirectory: spool,
      maxInstanceBytes: 200,
      onInstance: () => {
        handed++;
        return Promise.resolve({ status: 0 });
      },
    });
    await using _ = instance;
    const { port } = await instance.start();
    await using sender = new DicomSender({ host: "127.0.0.1", port, calledAeTitle: "NMIRTH", callingAeTitle: "MODALITY" });
    const big = Buffer.concat([syntheticInstance("1.2.9.1", "X".repeat(300))]);
    expect(await sender.store(big)).toMatchObject({ status: 0xa700, outcome: "refused" });
    expect(handed).toBe(0);
    expect(await readdir(spool)).toEqual([]);
    expect(log.join("\n")).toContain("ERR_DICOM_INSTANCE_TOO_LARGE");
  });

  it("refuses SOP classes it was not told to accept", async () => {
    const { instance } = listener({ acceptedSopClasses: ["1.2.840.10008.5.1.4.1.1.2"] });
    await using _ = instance;
    const { port } = await instance.start();
    await using sender = new DicomSender({ host: "127.0.0.1", port, calledAeTitle: "NMIRTH", callingAeTitle: "MODALITY" });
    await expect(sender.store(syntheticInstance("1.2.10.1"))).rejects.toMatchObject({ code: "ERR_DICOM_NO_PRESENTATION_CONTEXT" });
  });

  it("does not time out an association while the engine is still working on its C-STORE", async () => {
    const { instance } = listener({ idleTimeoutMs: 1_000, onInstance: () => new Promise((resolve) => setTimeout(() => resolve({ status: 0 }), 2_500)) });
    await using _ = instance;
    const { port } = await instance.start();
    await using sender = new DicomSender({ host: "127.0.0.1", port, calledAeTitle: "NMIRTH", callingAeTitle: "MODALITY" });
    expect(await sender.store(syntheticInstance("1.2.13.1"))).toMatchObject({ outcome: "success" });
  }, 15_000);

  it("stop() lets a C-STORE in flight finish, then closes", async () => {
    let release: (() => void) | undefined;
    const { instance } = listener({ onInstance: () => new Promise((resolve) => (release = () => resolve({ status: 0 }))) });
    const { port } = await instance.start();
    const sender = new DicomSender({ host: "127.0.0.1", port, calledAeTitle: "NMIRTH", callingAeTitle: "MODALITY" });
    try {
      const stored = sender.store(syntheticInstance("1.2.11.1"));
      await expect.poll(() => release !== undefined).toBe(true);
      const stopped = instance.stop();
      release!();
      expect(await stored).toMatchObject({ outcome: "success" });
      await stopped;
    } finally {
      await sender.close();
      await instance.stop();
    }
  });
});

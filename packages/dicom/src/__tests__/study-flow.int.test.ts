import { mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { createEngine, SqliteStore } from "@node-mirth/core";
import { createTempDir, describeWithPeers, freePort, runCommand, startPeer, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dicom } from "../dicom-connector.js";
import { DicomListener } from "../dicom-listener.js";
import { DicomSender } from "../dicom-sender.js";
import { datasetHash, datasetOf, makeInstance, studyUid } from "./instances.js";

const INSTANCES = 50;

describeWithPeers("a 50-instance study: storescu -> our listener -> channel -> our sender -> storescp", ["storescu", "storescp", "dump2dcm"], (peers) => {
  let dir: TempDir;
  let files: string[];

  beforeAll(async () => {
    dir = await createTempDir("dicom-study-");
    const modality = join(dir.path, "modality");
    await mkdir(modality);
    files = [];
    for (let index = 0; index < INSTANCES; index++) {
      files.push(await makeInstance({ dir: modality, dump2dcm: peers.bin.dump2dcm!, index, studyUid: studyUid(50), patientId: "STUDY50", pixelBytes: 32 * 1024 }));
    }
  }, 120_000);
  afterAll(() => dir?.remove());

  it("every instance is stored durably, SENT, and written by storescp with its dataset unchanged, over one association", async () => {
    const pacs = join(dir.path, "pacs");
    await mkdir(pacs);
    await using storescp = await startPeer({
      command: "storescp",
      args: ({ port }) => ["-aet", "PACS", "-od", pacs, "-v", String(port)],
      ready: { kind: "tcp" },
    });
    const store = new SqliteStore({ dataDir: join(dir.path, "store") });
    const engine = createEngine({ store, plugins: [dicom()], env: {} });
    const port = await freePort();
    try {
      await engine.deploy({
        id: "study",
        name: "Modality to PACS",
        dataType: "JSON",
        source: { type: "dicom", properties: { port, aeTitle: "NMIRTH", allowedCallingAeTitles: ["CT01"], spoolDirectory: join(dir.path, "spool") } },
        filter: { rules: [{ type: "javascript", script: 'return msg.StudyInstanceUID === "1.2.826.0.1.3680043.8.498.50" && msg.PatientID === "STUDY50";' }] },
        destinations: [{ id: "pacs", name: "PACS", connector: { type: "dicom", properties: { host: "127.0.0.1", port: storescp.port, calledAeTitle: "PACS", callingAeTitle: "NMIRTH" } } }],
      });
      const sent = await runCommand(peers.bin.storescu!, ["-aet", "CT01", "-aec", "NMIRTH", "127.0.0.1", String(port), ...files], { timeoutMs: 60_000 });
      expect(sent.code, sent.stderr.toString()).toBe(0);
      await engine.idle("study");
      expect(await engine.messages.search({ channelId: "study", statuses: ["SENT"], limit: 1000 })).toHaveLength(INSTANCES);
      const written = await readdir(pacs);
      expect(written).toHaveLength(INSTANCES);
      for (const file of files) {
        const original = await datasetOf(file);
        expect((await datasetOf(join(pacs, `CT.${original.sopInstanceUid}`))).dataset.equals(original.dataset)).toBe(true);
      }
      expect(storescp.output().match(/Association Acknowledged/g)).toHaveLength(1);
    } finally {
      await engine.close();
      await store.close();
    }
  }, 120_000);

  it("a large instance is streamed to disk: memory grows by far less than its size", async () => {
    const big = await makeInstance({ dir: dir.path, dump2dcm: peers.bin.dump2dcm!, index: 999, pixelBytes: 256 * 1024 * 1024 });
    const size = (await stat(big)).size;
    let kept = "";
    await using listener = new DicomListener({
      aeTitle: "NMIRTH",
      port: 0,
      spoolDirectory: join(dir.path, "big-spool"),
      onInstance: (instance) => {
        kept = instance.path;
        return Promise.resolve({ status: 0 });
      },
    });
    const { port } = await listener.start();
    const before = process.memoryUsage();
    let peakExternal = 0;
    let peakHeap = 0;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakExternal = Math.max(peakExternal, now.external + now.arrayBuffers - before.external - before.arrayBuffers);
      peakHeap = Math.max(peakHeap, now.heapUsed - before.heapUsed);
    }, 5);
    try {
      const result = await runCommand(peers.bin.storescu!, ["-aec", "NMIRTH", "--max-pdu", "65536", "127.0.0.1", String(port), big], { timeoutMs: 120_000 });
      expect(result.code, result.stderr.toString()).toBe(0);
    } finally {
      clearInterval(sampler);
    }
    // Holding the instance whole would need at least `size` bytes at once (twice, with the
    // library's concat). The peak includes garbage from dcmjs-dimse's per-PDU buffers that GC
    // has not collected yet: 40 MB on an idle machine, up to 165 MB seen under CPU contention.
    expect(peakExternal + peakHeap).toBeLessThan(size);

    // And back out: our sender streams the spooled file to storescp one PDU at a time.
    const pacs = join(dir.path, "big-pacs");
    await mkdir(pacs);
    await using storescp = await startPeer({ command: "storescp", args: ({ port: scpPort }) => ["-aet", "PACS", "-od", pacs, String(scpPort)], ready: { kind: "tcp" }, env: { TCP_NODELAY: "1" } });
    const sendBaseline = process.memoryUsage();
    let peakSend = 0;
    const sendSampler = setInterval(() => {
      const now = process.memoryUsage();
      peakSend = Math.max(peakSend, now.external + now.arrayBuffers + now.heapUsed - sendBaseline.external - sendBaseline.arrayBuffers - sendBaseline.heapUsed);
    }, 5);
    try {
      await using sender = new DicomSender({ host: "127.0.0.1", port: storescp.port, calledAeTitle: "PACS", callingAeTitle: "NMIRTH" });
      expect(await sender.store({ path: kept })).toMatchObject({ outcome: "success" });
    } finally {
      clearInterval(sendSampler);
    }
    // Two reused PDU buffers: no garbage, so this bound is tight (about 25 MB seen, mostly heap noise).
    expect(peakSend).toBeLessThan(size / 4);
    const sent = await datasetHash(big);
    expect(await datasetHash(kept)).toBe(sent);
    expect(await datasetHash(join(pacs, (await readdir(pacs))[0]!))).toBe(sent);
  }, 180_000);
});

import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createEngine, MemoryStore } from "@node-mirth/core";
import { createTempDir, describeWithPeers, freePort, runCommand, startPeer, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dicom } from "../dicom-connector.js";
import { DicomListener, type ReceivedInstance } from "../dicom-listener.js";
import { DicomSender } from "../dicom-sender.js";
import { datasetOf, makeInstance } from "./instances.js";

describeWithPeers("interop with dcmtk (echoscu, storescu, storescp, dump2dcm)", ["echoscu", "storescu", "storescp", "dump2dcm"], (peers) => {
  let dir: TempDir;
  let files: string[];

  beforeAll(async () => {
    dir = await createTempDir("dicom-interop-");
    await mkdir(join(dir.path, "in"));
    files = [];
    for (let index = 0; index < 3; index++) files.push(await makeInstance({ dir: join(dir.path, "in"), dump2dcm: peers.bin.dump2dcm!, index }));
  });
  afterAll(() => dir?.remove());

  const recordingListener = (options: { allowedCallingAeTitles?: string[] } = {}) => {
    const received: ReceivedInstance[] = [];
    const listener = new DicomListener({
      aeTitle: "NMIRTH",
      port: 0,
      spoolDirectory: join(dir.path, "spool"),
      ...options,
      onInstance: (instance) => {
        received.push(instance);
        return Promise.resolve({ status: 0 });
      },
    });
    return { listener, received };
  };

  it("echoscu gets a C-ECHO answer from our listener", async () => {
    const { listener } = recordingListener();
    await using _ = listener;
    const { port } = await listener.start();
    const result = await runCommand(peers.bin.echoscu!, ["-aec", "NMIRTH", "127.0.0.1", String(port)], { timeoutMs: 20_000 });
    expect(result.code, result.stderr.toString()).toBe(0);
  });

  it("storescu delivers files whose datasets arrive byte for byte, with SOP, transfer syntax and AE titles", async () => {
    const { listener, received } = recordingListener();
    await using _ = listener;
    const { port } = await listener.start();
    const result = await runCommand(peers.bin.storescu!, ["-aet", "MODALITY", "-aec", "NMIRTH", "127.0.0.1", String(port), ...files], { timeoutMs: 30_000 });
    expect(result.code, result.stderr.toString()).toBe(0);
    expect(received).toHaveLength(files.length);
    for (const [index, file] of files.entries()) {
      const sent = await datasetOf(file);
      const got = await datasetOf(received[index]!.path);
      expect(got.sopInstanceUid).toBe(sent.sopInstanceUid);
      expect(got.dataset.equals(sent.dataset)).toBe(true);
      expect(received[index]).toMatchObject({ callingAeTitle: "MODALITY", calledAeTitle: "NMIRTH", transferSyntaxUid: "1.2.840.10008.1.2.1", remoteAddress: "127.0.0.1" });
    }
  });

  it("rejects an association from a calling AE title that is not allowed, and one calling another AE", async () => {
    const { listener, received } = recordingListener({ allowedCallingAeTitles: ["MODALITY"] });
    await using _ = listener;
    const { port } = await listener.start();
    const stranger = await runCommand(peers.bin.storescu!, ["-aet", "STRANGER", "-aec", "NMIRTH", "127.0.0.1", String(port), files[0]!], { timeoutMs: 20_000 });
    expect(stranger.code).not.toBe(0);
    expect(stranger.stderr.toString()).toMatch(/Association Rejected|Calling AE Title Not Recognized/i);
    const wrongCalled = await runCommand(peers.bin.echoscu!, ["-aet", "MODALITY", "-aec", "OTHER", "127.0.0.1", String(port)], { timeoutMs: 20_000 });
    expect(wrongCalled.code).not.toBe(0);
    expect(received).toHaveLength(0);
  });

  it("our sender C-STOREs to storescp over one association: files written by storescp hold the same dataset bytes", async () => {
    const out = join(dir.path, "pacs-plain");
    await mkdir(out);
    await using storescp = await startPeer({
      command: "storescp",
      args: ({ port }) => ["-aet", "PACS", "-od", out, "-v", String(port)],
      ready: { kind: "tcp" },
    });
    await using sender = new DicomSender({ host: "127.0.0.1", port: storescp.port, calledAeTitle: "PACS", callingAeTitle: "NMIRTH" });
    for (const file of files) {
      const result = await sender.store(await readFile(file));
      expect(result).toMatchObject({ status: 0, outcome: "success", transferSyntaxUid: "1.2.840.10008.1.2.1" });
    }
    await sender.close();
    const written = (await readdir(out)).sort();
    expect(written).toHaveLength(files.length);
    for (const file of files) {
      const sent = await datasetOf(file);
      const stored = await datasetOf(join(out, `CT.${sent.sopInstanceUid}`));
      expect(stored.dataset.equals(sent.dataset)).toBe(true);
    }
    // One association for all of them (the readiness probe is a bare TCP connect, never acknowledged).
    expect(storescp.output().match(/Association Acknowledged/g)).toHaveLength(1);
  });

  it("storescu -> engine (dicom source, JSON) -> dicom destination -> storescp: tags visible to scripts, all SENT", async () => {
    const out = join(dir.path, "pacs-flow");
    await mkdir(out);
    await using storescp = await startPeer({
      command: "storescp",
      args: ({ port }) => ["-aet", "PACS", "-od", out, String(port)],
      ready: { kind: "tcp" },
    });
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [dicom()], env: {} });
    const port = await freePort();
    try {
      await engine.deploy({
        id: "rad",
        name: "Radiology",
        dataType: "JSON",
        source: { type: "dicom", properties: { port, aeTitle: "NMIRTH", spoolDirectory: join(dir.path, "flow-spool") } },
        transformer: {
          steps: [{ type: "javascript", script: 'channelMap.put("patient", msg.PatientID); channelMap.put("modality", msg.Modality); channelMap.put("study", msg.StudyInstanceUID);' }],
        },
        destinations: [{ id: "pacs", name: "PACS", connector: { type: "dicom", properties: { host: "127.0.0.1", port: storescp.port, calledAeTitle: "PACS" } } }],
      });
      const result = await runCommand(peers.bin.storescu!, ["-aec", "NMIRTH", "127.0.0.1", String(port), ...files], { timeoutMs: 30_000 });
      expect(result.code, result.stderr.toString()).toBe(0);
      await engine.idle("rad");
      const sent = await engine.messages.search({ channelId: "rad", statuses: ["SENT"] });
      expect(sent).toHaveLength(files.length);
      const detail = JSON.stringify(await engine.messages.get("rad", sent[0]!.messageId));
      expect(detail).toMatch(/"modality\\?":\\?"CT/);
      expect(detail).toContain("1.2.826.0.1.3680043.8.498.1");
      expect((await readdir(out)).length).toBe(files.length);
      for (const file of files) {
        const original = await datasetOf(file);
        expect((await datasetOf(join(out, `CT.${original.sopInstanceUid}`))).dataset.equals(original.dataset)).toBe(true);
      }
    } finally {
      await engine.close();
      await store.close();
    }
  });
});

import { tmpdir } from "node:os";
import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createEngine, EgressPolicy, MemoryStore, type DestinationContext, type DispatchResult, type LogLevel, type OutboundMessage, type SourceContext } from "@node-mirth/core";
import { createTempDir, freePort, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticInstance } from "./__tests__/synthetic-instance.js";
import { dicom, dicomPropertiesSchema } from "./dicom-connector.js";
import { DicomListener } from "./dicom-listener.js";
import { buildDicomMessage, parseDicomMessage } from "./dicom-message.js";
import { DicomSender } from "./dicom-sender.js";
import { readPart10Meta } from "./part10.js";

const env = { channelId: "test", policy: { allowInsecureBind: false }, dataDir: join(tmpdir(), "node-mirth-connector-test") };
const plugin = dicom();
let dir: TempDir;

beforeAll(async () => {
  dir = await createTempDir("dicom-connector-");
});
afterAll(() => dir?.remove());

function sourceContext(dispatch: SourceContext["dispatch"]): SourceContext & { lines: string[] } {
  const lines: string[] = [];
  return { channelId: "test", dispatch, policy: env.policy, log: (level: LogLevel, text: string) => lines.push(`${level}: ${text}`), signal: new AbortController().signal, lines };
}

function destinationContext(): DestinationContext {
  return { policy: env.policy, log: () => {}, signal: new AbortController().signal };
}

function outbound(content: string): OutboundMessage {
  return { channelId: "test", messageId: 1, destinationId: "d1", content, dataType: "JSON", channelMap: new Map(), sourceMap: new Map() };
}

/** A stored-message body for an in-memory instance, as the source would build it. */
function storedMessage(part10: Buffer, sopInstanceUid: string): string {
  return buildDicomMessage(
    { PatientID: "PID-1" },
    {
      sopClassUid: "1.2.840.10008.5.1.4.1.1.7",
      sopInstanceUid,
      transferSyntaxUid: "1.2.840.10008.1.2.1",
      callingAeTitle: "MODALITY",
      calledAeTitle: "NMIRTH",
      remoteAddress: "127.0.0.1",
      bytes: part10.length,
      sha256: createHash("sha256").update(part10).digest("hex"),
      part10: part10.toString("base64"),
    },
  );
}

describe("dicom properties", () => {
  it("applies defaults and reads numbers and booleans written as strings", () => {
    const props = dicomPropertiesSchema.parse({ port: "104", noClientAuth: "true" });
    expect(props).toMatchObject({ port: 104, tls: "notls", noClientAuth: true, nossl2: true, aeTitle: "NODE_MIRTH", maxPduLength: 65_536, inlineMaxBytes: 8 * 1024 * 1024 });
  });

  it("refuses unknown keys, bad AE titles, unknown TLS modes and bad UIDs", () => {
    const result = dicomPropertiesSchema.safeParse({ port: 1, colour: "red", aeTitle: "THIS AE TITLE IS TOO LONG", tls: "ssl3", acceptedSopClasses: ["CT"] });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["", "aeTitle", "tls", "acceptedSopClasses.0"]));
  });

  it("a destination needs host, port and calledAeTitle: the engine refuses the channel at deploy", async () => {
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [dicom()], env: {} });
    try {
      const error = await engine
        .deploy({ id: "nohost", name: "No host", dataType: "JSON", source: { type: "dicom", properties: { port: 0 } }, destinations: [{ id: "d1", name: "D1", connector: { type: "dicom", properties: { port: 104 } } }] })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "ERR_CHANNEL_INVALID" });
      expect(JSON.stringify((error as { details: unknown }).details)).toContain("calledAeTitle");
    } finally {
      await engine.close();
      await store.close();
    }
  });
});

describe("dicom source", () => {
  it("refuses a non-loopback bind without TLS (bind guard)", async () => {
    const source = plugin.createSource!(dicomPropertiesSchema.parse({ host: "0.0.0.0", port: 0, spoolDirectory: join(dir.path, "guard") }), env);
    await expect(source.start(sourceContext(() => Promise.reject(new Error("unused"))))).rejects.toMatchObject({ code: "ERR_POLICY_INSECURE_BIND" });
  });

  it("answers success only after dispatch resolves (store commit), and 0x0110 when dispatch fails", async () => {
    const port = await freePort();
    const source = plugin.createSource!(dicomPropertiesSchema.parse({ port, aeTitle: "NMIRTH", spoolDirectory: join(dir.path, "commit") }), env);
    const pending: { content: string; settle: (ok: boolean) => void }[] = [];
    const ctx = sourceContext(
      (raw) =>
        new Promise<DispatchResult>((resolve, reject) => {
          pending.push({ content: String(raw.content), settle: (ok) => (ok ? resolve({ messageId: 1, status: "RECEIVED" }) : reject(new Error("store unavailable"))) });
        }),
    );
    await source.start(ctx);
    const sender = new DicomSender({ host: "127.0.0.1", port, calledAeTitle: "NMIRTH", callingAeTitle: "MODALITY" });
    try {
      let answered = false;
      const first = sender.store(syntheticInstance("1.2.3.1")).finally(() => (answered = true));
      await expect.poll(() => pending.length).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(answered).toBe(false);
      const message = JSON.parse(pending[0]!.content) as Record<string, unknown>;
      expect(message).toMatchObject({ PatientID: "PID-1", Modality: "OT", SOPInstanceUID: "1.2.3.1" });
      expect(parseDicomMessage(pending[0]!.content)).toMatchObject({ sopInstanceUid: "1.2.3.1", callingAeTitle: "MODALITY", calledAeTitle: "NMIRTH" });
      pending[0]!.settle(true);
      expect(await first).toMatchObject({ status: 0, outcome: "success" });

      const second = sender.store(syntheticInstance("1.2.3.2"));
      await expect.poll(() => pending.length).toBe(2);
      pending[1]!.settle(false);
      expect(await second).toMatchObject({ status: 0x0110, outcome: "failure" });
      expect(ctx.lines.join("\n")).toMatch(/answered 0x0110/);
    } finally {
      await sender.close();
      await source.stop();
    }
  });

  it("keeps instances above inlineMaxBytes as synced files and references them", async () => {
    const port = await freePort();
    const spool = join(dir.path, "kept");
    const source = plugin.createSource!(dicomPropertiesSchema.parse({ port, aeTitle: "NMIRTH", spoolDirectory: spool, inlineMaxBytes: 16 }), env);
    const contents: string[] = [];
    await source.start(sourceContext((raw) => (contents.push(String(raw.content)), Promise.resolve({ messageId: 1, status: "RECEIVED" }))));
    await using sender = new DicomSender({ host: "127.0.0.1", port, calledAeTitle: "NMIRTH", callingAeTitle: "MODALITY" });
    try {
      const instance = syntheticInstance("1.2.3.9");
      expect(await sender.store(instance)).toMatchObject({ outcome: "success" });
      const facts = parseDicomMessage(contents[0]!);
      expect(facts.part10).toBeUndefined();
      expect(facts.file).toMatch(new RegExp(`^${spool}/1\\.2\\.3\\.9-`));
      expect((await readFile(facts.file!)).subarray(-60)).toEqual(instance.subarray(-60));
    } finally {
      await source.stop();
    }
  });
});

describe("dicom destination", () => {
  it("checks the egress allow-list at deploy", () => {
    const egress = new EgressPolicy({ allowed_dicom: ["10.1.2.3"] });
    const props = dicomPropertiesSchema.parse({ host: "127.0.0.1", port: 104, calledAeTitle: "PACS" });
    expect(() => plugin.createDestination!(props, { ...env, policy: { allowInsecureBind: false, egress } })).toThrow(expect.objectContaining({ code: "ERR_POLICY_EGRESS_DENIED" }));
  });

  it("connects to the address the egress policy vetted, not to a second lookup of the name", async () => {
    await using receiver = new DicomListener({ aeTitle: "PACS", port: 0, spoolDirectory: join(dir.path, "egress"), onInstance: () => Promise.resolve({ status: 0 }) });
    const { port } = await receiver.start();
    // pacs.invalid never resolves through DNS: only the policy's lookup knows it.
    const egress = new EgressPolicy({ allowed_dicom: ["pacs.invalid"] }, { lookup: () => Promise.resolve([{ address: "127.0.0.1", family: 4 }]) });
    const destination = plugin.createDestination!(dicomPropertiesSchema.parse({ host: "pacs.invalid", port, calledAeTitle: "PACS" }), { ...env, policy: { allowInsecureBind: false, egress } });
    try {
      expect(await destination.send(outbound(storedMessage(syntheticInstance("1.2.5.1"), "1.2.5.1")), destinationContext())).toMatchObject({ status: "SENT", content: "0x0000" });
    } finally {
      await destination.stop?.();
    }
  });

  it("maps success, warning, failure, refused and rejected associations to SENT / retryable / permanent", async () => {
    const verdicts: Record<string, number> = { "1.2.6.1": 0x0000, "1.2.6.2": 0xb000, "1.2.6.3": 0x0110, "1.2.6.4": 0xa700, "1.2.6.5": 0x0122 };
    await using receiver = new DicomListener({
      aeTitle: "PACS",
      port: 0,
      spoolDirectory: join(dir.path, "statuses"),
      onInstance: async (instance) => {
        await rm(instance.path, { force: true });
        return { status: verdicts[instance.sopInstanceUid]!, comment: "as told" };
      },
    });
    const { port } = await receiver.start();
    const destination = plugin.createDestination!(dicomPropertiesSchema.parse({ host: "127.0.0.1", port, calledAeTitle: "PACS" }), env);
    const send = (uid: string) => destination.send(outbound(storedMessage(syntheticInstance(uid), uid)), destinationContext());
    try {
      expect(await send("1.2.6.1")).toEqual({ status: "SENT", content: "0x0000" });
      expect(await send("1.2.6.2")).toMatchObject({ status: "SENT", content: "0xB000", message: expect.stringContaining("warning") });
      expect(await send("1.2.6.3")).toMatchObject({ status: "ERROR", retryable: true, message: expect.stringContaining("ERR_DICOM_STORE_FAILED") });
      expect(await send("1.2.6.4")).toMatchObject({ status: "ERROR", retryable: false, message: expect.stringContaining("ERR_DICOM_STORE_REFUSED") });
      expect(await send("1.2.6.5")).toMatchObject({ status: "ERROR", retryable: false, message: expect.stringContaining("0x0122") });
    } finally {
      await destination.stop?.();
    }
    const wrongAe = plugin.createDestination!(dicomPropertiesSchema.parse({ host: "127.0.0.1", port, calledAeTitle: "NOT_PACS" }), env);
    try {
      expect(await wrongAe.send(outbound(storedMessage(syntheticInstance("1.2.6.6"), "1.2.6.6")), destinationContext())).toMatchObject({
        status: "ERROR",
        retryable: false,
        message: expect.stringContaining("ERR_DICOM_ASSOCIATION_REJECTED"),
      });
    } finally {
      await wrongAe.stop?.();
    }
  });

  it("sends a spooled instance from its file in many PDUs, byte for byte; an altered file is a permanent error", async () => {
    const received: Buffer[] = [];
    await using receiver = new DicomListener({
      aeTitle: "PACS",
      port: 0,
      maxPduLength: 4096,
      spoolDirectory: join(dir.path, "from-file-in"),
      onInstance: async (instance) => {
        received.push(await readFile(instance.path));
        return { status: 0 };
      },
    });
    const { port } = await receiver.start();
    const instance = syntheticInstance("1.2.12.1", "Y".repeat(50_000));
    const file = join(dir.path, "spooled.dcm");
    await writeFile(file, instance);
    const facts = JSON.parse(storedMessage(instance, "1.2.12.1")) as { _dicom: Record<string, unknown> };
    delete facts._dicom.part10;
    facts._dicom.file = file;
    const destination = plugin.createDestination!(dicomPropertiesSchema.parse({ host: "127.0.0.1", port, calledAeTitle: "PACS" }), env);
    try {
      expect(await destination.send(outbound(JSON.stringify(facts)), destinationContext())).toMatchObject({ status: "SENT" });
      const sentDataset = instance.subarray(readPart10Meta(instance).datasetOffset);
      expect(received[0]!.subarray(readPart10Meta(received[0]!).datasetOffset).equals(sentDataset)).toBe(true);
      await writeFile(file, Buffer.concat([instance.subarray(0, -1), Buffer.from("Z")]));
      expect(await destination.send(outbound(JSON.stringify(facts)), destinationContext())).toMatchObject({ status: "ERROR", retryable: false, message: expect.stringContaining("SHA-256") });
      expect(received).toHaveLength(1);
    } finally {
      await destination.stop?.();
    }
  });

  it("a message that is not a stored instance, or whose bytes were altered, is a permanent error", async () => {
    const destination = plugin.createDestination!(dicomPropertiesSchema.parse({ host: "127.0.0.1", port: 9, calledAeTitle: "PACS" }), env);
    try {
      expect(await destination.send(outbound("MSH|^~\\&|"), destinationContext())).toMatchObject({ status: "ERROR", retryable: false, message: expect.stringContaining("ERR_DICOM_INVALID_MESSAGE") });
      const altered = JSON.parse(storedMessage(syntheticInstance("1.2.7.1"), "1.2.7.1")) as { _dicom: { part10: string } };
      altered._dicom.part10 = syntheticInstance("1.2.7.2").toString("base64");
      expect(await destination.send(outbound(JSON.stringify(altered)), destinationContext())).toMatchObject({ status: "ERROR", retryable: false, message: expect.stringContaining("SHA-256") });
    } finally {
      await destination.stop?.();
    }
  });
});

import { tmpdir } from "node:os";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createEngine, EgressPolicy, formatTemplateDate, SqliteStore } from "@node-mirth/core";
import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { remotefile, REMOTEFILE_SCHEMES } from "./remotefile-connector.js";
import { remoteFilePropertiesSchema } from "./remotefile-properties.js";

const env = { channelId: "c1", policy: { allowInsecureBind: false }, dataDir: join(tmpdir(), "node-mirth-connector-test") };
const plugins = remotefile();
const plugin = (type: string) => plugins.find((p) => p.type === type)!;
const parse = (input: Record<string, unknown>) => remoteFilePropertiesSchema.parse(input);

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("remotefile plugins", () => {
  it("serve the file, sftp, ftp and ftps types with one strict schema", () => {
    expect(plugins.map((p) => p.type)).toEqual([...REMOTEFILE_SCHEMES]);
    expect(remoteFilePropertiesSchema.safeParse({ directory: "/in", hostKeySHA256: "x" }).success).toBe(false);
    expect(parse({ directory: "/in", pollIntervalMs: "250", recursive: "true" })).toMatchObject({ pollIntervalMs: 250, recursive: true, afterProcessing: "delete" });
  });

  it("refuse at deploy: missing host, unsafe or relative local directories, plain FTP credentials, unlisted remote hosts", () => {
    expect(() => plugin("sftp").createSource!(parse({ directory: "/in", username: "u", password: "p" }), env)).toThrow(expect.objectContaining({ code: "ERR_REMOTEFILE_INVALID_OPTIONS" }));
    expect(() => plugin("sftp").createSource!(parse({ directory: "/in", host: "h", username: "u" }), env)).toThrow(/password or privateKeyPath/);
    expect(() => plugin("file").createDestination!(parse({ directory: "/out/../etc" }), env)).toThrow(expect.objectContaining({ code: "ERR_REMOTEFILE_UNSAFE_PATH" }));
    expect(() => plugin("file").createDestination!(parse({ directory: "out" }), env)).toThrow(/absolute/);
    expect(() => plugin("ftp").createDestination!(parse({ directory: "/out", host: "h", username: "lab", password: "pw" }), env)).toThrow(expect.objectContaining({ code: "ERR_REMOTEFILE_CLEARTEXT_CREDENTIALS" }));
    const egress = new EgressPolicy({ allowed_remote: ["10.1.2.3"], allowed_file_dirs: ["/srv/feeds"] });
    const restricted = { ...env, policy: { allowInsecureBind: false, egress } };
    expect(() => plugin("sftp").createDestination!(parse({ directory: "/out", host: "192.168.9.9", username: "u", password: "p" }), restricted)).toThrow(expect.objectContaining({ code: "ERR_POLICY_EGRESS_DENIED" }));
    expect(() => plugin("file").createDestination!(parse({ directory: "/tmp/out" }), restricted)).toThrow(expect.objectContaining({ code: "ERR_REMOTEFILE_UNSAFE_PATH" }));
    expect(() => plugin("file").createDestination!(parse({ directory: "/srv/feeds/lab" }), restricted)).not.toThrow();
    expect(() => plugin("file").createSource!(parse({ directory: "/in", afterProcessing: "move" }), env)).toThrow(/moveToDirectory/);
  });
});

describe("file source start", () => {
  it("checks the real paths against allowed_file_dirs: a symlink out of the allowed directory is refused", async () => {
    await using temp = await createTempDir("remotefile-start-");
    await mkdir(join(temp.path, "allowed"));
    await mkdir(join(temp.path, "outside"));
    await symlink(join(temp.path, "outside"), join(temp.path, "allowed", "in"));
    const egress = new EgressPolicy({ allowed_file_dirs: [join(temp.path, "allowed")] });
    const source = plugin("file").createSource!(parse({ directory: join(temp.path, "allowed", "in"), ledgerPath: join(temp.path, "l.sqlite") }), { ...env, policy: { allowInsecureBind: false, egress } });
    const controller = new AbortController();
    const ctx = { channelId: "c1", policy: { allowInsecureBind: false, egress }, signal: controller.signal, log: () => undefined, dispatch: () => Promise.reject(new Error("unused")) };
    await expect(source.start(ctx)).rejects.toMatchObject({ code: "ERR_POLICY_EGRESS_DENIED" });
    await source.stop();
  });
});

describe("remotefile in the engine (SqliteStore)", () => {
  let temp: TempDir;
  beforeEach(async () => {
    temp = await createTempDir("remotefile-engine-");
  });
  afterEach(async () => {
    await temp.remove();
  });

  it("reads files into the store, acknowledges them only after commit, and writes them out through templates", async () => {
    const inbox = join(temp.path, "in");
    const outbox = join(temp.path, "out");
    await mkdir(inbox);
    await writeFile(join(inbox, "batch.hl7"), "FHS|^~\\&\rBHS|^~\\&\rMSH|^~\\&|LAB|A|||20260101||ORU^R01|M1|P|2.5\rPID|1\rMSH|^~\\&|LAB|A|||20260101||ORU^R01|M2|P|2.5\rPID|2\rBTS|2\rFTS|1\r");
    await writeFile(join(inbox, "ignored.txt"), "not matched");
    const store = new SqliteStore({ dataDir: join(temp.path, "store") });
    const engine = createEngine({ store, plugins: remotefile(), env: {}, policy: { egress: new EgressPolicy({ allowed_file_dirs: [temp.path] }) } });
    try {
      await engine.deploy({
        id: "files",
        name: "Lab files",
        source: {
          type: "file",
          properties: { directory: inbox, fileFilter: "*.hl7", split: "hl7-batch", stableMs: 0, pollIntervalMs: 50, afterProcessing: "move", moveToDirectory: join(temp.path, "done"), ledgerPath: join(temp.path, "ledger.sqlite") },
        },
        destinations: [
          {
            id: "out",
            name: "Out",
            connector: { type: "file", properties: { directory: `${outbox}/\${date('yyyyMMdd')}`, fileName: "${message.messageId}-${originalFilename}" } },
          },
        ],
      });
      const day = formatTemplateDate("yyyyMMdd", new Date());
      const written = await until(async () => {
        // Temp files (.name.random.tmp) are renamed into place; only finished files count.
        const names = (await readdir(join(outbox, day)).catch(() => [])).filter((n) => !n.startsWith("."));
        return names.length === 2 ? names.sort() : undefined;
      });
      expect(written).toEqual(["1-batch.hl7", "2-batch.hl7"]);
      expect(await readFile(join(outbox, day, "1-batch.hl7"), "utf8")).toContain("M1");
      expect(await until(async () => ((await readdir(join(temp.path, "done")).catch(() => [])).length === 1 ? readdir(join(temp.path, "done")) : undefined))).toEqual(["batch.hl7"]);
      expect(await readdir(inbox)).toEqual(["ignored.txt"]);
      const stored = await engine.messages.search({ channelId: "files" });
      expect(stored).toHaveLength(2);
      expect(JSON.stringify(await engine.messages.get("files", stored[0]!.messageId))).toContain("originalFilename");
    } finally {
      await engine.close();
      await store.close();
    }
  });
});

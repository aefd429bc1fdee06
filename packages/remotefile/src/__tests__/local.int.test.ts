import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEgressPolicy } from "@node-mirth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileWriter } from "../file-writer.js";
import { LocalFileClient } from "../local-file-client.js";
import { collectingDispatch, outbound, reader } from "./harness.js";
import { createFileNameMatcher } from "../file-filter.js";
import { schemeSuite } from "./scheme-suite.js";

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "remotefile-local-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("local file reader and writer", () => {
  schemeSuite(() => ({
    connect: () => Promise.resolve(new LocalFileClient()),
    ledgerDir: root,
    freshDir: async () => {
      const dir = join(root, `case-${++counter}`);
      await mkdir(dir);
      return dir;
    },
  }));

  it("confines writes to [egress].allowed_file_dirs, symlinks included", async () => {
    const allowed = join(root, "allowed");
    const outside = join(root, "outside");
    await mkdir(allowed);
    await mkdir(outside);
    await symlink(outside, join(allowed, "link"));
    const egress = createEgressPolicy({ allowed_file_dirs: [allowed] });
    const at = (directory: string) =>
      new FileWriter({ connect: () => Promise.resolve(new LocalFileClient()), location: "file://", directory, fileName: "f.txt", checkLocalPath: (p) => egress.checkFilePath(p) });
    const inside = await at(allowed).write(outbound("ok"));
    expect(inside.path).toBe(join(allowed, "f.txt"));
    await expect(at(outside).write(outbound("no"))).rejects.toMatchObject({ code: "ERR_POLICY_EGRESS_DENIED" });
    await expect(at(join(allowed, "link")).write(outbound("no"))).rejects.toMatchObject({ code: "ERR_POLICY_EGRESS_DENIED" });
    await writeFile(join(outside, "marker"), "");
  });

  it("waits for stable files, recurses, sorts, filters and caps files per poll", async () => {
    const dir = join(root, `order-${++counter}`);
    await mkdir(join(dir, "sub", "deeper"), { recursive: true });
    const old = new Date(Date.now() - 60_000);
    const files: [string, number][] = [["b.hl7", 30], ["sub/a.hl7", 10], ["sub/deeper/c.hl7", 20], ["skip.txt", 1]];
    for (const [name, size] of files) {
      await writeFile(join(dir, name), "x".repeat(size));
      await utimes(join(dir, name), old, old);
    }
    await writeFile(join(dir, "fresh.hl7"), "still being written");
    const got = collectingDispatch();
    const sorted = reader({
      connect: () => Promise.resolve(new LocalFileClient()), directory: dir, dispatch: got.dispatch, ledgerPath: join(dir, "..", `order-${counter}.sqlite`),
      matcher: createFileNameMatcher("*.hl7", false), recursive: true, sortBy: "size", stableMs: 30_000, maxFilesPerPoll: 2,
    });
    const first = await sorted.poll();
    const second = await sorted.poll();
    const third = await sorted.poll();
    await sorted.stop();
    expect(first.processed).toEqual([join(dir, "sub/a.hl7"), join(dir, "sub/deeper/c.hl7")]);
    expect(second.processed).toEqual([join(dir, "b.hl7")]);
    expect(third.processed).toEqual([]);
    expect(got.received.map((m) => (m.content as string).length)).toEqual([10, 20, 30]);
  });

  it("a file that changed since it was listed is not read now (ERR_REMOTEFILE_FILE_CHANGED) and is read later", async () => {
    const dir = join(root, `changed-${++counter}`);
    await mkdir(dir);
    await writeFile(join(dir, "grows.txt"), "part");
    const local = new LocalFileClient();
    let lie = true;
    const changing = {
      ...Object.fromEntries((["list", "createReadStream", "createWriteStream", "rename", "delete", "mkdir", "close"] as const).map((k) => [k, local[k].bind(local)])),
      stat: async (path: string) => {
        const entry = await local.stat(path);
        return entry === undefined || !lie ? entry : { ...entry, size: entry.size + 1 };
      },
    } as unknown as LocalFileClient;
    const got = collectingDispatch();
    const logs: string[] = [];
    const r = reader({ connect: () => Promise.resolve(changing), directory: dir, dispatch: got.dispatch, ledgerPath: join(dir, "..", `changed-${counter}.sqlite`), log: (_l, t) => logs.push(t) });
    const first = await r.poll();
    lie = false;
    const second = await r.poll();
    await r.stop();
    expect(first.retry).toEqual([join(dir, "grows.txt")]);
    expect(logs.join("\n")).toContain("changed since it was listed");
    expect(second.processed).toEqual([join(dir, "grows.txt")]);
    expect(got.received.map((m) => m.content)).toEqual(["part"]);
  });

  it("concurrent writes share one connection, and a failed connect is tried again", async () => {
    const dir = join(root, `concurrent-${++counter}`);
    let connects = 0;
    let failNext = true;
    const writer = new FileWriter({
      connect: () => {
        connects++;
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error("server down"));
        }
        return Promise.resolve(new LocalFileClient());
      },
      location: "file://",
      directory: dir,
      fileName: "${message.messageId}.txt",
    });
    await expect(writer.write(outbound("x", {}, 1))).rejects.toThrow("server down");
    await Promise.all(Array.from({ length: 8 }, (_, i) => writer.write(outbound(`m${i}`, {}, i + 10))));
    await writer.close();
    expect(connects).toBe(2);
  });

  it("skips unsafe names in a server's listing instead of following them", async () => {
    const dir = join(root, `listing-${++counter}`);
    await mkdir(dir);
    await writeFile(join(dir, "ok.txt"), "fine");
    const local = new LocalFileClient();
    const hostile = Object.assign(Object.create(local) as LocalFileClient, {
      list: async (directory: string) => [
        ...(await local.list(directory)),
        { name: "../../etc/passwd", path: "/etc/passwd", type: "file" as const, size: 1, mtimeMs: 0 },
        { name: "a\0b", path: `${directory}/a`, type: "file" as const, size: 1, mtimeMs: 0 },
      ],
    });
    const got = collectingDispatch();
    const logs: string[] = [];
    const r = reader({ connect: () => Promise.resolve(hostile), directory: dir, dispatch: got.dispatch, ledgerPath: join(dir, "..", `listing-${counter}.sqlite`), log: (_l, t) => logs.push(t) });
    const report = await r.poll();
    await r.stop();
    expect(report.processed).toEqual([join(dir, "ok.txt")]);
    expect(got.received.map((m) => m.content)).toEqual(["fine"]);
    expect(logs.filter((l) => l.includes("unsafe name"))).toHaveLength(2);
  });
});

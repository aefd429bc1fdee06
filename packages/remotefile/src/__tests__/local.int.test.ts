import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEgressPolicy } from "@node-mirth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileWriter } from "../file-writer.js";
import { LocalFileClient } from "../local-file-client.js";
import { outbound } from "./harness.js";
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
});

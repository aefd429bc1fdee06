import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTempDir } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";
import { FileLedger } from "./file-ledger.js";

describe("FileLedger", () => {
  it("keeps outcomes across a reopen, tells file versions apart, and settles in one step", async () => {
    await using dir = await createTempDir("remotefile-ledger-");
    const path = join(dir.path, "sub", "ledger.sqlite");
    const a = { location: "sftp://h:22/in/a.hl7", size: 10, mtimeMs: 1000.7 };
    const b = { location: "sftp://h:22/in/b.hl7", size: 5, mtimeMs: 2000 };
    const first = new FileLedger(path);
    first.recordMany([{ key: a, state: "processed" }, { key: b, state: "failed" }]);
    first.close();
    const second = new FileLedger(path);
    try {
      expect(second.state(a)).toBe("processed");
      expect(second.state(b)).toBe("failed");
      expect(second.state({ ...a, size: 11 })).toBeUndefined();
      expect(second.state({ ...a, mtimeMs: 1001 })).toBeUndefined();
      second.settle({ forget: [a], done: [b] });
      expect(second.state(a)).toBeUndefined();
      expect(second.state(b)).toBe("done");
    } finally {
      second.close();
    }
  });

  it("an unusable path is ERR_REMOTEFILE_LEDGER_FAILED", async () => {
    await using dir = await createTempDir("remotefile-ledger-");
    await writeFile(join(dir.path, "a-file"), "");
    expect(() => new FileLedger(join(dir.path, "a-file", "ledger.sqlite"))).toThrow(expect.objectContaining({ code: "ERR_REMOTEFILE_LEDGER_FAILED" }));
  });
});

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TS_SOURCE_HOOK, createTempDir, runCommand } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";

const PACKAGE = join(import.meta.dirname, "..", "..");

describe("README example", () => {
  it("runs as written (from source) and answers with an AA", async () => {
    await using dir = await createTempDir("node-mirth-readme-");
    const readme = readFileSync(join(PACKAGE, "README.md"), "utf8");
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // Beside the sources, so `zod` and `@node-mirth/core` resolve as they would for a user.
    const script = join(import.meta.dirname, `.readme-example-${process.pid}.ts`);
    writeFileSync(script, example!.replace('"./data"', JSON.stringify(join(dir.path, "data"))));
    try {
      const result = await runCommand(
        process.execPath,
        ["--import", TS_SOURCE_HOOK, script],
        { timeoutMs: 30_000 },
      );
      const output = result.stdout.toString();
      expect(result.stderr.toString()).toBe("");
      expect(result.code).toBe(0);
      expect(output).toContain("adt-in started");
      expect(output).toMatch(/^sent 1: \d+ bytes$/m);
      expect(output).toMatch(/RECEIVED MSH\|\^~\\&\|ENG\|FAC\|HIS\|FAC\|.*MSA\|AA\|MSG1/s);
      expect(output).toContain("mrn: '12345'");
    } finally {
      rmSync(script, { force: true });
    }
  });
});

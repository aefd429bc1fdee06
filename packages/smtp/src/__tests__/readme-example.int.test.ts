import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TS_SOURCE_HOOK, createTempDir, runCommand } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";
import { startMailServer } from "./mail-server.js";

const PACKAGE = join(import.meta.dirname, "..", "..");

describe("README example", () => {
  it("runs as written (from source) against a real SMTP server: one mail alone, one through the engine", async () => {
    await using dir = await createTempDir("smtp-readme-");
    await using server = await startMailServer();
    const readme = readFileSync(join(PACKAGE, "README.md"), "utf8");
    const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    // Beside the sources, so the packages resolve as they would for a user.
    const script = join(import.meta.dirname, `.readme-example-${process.pid}.mjs`);
    writeFileSync(script, example!.replace('"./data"', JSON.stringify(join(dir.path, "data"))));
    try {
      const result = await runCommand(process.execPath, ["--import", TS_SOURCE_HOOK, script], {
        timeoutMs: 30_000,
        env: { ...process.env, SMTP_PORT: String(server.port) },
      });
      expect(result.stderr.toString()).toBe("");
      expect(result.code).toBe(0);
      const output = result.stdout.toString();
      expect(output).toMatch(/^sent <[^>]+> 250 /m);
      expect(output).toMatch(/^engine SENT <[^>]+>$/m);
      const alone = await server.nextMail();
      expect(alone.parsed.subject).toBe("Hello from node-mirth");
      const viaEngine = await server.nextMail();
      expect(viaEngine.parsed.subject).toMatch(/^ADT for 12345 on \d{4}-\d{2}-\d{2}$/);
      expect(viaEngine.parsed.attachments.map((a) => a.filename)).toEqual(["12345.hl7"]);
    } finally {
      rmSync(script, { force: true });
    }
  });
});

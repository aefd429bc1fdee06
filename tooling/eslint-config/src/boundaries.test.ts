import { join } from "node:path";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";
import { boundaryConfigs } from "./boundaries.js";

const repoRoot = join(import.meta.dirname, "../../..");

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: repoRoot,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ["**/*.ts"], languageOptions: { parser: tseslint.parser } },
      ...boundaryConfigs(),
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, filePath) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe("import boundaries (ARCHITECTURE.md §1)", () => {
  it("keeps hl7 a leaf", async () => {
    const messages = await restrictedImports("packages/hl7/src/x.ts", 'import "@node-mirth/core";');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/no-restricted-imports: .*packages\/hl7 may import only no other/);
  });

  it("lets core use hl7 and certs but not a connector", async () => {
    expect(
      await restrictedImports(
        "packages/core/src/x.ts",
        'import "@node-mirth/hl7"; import "@node-mirth/certs";',
      ),
    ).toEqual([]);
    expect(
      await restrictedImports("packages/core/src/x.ts", 'import "@node-mirth/mllp-tls";'),
    ).toHaveLength(1);
  });

  it("refuses one connector importing another, and the server", async () => {
    const code = 'import "@node-mirth/http"; import "@node-mirth/server"; import "@node-mirth/core";';
    expect(await restrictedImports("packages/mllp-tls/src/x.ts", code)).toHaveLength(2);
  });

  it("refuses deep imports and relative reaches into another workspace", async () => {
    const code = 'import "@node-mirth/core/src/engine.js"; import "../../../packages/core/src/index.js";';
    expect(await restrictedImports("packages/http/src/x.ts", code)).toHaveLength(2);
  });

  it("does not police tests, which may import test peers and siblings", async () => {
    expect(
      await restrictedImports("packages/hl7/src/x.test.ts", 'import "@node-mirth/core";'),
    ).toEqual([]);
  });
});

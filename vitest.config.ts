import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";
import { TestSummaryReporter } from "@node-mirth/test-summary";

const root = import.meta.dirname;

/** Every workspace that has a src/ folder is a test project. */
function workspaces(): { dir: string; name: string }[] {
  return ["packages", "apps", "tooling"].flatMap((group) => {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) return [];
    return readdirSync(groupDir)
      .filter((name) => existsSync(join(groupDir, name, "src")))
      .map((name) => ({ dir: `${group}/${name}`, name }));
  });
}

/**
 * Tests import sibling packages from source, so a test run never depends on a stale dist/.
 * The built output is exercised separately by publint, the CLI tests and the benches.
 */
const sourceAliases = Object.fromEntries(
  workspaces()
    .filter(({ dir }) => dir.startsWith("packages/"))
    .map(({ dir, name }) => [`@node-mirth/${name}`, join(root, dir, "src/index.ts")]),
);

export default defineConfig({
  test: {
    reporters: ["default", new TestSummaryReporter()],
    projects: workspaces().map(({ dir, name }) => ({
      resolve: { alias: sourceAliases },
      test: {
        name,
        root: join(root, dir),
        include: ["src/**/*.test.ts"],
        testTimeout: 30_000,
        hookTimeout: 60_000,
      },
    })),
  },
});

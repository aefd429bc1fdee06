/**
 * Lets a plain `node` child process (crash and kill -9 tests, CLI runs) execute workspace
 * TypeScript from source: Node strips the types of .ts files itself, but does not map the
 * `.js` specifiers of our NodeNext imports to the `.ts` files beside them, nor
 * `@node-mirth/*` to a sibling's src. This hook does both, so a child never depends on a
 * stale dist/. Load it with `node --import <TS_SOURCE_HOOK>`.
 */
import { existsSync } from "node:fs";
import { registerHooks } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PACKAGES = join(import.meta.dirname, "..", "..", "..", "packages");

registerHooks({
  resolve(specifier, context, nextResolve) {
    const scoped = /^@node-mirth\/([a-z0-9-]+)$/.exec(specifier);
    if (scoped?.[1] !== undefined) {
      const source = join(PACKAGES, scoped[1], "src", "index.ts");
      if (existsSync(source)) return { url: pathToFileURL(source).href, shortCircuit: true };
    }
    if (
      specifier.startsWith(".") &&
      specifier.endsWith(".js") &&
      context.parentURL?.startsWith("file:") === true
    ) {
      const candidate = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
      if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
});

import { defineConfig } from "tsup";

/**
 * The one build every package uses: ESM only, declarations, Node 24 target.
 * `entry` defaults to the public surface; packages with a CLI add their bin entry.
 * @param {{ entry?: string[] }} [options]
 */
export function createTsupConfig(options = {}) {
  return defineConfig({
    entry: options.entry ?? ["src/index.ts"],
    format: ["esm"],
    target: "node24",
    platform: "node",
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    // `node:sqlite` (and later builtins) exist only with their prefix.
    removeNodeProtocol: false,
  });
}

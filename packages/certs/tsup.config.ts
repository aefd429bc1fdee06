import { createTsupConfig } from "@node-mirth/tsup-config";

// The CLI is a second entry so the bin ships in dist/ beside the library.
const config: ReturnType<typeof createTsupConfig> = createTsupConfig({
  entry: ["src/index.ts", "src/cli/main.ts"],
});

export default config;

import { createTsupConfig } from "@node-mirth/tsup-config";

const config: ReturnType<typeof createTsupConfig> = createTsupConfig({
  entry: ["src/main.ts", "src/cli/mirth-cli.ts"],
});

export default config;

import { createTsupConfig } from "@node-mirth/tsup-config";

const config: ReturnType<typeof createTsupConfig> = createTsupConfig();

export default config;

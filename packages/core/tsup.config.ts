import { createTsupConfig } from "@node-mirth/tsup-config";

// The SQLite write worker is loaded by URL at run time, so it is an entry of its own.
export default createTsupConfig({ entry: ["src/index.ts", "src/sqlite-write-worker.ts"] });

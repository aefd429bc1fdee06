// `pnpm start` (the README's first command): builds, then runs the server on 127.0.0.1:8080
// with its data in ./data and the demo channels (MLLP on 127.0.0.1:6661). Arguments after
// `pnpm start --` go to `node-mirth serve`; PORT, HOST, MIRTH_DATA_DIR, ... still apply.
import { existsSync } from "node:fs";
import { spawn } from "node:child_process";
import { resolve } from "node:path";

const serverEntry = new URL("../apps/server/dist/main.js", import.meta.url);

if (!existsSync(serverEntry)) {
  console.error("apps/server/dist/main.js is missing: run `pnpm build` (pnpm start does) first.");
  process.exit(1);
}

const env = { ...process.env, MIRTH_DATA_DIR: process.env.MIRTH_DATA_DIR ?? resolve("data") };
const child = spawn(process.execPath, [serverEntry.pathname, "serve", "--demo", ...process.argv.slice(2)], {
  stdio: "inherit",
  env,
});
// The server stops gracefully on the first signal; forwarding it is all this wrapper does.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));

// `pnpm start`: runs the server app once it exists; until then it says what was built.
import { existsSync } from "node:fs";
import { spawn } from "node:child_process";

const serverEntry = new URL("../apps/server/dist/main.js", import.meta.url);

if (existsSync(serverEntry)) {
  const child = spawn(process.execPath, [serverEntry.pathname, "serve", ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code) => process.exit(code ?? 1));
} else {
  console.log(
    [
      "Every package is built (see packages/*/dist).",
      "The server app (apps/server) does not exist yet, so there is nothing to start:",
      "it comes with the issue 'apps/server: the node-mirth server'. Until then, use the",
      "packages directly (each README has a runnable example).",
    ].join("\n"),
  );
}

/** Baseline (b): node-hl7-server answering AA to everything, no storage. */
import { Server } from "node-hl7-server";
import { freePort, serveCommands } from "./bench-shared.ts";

serveCommands(async (command) => {
  if (command.kind !== "start") throw new Error(`unknown command ${command.kind}`);
  const port = await freePort();
  const server = new Server({ bindAddress: "127.0.0.1" });
  const inbound = server.createInbound({ port }, (_req, res) => void res.sendResponse("AA"));
  await new Promise((resolve) => inbound.once("listen", resolve));
  return { kind: "ready", port };
});

/** Opens N idle connections (plain TCP, or TLS with the handshake done) and holds them. */
import { connect as tcpConnect, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { connect as tlsConnect } from "node:tls";
import { serveCommands } from "./bench-shared.ts";

const sockets: Socket[] = [];

function openOne(port: number, ca: Buffer | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket =
      ca === undefined
        ? tcpConnect({ port, host: "127.0.0.1" }, () => resolve())
        : tlsConnect({ port, host: "127.0.0.1", ca, servername: "localhost" }, () => resolve());
    socket.on("error", reject);
    sockets.push(socket);
  });
}

serveCommands(async (command) => {
  switch (command.kind) {
    case "open": {
      const ca = typeof command.caPath === "string" ? readFileSync(command.caPath) : undefined;
      const total = Number(command.count);
      // Fifty handshakes at a time: no accept-queue overflow, and TLS stays quick.
      for (let i = 0; i < total; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, total - i) }, () => openOne(Number(command.port), ca)));
      }
      return { kind: "opened", open: sockets.filter((s) => !s.destroyed).length };
    }
    case "close":
      for (const socket of sockets.splice(0)) socket.destroy();
      return { kind: "closed" };
    default:
      throw new Error(`unknown command ${command.kind}`);
  }
});

import { createServer } from "node:net";

/**
 * An ephemeral port the kernel just handed out on `host`. Only for peers that cannot
 * bind port 0 themselves and report it; the tiny race with another process taking the
 * port is covered by `startPeer` retrying on a new port.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("no TCP address for the probe socket"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Starts listening and resolves with the port bound, or rejects with the listen error. */
export function listen(server: Server, where: { port: number; host: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(where.port, where.host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops accepting, lets requests in flight finish until `deadlineMs`, then destroys what is
 * left (keep-alive sockets, stuck uploads), so a stop always ends.
 */
export async function closeServer(server: Server, deadlineMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
  timer.unref();
  await closed;
  clearTimeout(timer);
}

/** `http://127.0.0.1:8080`, with IPv6 hosts bracketed; a wildcard host is reached over loopback. */
export function urlOf(scheme: "http" | "https", host: string, port: number): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `${scheme}://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}

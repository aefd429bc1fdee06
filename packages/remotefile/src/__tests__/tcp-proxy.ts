import { once } from "node:events";
import { createServer, connect, type Server, type Socket } from "node:net";

/** A loopback TCP relay a test can cut: the server "disappears" for every open connection. */
export interface TcpProxy extends AsyncDisposable {
  port: number;
  /** Bytes relayed from the server to the client so far. */
  downstreamBytes(): number;
  /** Destroys every relayed connection at once. */
  cut(): void;
  /** Cuts `delayMs` after the client first sends text matching `pattern` (e.g. an FTP RETR). */
  cutAfterClientSends(pattern: RegExp, delayMs: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let downstream = 0;
  let trigger: { pattern: RegExp; delayMs: number } | undefined;
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    upstream.on("data", (chunk: Buffer) => {
      downstream += chunk.length;
    });
    client.on("data", (chunk: Buffer) => {
      if (trigger !== undefined && trigger.pattern.test(chunk.toString("latin1"))) {
        const { delayMs } = trigger;
        trigger = undefined;
        setTimeout(() => cut(), delayMs);
      }
    });
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const cut = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  const close = async () => {
    cut();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const cutAfterClientSends = (pattern: RegExp, delayMs: number) => {
    trigger = { pattern, delayMs };
  };
  return { port: (server.address() as { port: number }).port, downstreamBytes: () => downstream, cut, cutAfterClientSends, close, [Symbol.asyncDispose]: close };
}

import { once } from "node:events";
import { createServer, connect, type Server, type Socket } from "node:net";

/** A loopback TCP relay a test can cut: the server "disappears" for every open connection. */
export interface TcpProxy extends AsyncDisposable {
  port: number;
  /** Bytes relayed from the server to the client so far. */
  downstreamBytes(): number;
  /** Destroys every relayed connection at once. */
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let downstream = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    upstream.on("data", (chunk: Buffer) => {
      downstream += chunk.length;
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
  return { port: (server.address() as { port: number }).port, downstreamBytes: () => downstream, cut, close, [Symbol.asyncDispose]: close };
}

import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type ServerOptions } from "node:https";
import type { AddressInfo, Socket } from "node:net";

export interface TestServer extends AsyncDisposable {
  port: number;
  /** Every request seen: method, url, headers, body, and which connection it came on. */
  requests: { method: string; url: string; headers: IncomingMessage["headers"]; body: string; raw: Buffer; connection: number; at: number; peerCN: string | undefined }[];
  /** Connections accepted (TCP, or TLS handshakes completed). */
  connections: () => number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

/** A real Node HTTP(S) server on 127.0.0.1:0 that records what it gets and answers with `handler`. */
export async function startTestServer(options: { tls?: ServerOptions; handler: Handler }): Promise<TestServer> {
  const requests: TestServer["requests"] = [];
  const ids = new WeakMap<Socket, number>();
  let accepted = 0;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const socket = req.socket as Socket & { getPeerCertificate?: () => { subject?: { CN?: string } } };
      requests.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        raw: Buffer.concat(chunks),
        connection: ids.get(socket) ?? -1,
        at: Date.now(),
        peerCN: socket.getPeerCertificate?.().subject?.CN,
      });
      options.handler(req, res, requests.length - 1);
    });
  };
  const server: Server = options.tls === undefined ? createHttpServer(onRequest) : createHttpsServer(options.tls, onRequest);
  server.on(options.tls === undefined ? "connection" : "secureConnection", (socket: Socket) => ids.set(socket, ++accepted));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    connections: () => accepted,
    [Symbol.asyncDispose]: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export const ok: Handler = (_req, res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("accepted");
};

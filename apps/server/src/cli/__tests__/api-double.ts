import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: unknown;
}

export interface Answer {
  status: number;
  body?: unknown;
}

export type Route = (request: RecordedRequest) => Answer;

export interface ApiDouble extends AsyncDisposable {
  url: string;
  requests: RecordedRequest[];
  /** `"POST /api/channels/x/_stop"` → answer. Unrouted requests get 404 `{ code, message }`. */
  routes: Map<string, Route>;
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback port 0 speaking the API's wire format, for the CLI's own
 * behaviour (arguments, output, exit codes, session file) while the real API is not the
 * subject. The end-to-end tests against startTestServer are in mirth-cli.int.test.ts.
 */
export async function startApiDouble(): Promise<ApiDouble> {
  const requests: RecordedRequest[] = [];
  const routes = new Map<string, Route>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://double");
      const text = Buffer.concat(chunks).toString("utf8");
      const request: RecordedRequest = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: text === "" ? undefined : (JSON.parse(text) as unknown),
      };
      requests.push(request);
      const route = routes.get(`${request.method} ${request.path}`);
      const answer = route?.(request) ?? { status: 404, body: { code: "ERR_API_NOT_FOUND", message: `no route ${request.method} ${request.path}` } };
      res.statusCode = answer.status;
      if (answer.body === undefined) {
        res.end();
        return;
      }
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url: `http://127.0.0.1:${port}`, requests, routes, close, [Symbol.asyncDispose]: close };
}

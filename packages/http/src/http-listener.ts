import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createServerTlsOptions, parseTlsProperties, type CertsOptions, type TlsPropertiesInput } from "@node-mirth/certs";
import { assertBindAllowed, isNodeMirthError, type PolicyWarningHandler } from "@node-mirth/core";
import { HttpError } from "./errors.js";
import { checkPartner, credentialHeaderNames, partnerAuthSchema, peerSubject, type PartnerAuth, type PartnerAuthInput } from "./partner-auth.js";

export type HttpLogLevel = "debug" | "info" | "warn" | "error";
/** Receives operator log lines (the shape of core's `SourceContext.log`); never message content. */
export type HttpLog = (level: HttpLogLevel, text: string) => void;

/** One authenticated request, body read in full. */
export interface HttpInboundRequest {
  method: string;
  /** The path after basePath, always starting with "/". */
  path: string;
  query: Record<string, string | string[]>;
  /** Lower-cased names; credential headers (Authorization, the API key header, Cookie) removed. */
  headers: Record<string, string>;
  body: Buffer;
  remoteAddress: string;
  remotePort: number;
  /** The Basic user name, the mTLS subject CN, "bearer" or "api-key"; undefined without auth. */
  partner: string | undefined;
  /** CN of the verified client certificate, when there is one. */
  peerCertificateSubject: string | undefined;
}

export interface HttpReply {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface HttpListenerOptions {
  /** Bind address; default 127.0.0.1. Anything not loopback needs TLS (or allowInsecureBind). */
  host?: string;
  /** Default 0 (ephemeral; see `start()`'s result). */
  port?: number;
  /** Only requests under this path are taken; default "/". */
  basePath?: string;
  /** Accepted methods; default POST and PUT. Others get 405. */
  methods?: readonly string[];
  /** TLS properties from @node-mirth/certs; TLS is on when `enabled` is true. */
  tls?: TlsPropertiesInput;
  certs?: CertsOptions;
  /** Partner authentication; default none. */
  auth?: PartnerAuthInput;
  /** Largest request body; default 10 MiB. Larger gets 413 and the connection closes. */
  maxBodyBytes?: number;
  /** Whole request (headers and body) must arrive within this; default 30 s (slowloris). */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections close after this; default 5 s. */
  keepAliveTimeoutMs?: number;
  /** Concurrent connections; default 1000. */
  maxConnections?: number;
  /** How long stop() lets requests in flight finish before closing them; default 10 s. */
  stopTimeoutMs?: number;
  allowInsecureBind?: boolean;
  onWarning?: PolicyWarningHandler;
  /** Names the listener for operators, e.g. "HTTP listener of channel lab". */
  name?: string;
  log?: HttpLog;
  /** Answers one request. A throw answers 500 without detail (logged with its code). */
  onRequest: (request: HttpInboundRequest) => Promise<HttpReply>;
}

const DEFAULT_MAX_BODY = 10 * 1024 * 1024;

function normalizeBasePath(path: string | undefined): string {
  const p = (path ?? "/").trim();
  if (!p.startsWith("/") || p.includes("?") || p.includes("#")) throw new HttpError("ERR_HTTP_INVALID_OPTIONS", `basePath must be a path starting with "/", not ${JSON.stringify(p)}`);
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

function relativePath(pathname: string, base: string): string | undefined {
  if (base === "/") return pathname;
  if (pathname === base) return "/";
  return pathname.startsWith(`${base}/`) ? pathname.slice(base.length) : undefined;
}

function plain(res: ServerResponse, reply: { statusCode: number; text: string; headers?: Record<string, string> }): void {
  const { statusCode, text, headers: extra = {} } = reply;
  if (res.headersSent) return;
  res.writeHead(statusCode, { "content-type": "text/plain; charset=utf-8", "content-length": String(Buffer.byteLength(text)), ...extra });
  res.end(text);
}

/**
 * An HTTP(S) endpoint for partners: binds loopback by default and refuses a non-loopback bind
 * without TLS; authenticates partners (Basic, bearer, API key, mTLS subject allow-list) before
 * reading a body; caps body size and request time; hands each request to `onRequest` and
 * answers with its reply.
 */
export class HttpListener {
  readonly #options: HttpListenerOptions;
  readonly #auth: PartnerAuth;
  readonly #basePath: string;
  readonly #methods: ReadonlySet<string>;
  readonly #maxBody: number;
  readonly #tlsEnabled: boolean;
  readonly #log: HttpLog;
  #server: Server | undefined;

  constructor(options: HttpListenerOptions) {
    this.#options = options;
    const auth = partnerAuthSchema.safeParse(options.auth ?? { type: "none" });
    if (!auth.success) throw new HttpError("ERR_HTTP_INVALID_OPTIONS", `invalid partner authentication: ${auth.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    this.#auth = auth.data;
    this.#basePath = normalizeBasePath(options.basePath);
    this.#methods = new Set((options.methods ?? ["POST", "PUT"]).map((m) => m.toUpperCase()));
    this.#maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    if (!Number.isInteger(this.#maxBody) || this.#maxBody < 1) throw new HttpError("ERR_HTTP_INVALID_OPTIONS", "maxBodyBytes must be a whole number of at least 1");
    const tls = options.tls === undefined ? undefined : parseTlsProperties(options.tls);
    this.#tlsEnabled = tls?.enabled === true;
    if (this.#auth.type === "mtls" && (!this.#tlsEnabled || tls?.requireClientCert !== true)) {
      throw new HttpError("ERR_HTTP_INVALID_OPTIONS", "mTLS partner authentication needs tls.enabled and tls.requireClientCert (with the trustStorePath of the partners' CA)");
    }
    this.#log = options.log ?? (() => {});
  }

  get #name(): string {
    return this.#options.name ?? "HTTP listener";
  }

  /** The bound address; undefined before start. */
  get address(): AddressInfo | undefined {
    const address = this.#server?.address();
    return address === null || typeof address === "string" ? undefined : address;
  }

  /** "http" or "https". */
  get scheme(): "http" | "https" {
    return this.#tlsEnabled ? "https" : "http";
  }

  /** Checks the bind, reads key material, and listens. Resolves with the bound address. */
  async start(): Promise<AddressInfo> {
    if (this.#server !== undefined) throw new HttpError("ERR_HTTP_INVALID_OPTIONS", `${this.#name} is already started`);
    const host = this.#options.host ?? "127.0.0.1";
    assertBindAllowed({
      host,
      kind: this.#name,
      tls: this.#tlsEnabled,
      ...(this.#options.allowInsecureBind === undefined ? {} : { allowInsecureBind: this.#options.allowInsecureBind }),
      ...(this.#options.onWarning === undefined ? {} : { onWarning: this.#options.onWarning }),
    });
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res);
    const server = this.#tlsEnabled ? createHttpsServer(createServerTlsOptions(this.#options.tls ?? {}, this.#options.certs), handler) : createHttpServer(handler);
    server.requestTimeout = this.#options.requestTimeoutMs ?? 30_000;
    server.headersTimeout = Math.min(server.requestTimeout, 10_000);
    server.keepAliveTimeout = this.#options.keepAliveTimeoutMs ?? 5_000;
    server.maxConnections = this.#options.maxConnections ?? 1_000;
    server.on("tlsClientError", (error: Error & { code?: string }) => this.#log("warn", `${this.#name}: TLS handshake failed: ${error.code ?? error.message}`));
    server.listen({ host, port: this.#options.port ?? 0 });
    await Promise.race([once(server, "listening"), once(server, "error").then(([error]) => Promise.reject(error as Error))]);
    this.#server = server;
    return this.address!;
  }

  /** Stops taking connections; lets requests in flight finish within stopTimeoutMs, then closes them. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), this.#options.stopTimeoutMs ?? 10_000);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://listener.invalid");
    const path = relativePath(url.pathname, this.#basePath);
    if (path === undefined) return plain(res, { statusCode: 404, text: "Not found\n" });
    const method = (req.method ?? "").toUpperCase();
    if (!this.#methods.has(method)) return plain(res, { statusCode: 405, text: "Method not allowed\n", headers: { allow: [...this.#methods].join(", ") } });
    const decision = checkPartner(this.#auth, req);
    if (!decision.ok) {
      this.#log("warn", `${this.#name}: request from ${req.socket.remoteAddress ?? "?"} refused (ERR_HTTP_UNAUTHORIZED): ${decision.reason}`);
      return plain(res, { statusCode: decision.statusCode, text: decision.statusCode === 401 ? "Unauthorized\n" : "Forbidden\n", headers: {
        connection: "close",
        ...(decision.challenge === undefined ? {} : { "www-authenticate": decision.challenge }),
      } });
    }
    const body = await this.#readBody(req, res);
    if (body === undefined) return;
    const skip = new Set(credentialHeaderNames(this.#auth));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !skip.has(name)) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const seen = query[key];
      query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
    let reply: HttpReply;
    try {
      reply = await this.#options.onRequest({
        method,
        path,
        query,
        headers,
        body,
        remoteAddress: req.socket.remoteAddress ?? "",
        remotePort: req.socket.remotePort ?? 0,
        partner: decision.partner,
        peerCertificateSubject: peerSubject(req),
      });
    } catch (error) {
      this.#log("error", `${this.#name}: the request handler failed (${isNodeMirthError(error) ? error.code : "unexpected error"}); answered 500`);
      return plain(res, { statusCode: 500, text: "Internal error\n" });
    }
    if (res.headersSent || res.destroyed) return;
    const replyBody = reply.body === undefined ? Buffer.alloc(0) : typeof reply.body === "string" ? Buffer.from(reply.body, "utf8") : reply.body;
    res.writeHead(reply.statusCode, { ...reply.headers, "content-length": String(replyBody.length) });
    res.end(replyBody);
  }

  /** The whole body, or undefined after answering 413 (or when the peer went away). */
  #readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
    const refuse = () => {
      this.#log("warn", `${this.#name}: a request body from ${req.socket.remoteAddress ?? "?"} exceeded maxBodyBytes (${this.#maxBody}); answered 413 (ERR_HTTP_BODY_TOO_LARGE)`);
      plain(res, { statusCode: 413, text: `Request body larger than ${this.#maxBody} bytes\n`, headers: { connection: "close" } });
      // Stop reading; the connection closes once the answer is written.
      req.pause();
      res.once("finish", () => req.socket.destroySoon());
      return undefined;
    };
    if (Number(req.headers["content-length"] ?? 0) > this.#maxBody) return Promise.resolve(refuse());
    return new Promise<Buffer | undefined>((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size <= this.#maxBody) return void chunks.push(chunk);
        req.off("data", onData);
        resolve(refuse());
      };
      req.on("data", onData);
      req.once("end", () => resolve(size > this.#maxBody ? undefined : Buffer.concat(chunks)));
      req.once("error", () => resolve(undefined));
      req.once("close", () => resolve(undefined));
    });
  }
}

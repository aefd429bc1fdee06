import { request as httpRequest, type Agent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { ConnectionOptions } from "node:tls";
import { createClientTlsOptions, parseTlsProperties, type CertsOptions, type TlsPropertiesInput } from "@node-mirth/certs";
import { assertSecureOrAllowed, EgressPolicy, type PolicyWarningHandler } from "@node-mirth/core";
import { findCleartextCredential } from "./cleartext-credentials.js";
import { ConcurrencyLimit } from "./concurrency-limit.js";
import { EgressHttpAgent, EgressHttpsAgent } from "./egress-agent.js";
import { HttpError, HttpStatusError } from "./errors.js";
import { parseRetryAfter } from "./retry-after.js";

export interface HttpSenderOptions {
  /**
   * TLS for https:// URLs (trust store, client certificate for mTLS, SNI). With `enabled: true`
   * an http:// URL is refused, so a setting that asks for TLS never sends in cleartext.
   */
  tls?: TlsPropertiesInput;
  certs?: CertsOptions;
  /**
   * Checked at every new connection against the resolved address. Default: an empty policy,
   * which allows everything except link-local and cloud-metadata addresses.
   */
  egress?: EgressPolicy;
  /** Open connections per origin (the pool bound); default 10. */
  maxSockets?: number;
  /** Reuse connections (keep-alive); default true. */
  keepAlive?: boolean;
  /** TCP connect, egress check and TLS handshake; default 10 s. */
  connectTimeoutMs?: number;
  /** From the request being written to the last byte of the response; default 30 s. */
  responseTimeoutMs?: number;
  /** Largest response body read; default 10 MiB. */
  maxResponseBytes?: number;
  /** 4xx statuses that are retried anyway (408 and 429 always are). */
  retryableStatuses?: readonly number[];
  /** Longest Retry-After honoured; default 5 minutes. */
  maxRetryAfterMs?: number;
  /** Further header names treated as credentials (refused over http://). */
  credentialHeaders?: readonly string[];
  /** Environment read for MIRTH_ALLOW_INSECURE_TLS; default the process decision. */
  env?: NodeJS.ProcessEnv;
  onWarning?: PolicyWarningHandler;
  /** Names the sender in errors and warnings, e.g. "HTTP sender 'lab results'". */
  name?: string;
}

export interface HttpRequest {
  url: string | URL;
  /** Default POST. */
  method?: string;
  headers?: Readonly<Record<string, string>>;
  body?: string | Buffer;
  /** Gives up the send with ERR_HTTP_SENDER_CLOSED. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** True when the request went over a pooled connection opened by an earlier request. */
  reusedConnection: boolean;
}

const DEFAULTS = {
  maxSockets: 10,
  connectTimeoutMs: 10_000,
  responseTimeoutMs: 30_000,
  maxResponseBytes: 10 * 1024 * 1024,
  maxRetryAfterMs: 300_000,
};

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new HttpError("ERR_HTTP_INVALID_OPTIONS", `${name} must be a whole number of at least 1, not ${String(v)}`);
  return v;
}

/** Parses and checks a request URL: http or https, no fragment surprises. */
export function parseHttpUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new HttpError("ERR_HTTP_INVALID_OPTIONS", "the URL is not a valid absolute URL", { cause: error });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new HttpError("ERR_HTTP_INVALID_OPTIONS", `the URL scheme must be http or https, not ${parsed.protocol.replace(/:$/, "")}`);
  }
  return parsed;
}

/** Whether a status that is not 2xx or 3xx may succeed when sent again. */
export function isRetryableStatus(status: number, extra: readonly number[] = []): boolean {
  return status >= 500 || status === 408 || status === 429 || extra.includes(status);
}

/**
 * Sends HTTP(S) requests through one keep-alive connection pool per origin, bounded by
 * `maxSockets`. Fails closed: redirects are reported (with their Location), never followed;
 * credentials over cleartext http:// and unverified TLS are refused unless
 * MIRTH_ALLOW_INSECURE_TLS=1; every new connection passes the egress policy first.
 * Retrying is the caller's (the engine's); a Retry-After the server sent is honoured by
 * holding the next request until then.
 */
export class HttpSender {
  readonly #options: HttpSenderOptions;
  readonly #tls: ConnectionOptions;
  readonly #egress: EgressPolicy;
  readonly #agents = new Map<string, { agent: Agent; slots: ConcurrencyLimit }>();
  readonly #closing = new AbortController();
  readonly #limits: typeof DEFAULTS;
  readonly #tlsRequired: boolean;
  #notBefore = 0;

  constructor(options: HttpSenderOptions = {}) {
    this.#options = options;
    this.#limits = {
      maxSockets: positive("maxSockets", options.maxSockets, DEFAULTS.maxSockets),
      connectTimeoutMs: positive("connectTimeoutMs", options.connectTimeoutMs, DEFAULTS.connectTimeoutMs),
      responseTimeoutMs: positive("responseTimeoutMs", options.responseTimeoutMs, DEFAULTS.responseTimeoutMs),
      maxResponseBytes: positive("maxResponseBytes", options.maxResponseBytes, DEFAULTS.maxResponseBytes),
      maxRetryAfterMs: positive("maxRetryAfterMs", options.maxRetryAfterMs, DEFAULTS.maxRetryAfterMs),
    };
    // Built now, so an unreadable trust store or `rejectUnauthorized: false` without the
    // escape fails at construction (deploy), not at the first message.
    this.#tls = createClientTlsOptions(options.tls ?? {}, options.certs);
    this.#tlsRequired = parseTlsProperties(options.tls ?? {}).enabled;
    this.#egress = options.egress ?? new EgressPolicy();
  }

  get #name(): string {
    return this.#options.name ?? "HTTP sender";
  }

  /**
   * Refuses a request that must not go out in cleartext: an http:// URL when tls.enabled is
   * set (ERR_HTTP_INVALID_OPTIONS), or a URL and headers that would put a credential on the
   * wire (ERR_POLICY_INSECURE_TLS, unless MIRTH_ALLOW_INSECURE_TLS=1: then warns, every time).
   */
  assertNotCleartext(url: URL, headers: Readonly<Record<string, string>>): void {
    if (this.#tlsRequired && url.protocol !== "https:") {
      throw new HttpError("ERR_HTTP_INVALID_OPTIONS", `${this.#name}: tls.enabled is true but the URL is ${url.protocol}//; use https://`);
    }
    const found = findCleartextCredential(url, headers, this.#options.credentialHeaders);
    if (found === undefined) return;
    assertSecureOrAllowed(`${this.#name}: ${found}`, {
      ...(this.#options.env === undefined ? {} : { env: this.#options.env }),
      ...(this.#options.onWarning === undefined ? {} : { onWarning: this.#options.onWarning }),
    });
  }

  /**
   * Sends one request and resolves with a 2xx response. Throws HttpStatusError for 4xx/5xx
   * (with `retryable` and the body), HttpError for redirects, timeouts, oversize responses
   * and connection failures, EgressDeniedError / InsecureTlsError for policy refusals.
   */
  async send(request: HttpRequest): Promise<HttpResponse> {
    const url = parseHttpUrl(request.url);
    const method = (request.method ?? "POST").toUpperCase();
    if (!TOKEN.test(method)) throw new HttpError("ERR_HTTP_INVALID_OPTIONS", "the method is not a valid HTTP token");
    const headers = { ...request.headers };
    this.assertNotCleartext(url, headers);
    const signal = AbortSignal.any([this.#closing.signal, ...(request.signal === undefined ? [] : [request.signal])]);
    await this.#waitRetryAfter(signal);
    const pool = this.#poolFor(url);
    await pool.slots.acquire(signal).catch(() => Promise.reject(closedError(signal, this.#name)));
    try {
      return await this.#exchange({ url, method, headers, body: request.body, signal, agent: pool.agent, firstTry: true });
    } catch (error) {
      if (error instanceof HttpStatusError && error.retryAfterMs !== undefined) {
        this.#notBefore = Math.max(this.#notBefore, Date.now() + error.retryAfterMs);
      }
      throw error;
    } finally {
      pool.slots.release();
    }
  }

  /** Closes every pooled connection; requests in flight fail with ERR_HTTP_SENDER_CLOSED. Idempotent. */
  close(): Promise<void> {
    this.#closing.abort(new HttpError("ERR_HTTP_SENDER_CLOSED", `${this.#name} was closed`));
    for (const { agent } of this.#agents.values()) agent.destroy();
    this.#agents.clear();
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #waitRetryAfter(signal: AbortSignal): Promise<void> {
    const wait = this.#notBefore - Date.now();
    if (wait <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", aborted);
      };
      const aborted = () => {
        done();
        reject(closedError(signal, this.#name));
      };
      const timer = setTimeout(() => {
        done();
        resolve();
      }, wait);
      if (signal.aborted) aborted();
      else signal.addEventListener("abort", aborted, { once: true });
    });
  }

  #poolFor(url: URL): { agent: Agent; slots: ConcurrencyLimit } {
    const key = `${url.protocol}//${url.host}`;
    let pool = this.#agents.get(key);
    if (pool === undefined) {
      const common = {
        keepAlive: this.#options.keepAlive ?? true,
        maxSockets: this.#limits.maxSockets,
        maxFreeSockets: this.#limits.maxSockets,
        scheduling: "lifo" as const,
        egress: this.#egress,
      };
      const agent = url.protocol === "https:" ? new EgressHttpsAgent({ ...common, ...this.#tls }) : new EgressHttpAgent(common);
      pool = { agent, slots: new ConcurrencyLimit(this.#limits.maxSockets) };
      this.#agents.set(key, pool);
    }
    return pool;
  }

  async #exchange(r: { url: URL; method: string; headers: Record<string, string>; body: string | Buffer | undefined; signal: AbortSignal; agent: Agent; firstTry: boolean }): Promise<HttpResponse> {
    try {
      return await this.#once(r);
    } catch (error) {
      // A pooled connection the server closed while idle fails on first write; the request
      // never reached the server, so one immediate retry on a fresh connection is safe.
      if (r.firstTry && error instanceof StaleSocketError) return this.#exchange({ ...r, firstTry: false });
      throw error instanceof StaleSocketError ? error.cause : error;
    }
  }

  #once(r: { url: URL; method: string; headers: Record<string, string>; body: string | Buffer | undefined; signal: AbortSignal; agent: Agent }): Promise<HttpResponse> {
    const body = r.body === undefined ? undefined : typeof r.body === "string" ? Buffer.from(r.body, "utf8") : r.body;
    const headers: Record<string, string> = { ...r.headers };
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) headers["content-length"] = String(body.length);
    const send = r.url.protocol === "https:" ? httpsRequest : httpRequest;
    const limits = this.#limits;
    const name = this.#name;
    const retryable = this.#options.retryableStatuses ?? [];
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      let received = false;
      let timer: NodeJS.Timeout | undefined;
      const req: ClientRequest = send(r.url, { method: r.method, headers, agent: r.agent, signal: r.signal });
      const finish = (error: Error | undefined, response?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) resolve(response!);
        else reject(error);
      };
      const fail = (error: Error) => {
        finish(error);
        req.destroy(error);
      };
      timer = setTimeout(() => fail(new HttpError("ERR_HTTP_CONNECT_TIMEOUT", `${name} could not connect to ${r.url.host} within ${limits.connectTimeoutMs} ms`)), limits.connectTimeoutMs);
      const connected = () => {
        clearTimeout(timer);
        timer = setTimeout(() => fail(new HttpError("ERR_HTTP_RESPONSE_TIMEOUT", `${name}: no complete response from ${r.url.host} within ${limits.responseTimeoutMs} ms`)), limits.responseTimeoutMs);
      };
      req.once("socket", (socket) => {
        if (req.reusedSocket) connected();
        else if (r.url.protocol === "https:") socket.once("secureConnect", connected);
        else if (socket.connecting) socket.once("connect", connected);
        else connected();
      });
      req.on("error", (error: Error & { code?: string }) => {
        if (settled) return;
        if (r.signal.aborted) return finish(closedError(r.signal, name));
        if (error instanceof HttpError || isPolicyError(error)) return finish(error);
        const wrapped = new HttpError("ERR_HTTP_CONNECT_FAILED", `${name} could not exchange with ${r.url.host}: ${error.code ?? error.message}`, { cause: error, details: { host: r.url.host, reason: error.code ?? error.message } });
        if (req.reusedSocket && !received && (error.code === "ECONNRESET" || error.code === "EPIPE")) return finish(new StaleSocketError(wrapped));
        finish(wrapped);
      });
      req.on("response", (res: IncomingMessage) => {
        received = true;
        const status = res.statusCode ?? 0;
        const declared = Number(res.headers["content-length"] ?? 0);
        if (declared > limits.maxResponseBytes) return fail(tooLarge(name, limits.maxResponseBytes));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxResponseBytes) fail(tooLarge(name, limits.maxResponseBytes));
          else chunks.push(chunk);
        });
        res.on("error", (error) => fail(new HttpError("ERR_HTTP_CONNECT_FAILED", `${name}: the response from ${r.url.host} was cut off`, { cause: error })));
        res.on("end", () => {
          const responseBody = Buffer.concat(chunks);
          if (status >= 200 && status < 300) {
            return finish(undefined, { statusCode: status, headers: res.headers, body: responseBody, reusedConnection: req.reusedSocket });
          }
          if (status >= 300 && status < 400) {
            const location = res.headers.location ?? "(no Location header)";
            return finish(
              new HttpError("ERR_HTTP_REDIRECT_REFUSED", `${name}: ${r.url.host} answered ${status} redirecting to ${location}; redirects are not followed. If that location is right and trusted, configure it as the URL.`, {
                details: { statusCode: status, location },
              }),
            );
          }
          const isRetryable = isRetryableStatus(status, retryable);
          const retryAfterMs = isRetryable ? parseRetryAfter(res.headers["retry-after"], { now: Date.now(), capMs: limits.maxRetryAfterMs }) : undefined;
          finish(new HttpStatusError({ statusCode: status, retryable: isRetryable, retryAfterMs, body: responseBody, headers: res.headers }));
        });
      });
      req.end(body);
    });
  }
}

/** Internal: a reused keep-alive socket was found closed before any response byte. */
class StaleSocketError extends Error {
  declare readonly cause: HttpError;

  constructor(cause: HttpError) {
    super(cause.message, { cause });
  }
}

function tooLarge(name: string, max: number): HttpError {
  return new HttpError("ERR_HTTP_RESPONSE_TOO_LARGE", `${name}: the response body is larger than maxResponseBytes (${max} bytes)`, { details: { maxResponseBytes: max } });
}

function closedError(signal: AbortSignal, name: string): HttpError {
  const reason: unknown = signal.reason;
  return reason instanceof HttpError ? reason : new HttpError("ERR_HTTP_SENDER_CLOSED", `${name}: the send was aborted`, { cause: reason });
}

function isPolicyError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("ERR_POLICY_");
}

import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { ConnectionOptions } from "node:tls";
import type { z } from "zod";
import { CliError } from "./cli-error.js";

export interface ApiRequest<T> {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path under the server base URL, starting with `/api/`. */
  path: string;
  query?: Record<string, string | number | readonly string[] | undefined>;
  body?: unknown;
  /** Parses the 2xx body; a body that does not match is ERR_CLI_BAD_RESPONSE. */
  schema: z.ZodType<T>;
}

export interface ApiClientOptions {
  baseUrl: string;
  /** Sent as `X-Session-ID`; the CLI never uses the cookie. */
  sessionId?: string;
  timeoutMs: number;
  /** For https: trust and client certificate (from @node-mirth/certs createClientTlsOptions). */
  tls?: ConnectionOptions;
}

/** An answer larger than this is not the API's (the biggest, a message with content, is far less). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

interface RawAnswer {
  status: number;
  text: string;
}

/**
 * JSON over HTTP(S) to the node-mirth API. Every failure becomes a CliError: the server's
 * `{ code, message }` with its HTTP status, or an ERR_CLI_* code for the network. node:https
 * rather than fetch, because a client certificate (mTLS) needs the TLS options.
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl;
    this.options = options;
  }

  /** The 2xx answer's body, parsed with `request.schema`. */
  async call<T>(request: ApiRequest<T>): Promise<T> {
    const url = new URL(`${this.baseUrl}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value])
        url.searchParams.append(name, String(item));
    }
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.options.sessionId !== undefined) headers["x-session-id"] = this.options.sessionId;
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    if (body !== undefined) headers["content-type"] = "application/json";
    let answer: RawAnswer;
    try {
      answer = await exchange(url, { method: request.method, headers, body, options: this.options });
    } catch (error) {
      throw unreachable(error, { url: this.baseUrl, timeoutMs: this.options.timeoutMs });
    }
    const json = parseJson(answer.text);
    if (answer.status < 200 || answer.status > 299) throw serverError(answer.status, json);
    const parsed = request.schema.safeParse(json);
    if (!parsed.success) {
      throw new CliError(
        "ERR_CLI_BAD_RESPONSE",
        `${request.method} ${request.path} answered ${answer.status} with a body mirth-cli does not understand (${parsed.error.issues
          .slice(0, 3)
          .map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`)
          .join("; ")}); is ${this.baseUrl} a node-mirth server of this version?`,
      );
    }
    return parsed.data;
  }
}

/** One request and its whole answer; redirects are answers (3xx), never followed. */
function exchange(
  url: URL,
  what: { method: string; headers: Record<string, string>; body: string | undefined; options: ApiClientOptions },
): Promise<RawAnswer> {
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: what.method,
        headers: what.headers,
        signal: AbortSignal.timeout(what.options.timeoutMs),
        ...(url.protocol === "https:" ? what.options.tls : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`the answer exceeds ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(what.body);
  });
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function serverError(status: number, body: unknown): CliError {
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof fields.code === "string" ? fields.code : `HTTP_${status}`;
  const message =
    typeof fields.message === "string" ? fields.message : `the server answered HTTP ${status}`;
  // `details`, else the body's other fields (e.g. the readiness checks of a 503 health).
  const { code: _code, message: _message, ...rest } = fields;
  const details =
    typeof fields.details === "object" && fields.details !== null
      ? (fields.details as Record<string, unknown>)
      : Object.keys(rest).length > 0
        ? rest
        : undefined;
  return new CliError(code, message, { status, ...(details === undefined ? {} : { details }) });
}

function unreachable(error: unknown, where: { url: string; timeoutMs: number }): CliError {
  const name = (error as Error).name;
  const causeName = (error as { cause?: { name?: string } }).cause?.name;
  if (name === "TimeoutError" || causeName === "TimeoutError") {
    return new CliError(
      "ERR_CLI_SERVER_UNREACHABLE",
      `${where.url} did not answer within ${where.timeoutMs} ms (--timeout).`,
      { cause: error },
    );
  }
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new CliError(
    "ERR_CLI_SERVER_UNREACHABLE",
    `cannot reach ${where.url} (${reason}); is the server running, and is --url / MIRTH_URL right?`,
    { cause: error, details: { reason } },
  );
}

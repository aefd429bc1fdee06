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
}

/** A parsed 2xx answer with its status (201 created vs 200 updated). */
export interface ApiResponse<T> {
  status: number;
  body: T;
}

/**
 * JSON over fetch to the node-mirth API. Every failure becomes a CliError: the server's
 * `{ code, message }` with its HTTP status, or an ERR_CLI_* code for the network.
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly sessionId: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl;
    this.sessionId = options.sessionId;
    this.timeoutMs = options.timeoutMs;
  }

  async send<T>(request: ApiRequest<T>): Promise<ApiResponse<T>> {
    const url = new URL(`${this.baseUrl}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value])
        url.searchParams.append(name, String(item));
    }
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.sessionId !== undefined) headers["x-session-id"] = this.sessionId;
    if (request.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: request.method,
        headers,
        redirect: "error",
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      });
      text = await response.text();
    } catch (error) {
      throw unreachable(error, { url: this.baseUrl, timeoutMs: this.timeoutMs });
    }
    const json = parseJson(text);
    if (!response.ok) throw serverError(response.status, json);
    const parsed = request.schema.safeParse(json);
    if (!parsed.success) {
      throw new CliError(
        "ERR_CLI_BAD_RESPONSE",
        `${request.method} ${request.path} answered ${response.status} with a body mirth-cli does not understand (${parsed.error.issues
          .slice(0, 3)
          .map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`)
          .join("; ")}); is ${this.baseUrl} a node-mirth server of this version?`,
      );
    }
    return { status: response.status, body: parsed.data };
  }

  async call<T>(request: ApiRequest<T>): Promise<T> {
    return (await this.send(request)).body;
  }
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
  const details =
    typeof fields.details === "object" && fields.details !== null
      ? (fields.details as Record<string, unknown>)
      : undefined;
  return new CliError(code, message, { status, ...(details === undefined ? {} : { details }) });
}

function unreachable(error: unknown, where: { url: string; timeoutMs: number }): CliError {
  const name = (error as Error).name;
  if (name === "TimeoutError") {
    return new CliError(
      "ERR_CLI_SERVER_UNREACHABLE",
      `${where.url} did not answer within ${where.timeoutMs} ms (--timeout).`,
      { cause: error },
    );
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  return new CliError(
    "ERR_CLI_SERVER_UNREACHABLE",
    `cannot reach ${where.url} (${reason}); is the server running, and is --url / MIRTH_URL right?`,
    { cause: error, details: { reason } },
  );
}

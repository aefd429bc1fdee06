import { createServerTlsOptions, tlsPropertiesSchema } from "@node-mirth/certs";
import {
  defineConnector,
  DestinationClient,
  flagProperty as flag,
  isNodeMirthError,
  listenerSource,
  renderMessageTemplate,
  wholeNumberProperty as count,
  type ConnectorEnvironment,
  type ConnectorPlugin,
  type ConnectorResponse,
  type DestinationConnector,
  type LogLevel,
  type OutboundMessage,
  type SourceConnector,
  type SourceContext,
} from "@node-mirth/core";
import { z } from "zod";
import { HttpError, HttpStatusError } from "./errors.js";
import { HttpListener, type HttpInboundRequest, type HttpReply } from "./http-listener.js";
import { HttpSender, parseHttpUrl, type HttpResponse } from "./http-sender.js";
import { partnerAuthSchema } from "./partner-auth.js";

const token = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "not a valid HTTP token");

const CHARSETS = { utf8: "utf-8", latin1: "iso-8859-1", ascii: "us-ascii", utf16le: "utf-16le" } as const;

/** Credentials the sender adds to each request; refused over http:// unless MIRTH_ALLOW_INSECURE_TLS=1. */
export const senderCredentialsSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("basic"), username: z.string().min(1).regex(/^[^:]*$/), password: z.string() }),
  z.strictObject({ type: z.literal("bearer"), token: z.string().min(1) }),
  z.strictObject({ type: z.literal("apiKey"), header: token.default("x-api-key"), value: z.string().min(1) }),
]);

/**
 * Properties of the `http` connector, for both roles. As a source it is a listener (`host`,
 * `port`, `basePath`, ...); as a destination a sender (`url`, `method`, ...). Templates in
 * `url`, `headers`, `query` and `body` are filled per message (`${message.encodedData}`,
 * `${channelMap.key}`, `${date('yyyyMMdd')}`); `${VAR}`s were resolved at deploy.
 */
export const httpPropertiesSchema = z.strictObject({
  // Source (listener).
  /** Bind address; default 127.0.0.1. */
  host: z.string().trim().min(1).optional(),
  /** Listen port (0 = ephemeral). */
  port: count(0, 65535).optional(),
  basePath: z.string().default("/"),
  methods: z.array(token).min(1).default(["POST", "PUT"]),
  auth: partnerAuthSchema.default({ type: "none" }),
  maxBodyBytes: count(1).default(10 * 1024 * 1024),
  /** Body as text in this charset (default), or base64 of the bytes for binary payloads. */
  bodyAs: z.enum(["text", "base64"]).default("text"),
  responseContentType: z.string().min(1).default("text/plain; charset=utf-8"),
  requestTimeoutMs: count(1).default(30_000),
  keepAliveTimeoutMs: count(1).default(5_000),
  maxConnections: count(1).default(1_000),
  stopTimeoutMs: count(0).default(10_000),
  // Both.
  /** Source: how bodies are decoded. Destination: how the body is encoded, and the Content-Type charset. */
  charset: z.enum(["utf8", "latin1", "ascii", "utf16le"]).default("utf8"),
  tls: tlsPropertiesSchema.optional(),
  // Destination (sender).
  url: z.string().min(1).optional(),
  method: token.default("POST"),
  headers: z.record(token, z.string()).default({}),
  query: z.record(z.string().min(1), z.string()).default({}),
  body: z.string().default("${message.encodedData}"),
  contentType: z.string().min(1).default("text/plain"),
  /** text: the body template is sent in `charset`; base64: its result is decoded to bytes (binary). */
  bodyEncoding: z.enum(["text", "base64"]).default("text"),
  credentials: senderCredentialsSchema.optional(),
  maxSockets: count(1, 1024).default(10),
  keepAlive: flag.default(true),
  connectTimeoutMs: count(1).default(10_000),
  responseTimeoutMs: count(1).default(30_000),
  maxResponseBytes: count(1).default(10 * 1024 * 1024),
  /** 4xx statuses to retry (5xx, 408 and 429 always are). */
  retryableStatuses: z.array(count(400, 499)).default([]),
  maxRetryAfterMs: count(1).default(300_000),
  /** Store status and headers with the body as the destination response (JSON). */
  includeResponseMetadata: flag.default(false),
  /** text: the response body decoded in `charset`; base64: its bytes, base64. */
  responseEncoding: z.enum(["text", "base64"]).default("text"),
});

export type HttpProperties = z.output<typeof httpPropertiesSchema>;
export type HttpPropertiesInput = z.input<typeof httpPropertiesSchema>;

/**
 * The `http` connector plugin: `createEngine({ store, plugins: [http()] })`. The source hands
 * each request body to the engine and answers with the engine's response; the destination
 * sends each message and maps the status to SENT or a (retryable or permanent) ERROR.
 */
export function http(): ConnectorPlugin<HttpProperties> {
  return defineConnector({
    type: "http",
    propertiesSchema: httpPropertiesSchema,
    createSource: (properties, env) => createHttpSource(properties, env),
    createDestination: (properties, env) => createHttpDestination(properties, env),
  });
}

const OUTCOME_STATUS = { accept: 200, error: 500, reject: 400 } as const;

function createHttpSource(props: HttpProperties, env: ConnectorEnvironment): SourceConnector {
  const build = (ctx: SourceContext | undefined) =>
    new HttpListener({
      ...(props.host === undefined ? {} : { host: props.host }),
      port: props.port ?? 0,
      basePath: props.basePath,
      methods: props.methods,
      ...(props.tls === undefined ? {} : { tls: props.tls }),
      auth: props.auth,
      maxBodyBytes: props.maxBodyBytes,
      requestTimeoutMs: props.requestTimeoutMs,
      keepAliveTimeoutMs: props.keepAliveTimeoutMs,
      maxConnections: props.maxConnections,
      stopTimeoutMs: props.stopTimeoutMs,
      allowInsecureBind: env.policy.allowInsecureBind,
      name: `HTTP listener of channel ${env.channelId}`,
      ...(ctx === undefined ? {} : { log: (level: LogLevel, text: string) => ctx.log(level, text) }),
      onRequest: (request) => (ctx === undefined ? Promise.resolve({ statusCode: 503 }) : answer(ctx, { request, props })),
    });
  // Options and key material are checked at deploy; start reads the key material again.
  build(undefined);
  if (props.tls?.enabled === true) createServerTlsOptions(props.tls);
  return listenerSource(build);
}

/** One request through the engine: stored before the answer; 503 when the channel cannot take it, so the partner sends again. */
async function answer(ctx: SourceContext, input: { request: HttpInboundRequest; props: HttpProperties }): Promise<HttpReply> {
  const { request, props } = input;
  const content = props.bodyAs === "base64" ? request.body.toString("base64") : request.body.toString(props.charset);
  try {
    const result = await ctx.dispatch({
      content,
      sourceMap: {
        method: request.method,
        path: request.path,
        query: request.query,
        headers: request.headers,
        remoteAddress: request.remoteAddress,
        remotePort: request.remotePort,
        ...(request.partner === undefined ? {} : { partner: request.partner }),
        ...(request.peerCertificateSubject === undefined ? {} : { peerCertificateSubject: request.peerCertificateSubject }),
      },
    });
    if (result.response === undefined) return { statusCode: 204, headers: { "x-message-id": String(result.messageId) } };
    return {
      statusCode: OUTCOME_STATUS[result.response.outcome],
      headers: { "content-type": props.responseContentType, "x-message-id": String(result.messageId) },
      body: result.response.content,
    };
  } catch (error) {
    ctx.log("warn", `a request from ${request.remoteAddress} was answered 503: ${isNodeMirthError(error) ? error.code : "the channel did not take the message"}`);
    return { statusCode: 503, headers: { "retry-after": "5", "content-type": "text/plain; charset=utf-8" }, body: "Message not accepted; send it again\n" };
  }
}

function hasTemplate(text: string): boolean {
  return text.includes("${");
}

function credentialHeaders(credentials: HttpProperties["credentials"]): Record<string, string> {
  if (credentials === undefined) return {};
  switch (credentials.type) {
    case "basic":
      return { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64")}` };
    case "bearer":
      return { authorization: `Bearer ${credentials.token}` };
    case "apiKey":
      return { [credentials.header]: credentials.value };
  }
}

function createHttpDestination(props: HttpProperties, env: ConnectorEnvironment): DestinationConnector {
  const urlTemplate = props.url;
  if (urlTemplate === undefined) throw new HttpError("ERR_HTTP_INVALID_OPTIONS", "an HTTP destination needs url");
  const name = `HTTP sender of channel ${env.channelId}`;
  const build = () =>
    new HttpSender({
      ...(props.tls === undefined ? {} : { tls: props.tls }),
      ...(env.policy.egress === undefined ? {} : { egress: env.policy.egress }),
      maxSockets: props.maxSockets,
      keepAlive: props.keepAlive,
      connectTimeoutMs: props.connectTimeoutMs,
      responseTimeoutMs: props.responseTimeoutMs,
      maxResponseBytes: props.maxResponseBytes,
      retryableStatuses: props.retryableStatuses,
      maxRetryAfterMs: props.maxRetryAfterMs,
      name,
    });
  // Built now so a bad trust store, a client key or `rejectUnauthorized: false` is a deploy issue.
  const client = new DestinationClient(build);
  const staticHeaders = { ...props.headers, ...credentialHeaders(props.credentials) };
  if (!hasTemplate(urlTemplate)) {
    const url = parseHttpUrl(urlTemplate);
    // Early and clear at deploy; the check that protects runs again at every connect.
    env.policy.egress?.checkConfigured("http", url.hostname, url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port));
    client.get().assertNotCleartext(url, staticHeaders);
  }
  return {
    start() {
      client.get();
      return Promise.resolve();
    },
    stop: () => client.close(),
    async send(message, ctx) {
      const sender = client.get();
      return deliver(sender, { message, props, headers: staticHeaders, signal: ctx.signal });
    },
  };
}

function renderRequest(message: OutboundMessage, props: HttpProperties, headers: Record<string, string>) {
  const context = { message };
  const url = parseHttpUrl(renderMessageTemplate(props.url ?? "", context));
  for (const [key, value] of Object.entries(props.query)) url.searchParams.append(key, renderMessageTemplate(value, context));
  const rendered: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) rendered[key] = renderMessageTemplate(value, context);
  const text = renderMessageTemplate(props.body, context);
  const body = props.bodyEncoding === "base64" ? Buffer.from(text, "base64") : Buffer.from(text, props.charset);
  if (!Object.keys(rendered).some((h) => h.toLowerCase() === "content-type")) {
    rendered["content-type"] = props.bodyEncoding === "base64" ? props.contentType : `${props.contentType}; charset=${CHARSETS[props.charset]}`;
  }
  return { url, headers: rendered, body };
}

function responseContent(props: HttpProperties, response: Pick<HttpResponse, "statusCode" | "headers" | "body">): string {
  const body = props.responseEncoding === "base64" ? response.body.toString("base64") : response.body.toString(props.charset);
  if (!props.includeResponseMetadata) return body;
  return JSON.stringify({ statusCode: response.statusCode, headers: response.headers, body });
}

/** Codes whose failure retrying cannot fix: the configuration or the policy must change. */
const PERMANENT = new Set(["ERR_HTTP_INVALID_OPTIONS", "ERR_HTTP_REDIRECT_REFUSED", "ERR_HTTP_RESPONSE_TOO_LARGE", "ERR_POLICY_EGRESS_DENIED", "ERR_POLICY_INSECURE_TLS", "ERR_TEMPLATE_INVALID", "ERR_TEMPLATE_VALUE_MISSING"]);

async function deliver(sender: HttpSender, input: { message: OutboundMessage; props: HttpProperties; headers: Record<string, string>; signal: AbortSignal }): Promise<ConnectorResponse> {
  const { props } = input;
  try {
    const request = renderRequest(input.message, props, input.headers);
    const response = await sender.send({ ...request, method: props.method, signal: input.signal });
    return { status: "SENT", content: responseContent(props, response), message: `HTTP ${response.statusCode}` };
  } catch (error) {
    if (error instanceof HttpStatusError) {
      return {
        status: "ERROR",
        retryable: error.retryable,
        content: responseContent(props, error),
        message: `${error.code}: ${error.message}`,
        // The engine's queue then waits at least this long before its next attempt.
        ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      };
    }
    if (isNodeMirthError(error)) return { status: "ERROR", retryable: !PERMANENT.has(error.code), message: `${error.code}: ${error.message}` };
    throw error;
  }
}

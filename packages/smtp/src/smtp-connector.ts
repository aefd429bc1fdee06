import { tlsPropertiesSchema } from "@node-mirth/certs";
import {
  defineConnector,
  DestinationClient,
  flagProperty as flag,
  isNodeMirthError,
  renderMessageTemplate,
  wholeNumberProperty as count,
  type ConnectorEnvironment,
  type ConnectorPlugin,
  type ConnectorResponse,
  type DestinationConnector,
  type OutboundMessage,
} from "@node-mirth/core";
import { z } from "zod";
import { isSmtpError } from "./errors.js";
import { isRetryableSmtpFailure } from "./smtp-failure.js";
import { HEADER_NAME, type SmtpMail } from "./smtp-mail.js";
import { DEFAULT_SMTP_PORTS, SmtpSender } from "./smtp-sender.js";

/** A message-time template: `${message.encodedData}`, `${channelMap.key}`, `${date('yyyyMMdd')}`. */
const template = z.string();

const attachmentSchema = z.strictObject({
  /** File name (template). */
  name: template.min(1),
  /** Content (template): `${message.encodedData}`, or `${channelMap.pdf}` holding base64. */
  content: template,
  mimeType: z.string().trim().min(1).default("application/octet-stream"),
  /** How the rendered content becomes bytes: utf8 text, or base64 decoded. */
  encoding: z.enum(["utf8", "base64"]).default("utf8"),
});

/** Properties of the `smtp` destination. Address, subject, body, header and attachment values are templates. */
export const smtpPropertiesSchema = z
  .strictObject({
    smtpHost: z.string().trim().min(1),
    /** Default by encryption: 25 (none), 587 (tls), 465 (ssl). */
    smtpPort: count(1, 65535).optional(),
    /** none, tls (STARTTLS, required), ssl (implicit TLS). */
    encryption: z.enum(["none", "tls", "ssl"]).default("tls"),
    authentication: flag.default(false),
    username: z.string().optional(),
    /** Write `${SMTP_PASSWORD}`: resolved from the environment at deploy. */
    password: z.string().optional(),
    from: template.min(1),
    to: template.default(""),
    cc: template.default(""),
    bcc: template.default(""),
    replyTo: template.default(""),
    subject: template.default(""),
    body: template.default("${message.encodedData}"),
    /** Send the body as text/html instead of text/plain. */
    html: flag.default(false),
    /** Header names are checked here (RFC 5322 field names); values are templates checked per mail. */
    headers: z.record(z.string().regex(HEADER_NAME, "a header name: printable ASCII without spaces or colons"), template).default({}),
    attachments: z.array(attachmentSchema).default([]),
    /** Trust store, client certificate, SNI, TLS versions; `enabled` is not read (encryption decides). */
    tls: tlsPropertiesSchema.optional(),
    connectTimeoutMs: count(1).default(10_000),
    greetingTimeoutMs: count(1).default(30_000),
    socketTimeoutMs: count(1).default(60_000),
    /** Keep connections open and reuse them for the next mails. */
    pool: flag.default(false),
    maxConnections: count(1, 100).default(5),
  })
  .superRefine((props, context) => {
    if (props.authentication && (props.username === undefined || props.username === "" || props.password === undefined || props.password === "")) {
      context.addIssue({ code: "custom", path: ["username"], message: "authentication needs username and password" });
    }
  });

export type SmtpProperties = z.output<typeof smtpPropertiesSchema>;
export type SmtpPropertiesInput = z.input<typeof smtpPropertiesSchema>;

/**
 * The `smtp` connector plugin: `createEngine({ store, plugins: [smtp()] })`. A destination
 * fills its templates per message, sends through an SmtpSender and reports SENT with the
 * Message-ID, a retryable ERROR (4xx, unreachable, TLS) or a permanent one (5xx, refused login).
 */
export function smtp(): ConnectorPlugin<SmtpProperties> {
  return defineConnector({
    type: "smtp",
    propertiesSchema: smtpPropertiesSchema,
    createDestination: (properties, env) => createSmtpDestination(properties, env),
  });
}

function render(templateText: string, message: OutboundMessage, now: Date): string {
  return renderMessageTemplate(templateText, { message, now });
}

/** One mail from the properties and one message; every template sees the same instant. */
export function renderSmtpMail(props: SmtpProperties, message: OutboundMessage, now: Date = new Date()): SmtpMail {
  const fill = (text: string) => render(text, message, now);
  return {
    from: fill(props.from),
    to: fill(props.to),
    cc: fill(props.cc),
    bcc: fill(props.bcc),
    replyTo: fill(props.replyTo),
    subject: fill(props.subject),
    body: fill(props.body),
    html: props.html,
    headers: Object.fromEntries(Object.entries(props.headers).map(([name, value]) => [name, fill(value)])),
    attachments: props.attachments.map((a) => {
      const content = fill(a.content);
      return {
        filename: fill(a.name),
        content: a.encoding === "base64" ? Buffer.from(content, "base64") : content,
        contentType: a.mimeType,
      };
    }),
  };
}

function createSmtpDestination(props: SmtpProperties, env: ConnectorEnvironment): DestinationConnector {
  const port = props.smtpPort ?? DEFAULT_SMTP_PORTS[props.encryption];
  // Early and clear at deploy; the check that protects runs again at every connect.
  env.policy.egress?.checkConfigured("smtp", props.smtpHost, port);
  const build = () =>
    new SmtpSender({
      host: props.smtpHost,
      port,
      encryption: props.encryption,
      ...(props.authentication ? { auth: { user: props.username ?? "", pass: props.password ?? "" } } : {}),
      ...(props.tls === undefined ? {} : { tls: props.tls }),
      ...(env.policy.egress === undefined ? {} : { egress: env.policy.egress }),
      connectTimeoutMs: props.connectTimeoutMs,
      greetingTimeoutMs: props.greetingTimeoutMs,
      socketTimeoutMs: props.socketTimeoutMs,
      pool: props.pool,
      maxConnections: props.maxConnections,
    });
  // Built now so a bad trust store, or credentials over `none`, is a deploy issue.
  const client = new DestinationClient(build);
  return {
    start() {
      client.get();
      return Promise.resolve();
    },
    stop: () => client.close(),
    async send(message, ctx): Promise<ConnectorResponse> {
      const sender = client.get();
      try {
        const result = await sender.send(renderSmtpMail(props, message), { signal: ctx.signal });
        const refused = result.rejected.length === 0 ? "" : `; ${result.rejected.length} recipient(s) refused`;
        return { status: "SENT", content: result.messageId, message: `${sender.where} accepted ${result.messageId}: ${result.response}${refused}` };
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        if (isSmtpError(error)) return { status: "ERROR", retryable: isRetryableSmtpFailure(error), message: `${error.code}: ${text}` };
        // Egress refusals and unfillable templates will not heal by sending the same message again.
        if (isNodeMirthError(error)) return { status: "ERROR", retryable: false, message: `${error.code}: ${text}` };
        return { status: "ERROR", retryable: true, message: text };
      }
    },
  };
}

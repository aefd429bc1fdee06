import { NodeMirthError } from "./errors.js";
import type { OutboundMessage } from "./define-connector.js";

/**
 * Message-time templates: connector properties such as an HTTP body, a mail subject or a
 * file name that are filled in per message at send time, e.g.
 * `${message.encodedData}`, `${message.messageId}`, `${channelMap.mrn}`,
 * `${sourceMap.remoteAddress}`, `${originalFilename}`, `${date('yyyyMMddHHmmss')}`.
 * Deploy-time `${VAR}` configuration variables are resolved earlier by the engine
 * (`resolveVariables`), which leaves these names alone so the two never collide.
 */
export interface MessageTemplateContext {
  message: Pick<
    OutboundMessage,
    "channelId" | "messageId" | "destinationId" | "content" | "channelMap" | "sourceMap"
  >;
  /** The instant `${date(...)}` formats, in the server's local time zone; default now. */
  now?: Date;
  /** Further names a connector offers, e.g. `originalFilename` from a file reader. */
  variables?: Readonly<Record<string, string>>;
}

const MESSAGE_FIELDS = {
  encodedData: (m: MessageTemplateContext["message"]) => m.content,
  messageId: (m: MessageTemplateContext["message"]) => String(m.messageId),
  channelId: (m: MessageTemplateContext["message"]) => m.channelId,
  destinationId: (m: MessageTemplateContext["message"]) => m.destinationId,
} as const;

const MAP_NAMESPACES = ["channelMap", "sourceMap"] as const;
const PLAIN_NAMES = ["originalFilename"] as const;

/** `${...}` up to the first `}`; `$${` is a literal `${` and stays as written here. */
const TOKEN = /\$\$\{|\$\{([^}]*)\}/g;
const DATE_CALL = /^date\((['"])([^'"]*)\1\)$/;

/** True for names this module fills per message, so deploy-time resolution must skip them. */
export function isMessageTimeVariable(name: string): boolean {
  const dot = name.indexOf(".");
  const head = dot === -1 ? name : name.slice(0, dot);
  if (head === "message" || (MAP_NAMESPACES as readonly string[]).includes(head)) return dot > 0;
  return (PLAIN_NAMES as readonly string[]).includes(name);
}

export class MessageTemplateError extends NodeMirthError {
  constructor(code: "ERR_TEMPLATE_INVALID" | "ERR_TEMPLATE_VALUE_MISSING", message: string, token: string) {
    super(code, message, { details: { token } });
  }
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

const DATE_FIELDS: Record<string, (d: Date, width: number) => string> = {
  y: (d, width) => (width === 2 ? pad(d.getFullYear() % 100, 2) : pad(d.getFullYear(), width)),
  M: (d, width) => pad(d.getMonth() + 1, width),
  d: (d, width) => pad(d.getDate(), width),
  H: (d, width) => pad(d.getHours(), width),
  m: (d, width) => pad(d.getMinutes(), width),
  s: (d, width) => pad(d.getSeconds(), width),
  S: (d, width) => pad(d.getMilliseconds(), Math.max(width, 3)).slice(0, Math.max(width, 3)),
};

/** The SimpleDateFormat subset Mirth users write in file names: y M d H m s S; other characters are literal. */
export function formatTemplateDate(pattern: string, date: Date): string {
  return pattern.replace(/([yMdHmsS])\1*/g, (run: string) => {
    const field = DATE_FIELDS[run[0]!]!;
    return field(date, run.length);
  });
}

function mapValue(map: ReadonlyMap<string, unknown>, key: string): string | undefined {
  if (!map.has(key)) return undefined;
  const value = map.get(key);
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  return JSON.stringify(value);
}

function resolveToken(expression: string, context: MessageTemplateContext): string | undefined {
  const date = DATE_CALL.exec(expression);
  if (date !== null) return formatTemplateDate(date[2]!, context.now ?? new Date());
  if (!isMessageTimeVariable(expression)) return undefined;
  const dot = expression.indexOf(".");
  const head = dot === -1 ? expression : expression.slice(0, dot);
  const rest = expression.slice(dot + 1);
  const token = `\${${expression}}`;
  if (head === "message") {
    const field = MESSAGE_FIELDS[rest as keyof typeof MESSAGE_FIELDS] as
      | ((m: MessageTemplateContext["message"]) => string)
      | undefined;
    if (field === undefined) {
      throw new MessageTemplateError(
        "ERR_TEMPLATE_INVALID",
        `${token} is not a message field; use one of ${Object.keys(MESSAGE_FIELDS).map((f) => `message.${f}`).join(", ")}`,
        token,
      );
    }
    return field(context.message);
  }
  const value =
    head === "channelMap"
      ? mapValue(context.message.channelMap, rest)
      : head === "sourceMap"
        ? mapValue(context.message.sourceMap, rest)
        : (context.variables?.[expression] ?? mapValue(context.message.sourceMap, expression));
  if (value === undefined) {
    throw new MessageTemplateError(
      "ERR_TEMPLATE_VALUE_MISSING",
      `${token} has no value for message ${context.message.messageId}; set it in a transformer or fix the template`,
      token,
    );
  }
  return value;
}

/**
 * Fills a message-time template. Values are inserted verbatim, never re-scanned. Names that
 * are not message-time (configuration `${VAR}`s, already resolved at deploy, or literals
 * written `$${...}`) stay as written. A missing map value throws ERR_TEMPLATE_VALUE_MISSING
 * rather than sending a half-filled body or a file name with a hole in it.
 */
export function renderMessageTemplate(template: string, context: MessageTemplateContext): string {
  return template.replace(TOKEN, (match: string, expression: string | undefined) => {
    if (expression === undefined) return match;
    return resolveToken(expression, context) ?? match;
  });
}

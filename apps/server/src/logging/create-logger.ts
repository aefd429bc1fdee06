import { destination, multistream, pino, type DestinationStream, type Logger } from "pino";
import { LogLineTee } from "./log-line-tee.js";

/**
 * Keys that may hold PHI or secrets wherever they appear in a log object (one level deep):
 * message content, credentials, session ids. The engine and the API never put content in
 * log text; redaction is the net under that rule for structured fields.
 */
export const REDACTED_LOG_KEYS = [
  "content",
  "raw",
  "message.content",
  "encodedData",
  "password",
  "newPassword",
  "totp",
  "totpSecret",
  "secret",
  "sessionId",
  "cookie",
  "authorization",
] as const;

const REDACT_PATHS = [
  ...REDACTED_LOG_KEYS,
  ...REDACTED_LOG_KEYS.filter((key) => !key.includes(".")).map((key) => `*.${key}`),
  "req.headers.cookie",
  "req.headers.authorization",
  'req.headers["x-session-id"]',
  'res.headers["set-cookie"]',
];

export interface ServerLogging {
  logger: Logger;
  /** Every formatted (redacted) line, for `/ws/serverlog`. */
  lines: LogLineTee;
}

export interface CreateLoggerOptions {
  level: string;
  /** Where lines go besides the tee; default stdout. */
  destination?: DestinationStream;
}

/** The server's pino logger, redacting PHI and secrets, writing to stdout and to the tee. */
export function createServerLogger(options: CreateLoggerOptions): ServerLogging {
  const lines = new LogLineTee();
  const streams = multistream([
    { level: "trace", stream: options.destination ?? destination({ fd: 1, sync: false }) },
    { level: "trace", stream: lines },
  ]);
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    },
    streams,
  );
  return { logger, lines };
}

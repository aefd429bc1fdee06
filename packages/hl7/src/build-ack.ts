import { randomBytes } from "node:crypto";
import {
  DEFAULT_DELIMITERS,
  encodingCharacters,
  readDelimiters,
  type Hl7Delimiters,
} from "./delimiters.js";
import { escapeHl7 } from "./escape.js";
import type { Hl7Message } from "./hl7-message.js";
import { parseHl7 } from "./parse-hl7.js";

export type AckOutcome = "accept" | "error" | "reject";

export interface BuildAckOptions {
  outcome: AckOutcome;
  /** MSA-3 text; escaped. Keep PHI out of it: ACKs are logged by many systems. */
  text?: string;
  /** HL7 table 0357 code for ERR, e.g. "207" (the default: application internal error). */
  errorCode?: string;
  severity?: "E" | "W" | "I";
  /** MSH-10 of the ACK; a random 20-character id by default. */
  controlId?: string;
  /** MSH-7 of the ACK; now by default. */
  timestamp?: Date;
  /**
   * In enhanced mode, whether this is the accept (commit) ACK, CA/CE/CR governed by
   * MSH-15 (the default), or the application ACK, AA/AE/AR governed by MSH-16.
   */
  ackType?: "accept" | "application";
}

const CODES = {
  original: { accept: "AA", error: "AE", reject: "AR" },
  accept: { accept: "CA", error: "CE", reject: "CR" },
  application: { accept: "AA", error: "AE", reject: "AR" },
} as const;

/** Descriptions of HL7 table 0357 for ERR-3.2. */
const ERROR_TEXTS: Record<string, string> = {
  "0": "Message accepted",
  "100": "Segment sequence error",
  "101": "Required field missing",
  "102": "Data type error",
  "103": "Table value not found",
  "200": "Unsupported message type",
  "201": "Unsupported event code",
  "202": "Unsupported processing id",
  "203": "Unsupported version id",
  "204": "Unknown key identifier",
  "205": "Duplicate key identifier",
  "206": "Application record locked",
  "207": "Application internal error",
};

/**
 * Builds the ACK for `original`. Original mode (MSH-15 and MSH-16 empty) always answers
 * AA/AE/AR. Enhanced mode answers CA/CE/CR (or AA/AE/AR with `ackType: "application"`)
 * only when the condition in MSH-15 (or MSH-16) allows it: AL always, NE never, ER on
 * error/reject, SU on accept; empty means AL. Returns undefined when no ACK is due.
 */
export function buildAck(original: Hl7Message, options: BuildAckOptions): Hl7Message | undefined {
  const acceptCondition = original.get("MSH.15") ?? "";
  const applicationCondition = original.get("MSH.16") ?? "";
  const enhanced = acceptCondition !== "" || applicationCondition !== "";
  const ackType = enhanced ? (options.ackType ?? "accept") : "original";
  if (ackType !== "original") {
    const condition = ackType === "accept" ? acceptCondition : applicationCondition;
    if (!conditionAllows(condition, options.outcome)) return undefined;
  }
  return createAck({
    delimiters: original.delimiters,
    header: {
      sendingApplication: original.getRaw("MSH.5"),
      sendingFacility: original.getRaw("MSH.6"),
      receivingApplication: original.getRaw("MSH.3"),
      receivingFacility: original.getRaw("MSH.4"),
      trigger: original.getRaw("MSH.9.2"),
      processingId: original.getRaw("MSH.11"),
      version: original.getRaw("MSH.12"),
      charset: original.getRaw("MSH.18"),
      originalControlId: original.getRaw("MSH.10"),
    },
    code: CODES[ackType][options.outcome],
    options,
    defaultCharset: original.charset,
  });
}

/**
 * A best-effort AR for input that could not be parsed: whatever of MSH can be read
 * (delimiters, MSH-3..6, 9.2, 10, 11, 12) is echoed raw, otherwise the defaults are used.
 */
export function buildAckForUnparseable(
  raw: Buffer | string,
  options: Omit<BuildAckOptions, "outcome"> = {},
): Hl7Message {
  const text = typeof raw === "string" ? raw : raw.toString("latin1");
  const start = text.search(/[^\r\n]/);
  const lineEnd = text.slice(Math.max(start, 0)).search(/[\r\n]/);
  const line = start === -1 ? "" : text.slice(start, lineEnd === -1 ? undefined : start + lineEnd);
  let delimiters: Hl7Delimiters = DEFAULT_DELIMITERS;
  let fields: string[] = [];
  if (line.startsWith("MSH")) {
    try {
      delimiters = readDelimiters(line);
      fields = line.split(delimiters.field);
    } catch {
      // Unreadable delimiters: answer with the defaults and echo nothing.
    }
  }
  const field = (n: number) => fields[n - 1];
  const first = (value: string | undefined, separator: string) => value?.split(separator)[0];
  const secondComponent = (value: string | undefined) =>
    first(value, delimiters.repetition)?.split(delimiters.component)[1];
  const request = { delimiters, code: "AR", options: { ...options, outcome: "reject" as const } };
  try {
    return createAck({
      ...request,
      header: {
        sendingApplication: field(5),
        sendingFacility: field(6),
        receivingApplication: field(3),
        receivingFacility: field(4),
        trigger: secondComponent(field(9)),
        processingId: field(11),
        version: field(12),
        originalControlId: field(10),
      },
    });
  } catch {
    // An echoed field that does not parse (say, a bad segment name after it) is dropped.
    return createAck({ ...request, header: {} });
  }
}

interface AckHeader {
  sendingApplication?: string | undefined;
  sendingFacility?: string | undefined;
  receivingApplication?: string | undefined;
  receivingFacility?: string | undefined;
  trigger?: string | undefined;
  processingId?: string | undefined;
  version?: string | undefined;
  charset?: string | undefined;
  originalControlId?: string | undefined;
}

interface AckRequest {
  delimiters: Hl7Delimiters;
  header: AckHeader;
  code: string;
  options: BuildAckOptions;
  defaultCharset?: string;
}

function createAck(request: AckRequest): Hl7Message {
  const { delimiters: d, header, code, options } = request;
  const trigger = header.trigger ?? "";
  const messageType = trigger === "" ? "ACK" : ["ACK", trigger, "ACK"].join(d.component);
  const controlId = escapeHl7(options.controlId ?? randomBytes(10).toString("hex"), d);
  const msh = [
    "MSH",
    encodingCharacters(d),
    header.sendingApplication ?? "",
    header.sendingFacility ?? "",
    header.receivingApplication ?? "",
    header.receivingFacility ?? "",
    hl7Timestamp(options.timestamp ?? new Date()),
    "",
    messageType,
    controlId,
    header.processingId ?? "P",
    header.version ?? "",
    "",
    "",
    "",
    "",
    "",
    header.charset ?? "",
  ];
  const segments = [trimEmpty(msh).join(d.field)];
  const text = options.text === undefined ? "" : escapeHl7(options.text, d);
  // MSA-2 is required even when the original's MSH-10 could not be read.
  segments.push(
    ["MSA", code, header.originalControlId ?? "", ...(text === "" ? [] : [text])].join(d.field),
  );
  if (options.outcome !== "accept") segments.push(errSegment(d, options, header.version ?? ""));
  return parseHl7(
    segments.join("\r") + "\r",
    request.defaultCharset === undefined ? {} : { defaultCharset: request.defaultCharset },
  );
}

/** ERR-3 (CWE from table 0357) and ERR-4 severity from v2.5 on; ERR-1 (ELD) before it. */
function errSegment(d: Hl7Delimiters, options: BuildAckOptions, version: string): string {
  const code = escapeHl7(options.errorCode ?? "207", d);
  const description = escapeHl7(ERROR_TEXTS[options.errorCode ?? "207"] ?? "", d);
  if (versionAtLeast(version.split(d.component)[0] ?? "", 2, 5)) {
    return [
      "ERR",
      "",
      "",
      [code, description, "HL70357"].join(d.component),
      options.severity ?? "E",
    ].join(d.field);
  }
  const codedError = [code, description, "HL70357"].join(d.subcomponent);
  return ["ERR", ["", "", "", codedError].join(d.component)].join(d.field);
}

function conditionAllows(condition: string, outcome: AckOutcome): boolean {
  switch (condition) {
    case "NE":
      return false;
    case "ER":
      return outcome !== "accept";
    case "SU":
      return outcome === "accept";
    default:
      return true;
  }
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [majorText, minorText] = version.split(".");
  const actualMajor = Number(majorText);
  const actualMinor = Number(minorText ?? "0");
  if (Number.isNaN(actualMajor) || Number.isNaN(actualMinor)) return false;
  return actualMajor > major || (actualMajor === major && actualMinor >= minor);
}

/** YYYYMMDDHHMMSS.SSS+0000 in UTC (HL7 DTM). */
function hl7Timestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").replace("Z", "+0000");
}

/** Drops trailing empty fields, as senders do. */
function trimEmpty(fields: string[]): string[] {
  let end = fields.length;
  while (end > 1 && fields[end - 1] === "") end--;
  return fields.slice(0, end);
}

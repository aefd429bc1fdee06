import type { Hl7Position } from "./errors.js";
import { Hl7ParseError } from "./errors.js";

/** A structural or count problem found while splitting; reported, or thrown in strict mode. */
export interface Hl7BatchIssue {
  code: "ERR_HL7_BATCH_STRUCTURE" | "ERR_HL7_BATCH_COUNT_MISMATCH";
  message: string;
  position: Hl7Position;
}

/** One BHS ... BTS batch; `header`/`trailer` are absent for messages outside any BHS. */
export interface Hl7BatchGroup<T extends string | Buffer = string> {
  header?: T;
  trailer?: T;
  messages: T[];
  /** BTS-1, when the trailer states it. */
  declaredMessageCount?: number;
}

export interface Hl7Batch<T extends string | Buffer = string> {
  fileHeader?: T;
  fileTrailer?: T;
  /** FTS-1, when the file trailer states it. */
  declaredBatchCount?: number;
  batches: Hl7BatchGroup<T>[];
  /** Every message of every batch, in order, each ready for `parseHl7`. */
  messages: T[];
  issues: Hl7BatchIssue[];
}

export interface SplitBatchOptions {
  /** Throw the first issue as an `Hl7ParseError` instead of reporting it. */
  strict?: boolean;
}

interface Line {
  start: number;
  end: number;
  name: string;
}

/**
 * Splits an FHS/BHS/BTS/FTS batch file (or a bare run of messages) into messages. Given
 * bytes, it returns byte slices, so each message keeps its own MSH-18 encoding; segment
 * texts are returned without their line break.
 */
export function splitBatch<T extends string | Buffer>(
  input: T,
  options: SplitBatchOptions = {},
): Hl7Batch<T> {
  const text = typeof input === "string" ? input : input.toString("latin1");
  // Latin-1 maps each byte to one character, so text offsets are byte offsets.
  const slice = (start: number, end: number): T =>
    (typeof input === "string" ? input.slice(start, end) : input.subarray(start, end)) as T;
  const batch: Hl7Batch<T> = { batches: [], messages: [], issues: [] };
  const issue = (code: Hl7BatchIssue["code"], message: string, position: Hl7Position) => {
    if (options.strict === true) throw new Hl7ParseError(code, message, { position });
    batch.issues.push({ code, message, position });
  };
  let group: Hl7BatchGroup<T> | undefined;
  let messageStart = -1;
  let segmentNumber = 0;
  let sawBatchHeader = false;
  const closeMessage = (end: number) => {
    if (messageStart === -1) return;
    const message = slice(messageStart, end);
    group?.messages.push(message);
    batch.messages.push(message);
    messageStart = -1;
  };
  for (const line of lines(text)) {
    segmentNumber++;
    const position = { segment: segmentNumber, offset: line.start };
    switch (line.name) {
      case "FHS":
        if (segmentNumber !== 1)
          issue("ERR_HL7_BATCH_STRUCTURE", "FHS must be the first segment", position);
        batch.fileHeader = slice(line.start, line.end);
        break;
      case "BHS":
        closeMessage(line.start);
        if (group?.header !== undefined && group.trailer === undefined) {
          issue("ERR_HL7_BATCH_STRUCTURE", "A batch (BHS) is not closed by BTS", position);
        }
        group = { header: slice(line.start, line.end), messages: [] };
        batch.batches.push(group);
        sawBatchHeader = true;
        break;
      case "MSH":
        closeMessage(line.start);
        if (group === undefined || group.trailer !== undefined) {
          if (sawBatchHeader)
            issue("ERR_HL7_BATCH_STRUCTURE", "A message is outside any batch (BHS)", position);
          group = { messages: [] };
          batch.batches.push(group);
        }
        messageStart = line.start;
        break;
      case "BTS": {
        closeMessage(line.start);
        const declared = countField(text, line);
        if (group === undefined || group.header === undefined || group.trailer !== undefined) {
          issue("ERR_HL7_BATCH_STRUCTURE", "BTS without a matching BHS", position);
        }
        if (group !== undefined) {
          group.trailer = slice(line.start, line.end);
          if (typeof declared === "number") group.declaredMessageCount = declared;
          if (typeof declared === "number" && declared !== group.messages.length) {
            issue(
              "ERR_HL7_BATCH_COUNT_MISMATCH",
              `BTS-1 declares ${declared} messages but the batch holds ${group.messages.length}`,
              position,
            );
          }
        }
        if (declared === null) issue("ERR_HL7_BATCH_STRUCTURE", "BTS-1 is not a number", position);
        break;
      }
      case "FTS": {
        closeMessage(line.start);
        batch.fileTrailer = slice(line.start, line.end);
        const declared = countField(text, line);
        if (declared === null) issue("ERR_HL7_BATCH_STRUCTURE", "FTS-1 is not a number", position);
        if (typeof declared === "number") {
          batch.declaredBatchCount = declared;
          if (declared !== batch.batches.length) {
            issue(
              "ERR_HL7_BATCH_COUNT_MISMATCH",
              `FTS-1 declares ${declared} batches but the file holds ${batch.batches.length}`,
              position,
            );
          }
        }
        break;
      }
      default:
        if (messageStart === -1) {
          issue("ERR_HL7_BATCH_STRUCTURE", "A segment is outside any message", position);
        }
    }
  }
  closeMessage(text.length);
  if (batch.fileHeader !== undefined && batch.fileTrailer === undefined) {
    issue("ERR_HL7_BATCH_STRUCTURE", "The file header (FHS) has no FTS trailer", {
      segment: segmentNumber,
    });
  }
  if (group?.header !== undefined && group.trailer === undefined) {
    issue("ERR_HL7_BATCH_STRUCTURE", "The last batch (BHS) has no BTS trailer", {
      segment: segmentNumber,
    });
  }
  return batch;
}

/** Non-blank lines with their offsets; CR, LF and CRLF all end a line. */
function* lines(text: string): Generator<Line> {
  let start = 0;
  while (start < text.length) {
    let end = start;
    while (end < text.length && text.charCodeAt(end) !== 13 && text.charCodeAt(end) !== 10) end++;
    let next = end;
    while (next < text.length && (text.charCodeAt(next) === 13 || text.charCodeAt(next) === 10))
      next++;
    if (text.slice(start, end).trim() !== "")
      yield { start, end, name: text.slice(start, start + 3) };
    start = next;
  }
}

/** Field 1 of a BTS/FTS as a count: undefined when empty, null when not a number. */
function countField(text: string, line: Line): number | undefined | null {
  const segment = text.slice(line.start, line.end);
  const value = segment.length > 4 ? (segment.slice(4).split(segment.charAt(3))[0] ?? "") : "";
  if (value.trim() === "") return undefined;
  return /^\d+$/.test(value.trim()) ? Number(value.trim()) : null;
}

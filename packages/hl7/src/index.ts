export { parseHl7, type ParseHl7Options } from "./parse-hl7.js";
export { Hl7Message } from "./hl7-message.js";
export { Hl7Segment } from "./hl7-segment.js";
export { parseHl7Path, type Hl7Path } from "./hl7-path.js";
export { DEFAULT_DELIMITERS, type Hl7Delimiters } from "./delimiters.js";
export { escapeHl7, unescapeHl7, HL7_NULL } from "./escape.js";
export { resolveCharset, DEFAULT_CHARSET, type Hl7Charset } from "./charset.js";
export {
  splitBatch,
  type Hl7Batch,
  type Hl7BatchGroup,
  type Hl7BatchIssue,
  type SplitBatchOptions,
} from "./batch.js";
export { splitMessages, Hl7MessageSplitter } from "./split-messages.js";
export {
  buildAck,
  buildAckForUnparseable,
  type AckOutcome,
  type BuildAckOptions,
} from "./build-ack.js";
export { hl7FromXml } from "./hl7-from-xml.js";
export {
  HL7_ERROR_CODES,
  Hl7Error,
  Hl7ParseError,
  Hl7CharsetError,
  Hl7XmlError,
  Hl7UsageError,
  type Hl7ErrorCode,
  type Hl7Position,
} from "./errors.js";

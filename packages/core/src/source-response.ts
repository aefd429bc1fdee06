import { buildAck, buildAckForUnparseable, type Hl7Message } from "@node-mirth/hl7";
import type { DataType } from "./channel-schema.js";
import type { SourceResponse } from "./define-connector.js";

/**
 * The answer to a source for an outcome: an HL7 ACK (AA/AE/AR per the original's MSH, via
 * @node-mirth/hl7) for HL7 v2, the bare outcome for other data types. Undefined when HL7
 * enhanced acknowledgement mode says this message gets no ACK. `text` never carries content.
 */
export function buildSourceResponse(input: {
  dataType: DataType;
  parsed: Hl7Message | undefined;
  outcome: SourceResponse["outcome"];
  text?: string;
}): SourceResponse | undefined {
  if (input.dataType !== "HL7V2" || input.parsed === undefined)
    return { outcome: input.outcome, content: "" };
  const ack = buildAck(input.parsed, {
    outcome: input.outcome,
    ...(input.text === undefined ? {} : { text: input.text }),
  });
  return ack === undefined ? undefined : { outcome: input.outcome, content: ack.toString() };
}

/** The best-effort AR for bytes that are not HL7: the message is stored as ERROR, never dropped. */
export function buildUnparseableResponse(raw: string): SourceResponse {
  return {
    outcome: "reject",
    content: buildAckForUnparseable(raw, {
      text: "Message could not be parsed as HL7 v2",
    }).toString(),
  };
}

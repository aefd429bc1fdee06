import { describe, expect, it } from "vitest";
import { fixture } from "./__fixtures__/fixtures.js";
import { splitBatch } from "./batch.js";
import { Hl7ParseError } from "./errors.js";
import { parseHl7 } from "./parse-hl7.js";

describe("splitBatch", () => {
  it("splits an FHS/BHS/BTS/FTS file into its batches and messages", () => {
    const batch = splitBatch(fixture("batch.hl7").toString("latin1"));
    expect(batch.issues).toEqual([]);
    expect(batch.fileHeader).toMatch(/^FHS\|\^~\\&\|LAB\|.*FILE001$/);
    expect(batch.fileTrailer).toBe("FTS|2");
    expect(batch.declaredBatchCount).toBe(2);
    expect(batch.batches).toHaveLength(2);
    expect(batch.batches[0]?.header).toMatch(/BATCH01$/);
    expect(batch.batches[0]?.trailer).toBe("BTS|2");
    expect(batch.batches[0]?.declaredMessageCount).toBe(2);
    expect(batch.batches[1]?.messages).toHaveLength(1);
    expect(batch.messages.map((message) => parseHl7(message).controlId)).toEqual([
      "B1M1",
      "B1M2",
      "B2M1",
    ]);
    expect(batch.messages[0]).toBe(
      "MSH|^~\\&|LAB|CITYHOSP|EHR|CITYHOSP|20240601000001||ORU^R01|B1M1|P|2.5\rPID|1||A1\rOBX|1|NM|X||1\r",
    );
  });

  it("returns byte slices for bytes, so each message keeps its own encoding", () => {
    const utf8 = Buffer.from(
      "MSH|^~\\&|||||||ADT^A01|U1|P|2.5||||||UNICODE UTF-8\rPID|1||Zoë\r",
      "utf8",
    );
    const input = Buffer.concat([Buffer.from("BHS|^~\\&\r"), utf8, Buffer.from("BTS|1\r")]);
    const batch = splitBatch(input);
    expect(batch.messages[0]?.equals(utf8)).toBe(true);
    expect(parseHl7(batch.messages[0] ?? Buffer.alloc(0)).get("PID.3")).toBe("Zoë");
  });

  it("reports BTS and FTS counts that disagree with the content", () => {
    const text = "FHS|^~\\&\rBHS|^~\\&\rMSH|^~\\&|A\rBTS|3\rFTS|5\r";
    const batch = splitBatch(text);
    expect(batch.messages).toHaveLength(1);
    expect(batch.issues.map((issue) => issue.code)).toEqual([
      "ERR_HL7_BATCH_COUNT_MISMATCH",
      "ERR_HL7_BATCH_COUNT_MISMATCH",
    ]);
    expect(batch.issues[0]?.message).toBe("BTS-1 declares 3 messages but the batch holds 1");
    expect(batch.issues[0]?.position).toEqual({ segment: 4, offset: text.indexOf("BTS") });
    expect(() => splitBatch(text, { strict: true })).toThrow(Hl7ParseError);
  });

  it("reports structural problems", () => {
    const codes = (text: string) => splitBatch(text).issues.map((issue) => issue.message);
    expect(codes("FHS|^~\\&\rMSH|^~\\&|A\r")).toEqual(["The file header (FHS) has no FTS trailer"]);
    expect(codes("BHS|^~\\&\rMSH|^~\\&|A\r")).toEqual(["The last batch (BHS) has no BTS trailer"]);
    expect(codes("PID|1\rMSH|^~\\&|A\r")).toEqual(["A segment is outside any message"]);
    expect(codes("MSH|^~\\&|A\rBTS|x\r")).toEqual([
      "BTS without a matching BHS",
      "BTS-1 is not a number",
    ]);
  });

  it("treats messages without batch headers as one implicit batch", () => {
    const batch = splitBatch("MSH|^~\\&|A\r\nPID|1\r\nMSH|^~\\&|B\r\n");
    expect(batch.issues).toEqual([]);
    expect(batch.batches).toHaveLength(1);
    expect(batch.batches[0]?.header).toBeUndefined();
    expect(batch.messages).toEqual(["MSH|^~\\&|A\r\nPID|1\r\n", "MSH|^~\\&|B\r\n"]);
  });
});

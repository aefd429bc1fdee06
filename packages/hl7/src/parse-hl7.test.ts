import { describe, expect, it } from "vitest";
import { FIXTURE_NAMES, fixture } from "./__fixtures__/fixtures.js";
import { Hl7CharsetError, Hl7ParseError } from "./errors.js";
import { parseHl7 } from "./parse-hl7.js";

const SECRET = "SECRETPATIENTNAME";

function parseError(input: string | Buffer): Hl7ParseError {
  try {
    parseHl7(input);
  } catch (error) {
    if (error instanceof Hl7ParseError) return error;
    throw error;
  }
  throw new Error("expected an Hl7ParseError");
}

describe("parseHl7", () => {
  it.each(FIXTURE_NAMES)(
    "serializes the untouched %s byte for byte, from bytes and from text",
    (name) => {
      const bytes = fixture(name);
      const fromBytes = parseHl7(bytes);
      expect(fromBytes.toBuffer().equals(bytes)).toBe(true);
      const text = fromBytes.toString();
      expect(parseHl7(text).toString()).toBe(text);
    },
  );

  it("takes the delimiters from MSH-1 and MSH-2, never assuming the usual ones", () => {
    const message = parseHl7("MSH#:*!$#APP#FAC\rPID#1##1:2$3:X*4:5:6:7");
    expect(message.delimiters).toEqual({
      field: "#",
      component: ":",
      repetition: "*",
      escape: "!",
      subcomponent: "$",
      segment: "\r",
    });
    expect(message.get("MSH.3")).toBe("APP");
    expect(message.get("PID.3.1")).toBe("1");
    expect(message.get("PID.3.2.2")).toBe("3");
    expect(message.get("PID.3[2].3")).toBe("6");
  });

  it("reads the v2.7 truncation character as the fifth encoding character", () => {
    const message = parseHl7(fixture("v27-truncation.hl7"));
    expect(message.delimiters.truncation).toBe("#");
    expect(message.get("MSH.2")).toBe("^~\\&#");
    expect(message.get("PID.5.1")).toBe("LONGNAME#");
    expect(message.get("NTE.3")).toBe("Literal # truncation char and |");
  });

  it("never splits or unescapes MSH-1 and MSH-2", () => {
    const message = parseHl7("MSH|^~\\&|A\rPID|1");
    expect(message.get("MSH.1")).toBe("|");
    expect(message.get("MSH.2")).toBe("^~\\&");
    expect(message.getRaw("MSH.2")).toBe("^~\\&");
    expect(message.get("MSH.2.1")).toBe("^~\\&");
    expect(message.get("MSH.2.2")).toBeUndefined();
    expect(message.get("MSH.3")).toBe("A");
  });

  it.each([
    ["CR", "\r"],
    ["LF", "\n"],
    ["CRLF", "\r\n"],
  ])("accepts %s between segments and keeps it", (_label, separator) => {
    const text = ["MSH|^~\\&|A", "PID|1||42", "PV1|1|I"].join(separator) + separator;
    const message = parseHl7(text);
    expect(message.segments().map((segment) => segment.name)).toEqual(["MSH", "PID", "PV1"]);
    expect(message.get("PID.3")).toBe("42");
    expect(message.toString()).toBe(text);
  });

  it("keeps blank lines, leading line breaks and trailing padding so the text round-trips", () => {
    const text = "\r\nMSH|^~\\&|A\r\r\nPID|1\n  ";
    const message = parseHl7(text);
    expect(message.segments()).toHaveLength(2);
    expect(message.toString()).toBe(text);
  });

  it("accepts a leading UTF-8 byte-order mark, decodes as UTF-8 unless MSH-18 says otherwise, and keeps it", () => {
    const body = "MSH|^~\\&|A\rPID|1||Zoë\r";
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body, "utf8")]);
    const message = parseHl7(withBom);
    expect(message.charset).toBe("utf-8");
    expect(message.get("PID.3")).toBe("Zoë");
    expect(message.toBuffer().equals(withBom)).toBe(true);
    message.set("PID.4", "x");
    expect(
      message
        .toBuffer()
        .subarray(0, 6)
        .equals(Buffer.from([0xef, 0xbb, 0xbf, 0x4d, 0x53, 0x48])),
    ).toBe(true);

    const latin1 = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from("MSH|^~\\&|||||||ADT^A01|1|P|2.5||||||8859/1\rPID|1", "latin1"),
    ]);
    expect(parseHl7(latin1).toBuffer().equals(latin1)).toBe(true);
    expect(parseHl7(latin1).get("PID.1")).toBe("1");

    const text = "\uFEFF" + body;
    expect(parseHl7(text).toString()).toBe(text);
  });

  it("rejects empty input and input that does not start with MSH", () => {
    expect(parseError("").code).toBe("ERR_HL7_EMPTY_INPUT");
    expect(parseError(Buffer.from("\r\n \r")).code).toBe("ERR_HL7_EMPTY_INPUT");
    const missing = parseError(`PID|1||${SECRET}`);
    expect(missing.code).toBe("ERR_HL7_MISSING_MSH");
    expect(missing.position).toEqual({ segment: 1, offset: 0 });
  });

  it.each([
    ["a letter as field separator", "MSHA^~\\&A"],
    ["three encoding characters", "MSH|^~\\|X"],
    ["six encoding characters", "MSH|^~\\&#!|X"],
    ["a repeated encoding character", "MSH|^^\\&|X"],
    ["an encoding character equal to the field separator", "MSH|^~\\|"],
    ["a digit as encoding character", "MSH|^~1&|X"],
    ["nothing after MSH", "MSH"],
  ])("rejects %s with ERR_HL7_INVALID_DELIMITERS", (_label, text) => {
    const error = parseError(text);
    expect(error.code).toBe("ERR_HL7_INVALID_DELIMITERS");
    expect(error.position?.segment).toBe(1);
  });

  it("reports a bad segment by number and offset, never by content", () => {
    const text = `MSH|^~\\&|A\rPID|1||${SECRET}\r${SECRET}|x`;
    const error = parseError(text);
    expect(error.code).toBe("ERR_HL7_INVALID_SEGMENT_NAME");
    expect(error.position).toEqual({ segment: 3, offset: text.lastIndexOf(SECRET) });
    expect(error.message).toContain("segment 3");
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain("SEC");
  });

  it("rejects a segment name that is not three upper-case letters or digits", () => {
    expect(parseError("MSH|^~\\&\rpid|1").code).toBe("ERR_HL7_INVALID_SEGMENT_NAME");
    expect(parseError("MSH|^~\\&\rPIDX|1").code).toBe("ERR_HL7_INVALID_SEGMENT_NAME");
    expect(parseError("MSH|^~\\&\rPI").code).toBe("ERR_HL7_INVALID_SEGMENT_NAME");
    expect(parseError("MSH|^~\\&\r1AB|x").code).toBe("ERR_HL7_INVALID_SEGMENT_NAME");
    expect(
      parseHl7("MSH|^~\\&\rOM1|x\rZ12|y")
        .segments()
        .map((segment) => segment.name),
    ).toEqual(["MSH", "OM1", "Z12"]);
  });

  it("refuses a second MSH instead of merging two messages", () => {
    const text = "MSH|^~\\&|A\rPID|1\rMSH|^~\\&|B\rPID|2\r";
    const error = parseError(text);
    expect(error.code).toBe("ERR_HL7_MULTIPLE_MESSAGES");
    expect(error.position).toEqual({ segment: 3, offset: text.indexOf("MSH|^~\\&|B") });
  });

  it("throws a typed charset error for an MSH-18 it cannot honour", () => {
    const error = parseError("MSH|^~\\&|||||||ADT^A01|1|P|2.5||||||KLINGON\rPID|1");
    expect(error).toBeInstanceOf(Hl7CharsetError);
    expect(error.code).toBe("ERR_HL7_UNSUPPORTED_CHARSET");
  });

  it("gives the message as the fields the header says", () => {
    const message = parseHl7(fixture("adt-a01.hl7"));
    expect(message.messageType).toBe("ADT");
    expect(message.triggerEvent).toBe("A01");
    expect(message.controlId).toBe("MSG00001");
    expect(message.version).toBe("2.5.1");
    expect(message.charset).toBe("latin1");
  });
});

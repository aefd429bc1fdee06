import { describe, expect, it } from "vitest";
import { fixture } from "./__fixtures__/fixtures.js";
import { Hl7UsageError } from "./errors.js";
import { parseHl7 } from "./parse-hl7.js";

const adt = () => parseHl7(fixture("adt-a01.hl7"));
const oru = () => parseHl7(fixture("oru-r01.hl7"));

describe("Hl7Message.get", () => {
  it("reads fields, repetitions, components and subcomponents by 1-based HL7 paths", () => {
    const message = adt();
    expect(message.get("PID.5.1")).toBe("JONES");
    expect(message.get("PID.5.2")).toBe("WILLIAM");
    expect(message.get("PID.3.1")).toBe("PATID1234");
    expect(message.get("PID.3[2].1")).toBe("123456789");
    expect(message.get("PID.3[2].5")).toBe("SS");
    expect(message.get("PID-7")).toBe("19610615");
    expect(message.get("PV1.3.2")).toBe("2012");
    expect(message.get("MSH.9.3")).toBe("ADT_A01");
  });

  it("numbers MSH fields from the field separator: MSH.1 is '|', MSH.3 the sending application", () => {
    const message = adt();
    expect(message.get("MSH.1")).toBe("|");
    expect(message.get("MSH.3")).toBe("EPICADT");
    expect(message.get("MSH.10")).toBe("MSG00001");
    expect(message.get("MSH.18")).toBe("8859/1");
  });

  it("picks the n-th segment occurrence", () => {
    const message = oru();
    expect(message.get("OBX.3.1")).toBe("2093-3");
    expect(message.get("OBX[2].3.1")).toBe("2571-8");
    expect(message.get("OBX[3].2")).toBe("FT");
    expect(message.get("OBX[5].2")).toBeUndefined();
  });

  it("reads subcomponents", () => {
    const message = oru();
    expect(message.get("PID.3[4].4.2")).toBe("2.16.840.1.113883.19");
    expect(message.get("PID.3[4].4.3")).toBe("ISO");
    expect(message.get("PID.3[4].4.1")).toBe("");
  });

  it("returns a whole repetition, and raw text for anything that still has structure", () => {
    const message = adt();
    expect(message.get("PID.3[2]")).toBe("123456789^^^USSSA^SS");
    expect(message.get("PID.5")).toBe("JONES^WILLIAM^A^III^^^L");
    expect(message.get("PID.3")).toBe("PATID1234^5^M11^ADT1^MR^GOODHEALTH~123456789^^^USSSA^SS");
    expect(message.get("PID")).toBe(message.segments("PID")[0]?.toString());
  });

  it("decodes escape sequences only in leaf values; getRaw keeps them", () => {
    const message = oru();
    expect(message.get("PID.5.1")).toBe("O&BRIEN");
    expect(message.getRaw("PID.5.1")).toBe("O\\T\\BRIEN");
    expect(message.get("OBX[3].5")).toBe(
      "Fasting & hydrated\\.br\\Ratio 3^1 | see ~ notes\\path\r\nend\\Zcustom\\\\H\\bold\\N\\ \\Q\\",
    );
  });

  it("tells absent (undefined) from empty ('') from the explicit null", () => {
    const message = oru();
    expect(message.get("PID.2")).toBe("");
    expect(message.get("PID.99")).toBeUndefined();
    expect(message.get("PID.5.9")).toBeUndefined();
    expect(message.get("ZZZ.1")).toBeUndefined();
    expect(message.get("ZZZ")).toBeUndefined();
    expect(message.get("PID.5.3")).toBe('""');
    expect(message.isNull("PID.5.3")).toBe(true);
    expect(message.isNull("PID.5.2")).toBe(false);
    expect(message.isNull("OBX[2].5")).toBe(true);
    expect(message.isNull("PID.2")).toBe(false);
  });

  it("iterates over segments and repetitions", () => {
    const message = oru();
    expect([...message].map((segment) => segment.name)).toEqual([
      "MSH",
      "PID",
      "ORC",
      "OBR",
      "OBX",
      "OBX",
      "OBX",
      "OBX",
      "NTE",
    ]);
    expect(message.segments("OBX")).toHaveLength(4);
    expect(message.repetitions("OBX[4].5")).toEqual(["", "second rep", ""]);
    expect(message.repetitions("NTE.3")).toEqual(["Result reviewed by Dr. O&Brien", "Second line"]);
    expect(message.repetitions("PID.3")).toHaveLength(4);
    expect(message.repetitions("PID.99")).toEqual([]);
    const segment = message.segments("OBX")[1];
    expect(segment?.get("3.2")).toBe("Triglyceride");
    expect(segment?.get("OBX.3.2")).toBe("Triglyceride");
    expect(segment?.fieldCount).toBe(11);
    expect(() => segment?.get("PID.3")).toThrow(Hl7UsageError);
    expect(() => segment?.get("OBX[2].3")).toThrow(/relative path/);
  });

  it("refuses malformed paths with a typed error", () => {
    const message = adt();
    for (const path of ["PID.0", "PID.5.1.2.3", "P.5", "PID[0].1", "pid..5", "5.1", ""]) {
      expect(() => message.get(path), path).toThrow(Hl7UsageError);
    }
    try {
      message.get("PID.0");
    } catch (error) {
      expect((error as Hl7UsageError).code).toBe("ERR_HL7_INVALID_PATH");
    }
  });
});

describe("Hl7Message.set", () => {
  it("escapes the value and re-encodes only the changed segment", () => {
    const original = fixture("oru-r01.hl7").toString("latin1");
    const message = oru();
    message.set("PID.5.2", "ANN|MARIE^X~Y&Z\\W");
    expect(message.get("PID.5.2")).toBe("ANN|MARIE^X~Y&Z\\W");
    expect(message.getRaw("PID.5.2")).toBe("ANN\\F\\MARIE\\S\\X\\R\\Y\\T\\Z\\E\\W");
    const lines = message.toString().split("\r");
    const before = original.split("\r");
    expect(lines[1]).toBe(before[1]?.replace("^MARY^", "^ANN\\F\\MARIE\\S\\X\\R\\Y\\T\\Z\\E\\W^"));
    expect(lines.filter((line, i) => line !== before[i])).toHaveLength(1);
  });

  it("creates missing segments, fields, repetitions, components and subcomponents", () => {
    const message = parseHl7("MSH|^~\\&|A\rPID|1");
    message.set("PID.3[2].4.2", "1.2.3");
    message.set("PID.5.1", "DOE");
    message.set("ZPI[2].2", "second");
    expect(message.toString()).toBe("MSH|^~\\&|A\rPID|1||~^^^&1.2.3||DOE\rZPI\rZPI||second");
    expect(message.get("PID.3[2].4.2")).toBe("1.2.3");
    expect(message.get("ZPI[2].2")).toBe("second");
  });

  it("replaces a whole field when no repetition or component is named", () => {
    const message = adt();
    message.set("PID.3", "X~Y");
    expect(message.getRaw("PID.3")).toBe("X\\R\\Y");
    expect(message.get("PID.3")).toBe("X~Y");
  });

  it("sets MSH fields by their HL7 number and refuses MSH-1 and MSH-2", () => {
    const message = adt();
    message.set("MSH.10", "NEW-ID");
    expect(message.controlId).toBe("NEW-ID");
    expect(
      message
        .toString()
        .startsWith(
          "MSH|^~\\&|EPICADT|GOODHEALTH|SMSADT|RIVERSIDE|202401151230||ADT^A01^ADT_A01|NEW-ID|",
        ),
    ).toBe(true);
    expect(() => message.set("MSH.1", "#")).toThrow(/MSH-1 and MSH-2/);
    expect(() => message.set("MSH.2", "^~\\&")).toThrow(Hl7UsageError);
  });

  it("sees changes made through a segment object", () => {
    const message = oru();
    const nte = message.segments("NTE")[0];
    nte?.set("3[2]", "Third & last");
    expect(nte?.modified).toBe(true);
    expect(message.get("NTE.3[2]")).toBe("Third & last");
    expect(message.toString()).toContain(
      "NTE|1|L|Result reviewed by Dr. O\\T\\Brien~Third \\T\\ last\r",
    );
  });

  it("setRaw keeps structure and escapes as given", () => {
    const message = adt();
    message.setRaw("PID.5", "SMITH^JO\\T\\E");
    expect(message.get("PID.5.2")).toBe("JO&E");
  });

  it("writes back changes to the same bytes in the message's charset", () => {
    const message = parseHl7(fixture("windows-1252.hl7"));
    message.set("PID.5.2", "Zoë €");
    const bytes = message.toBuffer();
    expect(bytes.includes(Buffer.from([0x5a, 0x6f, 0xeb, 0x20, 0x80]))).toBe(true);
    expect(parseHl7(bytes).get("PID.5.2")).toBe("Zoë €");
  });
});

describe("Hl7Message segments", () => {
  it("adds segments from text or raw fields, at the end or at an index", () => {
    const message = parseHl7("MSH|^~\\&|A\rPID|1\r");
    message.addSegment(["ZPI", "1", "A^B"]);
    message.addSegment("NTE|1||note", 1);
    expect(message.toString()).toBe("MSH|^~\\&|A\rNTE|1||note\rPID|1\rZPI|1|A^B\r");
    expect(message.get("ZPI.2.2")).toBe("B");
  });

  it("keeps a missing final terminator missing after appending", () => {
    const message = parseHl7("MSH|^~\\&|A\nPID|1");
    message.addSegment("PV1|1");
    expect(message.toString()).toBe("MSH|^~\\&|A\nPID|1\rPV1|1");
  });

  it("removes the n-th occurrence and reports whether it existed", () => {
    const message = oru();
    expect(message.removeSegment("OBX", 2)).toBe(true);
    expect(message.segments("OBX")).toHaveLength(3);
    expect(message.get("OBX[2].3.1")).toBe("NOTE");
    expect(message.removeSegment("OBX", 9)).toBe(false);
    expect(message.removeSegment("NTE")).toBe(true);
    expect(message.toString().endsWith("||||||F\r")).toBe(true);
    expect(() => message.removeSegment("MSH")).toThrow(Hl7UsageError);
  });

  it("refuses segments that are not a single valid line", () => {
    const message = adt();
    for (const text of ["pid|1", "PID|1\rPV1|1", "MSH|^~\\&", "PI"]) {
      expect(() => message.addSegment(text), text).toThrow(/new segment/);
    }
    expect(() => message.addSegment("ZZZ|1", 0)).toThrow(Hl7UsageError);
  });
});

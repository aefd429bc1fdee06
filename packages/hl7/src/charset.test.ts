import { describe, expect, it } from "vitest";
import { fixture } from "./__fixtures__/fixtures.js";
import { resolveCharset } from "./charset.js";
import { Hl7CharsetError, Hl7Error } from "./errors.js";
import { parseHl7 } from "./parse-hl7.js";

const header = (msh18: string) => `MSH|^~\\&|||||||ADT^A01|1|P|2.5||||||${msh18}\r`;

function bytes(msh18: string, body: number[]): Buffer {
  return Buffer.concat([
    Buffer.from(header(msh18) + "PID|1||", "latin1"),
    Buffer.from(body),
    Buffer.from("\r"),
  ]);
}

describe("charsets", () => {
  it.each([
    ["", "latin1"],
    ["ASCII", "ascii"],
    ["8859/1", "latin1"],
    ["8859/2", "iso-8859-2"],
    ["8859/15", "iso-8859-15"],
    ["UNICODE UTF-8", "utf-8"],
    ["WINDOWS-1252", "windows-1252"],
    ["cp1252", "windows-1252"],
  ])("maps MSH-18 '%s' to %s", (msh18, name) => {
    expect(parseHl7(header(msh18) + "PID|1").charset).toBe(name);
  });

  it("decodes windows-1252 bytes (0xE9 é, 0x80 €) and writes the same bytes back", () => {
    const input = fixture("windows-1252.hl7");
    const message = parseHl7(input);
    expect(message.charset).toBe("windows-1252");
    expect(message.get("PID.5.1")).toBe("LéGER");
    expect(message.get("OBX.5")).toBe("12 € “quoted”");
    message.set("OBX.3.2", "coût");
    const back = message.toBuffer();
    expect(parseHl7(back).get("OBX.3.2")).toBe("coût");
    const pid = (buffer: Buffer) => buffer.subarray(buffer.indexOf("PID"), buffer.indexOf("OBX"));
    expect(pid(back).equals(pid(input))).toBe(true);
    expect(pid(back).includes(Buffer.from([0x4c, 0xe9, 0x47]))).toBe(true);
  });

  it("decodes UTF-8 when MSH-18 says UNICODE UTF-8", () => {
    const message = parseHl7(bytes("UNICODE UTF-8", [0xe6, 0x97, 0xa5, 0xc3, 0xa9]));
    expect(message.get("PID.3")).toBe("日é");
    message.set("PID.4", "Ωmega");
    expect(message.toBuffer().includes(Buffer.from("Ωmega", "utf8"))).toBe(true);
  });

  it("decodes Latin-1 and ISO 8859-2 through their own tables", () => {
    expect(parseHl7(bytes("8859/1", [0xe9, 0x80])).get("PID.3")).toBe("é\u0080");
    expect(parseHl7(bytes("8859/2", [0xb1, 0xe6])).get("PID.3")).toBe("ąć");
    expect(parseHl7(bytes("8859/9", [0xfd, 0x80])).get("PID.3")).toBe("ı\u0080");
  });

  it("refuses bytes that are invalid in the declared charset instead of producing mojibake", () => {
    const invalidUtf8 = () => parseHl7(bytes("UNICODE UTF-8", [0xe9, 0x41]));
    expect(invalidUtf8).toThrow(Hl7CharsetError);
    expect(invalidUtf8).toThrow(expect.objectContaining({ code: "ERR_HL7_INVALID_BYTES" }));
    expect(() => parseHl7(bytes("ASCII", [0x41, 0xe9]))).toThrow(
      expect.objectContaining({
        code: "ERR_HL7_INVALID_BYTES",
        position: { offset: header("ASCII").length + "PID|1||".length + 1 },
      }),
    );
  });

  it.each(["KLINGON", "UNICODE UTF-16", "GB 18030-2000", "BIG-5"])(
    "refuses MSH-18 '%s'",
    (msh18) => {
      expect(() => parseHl7(bytes(msh18, [0x41]))).toThrow(
        expect.objectContaining({ code: "ERR_HL7_UNSUPPORTED_CHARSET" }),
      );
    },
  );

  it("takes the first repetition of MSH-18, the message's default character set", () => {
    expect(parseHl7(header("UNICODE UTF-8~8859/1") + "PID|1").charset).toBe("utf-8");
    expect(parseHl7(header("8859/2^x") + "PID|1").charset).toBe("iso-8859-2");
    expect(parseHl7(`MSH|^~\\&|||||||ADT^A01|1|P|2.5||||||\rPID|1`).charset).toBe("latin1");
  });

  it("uses the caller's default charset when MSH-18 is empty", () => {
    const message = parseHl7(bytes("", [0x80]), { defaultCharset: "windows-1252" });
    expect(message.charset).toBe("windows-1252");
    expect(message.get("PID.3")).toBe("€");
  });

  it("refuses to write a character the charset cannot hold", () => {
    const message = parseHl7(header("ASCII") + "PID|1");
    message.set("PID.3", "é");
    expect(() => message.toBuffer()).toThrow(Hl7Error);
    expect(() => message.toBuffer()).toThrow(
      expect.objectContaining({ code: "ERR_HL7_UNENCODABLE_CHARACTER" }),
    );
    expect(() => resolveCharset("UTF-8").encode("\ud800")).toThrow(/offset 0/);
    expect(() => resolveCharset("WINDOWS-1252").encode("日")).toThrow(
      /offset 0 cannot be written in windows-1252/,
    );
  });
});

import { describe, expect, it } from "vitest";
import { FIXTURE_NAMES, fixture } from "./__fixtures__/fixtures.js";
import { Hl7XmlError } from "./errors.js";
import { hl7FromXml } from "./hl7-from-xml.js";
import { parseHl7 } from "./parse-hl7.js";

describe("Hl7Message.toXml", () => {
  it("writes Mirth's element layout", () => {
    const xml = parseHl7(
      "MSH|^~\\&|APP|FAC|||||ADT^A01|1\rPID|1||123^^^H&1.2&ISO~456||A\\T\\B<>||\r",
    ).toXml();
    expect(xml).toBe(
      "<HL7Message>" +
        "<MSH><MSH.1>|</MSH.1><MSH.2>^~\\&amp;</MSH.2><MSH.3>APP</MSH.3><MSH.4>FAC</MSH.4>" +
        "<MSH.5/><MSH.6/><MSH.7/><MSH.8/><MSH.9><MSH.9.1>ADT</MSH.9.1><MSH.9.2>A01</MSH.9.2></MSH.9>" +
        "<MSH.10>1</MSH.10></MSH>" +
        "<PID><PID.1>1</PID.1><PID.2/>" +
        "<PID.3><PID.3.1>123</PID.3.1><PID.3.2/><PID.3.3/><PID.3.4><PID.3.4.1>H</PID.3.4.1>" +
        "<PID.3.4.2>1.2</PID.3.4.2><PID.3.4.3>ISO</PID.3.4.3></PID.3.4></PID.3><PID.3>456</PID.3>" +
        "<PID.4/><PID.5>A\\T\\B&lt;&gt;</PID.5><PID.6/><PID.7/></PID>" +
        "</HL7Message>",
    );
  });

  it.each(FIXTURE_NAMES)("round-trips %s exactly through XML", (name) => {
    const message = parseHl7(fixture(name));
    const back = hl7FromXml(message.toXml());
    expect(back.toString()).toBe(message.toString());
    expect(back.toBuffer().equals(fixture(name))).toBe(true);
  });

  it("keeps custom delimiters and control characters", () => {
    const text = "MSH#:*!$#A\rZZZ#a:b$c*d#\u0001\t#\r";
    expect(hl7FromXml(parseHl7(text).toXml()).toString()).toBe(text);
  });
});

describe("hl7FromXml", () => {
  it("reads pretty-printed XML with a declaration, comments, CDATA and omitted empty elements", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
      <!-- from a Mirth channel -->
      <HL7Message>
        <MSH>
          <MSH.1>|</MSH.1>
          <MSH.2>^~\\&amp;</MSH.2>
          <MSH.9><MSH.9.1>ADT</MSH.9.1><MSH.9.2>A01</MSH.9.2></MSH.9>
        </MSH>
        <PID>
          <PID.3><PID.3.1>1</PID.3.1><PID.3.4><PID.3.4.2>OID</PID.3.4.2></PID.3.4></PID.3>
          <PID.5><PID.5.3><![CDATA[A<B]]></PID.5.3></PID.5>
          <PID.8>&#x46;</PID.8>
        </PID>
      </HL7Message>`;
    const message = hl7FromXml(xml);
    expect(message.toString()).toBe("MSH|^~\\&|||||||ADT^A01\rPID|||1^^^&OID||^^A<B|||F\r");
    expect(message.get("PID.5.3")).toBe("A<B");
  });

  it.each([
    ["a different root", "<Message><MSH/></Message>"],
    ["no MSH first", "<HL7Message><PID/></HL7Message>"],
    ["bad delimiters", "<HL7Message><MSH><MSH.1>|</MSH.1><MSH.2>^~</MSH.2></MSH></HL7Message>"],
    [
      "a foreign element",
      "<HL7Message><MSH><MSH.1>|</MSH.1><MSH.2>^~\\&amp;</MSH.2><PID.3/></MSH></HL7Message>",
    ],
    ["an unclosed element", "<HL7Message><MSH>"],
    ["a mismatched close tag", "<HL7Message></HL7>"],
    ["a bare ampersand", "<HL7Message>&</HL7Message>"],
    ["content after the root", "<HL7Message/><x/>"],
    [
      "nesting below subcomponents",
      "<HL7Message><MSH><MSH.1>|</MSH.1><MSH.2>^~\\&amp;</MSH.2></MSH><PID><PID.1><PID.1.1><PID.1.1.1><PID.1.1.1.1/></PID.1.1.1></PID.1.1></PID.1></PID></HL7Message>",
    ],
    [
      "an invalid segment name",
      "<HL7Message><MSH><MSH.1>|</MSH.1><MSH.2>^~\\&amp;</MSH.2></MSH><pid/></HL7Message>",
    ],
  ])("refuses %s with ERR_HL7_INVALID_XML", (_label, xml) => {
    expect(() => hl7FromXml(xml)).toThrow(Hl7XmlError);
    expect(() => hl7FromXml(xml)).toThrow(expect.objectContaining({ code: "ERR_HL7_INVALID_XML" }));
  });
});

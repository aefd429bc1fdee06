import { describe, expect, it } from "vitest";
import { fixture } from "./__fixtures__/fixtures.js";
import { buildAck, buildAckForUnparseable } from "./build-ack.js";
import { parseHl7 } from "./parse-hl7.js";

const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));

function original(msh15 = "", msh16 = "", version = "2.5.1"): ReturnType<typeof parseHl7> {
  return parseHl7(
    `MSH|^~\\&|SAPP|SFAC|RAPP|RFAC|20240101||ORU^R01^ORU_R01|CTRL42|T|${version}|||${msh15}|${msh16}||UNICODE UTF-8\rPID|1\r`,
  );
}

describe("buildAck", () => {
  it("answers original mode AA with swapped applications, new MSH-7/10 and echoed MSH-11/12/18", () => {
    const ack = buildAck(original(), { outcome: "accept", controlId: "ACK1", timestamp: at });
    expect(ack?.toString()).toBe(
      "MSH|^~\\&|RAPP|RFAC|SAPP|SFAC|20240102030405.006+0000||ACK^R01^ACK|ACK1|T|2.5.1||||||UNICODE UTF-8\rMSA|AA|CTRL42\r",
    );
    expect(ack?.charset).toBe("utf-8");
  });

  it("adds ERR-3 (table 0357) and ERR-4 for AE/AR from v2.5 on", () => {
    const ack = buildAck(original(), {
      outcome: "error",
      text: "Bad | value",
      errorCode: "101",
      severity: "W",
    });
    expect(ack?.get("MSA.1")).toBe("AE");
    expect(ack?.get("MSA.3")).toBe("Bad | value");
    expect(ack?.getRaw("ERR.3")).toBe("101^Required field missing^HL70357");
    expect(ack?.get("ERR.4")).toBe("W");
    const reject = buildAck(original(), { outcome: "reject" });
    expect(reject?.get("MSA.1")).toBe("AR");
    expect(reject?.getRaw("ERR.3")).toBe("207^Application internal error^HL70357");
    expect(reject?.get("ERR.4")).toBe("E");
  });

  it("puts the error in ERR-1 before v2.5", () => {
    const ack = buildAck(original("", "", "2.3"), { outcome: "error" });
    expect(ack?.getRaw("ERR.1")).toBe("^^^207&Application internal error&HL70357");
    expect(ack?.get("ERR.3")).toBeUndefined();
  });

  it("generates a fresh control id when none is given", () => {
    const a = buildAck(original(), { outcome: "accept" })?.controlId;
    const b = buildAck(original(), { outcome: "accept" })?.controlId;
    expect(a).toMatch(/^[0-9a-f]{20}$/);
    expect(a).not.toBe(b);
  });

  it.each([
    ["AL", "accept", "CA"],
    ["AL", "error", "CE"],
    ["AL", "reject", "CR"],
    ["", "accept", "CA"],
    ["ER", "accept", undefined],
    ["ER", "error", "CE"],
    ["SU", "accept", "CA"],
    ["SU", "reject", undefined],
    ["NE", "accept", undefined],
    ["NE", "reject", undefined],
  ] as const)("enhanced mode with MSH-15 %s and outcome %s answers %s", (msh15, outcome, code) => {
    const message = original(msh15, msh15 === "" ? "AL" : "NE");
    expect(buildAck(message, { outcome })?.get("MSA.1")).toBe(code);
  });

  it("answers the application ACK in enhanced mode by MSH-16", () => {
    const message = original("AL", "ER");
    expect(buildAck(message, { outcome: "accept", ackType: "application" })).toBeUndefined();
    expect(buildAck(message, { outcome: "error", ackType: "application" })?.get("MSA.1")).toBe(
      "AE",
    );
  });

  it("echoes the original delimiters, including a truncation character", () => {
    const ack = buildAck(parseHl7(fixture("v27-truncation.hl7")), {
      outcome: "error",
      text: "a#b",
    });
    expect(ack?.toString().startsWith("MSH|^~\\&#|RECV|FAC|SENDER|FAC|")).toBe(true);
    expect(ack?.getRaw("MSA.3")).toBe("a\\P\\b");
    expect(ack?.get("MSH.9")).toBe("ACK^A08^ACK");
  });

  it("answers MSH-9 ACK alone when the original has no trigger event", () => {
    const ack = buildAck(parseHl7("MSH|^~\\&|A|B|C|D|||ACK|1|P|2.5"), { outcome: "accept" });
    expect(ack?.get("MSH.9")).toBe("ACK");
  });
});

describe("buildAckForUnparseable", () => {
  it("echoes what it can read of a broken message's MSH", () => {
    const ack = buildAckForUnparseable(
      "MSH|^~\\&|SAPP|SFAC|RAPP|RFAC|x||ADT^A01|C9|P|2.4\rpid|broken",
      {
        text: "Unparseable",
        timestamp: at,
        controlId: "R1",
      },
    );
    expect(ack.toString()).toBe(
      "MSH|^~\\&|RAPP|RFAC|SAPP|SFAC|20240102030405.006+0000||ACK^A01^ACK|R1|P|2.4\rMSA|AR|C9|Unparseable\rERR|^^^207&Application internal error&HL70357\r",
    );
  });

  it("falls back to default delimiters when even MSH is unreadable", () => {
    for (const raw of ["garbage", Buffer.from([0xff, 0x00, 0x0d]), "MSH|ab", "", "\r\n"]) {
      const ack = buildAckForUnparseable(raw);
      expect(ack.delimiters.field).toBe("|");
      expect(ack.get("MSA.1")).toBe("AR");
      expect(ack.get("MSA.2")).toBe("");
    }
  });
});

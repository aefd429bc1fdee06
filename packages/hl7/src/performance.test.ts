import { describe, expect, it } from "vitest";
import { parseHl7 } from "./parse-hl7.js";

function messageWithObx(bytes: number, escaped: boolean): Buffer {
  const unit = escaped ? "ab\\T\\cd\\.br\\" : "QUJDREVGR0hJSktMTU5PUA==";
  const value = unit.repeat(Math.ceil(bytes / unit.length));
  return Buffer.from(
    `MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5\rPID|1||1\rOBX|1|ED|PDF||^application^pdf^Base64^${value}||||||F\r`,
    "latin1",
  );
}

/** Best time (least disturbed by other processes) of a parse, a full read of the OBX-5 value, a change and a serialization. */
function timeRoundTrip(input: Buffer): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const message = parseHl7(input);
    const value = message.get("OBX.5.5");
    message.set("OBX.3.1", "CHANGED");
    const out = message.toBuffer();
    times.push(performance.now() - started);
    expect(value?.length).toBeGreaterThan(input.length / 2);
    expect(out.length).toBe(input.length + "CHANGED".length - "PDF".length);
  }
  return Math.min(...times);
}

describe("performance", () => {
  it.each([false, true])(
    "parses and serializes a 10 MB OBX in linear time (escapes: %s)",
    (escaped) => {
      const small = timeRoundTrip(messageWithObx(1_000_000, escaped));
      const large = timeRoundTrip(messageWithObx(10_000_000, escaped));
      expect(large).toBeLessThan(1000);
      // Ten times the input may take ten times as long, with generous room for a shared
      // machine's noise; a quadratic step would make it ~100.
      expect(large / Math.max(small, 1)).toBeLessThan(50);
    },
  );

  it("splits a message of 100,000 segments in linear time", () => {
    const text = "MSH|^~\\&|A\r" + "OBX|1|NM|X||1\r".repeat(100_000);
    const started = performance.now();
    const message = parseHl7(text);
    expect(message.segments("OBX")).toHaveLength(100_000);
    expect(message.get("OBX[100000].5")).toBe("1");
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

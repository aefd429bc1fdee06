import { describe, expect, it } from "vitest";
import { fixture } from "./__fixtures__/fixtures.js";
import { buildAck, buildAckForUnparseable } from "./build-ack.js";
import { Hl7ParseError } from "./errors.js";
import { hl7FromXml } from "./hl7-from-xml.js";
import { parseHl7 } from "./parse-hl7.js";
import { splitBatch } from "./batch.js";

const RUNS = 100_000;
const SEEDS = [
  fixture("adt-a01.hl7"),
  fixture("oru-r01.hl7"),
  fixture("v27-truncation.hl7"),
  fixture("windows-1252.hl7"),
  fixture("batch.hl7"),
  fixture("mdm-t02-base64.hl7").subarray(0, 600),
];
const INTERESTING = [...'|^~\\&#\r\n"MSH']
  .map((char) => char.charCodeAt(0))
  .concat([0x00, 0x80, 0xc3, 0xe9, 0xff]);

/** A small deterministic PRNG (mulberry32), so a failure can be replayed from its run number. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(next: () => number): Buffer {
  const pick = (n: number) => Math.floor(next() * n);
  let bytes = Buffer.from(SEEDS[pick(SEEDS.length)] ?? Buffer.alloc(0));
  const edits = 1 + pick(4);
  for (let e = 0; e < edits; e++) {
    const at = pick(bytes.length + 1);
    switch (pick(5)) {
      case 0:
        if (at < bytes.length) bytes[at] = pick(256);
        break;
      case 1:
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          Buffer.of(INTERESTING[pick(INTERESTING.length)] ?? 0),
          bytes.subarray(at),
        ]);
        break;
      case 2:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + pick(40))]);
        break;
      case 3:
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          bytes.subarray(pick(bytes.length), pick(bytes.length)),
          bytes.subarray(at),
        ]);
        break;
      default:
        bytes = bytes.subarray(0, at);
    }
  }
  return bytes;
}

describe("fuzzing", () => {
  it(`survives ${RUNS} mutated sample messages: parse, read, write, ACK and XML, or a typed error`, () => {
    const next = random(0x4c37);
    let parsed = 0;
    const started = performance.now();
    for (let run = 0; run < RUNS; run++) {
      const input = mutate(next);
      try {
        const message = parseHl7(input);
        parsed++;
        message.get("PID.5.1");
        message.get("OBX[2].5");
        message.get("MSH.18");
        if (run % 10 === 0) {
          expect(message.toString()).toBe(parseHl7(message.toString()).toString());
          expect(hl7FromXml(message.toXml()).get("PID.3")).toBe(message.get("PID.3"));
          buildAck(message, { outcome: "error" });
        }
      } catch (error) {
        if (!(error instanceof Hl7ParseError))
          throw new Error(`run ${run} threw ${String(error)}`, { cause: error });
        if (run % 10 === 0) expect(buildAckForUnparseable(input).get("MSA.1")).toBe("AR");
      }
      if (run % 50 === 0) splitBatch(input);
    }
    // Both outcomes must be exercised for the fuzz run to mean anything.
    expect(parsed).toBeGreaterThan(RUNS / 10);
    expect(parsed).toBeLessThan(RUNS);
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 60_000);
});

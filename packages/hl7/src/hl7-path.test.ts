import { describe, expect, it } from "vitest";
import { parseHl7Path } from "./hl7-path.js";

describe("parseHl7Path", () => {
  it.each([
    ["PID", { segment: "PID", occurrence: 1 }],
    ["OBX[3].5", { segment: "OBX", occurrence: 3, field: 5 }],
    [
      "PID.3[2].4.2",
      { segment: "PID", occurrence: 1, field: 3, repetition: 2, component: 4, subcomponent: 2 },
    ],
    ["PID-5.1", { segment: "PID", occurrence: 1, field: 5, component: 1 }],
    ["ZP1.12", { segment: "ZP1", occurrence: 1, field: 12 }],
    ["3[2].1", { occurrence: 1, field: 3, repetition: 2, component: 1 }],
  ])("reads %s", (path, expected) => {
    expect(parseHl7Path(path)).toEqual(expected);
  });

  it("hands out the same frozen object for the same path", () => {
    const first = parseHl7Path("PID.5.1");
    expect(parseHl7Path("PID.5.1")).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it.each([
    "PID.0",
    "PID[0]",
    "PID.5.0",
    "PID.1.1.1.1",
    "PID.5[1][2]",
    "PID.",
    "PI",
    "PID 5",
    "99999999999999999999",
  ])("refuses %s", (path) => {
    expect(() => parseHl7Path(path)).toThrow(
      expect.objectContaining({ code: "ERR_HL7_INVALID_PATH" }),
    );
  });

  it("truncates a long path in the error message", () => {
    expect(() => parseHl7Path("X".repeat(500))).toThrow(/'X{40}'/);
  });
});

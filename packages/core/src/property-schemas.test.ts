import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { flagProperty, wholeNumberProperty } from "./property-schemas.js";

describe("flagProperty", () => {
  it("reads booleans and their string spellings", () => {
    expect(flagProperty.parse(true)).toBe(true);
    expect(flagProperty.parse("false")).toBe(false);
    expect(flagProperty.parse("1")).toBe(true);
    expect(flagProperty.safeParse("maybe").success).toBe(false);
    expect(flagProperty.safeParse(1).success).toBe(false);
  });
});

describe("wholeNumberProperty", () => {
  const port = wholeNumberProperty(1, 65_535);

  it("reads numbers and digit strings within bounds", () => {
    expect(port.parse(8080)).toBe(8080);
    expect(port.parse(" 6661 ")).toBe(6661);
    expect(port.safeParse(0).success).toBe(false);
    expect(port.safeParse("65536").success).toBe(false);
    expect(port.safeParse("12.5").success).toBe(false);
    expect(port.safeParse("-1").success).toBe(false);
    expect(port.safeParse(1.5).success).toBe(false);
  });

  it("gives the same number for a value and its decimal string (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65_535 }), (value) => {
        expect(port.parse(String(value))).toBe(port.parse(value));
      }),
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "./retry-after.js";

const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const capMs = 60_000;

describe("parseRetryAfter", () => {
  it("reads delay-seconds and IMF dates, capped", () => {
    expect(parseRetryAfter("2", { now, capMs })).toBe(2000);
    expect(parseRetryAfter("0", { now, capMs })).toBe(0);
    expect(parseRetryAfter("86400", { now, capMs })).toBe(capMs);
    expect(parseRetryAfter(new Date(now + 5000).toUTCString(), { now, capMs })).toBe(5000);
    expect(parseRetryAfter(new Date(now - 5000).toUTCString(), { now, capMs })).toBe(0);
  });

  it("ignores what is not a Retry-After value", () => {
    for (const value of [undefined, "", " ", "-1", "1.5", "soon", "2026-01-01", "0x10"]) {
      expect(parseRetryAfter(value, { now, capMs })).toBeUndefined();
    }
  });

  it("is always undefined or within [0, cap] (fast-check)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.nat().map(String), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString())), fc.nat(1_000_000), (value, cap) => {
        const ms = parseRetryAfter(value, { now, capMs: cap });
        return ms === undefined || (ms >= 0 && ms <= cap);
      }),
    );
  });
});

import { describe, expect, it } from "vitest";
import { withDeadline } from "./with-deadline.js";

describe("withDeadline", () => {
  it("is true for work that settles in time, rejected or not", async () => {
    expect(await withDeadline(Promise.resolve(1), 1_000)).toBe(true);
    expect(await withDeadline(Promise.reject(new Error("x")), 1_000)).toBe(true);
  });

  it("is false when the deadline passes first", async () => {
    expect(await withDeadline(new Promise(() => undefined), 5)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { classifyStoreStatus, formatStatus } from "./dicom-status.js";

describe("classifyStoreStatus", () => {
  it.each([
    [0x0000, "success"],
    [0xb000, "warning"],
    [0xb007, "warning"],
    [0x0001, "warning"],
    [0xa700, "refused"],
    [0xa7ff, "refused"],
    [0x0122, "refused"],
    [0x0124, "refused"],
    [0xa900, "refused"],
    [0x0110, "failure"],
    [0xc000, "failure"],
    [0xc123, "failure"],
    [0x0211, "failure"],
  ] as const)("status %i is %s", (status, outcome) => {
    expect(classifyStoreStatus(status)).toBe(outcome);
  });

  it("formats statuses as dcmtk prints them", () => {
    expect(formatStatus(0xa700)).toBe("0xA700");
    expect(formatStatus(0)).toBe("0x0000");
  });
});

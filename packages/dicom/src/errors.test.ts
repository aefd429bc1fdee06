import { describe, expect, it } from "vitest";
import { DICOM_ERROR_CODES, DicomError, isDicomError } from "./errors.js";

describe("DicomError", () => {
  it("carries a stable code from the catalogue and is recognized across copies by code", () => {
    const error = new DicomError("ERR_DICOM_STORE_REFUSED", "refused", { details: { status: 0xa700 } });
    expect(error).toMatchObject({ code: "ERR_DICOM_STORE_REFUSED", details: { status: 0xa700 } });
    expect(isDicomError(error)).toBe(true);
    expect(isDicomError(Object.assign(new Error("x"), { code: "ERR_DICOM_PDU_TOO_LARGE" }))).toBe(true);
    expect(isDicomError(Object.assign(new Error("x"), { code: "ERR_MLLP_REJECTED" }))).toBe(false);
    expect(isDicomError("ERR_DICOM_STORE_REFUSED")).toBe(false);
  });

  it("every code follows ERR_DICOM_<WHAT> and has an operator-facing description", () => {
    for (const [code, text] of Object.entries(DICOM_ERROR_CODES)) {
      expect(code).toMatch(/^ERR_DICOM_[A-Z0-9_]+$/);
      expect(text.length).toBeGreaterThan(20);
    }
  });
});

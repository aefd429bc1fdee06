/** C-STORE / C-ECHO statuses this package sends, from DICOM PS3.4 Annex B and PS3.7 Annex C. */
export const DicomStatus = {
  Success: 0x0000,
  /** Processing failure: the engine could not take the instance; the sender should retry. */
  ProcessingFailure: 0x0110,
  /** Refused: out of resources (here: the instance exceeds maxInstanceBytes). */
  OutOfResources: 0xa700,
} as const;

/** How a sender should treat a C-STORE response status. */
export type StoreOutcome = "success" | "warning" | "failure" | "refused";

const WARNINGS = new Set([0x0001, 0x0107, 0x0116, 0xb000, 0xb006, 0xb007]);

/**
 * Classifies a C-STORE response status. Refused (A7xx out of resources, 0122 SOP class not
 * supported, 0124 not authorized) and A9xx (dataset does not match the SOP class) will not
 * heal by sending the same instance again; other failures (0110, Cxxx, ...) may.
 */
export function classifyStoreStatus(status: number): StoreOutcome {
  if (status === 0x0000) return "success";
  if (WARNINGS.has(status)) return "warning";
  const high = status & 0xff00;
  if (high === 0xa700 || high === 0xa900 || status === 0x0122 || status === 0x0124) return "refused";
  return "failure";
}

/** `0xA700` style, as dcmtk prints statuses. */
export function formatStatus(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(4, "0")}`;
}

import { NodeMirthError, type NodeMirthErrorOptions } from "@node-mirth/core";

/**
 * The one catalogue of this package's error codes. Codes are stable API: operators search
 * for them, the engine recognizes them, and the README table is tested against this list.
 * Append new codes; never rename or reuse one.
 */
export const DICOM_ERROR_CODES = {
  ERR_DICOM_INVALID_OPTIONS: "Listener, sender or TLS options are invalid (bad AE title, missing key material for a TLS mode, sender without host/port).",
  ERR_DICOM_INVALID_PART10: "The message is not a DICOM Part-10 instance (no DICM prefix, broken file meta information, no SOP class/instance or transfer syntax).",
  ERR_DICOM_INVALID_MESSAGE: "The message content is not the JSON this connector stores for an instance, or its spooled file is missing or altered.",
  ERR_DICOM_CONNECT_FAILED: "The sender could not connect: refused, unreachable, or the TLS handshake failed.",
  ERR_DICOM_CONNECT_TIMEOUT: "Connecting and negotiating the association took longer than connectTimeoutMs.",
  ERR_DICOM_ASSOCIATION_REJECTED: "The remote AE rejected the association (wrong called/calling AE title, too many associations, ...).",
  ERR_DICOM_ASSOCIATION_ABORTED: "The remote AE aborted the association or closed the connection while a C-STORE was in flight.",
  ERR_DICOM_NO_PRESENTATION_CONTEXT: "The remote AE accepted none of the proposed transfer syntaxes for the instance's SOP class.",
  ERR_DICOM_TRANSCODE_UNSUPPORTED: "The remote AE accepted only a transfer syntax the instance would have to be transcoded to, which needs pixel codecs.",
  ERR_DICOM_RESPONSE_TIMEOUT: "No C-STORE response arrived within responseTimeoutMs.",
  ERR_DICOM_STORE_FAILED: "The remote AE answered the C-STORE with a failure status; the engine retries.",
  ERR_DICOM_STORE_REFUSED: "The remote AE refused the C-STORE (SOP class not supported, not authorized, out of resources): retrying will not help.",
  ERR_DICOM_PDU_TOO_LARGE: "A peer sent a PDU longer than the listener's maxPduLength; the association was aborted.",
  ERR_DICOM_INSTANCE_TOO_LARGE: "An incoming instance exceeded maxInstanceBytes; it was refused and its partial file removed.",
  ERR_DICOM_SENDER_CLOSED: "The sender was stopped while a C-STORE was waiting or in flight.",
} as const;

export type DicomErrorCode = keyof typeof DICOM_ERROR_CODES;

/** Every error this package throws on purpose. Messages state facts, never message content (PHI). */
export class DicomError extends NodeMirthError {
  declare readonly code: DicomErrorCode;

  constructor(code: DicomErrorCode, message: string, options: NodeMirthErrorOptions = {}) {
    super(code, message, options);
  }
}

/** True for an error of this package, including one from another copy of it. */
export function isDicomError(error: unknown): error is DicomError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === "string" && Object.hasOwn(DICOM_ERROR_CODES, code);
}

import { constants } from "./dimse.js";
import { TransferSyntax } from "./dimse.js";

/**
 * Every Storage SOP class dcmjs-dimse knows (CT, MR, US, CR, DX, MG, SC, SR, PET, RT, ...).
 * A listener accepts these unless told otherwise; Verification (C-ECHO) is always accepted.
 */
export const DEFAULT_STORAGE_SOP_CLASSES: readonly string[] = Object.freeze([...new Set(Object.values(constants.StorageClass as Record<string, string>))]);

/**
 * Transfer syntaxes a listener accepts by default. The dataset is stored as received and
 * never decoded, so compressed syntaxes cost nothing to accept.
 */
export const DEFAULT_TRANSFER_SYNTAXES: readonly string[] = Object.freeze([
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
  "1.2.840.10008.1.2.4.50", // JPEG Baseline
  "1.2.840.10008.1.2.4.51", // JPEG Extended
  "1.2.840.10008.1.2.4.57", // JPEG Lossless
  "1.2.840.10008.1.2.4.70", // JPEG Lossless SV1
  "1.2.840.10008.1.2.4.80", // JPEG-LS Lossless
  "1.2.840.10008.1.2.4.81", // JPEG-LS Near-lossless
  "1.2.840.10008.1.2.4.90", // JPEG 2000 Lossless
  "1.2.840.10008.1.2.4.91", // JPEG 2000
  "1.2.840.10008.1.2.5", // RLE Lossless
]);

import { Dataset, TransferSyntax } from "./dimse.js";

/** JSON-safe header values: strings, numbers, person names, sequences of items. */
export type DicomTagValue = string | number | null | DicomTagValue[] | { [key: string]: DicomTagValue };
export type DicomTags = Record<string, DicomTagValue>;

/** The header is read from at most this many dataset bytes: pixel data comes last and is never read. */
export const DEFAULT_HEADER_BYTES = 1024 * 1024;

function jsonSafe(value: unknown, depth: number): DicomTagValue | undefined {
  if (value === null || typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (depth > 8) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => jsonSafe(item, depth + 1)).filter((item): item is DicomTagValue => item !== undefined);
    return items.length === 1 && typeof items[0] !== "object" ? items[0]! : items;
  }
  // ArrayBuffers and typed arrays are bulk data (OB/OW/OF/UN): not header facts.
  if (typeof value === "object" && !(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) {
    return objectSafe(value as Record<string, unknown>, depth + 1);
  }
  return undefined;
}

function objectSafe(value: Record<string, unknown>, depth: number): Record<string, DicomTagValue> {
  const result: Record<string, DicomTagValue> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith("_")) continue;
    const safe = jsonSafe(item, depth);
    if (safe !== undefined) result[key] = safe;
  }
  return result;
}

/**
 * The DICOM header of a dataset as JSON, keyed by DICOM keyword (`PatientID`,
 * `StudyInstanceUID`, `Modality`, ...), for scripts and search. Reading stops at Pixel Data;
 * bulk binary values are left out. A dataset dcmjs cannot read yields `{}`: the instance is
 * still stored and sent byte for byte, only its header is not visible to scripts.
 */
export function readDicomTags(dataset: Buffer, transferSyntaxUid: string): DicomTags {
  if (transferSyntaxUid === TransferSyntax.DeflatedExplicitVRLittleEndian) return {};
  try {
    const parsed = new Dataset(dataset, transferSyntaxUid, { untilTag: "7FE00010", includeUntilTagValue: false });
    const { PixelData: _pixels, ...header } = parsed.getElements();
    return objectSafe(header, 0);
  } catch {
    return {};
  }
}

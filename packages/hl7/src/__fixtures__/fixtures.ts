import { readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURE_NAMES = [
  "adt-a01.hl7",
  "oru-r01.hl7",
  "v27-truncation.hl7",
  "mdm-t02-base64.hl7",
  "windows-1252.hl7",
] as const;

/** The bytes of a sample message in this folder. */
export function fixture(name: (typeof FIXTURE_NAMES)[number] | "batch.hl7"): Buffer {
  return readFileSync(join(import.meta.dirname, name));
}

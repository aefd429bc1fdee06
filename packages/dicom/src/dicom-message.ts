import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import type { DicomTags } from "./dicom-tags.js";
import { DicomError } from "./errors.js";

/** Key of the transport facts and the instance bytes inside a stored DICOM message. */
export const DICOM_MESSAGE_KEY = "_dicom";

const uid = z.string().regex(/^[0-9]+(\.[0-9]+)*$/);

/** Where the Part-10 bytes of a stored message are: inline (base64) or in a spooled file. */
export const dicomInstanceSchema = z
  .strictObject({
    sopClassUid: uid,
    sopInstanceUid: uid,
    transferSyntaxUid: uid,
    callingAeTitle: z.string(),
    calledAeTitle: z.string(),
    remoteAddress: z.string(),
    /** Size of the Part-10 file in bytes. */
    bytes: z.number().int().nonnegative(),
    /** SHA-256 (hex) of the Part-10 file. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** The Part-10 file, base64, for instances up to inlineMaxBytes. */
    part10: z.string().optional(),
    /** Path of the Part-10 file, for larger instances. */
    file: z.string().min(1).optional(),
  })
  .refine((value) => (value.part10 === undefined) !== (value.file === undefined), { message: "exactly one of part10 and file" });

export type DicomInstanceFacts = z.output<typeof dicomInstanceSchema>;

/**
 * The stored message of a received instance: the header tags by keyword at the top level
 * (what scripts see as `msg.PatientID`, `msg.StudyInstanceUID`, ...) and the instance under
 * `_dicom` (no DICOM keyword starts with an underscore).
 */
export function buildDicomMessage(tags: DicomTags, instance: DicomInstanceFacts): string {
  return JSON.stringify({ ...tags, [DICOM_MESSAGE_KEY]: instance });
}

function invalid(why: string, cause?: unknown): DicomError {
  return new DicomError("ERR_DICOM_INVALID_MESSAGE", `the message is not a stored DICOM instance: ${why}`, cause === undefined ? {} : { cause });
}

/** Reads the `_dicom` facts of a stored message. */
export function parseDicomMessage(content: string): DicomInstanceFacts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    throw invalid("its content is not JSON (set the channel's dataType to JSON and do not re-encode it)", error);
  }
  const facts = z.object({ [DICOM_MESSAGE_KEY]: dicomInstanceSchema }).safeParse(parsed);
  if (!facts.success) throw invalid(`${DICOM_MESSAGE_KEY} is missing or malformed (${facts.error.issues[0]?.message ?? "invalid"})`);
  return facts.data[DICOM_MESSAGE_KEY];
}

/** A Part-10 instance on disk, sent without reading it whole into memory. */
export interface Part10File {
  path: string;
}

/**
 * The Part-10 instance of a stored message, checked against its recorded size and SHA-256:
 * the bytes when inline, the file (hashed as a stream, never loaded whole) when spooled.
 */
export async function loadPart10(facts: DicomInstanceFacts): Promise<Buffer | Part10File> {
  if (facts.part10 !== undefined) {
    const bytes = Buffer.from(facts.part10, "base64");
    if (bytes.length !== facts.bytes || createHash("sha256").update(bytes).digest("hex") !== facts.sha256) throw altered();
    return bytes;
  }
  const path = facts.file!;
  const hash = createHash("sha256");
  try {
    if ((await stat(path)).size !== facts.bytes) throw altered();
    await pipeline(createReadStream(path), hash);
  } catch (error) {
    if (error instanceof DicomError) throw error;
    throw invalid(`its spooled file cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`, error);
  }
  if (hash.digest("hex") !== facts.sha256) throw altered();
  return { path };
}

function altered(): DicomError {
  return invalid("its Part-10 bytes do not match the recorded size and SHA-256");
}

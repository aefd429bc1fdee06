import { randomBytes } from "node:crypto";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readFile, writeFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { join } from "node:path";
import { runCommand } from "@node-mirth/test-peers";
import { readPart10Meta } from "../part10.js";

export const CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2";
const ROOT = "1.2.826.0.1.3680043.8.498";

export interface InstanceSpec {
  dir: string;
  dump2dcm: string;
  index: number;
  studyUid?: string;
  patientId?: string;
  /** Pixel data bytes (even); random content so nothing compresses or dedupes it. */
  pixelBytes?: number;
}

export function studyUid(seed: number): string {
  return `${ROOT}.${seed}`;
}

/** One CT instance made by dcmtk's dump2dcm, Explicit VR Little Endian; returns its path. */
export async function makeInstance(spec: InstanceSpec): Promise<string> {
  const study = spec.studyUid ?? studyUid(1);
  const sop = `${study}.1.${spec.index + 1}`;
  const pixelBytes = spec.pixelBytes ?? 512;
  const side = Math.floor(Math.sqrt(pixelBytes / 2));
  const pixels = join(spec.dir, `px-${spec.index}.raw`);
  await writeFile(pixels, randomBytes(pixelBytes));
  const dump = [
    "(0002,0002) UI =CTImageStorage",
    `(0002,0003) UI [${sop}]`,
    "(0002,0010) UI =LittleEndianExplicit",
    "(0008,0016) UI =CTImageStorage",
    `(0008,0018) UI [${sop}]`,
    "(0008,0060) CS [CT]",
    `(0010,0010) PN [Doe^Jane^${spec.index}]`,
    `(0010,0020) LO [${spec.patientId ?? `PID${spec.index}`}]`,
    `(0020,000d) UI [${study}]`,
    `(0020,000e) UI [${study}.1]`,
    `(0020,0013) IS [${spec.index + 1}]`,
    "(0028,0002) US 1",
    "(0028,0004) CS [MONOCHROME2]",
    `(0028,0010) US ${side}`,
    `(0028,0011) US ${Math.ceil(pixelBytes / 2 / side)}`,
    "(0028,0100) US 16",
    "(0028,0101) US 12",
    "(0028,0102) US 11",
    "(0028,0103) US 0",
    `(7fe0,0010) OW =${pixels}`,
  ].join("\n");
  const dumpFile = join(spec.dir, `ct-${spec.index}.dump`);
  const out = join(spec.dir, `ct-${String(spec.index).padStart(4, "0")}.dcm`);
  await writeFile(dumpFile, `${dump}\n`);
  const result = await runCommand(spec.dump2dcm, ["--write-xfer-little", dumpFile, out], { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`dump2dcm failed: ${result.stderr.toString()}`);
  return out;
}

/** The dataset bytes of a Part-10 file (what travels in a C-STORE), and its SOP instance UID. */
export async function datasetOf(path: string): Promise<{ dataset: Buffer; sopInstanceUid: string }> {
  const file = await readFile(path);
  const meta = readPart10Meta(file);
  return { dataset: file.subarray(meta.datasetOffset), sopInstanceUid: meta.sopInstanceUid };
}

/** SHA-256 of a Part-10 file's dataset, streamed: for instances too big to compare in memory. */
export async function datasetHash(path: string): Promise<string> {
  const handle = await open(path, "r");
  const head = Buffer.alloc(64 * 1024);
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  await handle.close();
  const hash = createHash("sha256");
  await pipeline(createReadStream(path, { start: readPart10Meta(head.subarray(0, bytesRead)).datasetOffset }), hash);
  return hash.digest("hex");
}

import { writePart10Meta } from "../part10.js";

/** One explicit-VR little-endian element with a short (2-byte) length. */
function element(tag: readonly [group: number, element: number], vr: string, value: string): Buffer {
  const [group, number] = tag;
  const bytes = Buffer.from(value.length % 2 === 0 ? value : `${value}${vr === "UI" ? "\0" : " "}`, "latin1");
  const header = Buffer.alloc(8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(number, 2);
  header.write(vr, 4, "latin1");
  header.writeUInt16LE(bytes.length, 6);
  return Buffer.concat([header, bytes]);
}

/** A small Secondary Capture instance made in memory, for tests that need no dcmtk. */
export function syntheticInstance(sopInstanceUid: string, patientId = "PID-1"): Buffer {
  const sopClassUid = "1.2.840.10008.5.1.4.1.1.7";
  const dataset = Buffer.concat([
    element([0x0008, 0x0016], "UI", sopClassUid),
    element([0x0008, 0x0018], "UI", sopInstanceUid),
    element([0x0008, 0x0060], "CS", "OT"),
    element([0x0010, 0x0020], "LO", patientId),
  ]);
  const meta = writePart10Meta({ sopClassUid, sopInstanceUid, transferSyntaxUid: "1.2.840.10008.1.2.1", implementationClassUid: "1.2.3.4" });
  return Buffer.concat([meta, dataset]);
}

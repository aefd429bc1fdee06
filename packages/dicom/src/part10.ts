import { DicomError } from "./errors.js";

/** What a Part-10 file's meta information says, and where its dataset starts. */
export interface Part10Meta {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Byte offset of the first dataset element (after preamble, "DICM" and group 0002). */
  datasetOffset: number;
  implementationClassUid?: string;
  sourceAeTitle?: string;
}

export interface Part10MetaInput {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  implementationClassUid: string;
  implementationVersionName?: string;
  sourceAeTitle?: string;
}

const PREAMBLE_BYTES = 128;
const PREFIX = "DICM";
const HEADER_START = PREAMBLE_BYTES + PREFIX.length;
/** VRs whose explicit-VR element header has 2 reserved bytes and a 4-byte length. */
const LONG_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]);
const UID_PATTERN = /^[0-9]+(\.[0-9]+)*$/;

function invalid(why: string): DicomError {
  return new DicomError("ERR_DICOM_INVALID_PART10", `not a DICOM Part-10 instance: ${why}`);
}

function text(bytes: Buffer): string {
  return bytes.toString("latin1").replace(/[\0 ]+$/, "");
}

/**
 * Reads the file meta information (group 0002, always Explicit VR Little Endian) of a Part-10
 * instance. Only `head` is needed: the meta group is at the start, so a caller with a file
 * of hundreds of MB passes its first few KB.
 */
export function readPart10Meta(head: Buffer): Part10Meta {
  if (head.length < HEADER_START || head.toString("latin1", PREAMBLE_BYTES, HEADER_START) !== PREFIX) {
    throw invalid(`no "${PREFIX}" prefix after the ${PREAMBLE_BYTES}-byte preamble`);
  }
  const values = new Map<number, Buffer>();
  let offset = HEADER_START;
  while (offset + 8 <= head.length && head.readUInt16LE(offset) === 0x0002) {
    const element = head.readUInt16LE(offset + 2);
    const vr = head.toString("latin1", offset + 4, offset + 6);
    if (!/^[A-Z]{2}$/.test(vr)) throw invalid(`element (0002,${element.toString(16).padStart(4, "0")}) has no explicit VR`);
    let length: number;
    let valueStart: number;
    if (LONG_VRS.has(vr)) {
      if (offset + 12 > head.length) throw invalid("file meta information is truncated");
      length = head.readUInt32LE(offset + 8);
      valueStart = offset + 12;
    } else {
      length = head.readUInt16LE(offset + 6);
      valueStart = offset + 8;
    }
    if (valueStart + length > head.length) throw invalid("file meta information is truncated");
    values.set(element, head.subarray(valueStart, valueStart + length));
    offset = valueStart + length;
  }
  const uid = (element: number, name: string): string => {
    const value = values.get(element);
    const uidText = value === undefined ? "" : text(value);
    if (!UID_PATTERN.test(uidText)) throw invalid(`${name} (0002,${element.toString(16).padStart(4, "0")}) is missing or not a UID`);
    return uidText;
  };
  const implementation = values.get(0x0012);
  const source = values.get(0x0016);
  return {
    sopClassUid: uid(0x0002, "MediaStorageSOPClassUID"),
    sopInstanceUid: uid(0x0003, "MediaStorageSOPInstanceUID"),
    transferSyntaxUid: uid(0x0010, "TransferSyntaxUID"),
    datasetOffset: offset,
    ...(implementation === undefined ? {} : { implementationClassUid: text(implementation) }),
    ...(source === undefined || text(source) === "" ? {} : { sourceAeTitle: text(source) }),
  };
}

function element(tag: number, vr: string, value: Buffer): Buffer {
  const long = LONG_VRS.has(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(tag, 2);
  header.write(vr, 4, "latin1");
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** Even length, as DICOM requires: UIDs padded with NUL, text with a space. */
function padded(value: string, pad: "\0" | " "): Buffer {
  return Buffer.from(value.length % 2 === 0 ? value : value + pad, "latin1");
}

/**
 * Preamble, "DICM" and file meta information for a dataset received over the network, so the
 * stored instance is a Part-10 file any DICOM tool opens. The dataset bytes follow unchanged.
 */
export function writePart10Meta(input: Part10MetaInput): Buffer {
  const elements = [
    element(0x0001, "OB", Buffer.from([0x00, 0x01])),
    element(0x0002, "UI", padded(input.sopClassUid, "\0")),
    element(0x0003, "UI", padded(input.sopInstanceUid, "\0")),
    element(0x0010, "UI", padded(input.transferSyntaxUid, "\0")),
    element(0x0012, "UI", padded(input.implementationClassUid, "\0")),
    ...(input.implementationVersionName === undefined ? [] : [element(0x0013, "SH", padded(input.implementationVersionName, " "))]),
    ...(input.sourceAeTitle === undefined ? [] : [element(0x0016, "AE", padded(input.sourceAeTitle, " "))]),
  ];
  const body = Buffer.concat(elements);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length);
  return Buffer.concat([Buffer.alloc(PREAMBLE_BYTES), Buffer.from(PREFIX, "latin1"), element(0x0000, "UL", groupLength), body]);
}

/**
 * Every error code this package throws or reports. The README's error-code table is
 * checked against this catalogue by a test, so operators can look a code up.
 */
export const HL7_ERROR_CODES = {
  ERR_HL7_EMPTY_INPUT: "The input holds no HL7 message.",
  ERR_HL7_MISSING_MSH: "The message does not start with an MSH segment.",
  ERR_HL7_INVALID_DELIMITERS: "MSH-1/MSH-2 do not define a valid set of delimiters.",
  ERR_HL7_INVALID_SEGMENT_NAME: "A segment does not start with a three-character name.",
  ERR_HL7_MULTIPLE_MESSAGES: "A second MSH segment: the input holds more than one message.",
  ERR_HL7_UNSUPPORTED_CHARSET: "MSH-18 names a character set this package cannot decode.",
  ERR_HL7_INVALID_BYTES: "The bytes are not valid in the character set MSH-18 declares.",
  ERR_HL7_UNENCODABLE_CHARACTER: "A character cannot be written in the message's character set.",
  ERR_HL7_INVALID_PATH: "A path such as PID.5.1 is malformed.",
  ERR_HL7_READ_ONLY: "MSH-1, MSH-2 and the MSH segment itself cannot be changed or removed.",
  ERR_HL7_INVALID_SEGMENT: "A segment to add is not a single valid segment.",
  ERR_HL7_INVALID_XML: "The XML is not in the HL7Message layout.",
  ERR_HL7_BATCH_STRUCTURE: "FHS/BHS/BTS/FTS segments are out of order or missing.",
  ERR_HL7_BATCH_COUNT_MISMATCH: "A BTS-1 or FTS-1 count disagrees with what the batch holds.",
} as const;

export type Hl7ErrorCode = keyof typeof HL7_ERROR_CODES;

/** Where in the input a problem was found; never what the input said there. */
export interface Hl7Position {
  /** 1-based segment number within the message or batch. */
  segment?: number;
  /** 0-based character offset in the text (byte offset for charset errors on bytes). */
  offset?: number;
}

export interface Hl7ErrorOptions {
  position?: Hl7Position;
  cause?: unknown;
}

/** The root of this package's errors; recognize them by `code`. */
export class Hl7Error extends Error {
  readonly code: Hl7ErrorCode;

  constructor(code: Hl7ErrorCode, message: string, options: Hl7ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** The input could not be read as HL7. The message states where, never what was there. */
export class Hl7ParseError extends Hl7Error {
  readonly position: Hl7Position | undefined;

  constructor(code: Hl7ErrorCode, message: string, options: Hl7ErrorOptions = {}) {
    super(code, withPosition(message, options.position), options);
    this.position = options.position;
  }
}

/** MSH-18 names a charset we cannot honour, or the bytes do not fit it. */
export class Hl7CharsetError extends Hl7ParseError {}

/** The XML handed to `hl7FromXml` is not in the HL7Message layout. */
export class Hl7XmlError extends Hl7ParseError {}

/** A path, a value or a segment given to the message API is not usable. */
export class Hl7UsageError extends Hl7Error {}

function withPosition(message: string, position: Hl7Position | undefined): string {
  if (position === undefined) return message;
  const where: string[] = [];
  if (position.segment !== undefined) where.push(`segment ${position.segment}`);
  if (position.offset !== undefined) where.push(`offset ${position.offset}`);
  return where.length === 0 ? message : `${message} (at ${where.join(", ")})`;
}

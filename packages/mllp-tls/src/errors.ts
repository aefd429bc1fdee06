import { NodeMirthError, type NodeMirthErrorOptions } from "@node-mirth/core";

/**
 * The one catalogue of this package's error codes. Codes are stable API: operators search
 * for them, the engine recognizes them, and the README table is tested against this list.
 * Append new codes; never rename or reuse one.
 */
export const MLLP_ERROR_CODES = {
  ERR_MLLP_INVALID_OPTIONS: "Listener, sender or framing options are invalid (bad hex bytes, empty end block, bad limit).",
  ERR_MLLP_FRAME_TOO_LARGE: "A peer sent a frame larger than maxFrameBytes; that connection is closed.",
  ERR_MLLP_CONNECTION_LIMIT: "A connection was refused: the listener or that remote address is at its connection cap.",
  ERR_MLLP_IDLE_TIMEOUT: "A connection sent nothing (or never finished a frame) within the idle or read timeout and was closed.",
  ERR_MLLP_HANDLER_FAILED: "The message handler threw; the peer got no answer for that message and the connection was closed.",
  ERR_MLLP_CONNECT_TIMEOUT: "The sender could not connect (TCP and TLS handshake) within connectTimeoutMs.",
  ERR_MLLP_CONNECT_FAILED: "The sender could not connect: refused, unreachable, or the TLS handshake failed.",
  ERR_MLLP_RESPONSE_TIMEOUT: "No complete response arrived within responseTimeoutMs.",
  ERR_MLLP_CONNECTION_CLOSED: "The connection closed before a complete response arrived.",
  ERR_MLLP_INVALID_RESPONSE: "The response is not an HL7 v2 acknowledgement (no MSH, or no MSA-1).",
  ERR_MLLP_NEGATIVE_ACK: "The receiver answered AE or CE: an error it may not repeat; the engine retries.",
  ERR_MLLP_REJECTED: "The receiver answered AR or CR: the message is refused and retrying will not help.",
  ERR_MLLP_CONTROL_ID_MISMATCH: "The response's MSA-2 does not match the MSH-10 of the message sent.",
  ERR_MLLP_SENDER_CLOSED: "The sender was stopped while a message was waiting or in flight.",
} as const;

export type MllpErrorCode = keyof typeof MLLP_ERROR_CODES;

/** Every error this package throws on purpose. Messages state facts, never message content. */
export class MllpError extends NodeMirthError {
  declare readonly code: MllpErrorCode;

  constructor(code: MllpErrorCode, message: string, options: NodeMirthErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A frame exceeded maxFrameBytes. */
export class MllpFrameTooLargeError extends MllpError {
  readonly maxFrameBytes: number;

  constructor(maxFrameBytes: number) {
    super(
      "ERR_MLLP_FRAME_TOO_LARGE",
      `a frame exceeded maxFrameBytes (${maxFrameBytes} bytes); the connection was closed. Raise maxFrameBytes if such messages are legitimate.`,
      { details: { maxFrameBytes } },
    );
    this.maxFrameBytes = maxFrameBytes;
  }
}

/** True for an error of this package, including one from another copy of it. */
export function isMllpError(error: unknown): error is MllpError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === "string" && Object.hasOwn(MLLP_ERROR_CODES, code);
}

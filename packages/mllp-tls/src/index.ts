export {
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  FrameDecoder,
  parseFrameBytes,
  resolveFraming,
  type FrameBytes,
  type FramingMode,
  type FramingOptions,
  type ResolvedFraming,
} from "./frame-decoder.js";
export { isMllpError, MLLP_ERROR_CODES, MllpError, MllpFrameTooLargeError, type MllpErrorCode } from "./errors.js";

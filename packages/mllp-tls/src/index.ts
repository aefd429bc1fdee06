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
export { transportName, type MllpLog, type MllpLogLevel, type MllpTransport } from "./transport.js";
export {
  MllpListener,
  type MllpListenerOptions,
  type MllpMessageHandler,
  type MllpMessageInfo,
} from "./mllp-listener.js";
export { MllpSender, type MllpSendOptions, type MllpSenderOptions, type MllpSendResult } from "./mllp-sender.js";
export { mllp, mllpPropertiesSchema, type MllpProperties, type MllpPropertiesInput } from "./mllp-connector.js";

export {
  CORE_ERROR_CODES,
  NodeMirthError,
  isNodeMirthError,
  type CoreErrorCode,
  type NodeMirthErrorOptions,
} from "./errors.js";

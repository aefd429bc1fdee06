export { DICOM_ERROR_CODES, DicomError, isDicomError, type DicomErrorCode } from "./errors.js";
export { dicom, dicomPropertiesSchema, type DicomProperties, type DicomPropertiesInput } from "./dicom-connector.js";
export {
  DicomListener,
  type DicomListenerOptions,
  type DicomLogLevel,
  type InstanceVerdict,
  type ReceivedInstance,
} from "./dicom-listener.js";
export { DicomSender, type DicomSenderOptions, type DicomStoreResult } from "./dicom-sender.js";
export { classifyStoreStatus, DicomStatus, formatStatus, type StoreOutcome } from "./dicom-status.js";
export {
  createDicomClientTls,
  createDicomServerTls,
  DICOM_TLS_MODES,
  tripleDesAvailable,
  parseDicomTlsProperties,
  type DicomTlsBuildOptions,
  type DicomTlsMode,
  type DicomTlsProperties,
} from "./dicom-tls.js";
export { buildDicomMessage, DICOM_MESSAGE_KEY, dicomInstanceSchema, loadPart10, parseDicomMessage, type DicomInstanceFacts } from "./dicom-message.js";
export { readDicomTags, type DicomTags, type DicomTagValue } from "./dicom-tags.js";
export { readPart10Meta, writePart10Meta, type Part10Meta, type Part10MetaInput } from "./part10.js";
export { DEFAULT_STORAGE_SOP_CLASSES, DEFAULT_TRANSFER_SYNTAXES } from "./storage-defaults.js";

export { HTTP_ERROR_CODES, HttpError, HttpStatusError, isHttpError, type HttpErrorCode } from "./errors.js";
export { parseRetryAfter } from "./retry-after.js";
export { CREDENTIAL_HEADERS, findCleartextCredential } from "./cleartext-credentials.js";
export {
  HttpSender,
  isRetryableStatus,
  parseHttpUrl,
  type HttpRequest,
  type HttpResponse,
  type HttpSenderOptions,
} from "./http-sender.js";
export {
  HttpListener,
  type HttpInboundRequest,
  type HttpListenerOptions,
  type HttpLog,
  type HttpLogLevel,
  type HttpReply,
} from "./http-listener.js";
export { checkPartner, partnerAuthSchema, type PartnerAuth, type PartnerAuthInput, type PartnerDecision } from "./partner-auth.js";
export {
  http,
  httpPropertiesSchema,
  senderCredentialsSchema,
  type HttpProperties,
  type HttpPropertiesInput,
} from "./http-connector.js";

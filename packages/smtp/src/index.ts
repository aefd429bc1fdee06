export { isSmtpError, SMTP_ERROR_CODES, SmtpError, type SmtpErrorCode } from "./errors.js";
export { isRetryableSmtpFailure } from "./smtp-failure.js";
export type { SmtpAttachment, SmtpMail } from "./smtp-mail.js";
export {
  DEFAULT_SMTP_PORTS,
  SmtpSender,
  type SmtpEncryption,
  type SmtpSendOptions,
  type SmtpSenderOptions,
  type SmtpSendResult,
} from "./smtp-sender.js";
export { renderSmtpMail, smtp, smtpPropertiesSchema, type SmtpProperties, type SmtpPropertiesInput } from "./smtp-connector.js";

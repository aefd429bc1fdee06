import addressparser from "nodemailer/lib/addressparser";
import { SmtpError } from "./errors.js";

export interface SmtpAttachment {
  /** File name shown to the recipient. */
  filename: string;
  content: Buffer | string;
  /** MIME type, e.g. `application/hl7-v2`, `application/pdf`. */
  contentType: string;
}

/** One mail, sent as UTF-8. Address fields take one address or a comma-separated list, `Name <a@b>` allowed. */
export interface SmtpMail {
  from: string;
  to?: string;
  cc?: string;
  bcc?: string;
  replyTo?: string;
  subject: string;
  /** The body; `html: true` sends it as text/html. */
  body: string;
  html?: boolean;
  /** Extra headers, e.g. `X-Message-Id`. */
  headers?: Readonly<Record<string, string>>;
  attachments?: readonly SmtpAttachment[];
}

/** What nodemailer's sendMail gets. */
export interface CheckedMail {
  from: string;
  to?: string;
  cc?: string;
  bcc?: string;
  replyTo?: string;
  subject: string;
  text?: string;
  html?: string;
  headers: Record<string, string>;
  attachments: { filename: string; content: Buffer | string; contentType: string }[];
}

const LINE_BREAK = /[\r\n]/;
/** An RFC 5322 field name: printable ASCII except space and colon. */
export const HEADER_NAME = /^[!-9;-~]+$/;

function checkAddresses(field: string, value: string | undefined, required: boolean): number {
  if (value === undefined || value.trim() === "") {
    if (required) throw new SmtpError("ERR_SMTP_INVALID_ADDRESS", `${field} is empty`, { details: { field } });
    return 0;
  }
  if (LINE_BREAK.test(value)) throw new SmtpError("ERR_SMTP_INVALID_ADDRESS", `${field} holds a line break`, { details: { field } });
  const parsed = addressparser(value, { flatten: true });
  const bad = parsed.filter((entry) => !/^[^@\s]+@[^@\s]+$/.test(entry.address));
  if (parsed.length === 0 || bad.length > 0) {
    throw new SmtpError("ERR_SMTP_INVALID_ADDRESS", `${field} is not a list of mail addresses (${parsed.length === 0 ? "none found" : `${bad.length} not of the form name@domain`})`, {
      details: { field },
    });
  }
  return parsed.length;
}

/**
 * Checks a mail before anything is sent: addresses parse, at least one recipient, no line
 * breaks where they would forge headers. Errors name the field, never its value (PHI).
 */
export function checkMail(mail: SmtpMail): CheckedMail {
  checkAddresses("from", mail.from, true);
  const recipients =
    checkAddresses("to", mail.to, false) + checkAddresses("cc", mail.cc, false) + checkAddresses("bcc", mail.bcc, false);
  if (recipients === 0) throw new SmtpError("ERR_SMTP_NO_RECIPIENTS", "the mail has no To, Cc or Bcc address");
  checkAddresses("replyTo", mail.replyTo, false);
  if (LINE_BREAK.test(mail.subject)) throw new SmtpError("ERR_SMTP_INVALID_OPTIONS", "the subject holds a line break", { details: { field: "subject" } });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(mail.headers ?? {})) {
    if (!HEADER_NAME.test(name) || LINE_BREAK.test(value)) {
      throw new SmtpError("ERR_SMTP_INVALID_OPTIONS", `header ${JSON.stringify(name)} has an invalid name or a line break in its value`, { details: { header: name } });
    }
    headers[name] = value;
  }
  const attachments = (mail.attachments ?? []).map((a) => {
    if (a.filename.trim() === "" || LINE_BREAK.test(a.filename) || LINE_BREAK.test(a.contentType)) {
      throw new SmtpError("ERR_SMTP_INVALID_OPTIONS", "an attachment needs a file name and content type without line breaks", { details: { field: "attachments" } });
    }
    return {
      filename: a.filename,
      content: a.content,
      contentType: a.contentType,
    };
  });
  const body = mail.html === true ? { html: mail.body } : { text: mail.body };
  return {
    from: mail.from,
    ...(mail.to === undefined || mail.to.trim() === "" ? {} : { to: mail.to }),
    ...(mail.cc === undefined || mail.cc.trim() === "" ? {} : { cc: mail.cc }),
    ...(mail.bcc === undefined || mail.bcc.trim() === "" ? {} : { bcc: mail.bcc }),
    ...(mail.replyTo === undefined || mail.replyTo.trim() === "" ? {} : { replyTo: mail.replyTo }),
    subject: mail.subject,
    ...body,
    headers,
    attachments,
  };
}

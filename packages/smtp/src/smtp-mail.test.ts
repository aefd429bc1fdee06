import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkMail, type SmtpMail } from "./smtp-mail.js";

const base: SmtpMail = { from: "mirth@hospital.test", to: "lab@hospital.test", subject: "s", body: "b" };
const label = fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/);
const address = fc.tuple(label, label, fc.constantFrom("test", "example", "org")).map(([user, host, tld]) => `${user}@${host}.${tld}`);
/** Something besides the break: a value of blanks only counts as an empty field. */
const withBreak = fc.tuple(fc.string(), fc.constantFrom("\r", "\n", "\r\n"), fc.string()).map(([a, b, c]) => `x${a}${b}${c}`);

describe("checkMail", () => {
  it("accepts any list of well-formed addresses, with display names, in to, cc and bcc", () => {
    fc.assert(
      fc.property(fc.array(address, { minLength: 1, maxLength: 5 }), fc.constantFrom("to", "cc", "bcc"), (list, field) => {
        const value = list.map((a, i) => (i % 2 === 0 ? a : `"Ward ${i}" <${a}>`)).join(", ");
        const checked = checkMail({ ...base, to: undefined, [field]: value });
        expect(checked[field as "to"]).toBe(value);
      }),
    );
  });

  it("refuses a line break in any address field, the subject or a header value, without echoing the value", () => {
    fc.assert(
      fc.property(withBreak, fc.constantFrom("from", "to", "cc", "bcc", "replyTo", "subject", "header"), (value, field) => {
        const mail = field === "header" ? { ...base, headers: { "X-Test": value } } : { ...base, [field]: value };
        let thrown: unknown;
        try {
          checkMail(mail);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toMatchObject({ code: expect.stringMatching(/^ERR_SMTP_(INVALID_ADDRESS|INVALID_OPTIONS)$/) });
        if (value.trim().length > 3) expect((thrown as Error).message).not.toContain(value);
      }),
    );
  });

  it("needs at least one recipient in to, cc or bcc", () => {
    expect(() => checkMail({ ...base, to: "" })).toThrow(expect.objectContaining({ code: "ERR_SMTP_NO_RECIPIENTS" }));
    expect(() => checkMail({ ...base, to: "  ", bcc: "archive@hospital.test" })).not.toThrow();
  });

  it("refuses what is not an address, and an empty from", () => {
    expect(() => checkMail({ ...base, to: "lab at hospital" })).toThrow(expect.objectContaining({ code: "ERR_SMTP_INVALID_ADDRESS", details: { field: "to" } }));
    expect(() => checkMail({ ...base, from: "" })).toThrow(expect.objectContaining({ code: "ERR_SMTP_INVALID_ADDRESS", details: { field: "from" } }));
    expect(() => checkMail({ ...base, cc: "a@b.test, nobody" })).toThrow(expect.objectContaining({ code: "ERR_SMTP_INVALID_ADDRESS", details: { field: "cc" } }));
  });

  it("refuses a header name that is not a token", () => {
    expect(() => checkMail({ ...base, headers: { "X Bad": "v" } })).toThrow(expect.objectContaining({ code: "ERR_SMTP_INVALID_OPTIONS" }));
    expect(() => checkMail({ ...base, headers: { "X-Bad:": "v" } })).toThrow(expect.objectContaining({ code: "ERR_SMTP_INVALID_OPTIONS" }));
  });

  it("sends the body as text or html, and keeps attachments as given", () => {
    expect(checkMail(base)).toMatchObject({ text: "b" });
    expect(checkMail({ ...base, html: true })).toMatchObject({ html: "b" });
    expect(checkMail({ ...base, html: true }).text).toBeUndefined();
    const pdf = Buffer.from([0, 1, 2, 255]);
    expect(checkMail({ ...base, attachments: [{ filename: "r.pdf", content: pdf, contentType: "application/pdf" }] }).attachments).toEqual([
      { filename: "r.pdf", content: pdf, contentType: "application/pdf" },
    ]);
    expect(() => checkMail({ ...base, attachments: [{ filename: "a\r\nb", content: "x", contentType: "text/plain" }] })).toThrow(
      expect.objectContaining({ code: "ERR_SMTP_INVALID_OPTIONS" }),
    );
  });
});

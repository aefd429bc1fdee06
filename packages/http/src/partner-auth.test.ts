import type { IncomingMessage } from "node:http";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkPartner, partnerAuthSchema } from "./partner-auth.js";

const request = (headers: Record<string, string>) => ({ headers, socket: {} }) as unknown as IncomingMessage;
const basic = partnerAuthSchema.parse({ type: "basic", users: [{ username: "lab", password: "p:w" }] });

describe("checkPartner", () => {
  it("Basic: a password may contain ':'; a user name may not be configured with one", () => {
    const header = `Basic ${Buffer.from("lab:p:w").toString("base64")}`;
    expect(checkPartner(basic, request({ authorization: header }))).toEqual({ ok: true, partner: "lab" });
    expect(partnerAuthSchema.safeParse({ type: "basic", users: [{ username: "a:b", password: "x" }] }).success).toBe(false);
  });

  it("refuses every Authorization header that is not exactly a known credential (fast-check)", () => {
    const bearer = partnerAuthSchema.parse({ type: "bearer", tokens: ["the-token"] });
    fc.assert(
      fc.property(fc.string(), (value) => {
        const b = checkPartner(basic, request({ authorization: value }));
        const t = checkPartner(bearer, request({ authorization: value }));
        const basicOk = value === `Basic ${Buffer.from("lab:p:w").toString("base64")}`;
        return b.ok === basicOk && t.ok === /^bearer the-token$/i.test(value);
      }),
    );
  });

  it("mtls without a verified certificate is 401, never a pass", () => {
    const mtls = partnerAuthSchema.parse({ type: "mtls", allowedSubjects: ["a"] });
    expect(checkPartner(mtls, request({}))).toMatchObject({ ok: false, statusCode: 401 });
  });
});

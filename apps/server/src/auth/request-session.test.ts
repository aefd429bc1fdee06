import fc from "fast-check";
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { sessionIdFromRequest, wantsSecureCookie } from "./request-session.js";

const request = (headers: Record<string, string | string[]>) => ({ headers }) as unknown as IncomingMessage;
const sessionId = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
const cookiePair = fc
  .tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,10}$/), fc.stringMatching(/^[A-Za-z0-9%._-]{0,20}$/))
  .filter(([name]) => name !== "JSESSIONID");

describe("session id from a request", () => {
  it("finds JSESSIONID among any other cookies, in any position", () => {
    fc.assert(
      fc.property(sessionId, fc.array(cookiePair, { maxLength: 5 }), fc.nat(5), (id, others, at) => {
        const pairs = others.map(([name, value]) => `${name}=${value}`);
        pairs.splice(Math.min(at, pairs.length), 0, `JSESSIONID=${id}`);
        expect(sessionIdFromRequest(request({ cookie: pairs.join("; ") }))).toBe(id);
      }),
    );
  });

  it("prefers X-Session-ID over the cookie", () => {
    fc.assert(
      fc.property(sessionId, sessionId, (header, cookie) => {
        expect(sessionIdFromRequest(request({ "x-session-id": header, cookie: `JSESSIONID=${cookie}` }))).toBe(header);
      }),
    );
  });

  it("never returns anything that is not the shape of an id we issue", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), (header, cookie) => {
        const found = sessionIdFromRequest(request({ "x-session-id": header, cookie }));
        if (found !== undefined) expect(found).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }),
    );
    expect(sessionIdFromRequest(request({ cookie: "XJSESSIONID=" + "a".repeat(43) }))).toBeUndefined();
    expect(sessionIdFromRequest(request({}))).toBeUndefined();
  });
});

describe("Secure cookie flag", () => {
  it("is set by TLS_ENABLED=true, NODE_ENV=production or a TLS request, and by nothing else", () => {
    expect(wantsSecureCookie({}, false)).toBe(false);
    expect(wantsSecureCookie({ TLS_ENABLED: "false", NODE_ENV: "development" }, false)).toBe(false);
    expect(wantsSecureCookie({ TLS_ENABLED: "true" }, false)).toBe(true);
    expect(wantsSecureCookie({ NODE_ENV: "production" }, false)).toBe(true);
    expect(wantsSecureCookie({}, true)).toBe(true);
  });
});

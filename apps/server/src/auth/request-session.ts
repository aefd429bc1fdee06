import type { IncomingMessage } from "node:http";

export const SESSION_COOKIE = "JSESSIONID";
export const SESSION_HEADER = "x-session-id";
/** Ids we issue are 43 base64url characters; anything else is not looked up at all. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** The session id a request carries: the `X-Session-ID` header first (CLI), else the cookie (browser). */
export function sessionIdFromRequest(req: IncomingMessage): string | undefined {
  const header = req.headers[SESSION_HEADER];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  const candidate = fromHeader ?? cookieValue(req.headers.cookie, SESSION_COOKIE);
  return candidate !== undefined && SESSION_ID.test(candidate) ? candidate : undefined;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/**
 * `Set-Cookie` for the session: HttpOnly (no script reads it), SameSite=Strict (no
 * cross-site request carries it), Secure when the deployment is TLS or production.
 */
export function sessionCookie(options: { sessionId: string; secure: boolean; maxAgeSeconds: number }): string {
  return [
    `${SESSION_COOKIE}=${options.sessionId}`,
    "Path=/",
    `Max-Age=${options.maxAgeSeconds}`,
    "HttpOnly",
    "SameSite=Strict",
    ...(options.secure ? ["Secure"] : []),
  ].join("; ");
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie({ sessionId: "", secure, maxAgeSeconds: 0 });
}

/** `TLS_ENABLED=true` or `NODE_ENV=production` force Secure; a request that came over TLS gets it too. */
export function wantsSecureCookie(env: NodeJS.ProcessEnv, requestIsTls: boolean): boolean {
  return requestIsTls || env.TLS_ENABLED?.toLowerCase() === "true" || env.NODE_ENV === "production";
}

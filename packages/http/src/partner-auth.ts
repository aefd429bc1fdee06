import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { z } from "zod";

const secret = z.string().min(1);

/**
 * How a listener authenticates its partners. One kind per listener; `none` relies on the
 * network (loopback, or mTLS without a subject list). Secrets come from `${VAR}`s.
 */
export const partnerAuthSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("none") }),
  z.strictObject({
    type: z.literal("basic"),
    users: z.array(z.strictObject({ username: z.string().min(1).regex(/^[^:]*$/, "a user name may not contain ':'"), password: secret })).min(1),
    realm: z.string().regex(/^[^"\\]*$/, "no quotes or backslashes").default("node-mirth"),
  }),
  /** `Authorization: Bearer <token>`. */
  z.strictObject({ type: z.literal("bearer"), tokens: z.array(secret).min(1) }),
  /** A key in a header, `X-API-Key` by default. */
  z.strictObject({ type: z.literal("apiKey"), header: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/).default("x-api-key"), keys: z.array(secret).min(1) }),
  /** The verified client certificate's subject CN must be listed; needs TLS with requireClientCert. */
  z.strictObject({ type: z.literal("mtls"), allowedSubjects: z.array(z.string().min(1)).min(1) }),
]);

export type PartnerAuth = z.output<typeof partnerAuthSchema>;
export type PartnerAuthInput = z.input<typeof partnerAuthSchema>;

export type PartnerDecision =
  | { ok: true; partner: string | undefined }
  | { ok: false; statusCode: 401 | 403; challenge: string | undefined; reason: string };

/** Constant-time comparison of a presented secret with each allowed one (digests hide lengths). */
function matches(presented: string, allowed: readonly string[]): boolean {
  const digest = createHash("sha256").update(presented).digest();
  let found = false;
  for (const candidate of allowed) {
    if (timingSafeEqual(digest, createHash("sha256").update(candidate).digest())) found = true;
  }
  return found;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The CN of the verified client certificate, if the connection has one. */
export function peerSubject(request: IncomingMessage): string | undefined {
  const socket = request.socket as Partial<TLSSocket>;
  if (socket.encrypted !== true || socket.authorized !== true || socket.getPeerCertificate === undefined) return undefined;
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  return typeof cn === "string" ? cn : Array.isArray(cn) ? String(cn[0]) : undefined;
}

/** Decides whether a request comes from a known partner. Reasons name no secret. */
export function checkPartner(auth: PartnerAuth, request: IncomingMessage): PartnerDecision {
  switch (auth.type) {
    case "none":
      return { ok: true, partner: peerSubject(request) };
    case "basic": {
      const challenge = `Basic realm="${auth.realm}", charset="UTF-8"`;
      const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header(request, "authorization") ?? "");
      if (match === null) return { ok: false, statusCode: 401, challenge, reason: "no Basic credentials" };
      const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      const username = colon === -1 ? decoded : decoded.slice(0, colon);
      const password = colon === -1 ? "" : decoded.slice(colon + 1);
      const known = auth.users.filter((u) => u.username === username).map((u) => u.password);
      // Compared even for an unknown user, so timing does not tell which names exist.
      const ok = matches(password, known.length === 0 ? ["\0unknown"] : known) && known.length > 0;
      return ok ? { ok: true, partner: username } : { ok: false, statusCode: 401, challenge, reason: "wrong user name or password" };
    }
    case "bearer": {
      const match = /^Bearer ([\x21-\x7e]+)$/i.exec(header(request, "authorization") ?? "");
      if (match === null) return { ok: false, statusCode: 401, challenge: "Bearer", reason: "no bearer token" };
      return matches(match[1]!, auth.tokens) ? { ok: true, partner: "bearer" } : { ok: false, statusCode: 401, challenge: 'Bearer error="invalid_token"', reason: "unknown bearer token" };
    }
    case "apiKey": {
      const key = header(request, auth.header);
      if (key === undefined) return { ok: false, statusCode: 401, challenge: undefined, reason: `no ${auth.header} header` };
      return matches(key, auth.keys) ? { ok: true, partner: "api-key" } : { ok: false, statusCode: 401, challenge: undefined, reason: "unknown API key" };
    }
    case "mtls": {
      const subject = peerSubject(request);
      if (subject === undefined) return { ok: false, statusCode: 401, challenge: undefined, reason: "no verified client certificate" };
      return auth.allowedSubjects.includes(subject) ? { ok: true, partner: subject } : { ok: false, statusCode: 403, challenge: undefined, reason: `client certificate subject ${subject} is not on the allow-list` };
    }
  }
}

/** Headers that carry the partner's credential: never copied into the source map. */
export function credentialHeaderNames(auth: PartnerAuth): string[] {
  return auth.type === "apiKey" ? ["authorization", "proxy-authorization", "cookie", auth.header.toLowerCase()] : ["authorization", "proxy-authorization", "cookie"];
}

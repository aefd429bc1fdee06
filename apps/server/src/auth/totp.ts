import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { base32Encode } from "./base32.js";

/** RFC 6238 with the parameters every authenticator app supports: HMAC-SHA-1, 6 digits, 30 s. */
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_MS = 30_000;
/** Accept the code of the step before and after, for clock drift between phone and server. */
const DRIFT_STEPS = 1;

export function totpStep(atMs: number): number {
  return Math.floor(atMs / TOTP_PERIOD_MS);
}

/** RFC 4226 HOTP truncated to `digits` (the RFC 6238 vectors use 8). */
export function hotp(secret: Uint8Array, options: { counter: number; digits?: number }): string {
  const digits = options.digits ?? TOTP_DIGITS;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(options.counter));
  const mac = createHmac("sha1", secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** The 6-digit code an authenticator app shows at `atMs` for this raw secret. */
export function totpCode(secret: Uint8Array, atMs: number): string {
  return hotp(secret, { counter: totpStep(atMs) });
}

/** A fresh 160-bit secret (RFC 4226's recommended length for SHA-1). */
export function generateTotpSecret(): Buffer {
  return randomBytes(20);
}

/**
 * The time step the code belongs to (within the drift window), or undefined. Callers refuse
 * a step at or before the last one used, so a code cannot be replayed.
 */
export function matchTotp(secret: Uint8Array, options: { code: string; atMs: number }): number | undefined {
  if (!/^\d{6}$/.test(options.code)) return undefined;
  const now = totpStep(options.atMs);
  const given = Buffer.from(options.code);
  let matched: number | undefined;
  // Every candidate is compared, so the time taken does not say which step matched.
  for (let step = now - DRIFT_STEPS; step <= now + DRIFT_STEPS; step += 1) {
    if (timingSafeEqual(Buffer.from(hotp(secret, { counter: step })), given)) matched ??= step;
  }
  return matched;
}

/** The `otpauth://totp/...` enrollment URI (Key Uri Format) authenticator apps scan. */
export function otpauthUri(options: { secret: Uint8Array; issuer: string; account: string }): string {
  const label = `${encodeURIComponent(options.issuer)}:${encodeURIComponent(options.account)}`;
  const query = new URLSearchParams({
    secret: base32Encode(options.secret),
    issuer: options.issuer,
    algorithm: "SHA1",
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_MS / 1000),
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}

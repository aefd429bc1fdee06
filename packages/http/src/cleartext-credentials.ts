/** Request headers that carry credentials; sending one over cleartext HTTP exposes it. */
export const CREDENTIAL_HEADERS: readonly string[] = [
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "api-key",
  "apikey",
  "x-auth-token",
  "cookie",
];

/**
 * Names what would carry a credential in cleartext: user info in an `http:` URL or a
 * credential header (the built-in list plus `extraHeaders`). Undefined for `https:` or when
 * there is nothing secret to expose.
 */
export function findCleartextCredential(
  url: URL,
  headers: Readonly<Record<string, string>>,
  extraHeaders: readonly string[] = [],
): string | undefined {
  if (url.protocol !== "http:") return undefined;
  if (url.username !== "" || url.password !== "") return "user name or password in an http:// URL";
  const secret = new Set([...CREDENTIAL_HEADERS, ...extraHeaders.map((h) => h.toLowerCase())]);
  const header = Object.keys(headers).find((name) => secret.has(name.toLowerCase()));
  return header === undefined ? undefined : `credential header ${header} over http://`;
}

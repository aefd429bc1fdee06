import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** One usable line of an OpenSSH known_hosts file. */
export interface KnownHostEntry {
  /** `@revoked` lines refuse their key for every host they name. */
  revoked: boolean;
  /** Comma-separated patterns as written, or one hashed `|1|salt|hash` name. */
  hosts: string;
  keyType: string;
  /** The public key blob (what the server sends in its key exchange). */
  key: Buffer;
}

/**
 * Parses known_hosts text. Comments, blank lines, `@cert-authority` lines (certificates
 * are not supported here) and malformed lines are skipped, never guessed at.
 */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith("@") === true) {
      if (fields[0] !== "@revoked") continue;
      revoked = true;
      fields.shift();
    }
    const [hosts, keyType, base64] = fields;
    if (hosts === undefined || keyType === undefined || base64 === undefined) continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) continue;
    entries.push({ revoked, hosts, keyType, key: Buffer.from(base64, "base64") });
  }
  return entries;
}

/** How OpenSSH names a host in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const regex = new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`,
    "i",
  );
  return regex.test(name);
}

function hashedMatch(entry: string, name: string): boolean {
  const [, magic, salt, hash] = entry.split("|");
  if (magic !== "1" || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** True when the entry's host field names `name` (negated patterns `!x` exclude). */
export function hostsFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith("|")) return hashedMatch(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(",")) {
    if (pattern.startsWith("!")) {
      if (globMatch(pattern.slice(1), name)) return false;
    } else if (globMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, ...). */
export function keyTypeOf(key: Buffer): string | undefined {
  if (key.length < 4) return undefined;
  const length = key.readUInt32BE(0);
  if (length > key.length - 4 || length > 64) return undefined;
  return key.subarray(4, 4 + length).toString("latin1");
}

/** OpenSSH's SHA-256 fingerprint: `SHA256:` and unpadded base64. */
export function sha256Fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

export type HostKeyDecision = "trusted" | "unknown" | "mismatch";

/**
 * What known_hosts says about the key a server presented for `name`: trusted when a line
 * for the host holds exactly this key; mismatch when lines for the host exist with the same
 * key type but another key (or the key is revoked); unknown otherwise.
 */
export function checkKnownHost(entries: readonly KnownHostEntry[], request: { name: string; key: Buffer }): HostKeyDecision {
  const { name, key } = request;
  if (entries.some((e) => e.revoked && e.key.equals(key))) return "mismatch";
  const forHost = entries.filter((e) => !e.revoked && hostsFieldMatches(e.hosts, name));
  if (forHost.some((e) => e.key.equals(key))) return "trusted";
  const type = keyTypeOf(key);
  return forHost.some((e) => e.keyType === type) ? "mismatch" : "unknown";
}

/** Normalizes a pinned fingerprint as operators paste it: with or without `SHA256:`, padded or not. */
export function normalizeFingerprint(pinned: string): string {
  const body = pinned.trim().replace(/^SHA256:/i, "").replace(/=+$/, "");
  return `SHA256:${body}`;
}

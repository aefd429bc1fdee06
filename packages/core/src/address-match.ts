import { isIPv4, isIPv6 } from "node:net";

/** An IP address as a number: 32 bits for IPv4, 128 bits for IPv6. */
export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

/** A network: every address whose first `prefix` bits equal those of `network`. */
export interface Cidr {
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

/** Strips `[...]` brackets and an IPv6 zone id (`fe80::1%eth0`); zones do not change which host it is. */
function bare(text: string): string {
  let t = text.trim();
  if (t.startsWith("[") && t.endsWith("]")) t = t.slice(1, -1);
  const zone = t.indexOf("%");
  return zone === -1 ? t : t.slice(0, zone);
}

function parseIpv4Value(text: string): bigint {
  return text.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function parseIpv6Value(text: string): bigint {
  const [head = "", tail] = text.split("::");
  const part = (s: string): string[] => (s === "" ? [] : s.split(":"));
  const expand = (parts: string[]): bigint[] =>
    parts.flatMap((p) => {
      if (p.includes(".")) {
        const v4 = parseIpv4Value(p);
        return [v4 >> 16n, v4 & 0xffffn];
      }
      return [BigInt(parseInt(p, 16))];
    });
  if (tail === undefined) {
    return expand(part(head)).reduce((acc, g) => (acc << 16n) | g, 0n);
  }
  const left = expand(part(head));
  const right = expand(part(tail));
  const zeros = new Array<bigint>(8 - left.length - right.length).fill(0n);
  return [...left, ...zeros, ...right].reduce((acc, g) => (acc << 16n) | g, 0n);
}

/**
 * Parses a literal IPv4 or IPv6 address (brackets and zone ids allowed), or returns undefined
 * for anything else. Only canonical dotted-quad IPv4 counts: `127.1` or `2130706433` are not
 * literals here (the OS resolver may still map them to an address; the connect-time check sees that).
 */
export function parseIp(text: string): IpAddress | undefined {
  const t = bare(text);
  if (isIPv4(t)) return { family: 4, value: parseIpv4Value(t) };
  if (isIPv6(t)) return { family: 6, value: parseIpv6Value(t) };
  return undefined;
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is the IPv4 address it carries; anything else is unchanged. */
export function normalizeIp(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.value >> 32n === 0xffffn)
    return { family: 4, value: ip.value & 0xffffffffn };
  return ip;
}

/** Formats an address canonically (IPv6 as RFC 5952, lower case, longest zero run compressed). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((ip.value >> s) & 0xffn).toString()).join(".");
  }
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) =>
    Number((ip.value >> s) & 0xffffn),
  );
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/**
 * Parses `10.0.0.0/8`, `fd00::/8`, or a single address (a /32 or /128). Host bits set below the
 * prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`). IPv4-mapped IPv6 networks of /96 or longer
 * become their IPv4 network, so they match the same way addresses are normalized.
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === undefined) return undefined;
  const bits = BITS[ip.family];
  let prefix: number = bits;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > bits) return undefined;
  }
  const cidr: Cidr = { family: ip.family, network: ip.value & mask(ip.family, prefix), prefix };
  if (cidr.family === 6 && prefix >= 96 && cidr.network >> 32n === 0xffffn) {
    return { family: 4, network: cidr.network & 0xffffffffn, prefix: prefix - 96 };
  }
  return cidr;
}

function mask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  const all = (1n << bits) - 1n;
  return (all << (bits - BigInt(prefix))) & all;
}

/** True when `ip` (normalized first) is inside `cidr`. Families never match across. */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  const n = normalizeIp(ip);
  if (n.family !== cidr.family) return false;
  return (n.value & mask(n.family, cidr.prefix)) === cidr.network;
}

/** True when every address of `inner` is inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return (
    inner.family === outer.family &&
    inner.prefix >= outer.prefix &&
    (inner.network & mask(inner.family, outer.prefix)) === outer.network
  );
}

const LOOPBACK_V4 = parseCidr("127.0.0.0/8")!;
const LOOPBACK_V6 = parseCidr("::1/128")!;

/** Link-local blocks: 169.254.0.0/16 and fe80::/10. */
export const LINK_LOCAL_CIDRS: readonly Cidr[] = [
  parseCidr("169.254.0.0/16")!,
  parseCidr("fe80::/10")!,
];

/**
 * Cloud instance-metadata endpoints outside the link-local blocks (or inside them but worth
 * naming): AWS IPv4/IPv6, AWS ECS task metadata, Alibaba Cloud.
 */
export const METADATA_ADDRESSES: readonly Cidr[] = [
  parseCidr("169.254.169.254")!,
  parseCidr("169.254.170.2")!,
  parseCidr("fd00:ec2::254")!,
  parseCidr("100.100.100.200")!,
];

/** Host names that reach a cloud metadata service. */
export const METADATA_HOSTNAMES: readonly string[] = [
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
];

/** Lower case, without a trailing dot: how host names are compared. */
export function normalizeHostname(host: string): string {
  const h = host.trim().toLowerCase();
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/**
 * True only for addresses that cannot leave the machine: 127.0.0.0/8, ::1, IPv4-mapped
 * ::ffff:127.x, and the name `localhost` itself. `foo.localhost`, `127.1` and empty are not.
 */
export function isLoopbackHost(host: string): boolean {
  if (normalizeHostname(host) === "localhost") return true;
  const ip = parseIp(host);
  if (ip === undefined) return false;
  return cidrContains(LOOPBACK_V4, ip) || cidrContains(LOOPBACK_V6, ip);
}

/** True for link-local addresses and cloud metadata addresses. */
export function isLinkLocalOrMetadata(ip: IpAddress): boolean {
  return [...LINK_LOCAL_CIDRS, ...METADATA_ADDRESSES].some((c) => cidrContains(c, ip));
}

/** True when every address of `cidr` is link-local or a metadata address: an explicit opt-in. */
export function isSpecialCidr(cidr: Cidr): boolean {
  return [...LINK_LOCAL_CIDRS, ...METADATA_ADDRESSES].some((outer) => cidrWithin(cidr, outer));
}

/** True when `host` (already a name, not an IP) is a cloud metadata host name. */
export function isMetadataHostname(host: string): boolean {
  return METADATA_HOSTNAMES.includes(normalizeHostname(host));
}

/** One parsed `[egress]` entry. `port` undefined means any port. */
export type EgressEntry =
  | { type: "address"; text: string; cidr: Cidr; port: number | undefined }
  | { type: "host"; text: string; name: string; port: number | undefined }
  | { type: "wildcard"; text: string; suffix: string; port: number | undefined };

const LABEL = "[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?";
const HOSTNAME_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function hostEntry(text: string, host: string, port: number | undefined): EgressEntry | undefined {
  const name = normalizeHostname(host);
  if (name.length > 253) return undefined;
  if (name.startsWith("*.")) {
    const rest = name.slice(2);
    return HOSTNAME_RE.test(rest)
      ? { type: "wildcard", text, suffix: `.${rest}`, port }
      : undefined;
  }
  return HOSTNAME_RE.test(name) ? { type: "host", text, name, port } : undefined;
}

/**
 * Parses one allow-list entry, or returns undefined when it is not valid:
 * `host`, `host:port`, `*.domain` / `*.domain:port` (any subdomain, not the domain itself),
 * `10.1.2.3`, `10.1.2.3:2575`, `10.0.0.0/8`, `10.0.0.0/8:2575`, `::1`, `fd00::/8`,
 * `[::1]:2575`, `[fd00::/8]:2575`. A bare IPv6 address never carries a port (use brackets).
 */
export function parseEgressEntry(raw: string): EgressEntry | undefined {
  const text = raw.trim();
  if (text === "") return undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) return undefined;
    const cidr = parseCidr(text.slice(1, close));
    const after = text.slice(close + 1);
    if (cidr === undefined || (after !== "" && !after.startsWith(":"))) return undefined;
    const port = after === "" ? undefined : parsePort(after.slice(1));
    if (after !== "" && port === undefined) return undefined;
    return { type: "address", text, cidr, port };
  }
  const whole = parseCidr(text);
  if (whole !== undefined) return { type: "address", text, cidr: whole, port: undefined };
  const colons = text.split(":").length - 1;
  if (colons > 1) return undefined;
  let host = text;
  let port: number | undefined;
  if (colons === 1) {
    const at = text.lastIndexOf(":");
    host = text.slice(0, at);
    port = parsePort(text.slice(at + 1));
    if (port === undefined) return undefined;
  }
  const cidr = parseCidr(host);
  if (cidr !== undefined) return { type: "address", text, cidr, port };
  if (host.includes("/")) return undefined;
  return hostEntry(text, host, port);
}

function portMatches(entry: EgressEntry, port: number | undefined): boolean {
  return entry.port === undefined || entry.port === port;
}

/** True when a name entry (exact or wildcard) admits `host` on `port`. Address entries never match names. */
export function entryMatchesHost(
  entry: EgressEntry,
  host: string,
  port: number | undefined,
): boolean {
  if (!portMatches(entry, port)) return false;
  const name = normalizeHostname(host);
  switch (entry.type) {
    case "host":
      return entry.name === name;
    case "wildcard":
      return name.endsWith(entry.suffix) && name.length > entry.suffix.length;
    case "address":
      return false;
  }
}

/** True when an address entry admits `ip` on `port`. Name entries never match addresses. */
export function entryMatchesAddress(
  entry: EgressEntry,
  ip: IpAddress,
  port: number | undefined,
): boolean {
  return entry.type === "address" && portMatches(entry, port) && cidrContains(entry.cidr, ip);
}

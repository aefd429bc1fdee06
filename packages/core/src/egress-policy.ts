import { lookup as dnsLookup } from "node:dns/promises";
import { realpath } from "node:fs/promises";
import { dirname, basename, isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
import {
  entryMatchesAddress,
  entryMatchesHost,
  isLinkLocalOrMetadata,
  isMetadataHostname,
  isSpecialCidr,
  normalizeIp,
  parseEgressEntry,
  parseIp,
  type EgressEntry,
  type IpAddress,
} from "./address-match.js";
import { NodeMirthError } from "./errors.js";

/** The network destination kinds, one allow-list each: `[egress].allowed_<kind>`. */
export const EGRESS_KINDS = ["mllp", "tcp", "http", "smtp", "dicom", "remote", "db"] as const;
export type EgressKind = (typeof EGRESS_KINDS)[number];

const entrySchema = z.string().refine((s) => parseEgressEntry(s) !== undefined, {
  error: (issue) =>
    `not a valid egress entry: ${JSON.stringify(issue.input)} (use host, host:port, *.domain, ` +
    `an IPv4/IPv6 address or CIDR, or [IPv6]:port)`,
});

const dirSchema = z
  .string()
  .refine((s) => !s.includes("\0"), { error: "a directory may not contain NUL" })
  .refine((s) => isAbsolute(s), { error: "allowed_file_dirs entries must be absolute paths" })
  .refine((s) => !s.split(/[\\/]/).includes(".."), {
    error: "allowed_file_dirs entries may not contain '..'",
  });

const list = z.array(entrySchema).default([]);

/**
 * The `[egress]` section of node-mirth.toml. Every list defaults to empty (unrestricted);
 * a populated list is the complete set of allowed destinations (fail closed). Unknown keys are
 * errors, so a misspelt list never silently leaves a kind unrestricted.
 */
export const egressConfigSchema = z.strictObject({
  allowed_mllp: list,
  allowed_tcp: list,
  allowed_http: list,
  allowed_smtp: list,
  allowed_dicom: list,
  allowed_remote: list,
  allowed_db: list,
  allowed_file_dirs: z.array(dirSchema).default([]),
});

export type EgressConfig = z.output<typeof egressConfigSchema>;
export type EgressConfigInput = z.input<typeof egressConfigSchema>;

/** One resolved address, as `dns.lookup` returns it. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address; default `dns.promises.lookup(host, { all: true })`. */
export type EgressLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface EgressPolicyOptions {
  lookup?: EgressLookup;
}

/** What `checkConfigured` decided: allowed now, or allowed pending the connect-time check. */
export interface ConfiguredDecision {
  decision: "allowed" | "deferred";
  /** The allow-list entry that admitted it; undefined when the list is empty. */
  entry: string | undefined;
}

/**
 * Where a connector may connect. Connect to `address` (or one of `addresses`), never to
 * `host` again: a second DNS lookup could return a different, unchecked address. Keep `host`
 * for TLS `servername` and certificate checks, and for the HTTP `Host` header.
 */
export interface VettedDestination {
  host: string;
  port: number | undefined;
  address: string;
  family: 4 | 6;
  addresses: readonly { address: string; family: 4 | 6 }[];
}

export type EgressDenialReason =
  | "not-listed"
  | "link-local-or-metadata"
  | "unresolved"
  | "file-outside-dirs"
  | "file-traversal"
  | "file-nul";

export interface EgressDenial {
  reason: EgressDenialReason;
  /** `mllp`, `http`, ... or `file`. */
  kind: EgressKind | "file";
  /** Host (or file path) as configured. */
  target: string;
  port?: number | undefined;
  /** The resolved address (or real file path) that was refused, when it differs from the target. */
  resolved?: string | undefined;
}

function display(host: string, port: number | undefined): string {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

function denialMessage(d: EgressDenial, configKey: string): string {
  const where = `[egress].${configKey} in node-mirth.toml`;
  const dest = `${d.kind} destination ${display(d.target, d.port)}`;
  const via =
    d.resolved === undefined
      ? ""
      : ` (${d.kind === "file" ? "real path" : "resolved address"} ${d.resolved})`;
  switch (d.reason) {
    case "not-listed":
      return `Egress denied: ${dest}${via} is not on the allow-list. To allow it, add "${display(d.target, d.port)}" to ${where}.`;
    case "link-local-or-metadata":
      return (
        `Egress denied: ${dest}${via} is a link-local or cloud-metadata address, refused for ${d.kind} by default. ` +
        `If the channel really must reach it, list exactly that address (or name) in ${where}.`
      );
    case "unresolved":
      return `Egress denied: ${dest} did not resolve to any address; nothing was checked or connected.`;
    case "file-outside-dirs":
      return `Egress denied: file path ${JSON.stringify(d.target)}${via} is outside every directory in ${where}. Add its directory there or change the path.`;
    case "file-traversal":
      return `Egress denied: file path ${JSON.stringify(d.target)} contains '..'; write the absolute path instead.`;
    case "file-nul":
      return `Egress denied: a file path contains a NUL character.`;
  }
}

/** Thrown when a destination or file path is not allowed by `[egress]`. Names the config key to change. */
export class EgressDeniedError extends NodeMirthError {
  constructor(denial: EgressDenial) {
    const configKey = denial.kind === "file" ? "allowed_file_dirs" : `allowed_${denial.kind}`;
    // A NUL path is shown to nobody: it may be attacker-made from message content.
    const target = denial.reason === "file-nul" ? "(contains NUL)" : denial.target;
    super("ERR_POLICY_EGRESS_DENIED", denialMessage({ ...denial, target }, configKey), {
      details: { ...denial, target, configKey },
    });
  }
}

const defaultLookup: EgressLookup = (hostname) =>
  dnsLookup(hostname, { all: true, order: "verbatim" });

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** realpath of the longest existing prefix, with the rest (which cannot be a symlink yet) appended. */
async function realpathOfExistingPrefix(absolute: string): Promise<string> {
  const rest: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return join(await realpath(current), ...rest.reverse());
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const parent = dirname(current);
      if ((code !== "ENOENT" && code !== "ENOTDIR") || parent === current) throw error;
      rest.push(basename(current));
      current = parent;
    }
  }
}

/**
 * The `[egress]` allow-lists, checked twice: `checkConfigured` at deploy (after `${VAR}`
 * substitution) for an early, clear error, and `checkConnect` at every connect against the
 * addresses the name resolves to. `checkConnect` is the one that protects; see SECURITY-POLICY.md.
 */
export class EgressPolicy {
  readonly config: EgressConfig;
  readonly #entries: Record<EgressKind, readonly EgressEntry[]>;
  readonly #lookup: EgressLookup;

  constructor(config: EgressConfigInput = {}, options: EgressPolicyOptions = {}) {
    const parsed = egressConfigSchema.parse(config);
    for (const value of Object.values(parsed)) Object.freeze(value);
    this.config = Object.freeze(parsed);
    const entries = {} as Record<EgressKind, readonly EgressEntry[]>;
    for (const kind of EGRESS_KINDS) {
      entries[kind] = this.config[`allowed_${kind}`].map((text) => parseEgressEntry(text)!);
    }
    this.#entries = entries;
    this.#lookup = options.lookup ?? defaultLookup;
  }

  /** True when `allowed_<kind>` is populated (fail closed). */
  isRestricted(kind: EgressKind): boolean {
    return this.#entries[kind].length > 0;
  }

  /**
   * Deploy-time check of a configured host (after `${VAR}` substitution). A literal IP must
   * match an address entry; a name must match a name entry, or is `deferred` to the connect
   * check when the list has address entries that its resolved addresses might match.
   * Throws `ERR_POLICY_EGRESS_DENIED` when no entry could admit it.
   */
  checkConfigured(kind: EgressKind, host: string, port?: number): ConfiguredDecision {
    const entries = this.#entries[kind];
    const ip = parseIp(host);
    if (ip !== undefined) {
      return {
        decision: "allowed",
        entry: this.#admitAddress({ kind, host, port, ip, nameEntry: undefined })?.text,
      };
    }
    this.#refuseMetadataName(kind, host, port);
    if (entries.length === 0) return { decision: "allowed", entry: undefined };
    const named = entries.find((e) => entryMatchesHost(e, host, port));
    if (named !== undefined) return { decision: "allowed", entry: named.text };
    const couldMatch = entries.some(
      (e) => e.type === "address" && (e.port === undefined || e.port === port),
    );
    if (couldMatch) return { decision: "deferred", entry: undefined };
    throw new EgressDeniedError({ reason: "not-listed", kind, target: host, port });
  }

  /**
   * Connect-time check. Resolves `host` (unless it is a literal IP) and checks EVERY address;
   * one unlisted address refuses the whole destination. Returns the vetted addresses: connect
   * to `address`, never re-resolve `host`.
   */
  async checkConnect(kind: EgressKind, host: string, port?: number): Promise<VettedDestination> {
    const literal = parseIp(host);
    if (literal !== undefined) {
      this.#admitAddress({ kind, host, port, ip: literal, nameEntry: undefined });
      const bare = host.trim().replace(/^\[|\]$/g, "");
      return {
        host,
        port,
        address: bare,
        family: literal.family,
        addresses: [{ address: bare, family: literal.family }],
      };
    }
    this.#refuseMetadataName(kind, host, port);
    const resolved = await this.#lookup(host);
    const addresses: { address: string; family: 4 | 6 }[] = [];
    const nameEntry = this.#entries[kind].find((e) => entryMatchesHost(e, host, port));
    for (const r of resolved) {
      const ip = parseIp(r.address);
      if (ip === undefined)
        throw new EgressDeniedError({
          reason: "not-listed",
          kind,
          target: host,
          port,
          resolved: r.address,
        });
      this.#admitAddress({ kind, host, port, ip, nameEntry, address: r.address });
      addresses.push({ address: r.address, family: ip.family });
    }
    const first = addresses[0];
    if (first === undefined)
      throw new EgressDeniedError({ reason: "unresolved", kind, target: host, port });
    return { host, port, address: first.address, family: first.family, addresses };
  }

  /**
   * Checks a file path against `allowed_file_dirs`: NUL and `..` segments are refused always;
   * the path is made absolute and the realpath of its existing part must lie inside the
   * realpath of an allowed directory (a symlink pointing out is refused). Returns that real
   * path: read or write it, not the original.
   */
  async checkFilePath(path: string): Promise<string> {
    if (path.includes("\0"))
      throw new EgressDeniedError({ reason: "file-nul", kind: "file", target: path });
    if (path.split(/[\\/]/).includes("..")) {
      throw new EgressDeniedError({ reason: "file-traversal", kind: "file", target: path });
    }
    const real = await realpathOfExistingPrefix(resolve(path));
    const dirs = this.config.allowed_file_dirs;
    if (dirs.length === 0) return real;
    for (const dir of dirs) {
      if (isInside(real, await realpathOfExistingPrefix(resolve(dir)))) return real;
    }
    throw new EgressDeniedError({
      reason: "file-outside-dirs",
      kind: "file",
      target: path,
      resolved: real === resolve(path) ? undefined : real,
    });
  }

  #refuseMetadataName(kind: EgressKind, host: string, port: number | undefined): void {
    if (kind !== "http" || !isMetadataHostname(host)) return;
    const explicit = this.#entries.http.some(
      (e) => e.type === "host" && entryMatchesHost(e, host, port),
    );
    if (!explicit)
      throw new EgressDeniedError({ reason: "link-local-or-metadata", kind, target: host, port });
  }

  /** Admits one address or throws; returns the entry that admitted it (undefined: empty list or name entry). */
  #admitAddress(c: {
    kind: EgressKind;
    host: string;
    port: number | undefined;
    ip: IpAddress;
    nameEntry: EgressEntry | undefined;
    address?: string;
  }): EgressEntry | undefined {
    const entries = this.#entries[c.kind];
    const ip = normalizeIp(c.ip);
    if (c.kind === "http" && isLinkLocalOrMetadata(ip)) {
      // Only an entry that names special addresses and nothing else opts in: 0.0.0.0/0 or a
      // host name that happens to resolve there does not. A listed metadata host name does.
      const special = entries.find(
        (e) =>
          (e.type === "address" && isSpecialCidr(e.cidr) && entryMatchesAddress(e, ip, c.port)) ||
          (e === c.nameEntry && e.type === "host" && isMetadataHostname(e.name)),
      );
      if (special !== undefined) return special;
      throw new EgressDeniedError({
        reason: "link-local-or-metadata",
        kind: c.kind,
        target: c.host,
        port: c.port,
        resolved: c.address,
      });
    }
    if (entries.length === 0 || c.nameEntry !== undefined) return c.nameEntry;
    const match = entries.find((e) => entryMatchesAddress(e, ip, c.port));
    if (match !== undefined) return match;
    throw new EgressDeniedError({
      reason: "not-listed",
      kind: c.kind,
      target: c.host,
      port: c.port,
      resolved: c.address,
    });
  }
}

/** Builds the policy from the `[egress]` section (validated again here). */
export function createEgressPolicy(
  config: EgressConfigInput = {},
  options: EgressPolicyOptions = {},
): EgressPolicy {
  return new EgressPolicy(config, options);
}

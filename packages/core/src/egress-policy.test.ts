import { mkdir, mkdtemp, rm, symlink, realpath } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isNodeMirthError } from "./errors.js";
import {
  createEgressPolicy,
  EgressDeniedError,
  egressConfigSchema,
  EgressPolicy,
  type EgressConfigInput,
  type ResolvedAddress,
} from "./egress-policy.js";

function denied(fn: () => unknown): EgressDeniedError {
  try {
    fn();
  } catch (error) {
    if (error instanceof EgressDeniedError) return error;
    throw error;
  }
  throw new Error("expected an EgressDeniedError");
}

async function deniedAsync(promise: Promise<unknown>): Promise<EgressDeniedError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EgressDeniedError) return error;
    throw error;
  }
  throw new Error("expected an EgressDeniedError");
}

function fakeDns(table: Record<string, string[]>) {
  return vi.fn((host: string): Promise<ResolvedAddress[]> =>
    Promise.resolve(
      (table[host] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 })),
    ),
  );
}

describe("egressConfigSchema", () => {
  it("defaults every list to empty", () => {
    expect(egressConfigSchema.parse({})).toEqual({
      allowed_mllp: [],
      allowed_tcp: [],
      allowed_http: [],
      allowed_smtp: [],
      allowed_dicom: [],
      allowed_remote: [],
      allowed_db: [],
      allowed_file_dirs: [],
    });
  });

  it("collects every bad entry, refuses unknown keys and relative or '..' dirs", () => {
    const result = egressConfigSchema.safeParse({
      allowed_mllp: ["lab:2575", "bad host", "10.0.0.0/40"],
      allowed_htp: ["x"],
      allowed_file_dirs: ["relative/dir", "/data/../etc", "/ok"],
    });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(
      expect.arrayContaining([
        "allowed_mllp.1",
        "allowed_mllp.2",
        "allowed_file_dirs.0",
        "allowed_file_dirs.1",
      ]),
    );
    expect(result.error?.issues.some((i) => i.code === "unrecognized_keys")).toBe(true);
    expect(
      result.error?.issues.find((i) => i.path.join(".") === "allowed_mllp.1")?.message,
    ).toContain('"bad host"');
    expect(paths).not.toContain("allowed_file_dirs.2");
  });

  it("is enforced by the constructor, which freezes the parsed config", () => {
    expect(() => new EgressPolicy({ allowed_http: ["not a host"] })).toThrow();
    const policy = new EgressPolicy({ allowed_http: ["a.example.org"] });
    expect(Object.isFrozen(policy.config)).toBe(true);
    expect(Object.isFrozen(policy.config.allowed_http)).toBe(true);
  });
});

describe("checkConfigured", () => {
  const policy = createEgressPolicy({
    allowed_mllp: [
      "lab.example.org:2575",
      "*.ris.example.org",
      "10.1.0.0/16:2575",
      "[fd00::/8]:2575",
      "[::1]:2575",
    ],
    allowed_tcp: ["192.168.1.20:9100"],
    allowed_db: ["db.internal"],
  });

  it("allows everything for an empty list (except special http targets)", () => {
    expect(policy.isRestricted("smtp")).toBe(false);
    expect(policy.checkConfigured("smtp", "anything.example.com", 25)).toEqual({
      decision: "allowed",
      entry: undefined,
    });
    expect(policy.checkConfigured("smtp", "203.0.113.9", 25).decision).toBe("allowed");
  });

  it("matches names exactly, case-insensitively, with the port", () => {
    expect(policy.checkConfigured("mllp", "LAB.example.org", 2575)).toEqual({
      decision: "allowed",
      entry: "lab.example.org:2575",
    });
    expect(policy.checkConfigured("mllp", "a.ris.example.org", 9999).entry).toBe(
      "*.ris.example.org",
    );
  });

  it("matches literal IPv4 and IPv6 addresses against address entries", () => {
    expect(policy.checkConfigured("mllp", "10.1.200.3", 2575).entry).toBe("10.1.0.0/16:2575");
    expect(policy.checkConfigured("mllp", "fd12::7", 2575).entry).toBe("[fd00::/8]:2575");
    expect(policy.checkConfigured("mllp", "[fd12::7]", 2575).entry).toBe("[fd00::/8]:2575");
    expect(policy.checkConfigured("mllp", "::1", 2575).entry).toBe("[::1]:2575");
    expect(policy.checkConfigured("tcp", "::ffff:192.168.1.20", 9100).entry).toBe(
      "192.168.1.20:9100",
    );
  });

  it("refuses unlisted names, addresses and ports, naming kind, target and config key", () => {
    const error = denied(() => policy.checkConfigured("tcp", "evil.example.com", 443));
    expect(isNodeMirthError(error)).toBe(true);
    expect(error.code).toBe("ERR_POLICY_EGRESS_DENIED");
    expect(error.message).toContain("tcp destination evil.example.com:443");
    expect(error.message).toContain('add "evil.example.com:443" to [egress].allowed_tcp');
    expect(error.details).toMatchObject({
      kind: "tcp",
      target: "evil.example.com",
      port: 443,
      configKey: "allowed_tcp",
      reason: "not-listed",
    });
    expect(
      denied(() => policy.checkConfigured("mllp", "lab.example.org", 2576)).details.reason,
    ).toBe("not-listed");
    expect(denied(() => policy.checkConfigured("mllp", "10.2.0.1", 2575)).details.reason).toBe(
      "not-listed",
    );
    expect(denied(() => policy.checkConfigured("mllp", "10.1.0.1", 2576)).details.reason).toBe(
      "not-listed",
    );
    expect(
      denied(() => policy.checkConfigured("mllp", "ris.example.org", 2576)).details.reason,
    ).toBe("not-listed");
    expect(denied(() => policy.checkConfigured("mllp", "fc00::1", 2575)).message).toContain(
      "[fc00::1]:2575",
    );
    expect(
      denied(() => policy.checkConfigured("db", "db.internal.evil.com", 5432)).details.reason,
    ).toBe("not-listed");
  });

  it("defers an unlisted name to the connect check only when an address entry could admit it", () => {
    expect(policy.checkConfigured("mllp", "lis.hospital.local", 2575)).toEqual({
      decision: "deferred",
      entry: undefined,
    });
    expect(
      denied(() => policy.checkConfigured("mllp", "lis.hospital.local", 2576)).details.reason,
    ).toBe("not-listed");
    expect(policy.checkConfigured("tcp", "printer.local", 9100).decision).toBe("deferred");
  });
});

describe("checkConnect", () => {
  it("allows a listed name and returns the vetted addresses to connect to", async () => {
    const lookup = fakeDns({ "lab.example.org": ["10.9.0.5", "fd00::5"] });
    const policy = new EgressPolicy({ allowed_mllp: ["lab.example.org:2575"] }, { lookup });
    await expect(policy.checkConnect("mllp", "lab.example.org", 2575)).resolves.toEqual({
      host: "lab.example.org",
      port: 2575,
      address: "10.9.0.5",
      family: 4,
      addresses: [
        { address: "10.9.0.5", family: 4 },
        { address: "fd00::5", family: 6 },
      ],
    });
    expect(lookup).toHaveBeenCalledWith("lab.example.org");
  });

  it("allows a name whose every address is on an address entry", async () => {
    const lookup = fakeDns({ "lis.hospital.local": ["10.1.2.3", "10.1.2.4"] });
    const policy = new EgressPolicy({ allowed_mllp: ["10.1.0.0/16"] }, { lookup });
    expect((await policy.checkConnect("mllp", "lis.hospital.local", 2575)).address).toBe(
      "10.1.2.3",
    );
  });

  it("refuses a name that resolves to an unlisted address (DNS rebinding)", async () => {
    const lookup = fakeDns({ "lis.hospital.local": ["127.0.0.1"] });
    const policy = new EgressPolicy({ allowed_mllp: ["10.1.0.0/16"] }, { lookup });
    expect(policy.checkConfigured("mllp", "lis.hospital.local", 2575).decision).toBe("deferred");
    const error = await deniedAsync(policy.checkConnect("mllp", "lis.hospital.local", 2575));
    expect(error.details).toMatchObject({
      reason: "not-listed",
      resolved: "127.0.0.1",
      configKey: "allowed_mllp",
    });
    expect(error.message).toContain("(resolved address 127.0.0.1)");
  });

  it("refuses when one of several addresses is unlisted", async () => {
    const lookup = fakeDns({ "lis.hospital.local": ["10.1.2.3", "192.0.2.66"] });
    const policy = new EgressPolicy({ allowed_mllp: ["10.1.0.0/16"] }, { lookup });
    expect(
      (await deniedAsync(policy.checkConnect("mllp", "lis.hospital.local", 2575))).details.resolved,
    ).toBe("192.0.2.66");
  });

  it("checks the resolved address of odd numeric names such as 127.1 (not literals to us)", async () => {
    const lookup = fakeDns({ "127.1": ["127.0.0.1"] });
    const policy = new EgressPolicy({ allowed_tcp: ["10.0.0.0/8"] }, { lookup });
    expect((await deniedAsync(policy.checkConnect("tcp", "127.1", 80))).details.resolved).toBe(
      "127.0.0.1",
    );
  });

  it("checks literal addresses without a lookup and returns them bare", async () => {
    const lookup = fakeDns({});
    const policy = new EgressPolicy({ allowed_tcp: ["[::1]:7000", "10.0.0.1"] }, { lookup });
    expect(await policy.checkConnect("tcp", "[::1]", 7000)).toMatchObject({
      address: "::1",
      family: 6,
    });
    expect((await policy.checkConnect("tcp", "10.0.0.1", 1)).address).toBe("10.0.0.1");
    await deniedAsync(policy.checkConnect("tcp", "::1", 7001));
    expect(lookup).not.toHaveBeenCalled();
  });

  it("is unrestricted with an empty list but still resolves, and refuses a name with no address", async () => {
    const lookup = fakeDns({ "anything.example.com": ["203.0.113.5"] });
    const policy = new EgressPolicy({}, { lookup });
    expect((await policy.checkConnect("smtp", "anything.example.com", 25)).address).toBe(
      "203.0.113.5",
    );
    expect(
      (await deniedAsync(policy.checkConnect("smtp", "nowhere.example.com", 25))).details.reason,
    ).toBe("unresolved");
  });

  it("propagates a lookup failure", async () => {
    const policy = new EgressPolicy(
      {},
      {
        lookup: () =>
          Promise.reject(Object.assign(new Error("ENOTFOUND x"), { code: "ENOTFOUND" })),
      },
    );
    await expect(policy.checkConnect("smtp", "x", 25)).rejects.toMatchObject({ code: "ENOTFOUND" });
  });

  it("uses the system resolver by default", async () => {
    const policy = new EgressPolicy({ allowed_tcp: ["127.0.0.0/8", "::1"] });
    const vetted = await policy.checkConnect("tcp", "localhost", 80);
    expect(vetted.addresses.length).toBeGreaterThan(0);
  });
});

describe("link-local and cloud metadata for http", () => {
  const metadataDns = fakeDns({
    "metadata.google.internal": ["169.254.169.254"],
    "innocent.example.com": ["169.254.169.254"],
    "v6.example.com": ["fe80::1"],
    "mapped.example.com": ["::ffff:169.254.169.254"],
  });

  it.each([
    "169.254.169.254",
    "169.254.1.1",
    "fe80::1",
    "fd00:ec2::254",
    "100.100.100.200",
    "::ffff:169.254.169.254",
    "metadata.google.internal",
  ])("refuses %s for http even when the list is empty", (host) => {
    const error = denied(() => new EgressPolicy({}).checkConfigured("http", host, 80));
    expect(error.details).toMatchObject({
      reason: "link-local-or-metadata",
      configKey: "allowed_http",
    });
    expect(error.message).toContain("link-local or cloud-metadata");
  });

  it("refuses names that resolve there, even a listed name or a broad CIDR", async () => {
    const empty = new EgressPolicy({}, { lookup: metadataDns });
    for (const host of ["innocent.example.com", "v6.example.com", "mapped.example.com"]) {
      expect((await deniedAsync(empty.checkConnect("http", host, 80))).details.reason).toBe(
        "link-local-or-metadata",
      );
    }
    const broad = new EgressPolicy(
      { allowed_http: ["0.0.0.0/0", "innocent.example.com"] },
      { lookup: metadataDns },
    );
    expect(
      (await deniedAsync(broad.checkConnect("http", "innocent.example.com", 80))).details.resolved,
    ).toBe("169.254.169.254");
    expect(denied(() => broad.checkConfigured("http", "169.254.169.254", 80)).details.reason).toBe(
      "link-local-or-metadata",
    );
  });

  it("allows an explicitly listed special address or metadata name", async () => {
    const policy = new EgressPolicy(
      { allowed_http: ["169.254.169.254:80", "metadata.google.internal"] },
      { lookup: metadataDns },
    );
    expect(policy.checkConfigured("http", "169.254.169.254", 80).entry).toBe("169.254.169.254:80");
    expect((await policy.checkConnect("http", "metadata.google.internal", 80)).address).toBe(
      "169.254.169.254",
    );
    expect((await policy.checkConnect("http", "innocent.example.com", 80)).address).toBe(
      "169.254.169.254",
    );
    expect(
      denied(() => policy.checkConfigured("http", "169.254.169.254", 8080)).details.reason,
    ).toBe("link-local-or-metadata");
  });

  it("does not apply to other kinds", () => {
    expect(new EgressPolicy({}).checkConfigured("tcp", "169.254.169.254", 80).decision).toBe(
      "allowed",
    );
  });
});

describe("checkFilePath", () => {
  let root: string;
  let allowed: string;
  let outside: string;

  beforeEach(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), "nm-egress-")));
    allowed = join(root, "allowed");
    outside = join(root, "outside");
    await mkdir(join(allowed, "inner"), { recursive: true });
    await mkdir(outside);
    await symlink(outside, join(allowed, "escape"));
    await symlink(allowed, join(root, "alias"));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function policyFor(dirs: string[]): EgressPolicy {
    const config: EgressConfigInput = { allowed_file_dirs: dirs };
    return new EgressPolicy(config);
  }

  it("allows paths inside an allowed directory, existing or not, and returns the real path", async () => {
    const policy = policyFor([allowed]);
    expect(await policy.checkFilePath(join(allowed, "inner"))).toBe(join(allowed, "inner"));
    expect(await policy.checkFilePath(join(allowed, "inner", "new", "file.hl7"))).toBe(
      join(allowed, "inner", "new", "file.hl7"),
    );
    expect(await policy.checkFilePath(allowed)).toBe(allowed);
    expect(await policy.checkFilePath(join(root, "alias", "inner", "x.hl7"))).toBe(
      join(allowed, "inner", "x.hl7"),
    );
  });

  it("refuses a symlink that escapes the allowed directory", async () => {
    const error = await deniedAsync(
      policyFor([allowed]).checkFilePath(join(allowed, "escape", "stolen.hl7")),
    );
    expect(error.details).toMatchObject({
      reason: "file-outside-dirs",
      configKey: "allowed_file_dirs",
      resolved: join(outside, "stolen.hl7"),
    });
    expect(error.message).toContain(`(real path ${join(outside, "stolen.hl7")})`);
    expect(error.message).toContain("[egress].allowed_file_dirs");
  });

  it("refuses paths outside, including a sibling sharing the prefix", async () => {
    await mkdir(`${allowed}-evil`);
    const policy = policyFor([allowed]);
    expect((await deniedAsync(policy.checkFilePath(join(outside, "a")))).details.reason).toBe(
      "file-outside-dirs",
    );
    expect((await deniedAsync(policy.checkFilePath(`${allowed}-evil/a`))).details.reason).toBe(
      "file-outside-dirs",
    );
  });

  it("follows a symlinked allowed directory to its real location", async () => {
    const policy = policyFor([join(root, "alias")]);
    expect(await policy.checkFilePath(join(allowed, "inner", "a"))).toBe(
      join(allowed, "inner", "a"),
    );
  });

  it("refuses '..' segments and NUL always, even when unrestricted", async () => {
    for (const policy of [policyFor([allowed]), policyFor([])]) {
      expect(
        (await deniedAsync(policy.checkFilePath(`${allowed}/inner/../../outside/a`))).details
          .reason,
      ).toBe("file-traversal");
      expect((await deniedAsync(policy.checkFilePath(`${allowed}\\..\\x`))).details.reason).toBe(
        "file-traversal",
      );
      const nul = await deniedAsync(policy.checkFilePath(`${allowed}/a\u0000b`));
      expect(nul.details.reason).toBe("file-nul");
      expect(nul.message).not.toContain("\u0000");
    }
  });

  it("allows any path when the list is empty, resolving relative paths", async () => {
    expect(await policyFor([]).checkFilePath(join(outside, "a"))).toBe(join(outside, "a"));
    expect(await policyFor([]).checkFilePath("relative-file")).toBe(
      join(await realpath(process.cwd()), "relative-file"),
    );
  });

  it("accepts a path whose parent component is a regular file as non-existing", async () => {
    const policy = policyFor([allowed]);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(allowed, "plain"), "x");
    expect(await policy.checkFilePath(join(allowed, "plain", "child"))).toBe(
      join(allowed, "plain", "child"),
    );
  });
});

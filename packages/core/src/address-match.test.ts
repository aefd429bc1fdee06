import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cidrContains,
  entryMatchesAddress,
  entryMatchesHost,
  formatIp,
  isLinkLocalOrMetadata,
  isLoopbackHost,
  isSpecialCidr,
  parseCidr,
  parseEgressEntry,
  parseIp,
  type Cidr,
  type IpAddress,
} from "./address-match.js";

function ip(text: string): IpAddress {
  const parsed = parseIp(text);
  if (parsed === undefined) throw new Error(`test setup: ${text} is not an IP`);
  return parsed;
}

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (parsed === undefined) throw new Error(`test setup: ${text} is not a CIDR`);
  return parsed;
}

describe("parseIp", () => {
  it("parses IPv4, IPv6, brackets, zones and embedded IPv4", () => {
    expect(ip("10.0.0.1")).toEqual({ family: 4, value: 0x0a000001n });
    expect(ip("::1")).toEqual({ family: 6, value: 1n });
    expect(ip("[::1]")).toEqual({ family: 6, value: 1n });
    expect(ip("fe80::1%eth0")).toEqual({ family: 6, value: (0xfe80n << 112n) | 1n });
    expect(ip("::ffff:127.0.0.1").value).toBe((0xffffn << 32n) | 0x7f000001n);
    expect(ip("2001:db8::8:800:200c:417a").value).toBe(0x20010db8_0000_0000_0008_0800_200c_417an);
  });

  it("rejects what is not a canonical literal", () => {
    for (const t of [
      "127.1",
      "2130706433",
      "0x7f.0.0.1",
      "010.0.0.1",
      "host",
      "",
      "1.2.3.4.5",
      "::g",
      "[::1",
    ]) {
      expect(parseIp(t), t).toBeUndefined();
    }
  });

  it("formats IPv6 per RFC 5952", () => {
    expect(formatIp(ip("2001:0db8:0000:0000:0000:0000:0000:0001"))).toBe("2001:db8::1");
    expect(formatIp(ip("0:0:0:0:0:0:0:1"))).toBe("::1");
    expect(formatIp(ip("1:0:2:0:3:0:4:0"))).toBe("1:0:2:0:3:0:4:0");
    expect(formatIp(ip("192.168.1.20"))).toBe("192.168.1.20");
  });
});

describe("parseCidr / cidrContains", () => {
  it("matches the edges of /0, /32 and /128", () => {
    expect(cidrContains(cidr("0.0.0.0/0"), ip("255.255.255.255"))).toBe(true);
    expect(cidrContains(cidr("0.0.0.0/0"), ip("::1"))).toBe(false);
    expect(cidrContains(cidr("::/0"), ip("2001:db8::1"))).toBe(true);
    expect(cidrContains(cidr("10.1.2.3/32"), ip("10.1.2.3"))).toBe(true);
    expect(cidrContains(cidr("10.1.2.3/32"), ip("10.1.2.4"))).toBe(false);
    expect(cidrContains(cidr("::1/128"), ip("::1"))).toBe(true);
    expect(cidrContains(cidr("::1/128"), ip("::2"))).toBe(false);
  });

  it("matches the boundaries of a network", () => {
    const net = cidr("10.0.0.0/8");
    expect(cidrContains(net, ip("10.0.0.0"))).toBe(true);
    expect(cidrContains(net, ip("10.255.255.255"))).toBe(true);
    expect(cidrContains(net, ip("9.255.255.255"))).toBe(false);
    expect(cidrContains(net, ip("11.0.0.0"))).toBe(false);
    const ula = cidr("fd00::/8");
    expect(cidrContains(ula, ip("fd12:3456::1"))).toBe(true);
    expect(cidrContains(ula, ip("fc00::1"))).toBe(false);
  });

  it("ignores host bits, rejects bad prefixes and normalizes IPv4-mapped addresses", () => {
    expect(cidr("10.1.2.3/8")).toEqual(cidr("10.0.0.0/8"));
    for (const t of [
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/",
      "10.0.0.0/-1",
      "10.0.0.0/8a",
      "host/8",
    ]) {
      expect(parseCidr(t), t).toBeUndefined();
    }
    expect(cidrContains(cidr("10.0.0.0/8"), ip("::ffff:10.9.9.9"))).toBe(true);
    expect(cidr("::ffff:10.0.0.0/104")).toEqual(cidr("10.0.0.0/8"));
  });

  it("agrees with a 32-bit integer reference for IPv4 (property)", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.integer({ min: 0, max: 32 }),
        (a, n, p) => {
          const toText = (v: number): string =>
            [24, 16, 8, 0].map((s) => (v >>> s) & 0xff).join(".");
          // Reference: compare the top p bits with unsigned shifts (a shift by 32 is a no-op in JS, so /0 is special).
          const expected = p === 0 || a >>> (32 - p) === n >>> (32 - p);
          expect(cidrContains(cidr(`${toText(n)}/${p}`), ip(toText(a)))).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("agrees with a bit-string reference for IPv6 (property)", () => {
    const bits128 = fc
      .array(fc.boolean(), { minLength: 128, maxLength: 128 })
      .map((b) => b.map((x) => (x ? "1" : "0")).join(""));
    fc.assert(
      fc.property(
        fc.tuple(bits128, bits128),
        fc.integer({ min: 0, max: 128 }),
        fc.integer({ min: 0, max: 128 }),
        ([a, n], p, shared) => {
          // Make the two addresses share a random prefix so matches are as common as mismatches.
          const addr = n.slice(0, shared) + a.slice(shared);
          const toText = (bits: string): string =>
            Array.from({ length: 8 }, (_, i) =>
              parseInt(bits.slice(i * 16, i * 16 + 16), 2).toString(16),
            ).join(":");
          const expected = addr.slice(0, p) === n.slice(0, p);
          const ipv = ip(toText(addr));
          // IPv4-mapped addresses are compared as IPv4 by design; the reference does not model that.
          fc.pre(ipv.value >> 32n !== 0xffffn);
          expect(cidrContains(cidr(`${toText(n)}/${p}`), ipv)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("round-trips fast-check's IPv4 and IPv6 generators through parse and format (property)", () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const parsed = ip(text);
        expect(ip(formatIp(parsed))).toEqual(parsed);
      }),
    );
    fc.assert(
      fc.property(fc.ipV4(), (text) => {
        expect(formatIp(ip(text))).toBe(text);
      }),
    );
  });
});

describe("isLoopbackHost", () => {
  it("accepts every loopback spelling", () => {
    for (const h of [
      "127.0.0.1",
      "127.255.0.9",
      "::1",
      "[::1]",
      "0:0:0:0:0:0:0:1",
      "::ffff:127.0.0.1",
      "localhost",
      "LOCALHOST.",
      " localhost ",
    ]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
  });

  it("refuses everything else", () => {
    for (const h of [
      "0.0.0.0",
      "::",
      "",
      "192.168.1.20",
      "128.0.0.1",
      "foo.localhost",
      "localhost.example.org",
      "127.1",
      "::2",
      "::ffff:10.0.0.1",
    ]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});

describe("special addresses", () => {
  it("flags link-local and metadata addresses, including IPv4-mapped spellings", () => {
    for (const t of [
      "169.254.169.254",
      "169.254.0.1",
      "fe80::1",
      "febf::1",
      "fd00:ec2::254",
      "100.100.100.200",
      "::ffff:169.254.169.254",
    ]) {
      expect(isLinkLocalOrMetadata(ip(t)), t).toBe(true);
    }
    for (const t of ["169.253.255.255", "169.255.0.0", "fec0::1", "fd00:ec2::253", "10.0.0.1"]) {
      expect(isLinkLocalOrMetadata(ip(t)), t).toBe(false);
    }
  });

  it("counts an entry as explicit only when it lies entirely inside a special block", () => {
    expect(isSpecialCidr(cidr("169.254.169.254"))).toBe(true);
    expect(isSpecialCidr(cidr("169.254.0.0/16"))).toBe(true);
    expect(isSpecialCidr(cidr("169.0.0.0/8"))).toBe(false);
    expect(isSpecialCidr(cidr("0.0.0.0/0"))).toBe(false);
    expect(isSpecialCidr(cidr("fd00::/8"))).toBe(false);
  });
});

describe("parseEgressEntry", () => {
  it.each([
    ["lab.example.org", { type: "host", name: "lab.example.org", port: undefined }],
    ["LAB.example.org.:2575", { type: "host", name: "lab.example.org", port: 2575 }],
    ["*.lab.example.org", { type: "wildcard", suffix: ".lab.example.org", port: undefined }],
    ["*.lab.example.org:443", { type: "wildcard", suffix: ".lab.example.org", port: 443 }],
    [
      "10.1.2.3",
      { type: "address", cidr: { family: 4, network: 0x0a010203n, prefix: 32 }, port: undefined },
    ],
    [
      "10.1.2.3:2575",
      { type: "address", cidr: { family: 4, network: 0x0a010203n, prefix: 32 }, port: 2575 },
    ],
    [
      "10.0.0.0/8",
      { type: "address", cidr: { family: 4, network: 0x0a000000n, prefix: 8 }, port: undefined },
    ],
    [
      "10.0.0.0/8:2575",
      { type: "address", cidr: { family: 4, network: 0x0a000000n, prefix: 8 }, port: 2575 },
    ],
    ["::1", { type: "address", cidr: { family: 6, network: 1n, prefix: 128 }, port: undefined }],
    ["[::1]:2575", { type: "address", cidr: { family: 6, network: 1n, prefix: 128 }, port: 2575 }],
    [
      "fd00::/8",
      { type: "address", cidr: { family: 6, network: 0xfdn << 120n, prefix: 8 }, port: undefined },
    ],
    [
      "[fd00::/8]:104",
      { type: "address", cidr: { family: 6, network: 0xfdn << 120n, prefix: 8 }, port: 104 },
    ],
  ])("parses %s", (text, expected) => {
    expect(parseEgressEntry(text)).toMatchObject(expected);
  });

  it.each([
    "",
    "  ",
    "host:0",
    "host:65536",
    "host:http",
    "a..b",
    "-lead.example.org",
    "*",
    "*.",
    "foo.*.org",
    "[::1",
    "[::1]x",
    "[::1]:",
    "::1:2575:x:y:z:1:2:3:4",
    "10.0.0.0/40",
    "host/8",
    "a b",
    "http://host",
    "ho\u0000st",
  ])("rejects %j", (text) => {
    expect(parseEgressEntry(text)).toBeUndefined();
  });

  it("matches names exactly or by wildcard suffix, with ports", () => {
    const exact = parseEgressEntry("lab.example.org:2575")!;
    expect(entryMatchesHost(exact, "LAB.example.org", 2575)).toBe(true);
    expect(entryMatchesHost(exact, "lab.example.org", 2576)).toBe(false);
    expect(entryMatchesHost(exact, "lab.example.org", undefined)).toBe(false);
    expect(entryMatchesHost(exact, "evil-lab.example.org", 2575)).toBe(false);
    const anyPort = parseEgressEntry("lab.example.org")!;
    expect(entryMatchesHost(anyPort, "lab.example.org", 9)).toBe(true);
    const wild = parseEgressEntry("*.lab.example.org")!;
    expect(entryMatchesHost(wild, "a.lab.example.org", 1)).toBe(true);
    expect(entryMatchesHost(wild, "a.b.lab.example.org", 1)).toBe(true);
    expect(entryMatchesHost(wild, "lab.example.org", 1)).toBe(false);
    expect(entryMatchesHost(wild, "evillab.example.org", 1)).toBe(false);
    expect(entryMatchesHost(parseEgressEntry("10.0.0.1")!, "10.0.0.1", 1)).toBe(false);
  });

  it("matches addresses by network and port; name entries never match addresses", () => {
    const net = parseEgressEntry("[fd00::/8]:2575")!;
    expect(entryMatchesAddress(net, ip("fd00::5"), 2575)).toBe(true);
    expect(entryMatchesAddress(net, ip("fd00::5"), 2576)).toBe(false);
    expect(entryMatchesAddress(net, ip("fe00::5"), 2575)).toBe(false);
    expect(entryMatchesAddress(parseEgressEntry("lab.example.org")!, ip("10.0.0.1"), 1)).toBe(
      false,
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base32Decode, base32Encode } from "./base32.js";
import { hotp, matchTotp, otpauthUri, totpCode, totpStep } from "./totp.js";

/** RFC 6238 appendix B, SHA-1 rows: seed "12345678901234567890", 8 digits, T0 = 0, X = 30. */
const RFC6238_SHA1 = [
  { seconds: 59, code: "94287082" },
  { seconds: 1111111109, code: "07081804" },
  { seconds: 1111111111, code: "14050471" },
  { seconds: 1234567890, code: "89005924" },
  { seconds: 2000000000, code: "69279037" },
  { seconds: 20000000000, code: "65353130" },
];
const SEED = Buffer.from("12345678901234567890", "ascii");

describe("TOTP (RFC 6238)", () => {
  it.each(RFC6238_SHA1)("matches appendix B at T=$seconds", ({ seconds, code }) => {
    expect(hotp(SEED, { counter: totpStep(seconds * 1000), digits: 8 })).toBe(code);
    // The 6-digit code apps show is the same truncation modulo 10^6.
    expect(totpCode(SEED, seconds * 1000)).toBe(code.slice(2));
  });

  it("matches RFC 4226 appendix D HOTP values", () => {
    const expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
    expect(expected.map((_, counter) => hotp(SEED, { counter }))).toEqual(expected);
  });

  it("accepts the previous, current and next step and nothing further", () => {
    const now = 1_700_000_000_000;
    const step = totpStep(now);
    for (const offset of [-1, 0, 1]) {
      expect(matchTotp(SEED, { code: totpCode(SEED, now + offset * 30_000), atMs: now })).toBe(step + offset);
    }
    for (const offset of [-3, -2, 2, 3]) {
      const code = totpCode(SEED, now + offset * 30_000);
      const window = [-1, 0, 1].map((near) => totpCode(SEED, now + near * 30_000));
      if (!window.includes(code)) expect(matchTotp(SEED, { code, atMs: now })).toBeUndefined();
    }
  });

  it("refuses codes that are not six digits", () => {
    for (const code of ["", "12345", "1234567", "abcdef", " 123456", "12345\n"]) {
      expect(matchTotp(SEED, { code, atMs: 0 })).toBeUndefined();
    }
  });

  it("builds an otpauth:// URI authenticator apps read back to the same secret", () => {
    const uri = new URL(otpauthUri({ secret: SEED, issuer: "node-mirth", account: "alice@example" }));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe("/node-mirth:alice@example");
    expect(uri.searchParams.get("algorithm")).toBe("SHA1");
    expect(uri.searchParams.get("digits")).toBe("6");
    expect(uri.searchParams.get("period")).toBe("30");
    expect(uri.searchParams.get("issuer")).toBe("node-mirth");
    expect(base32Decode(uri.searchParams.get("secret")!)).toEqual(SEED);
  });
});

describe("base32", () => {
  it("encodes the RFC 4648 vectors", () => {
    const vectors = { "": "", f: "MY", fo: "MZXQ", foo: "MZXW6", foob: "MZXW6YQ", fooba: "MZXW6YTB", foobar: "MZXW6YTBOI" };
    for (const [plain, encoded] of Object.entries(vectors)) {
      expect(base32Encode(Buffer.from(plain))).toBe(encoded);
      expect(base32Decode(encoded)?.toString()).toBe(plain);
    }
  });

  it("round-trips any bytes, in any case and with spaces", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = base32Encode(bytes);
        expect(base32Decode(text)).toEqual(Buffer.from(bytes));
        expect(base32Decode(text.toLowerCase().replace(/(.{4})/g, "$1 "))).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it("refuses characters outside the alphabet", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((text) => /[^A-Za-z2-7\s=]/.test(text)), (text) => {
        expect(base32Decode(text)).toBeUndefined();
      }),
    );
  });
});

import { createHmac, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkKnownHost, hostsFieldMatches, keyTypeOf, knownHostName, normalizeFingerprint, parseKnownHosts, sha256Fingerprint } from "./known-hosts.js";

/** An SSH public key blob: string type, then key bytes. */
function blob(type: string, body: Buffer): Buffer {
  const name = Buffer.from(type, "latin1");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, body]);
}

const ed = (seed: number) => blob("ssh-ed25519", Buffer.alloc(36, seed));

describe("known_hosts", () => {
  it("trusts the listed key, calls another key of the same type a mismatch, and an unlisted host unknown", () => {
    const entries = parseKnownHosts(`# comment\n\n[127.0.0.1]:2222,lab.example ssh-ed25519 ${ed(1).toString("base64")} note\n@cert-authority * ssh-ed25519 ${ed(9).toString("base64")}\n`);
    expect(entries).toHaveLength(1);
    expect(checkKnownHost(entries, { name: knownHostName("127.0.0.1", 2222), key: ed(1) })).toBe("trusted");
    expect(checkKnownHost(entries, { name: "lab.example", key: ed(1) })).toBe("trusted");
    expect(checkKnownHost(entries, { name: "[127.0.0.1]:2222", key: ed(2) })).toBe("mismatch");
    expect(checkKnownHost(entries, { name: "[127.0.0.1]:2223", key: ed(1) })).toBe("unknown");
    expect(checkKnownHost(entries, { name: "[127.0.0.1]:2222", key: blob("ecdsa-sha2-nistp256", Buffer.alloc(65, 3)) })).toBe("unknown");
  });

  it("matches hashed names, wildcards and negations; a revoked key is refused everywhere", () => {
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update("[10.0.0.5]:22").digest("base64")}`;
    expect(hostsFieldMatches(hashed, "[10.0.0.5]:22")).toBe(true);
    expect(hostsFieldMatches(hashed, "[10.0.0.6]:22")).toBe(false);
    expect(hostsFieldMatches("*.example,!bad.example", "good.example")).toBe(true);
    expect(hostsFieldMatches("*.example,!bad.example", "bad.example")).toBe(false);
    const entries = parseKnownHosts(`* ssh-ed25519 ${ed(4).toString("base64")}\n@revoked * ssh-ed25519 ${ed(4).toString("base64")}\n`);
    expect(checkKnownHost(entries, { name: "any", key: ed(4) })).toBe("mismatch");
  });

  it("fingerprints as ssh-keygen prints them, and normalizes pasted pins", () => {
    const key = ed(7);
    expect(sha256Fingerprint(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(normalizeFingerprint(` ${sha256Fingerprint(key).slice(7)}= `)).toBe(sha256Fingerprint(key));
    expect(keyTypeOf(key)).toBe("ssh-ed25519");
    expect(keyTypeOf(Buffer.from([0, 0]))).toBeUndefined();
  });

  it("never throws on arbitrary text, and a key is trusted only for a host whose line holds it (property)", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        parseKnownHosts(text);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.domain(), (a, b, host) => {
        const listed = blob("ssh-ed25519", Buffer.from(a));
        const presented = blob("ssh-ed25519", Buffer.from(b));
        const entries = parseKnownHosts(`${host} ssh-ed25519 ${listed.toString("base64")}\n`);
        const decision = checkKnownHost(entries, { name: host, key: presented });
        expect(decision).toBe(listed.equals(presented) ? "trusted" : "mismatch");
        expect(checkKnownHost(entries, { name: `x${host}`, key: listed })).toBe("unknown");
      }),
    );
  });
});

import { createDecipheriv, createHash } from "node:crypto";

/** JDK's own bound (jdk.jceks.iterationCount); more is a hostile or corrupt file. */
export const JCEKS_MAX_ITERATIONS = 5_000_000;

export interface JceksProtection {
  salt: Buffer;
  iterations: number;
}

/**
 * Undoes JCEKS key protection, Sun's PBEWithMD5AndTripleDES (OID 1.3.6.1.4.1.42.2.19.1,
 * com.sun.crypto.provider.PBES1Core): each half of the 8-byte salt is hashed with the
 * ASCII password `iterations` times by MD5, the two 16-byte results giving a 24-byte
 * DES-EDE3 key and an 8-byte IV; the payload is CBC with PKCS#5 padding. Returns
 * undefined when decryption fails, which is how a wrong key password shows itself.
 */
export function recoverJceksProtectedKey(
  encrypted: Buffer,
  protection: JceksProtection,
  password: string,
): Buffer | undefined {
  const derived = deriveKeyAndIv(protection, asciiPasswordBytes(password));
  try {
    const decipher = createDecipheriv(
      "des-ede3-cbc",
      derived.subarray(0, 24),
      derived.subarray(24, 32),
    );
    return Buffer.concat([decipher.update(encrypted), decipher.final()]);
  } catch {
    return undefined;
  }
}

function deriveKeyAndIv(protection: JceksProtection, passwordBytes: Buffer): Buffer {
  const salt = Buffer.from(protection.salt);
  // Sun's quirk, kept for compatibility: equal salt halves would give equal key halves,
  // so the first half is reversed.
  if (salt.length === 8 && salt.subarray(0, 4).equals(salt.subarray(4, 8))) {
    salt.subarray(0, 4).reverse();
  }
  const half = salt.length / 2;
  const halves = [salt.subarray(0, half), salt.subarray(half)].map((start) => {
    let toHash: Buffer = start;
    for (let i = 0; i < protection.iterations; i++) {
      toHash = createHash("md5").update(toHash).update(passwordBytes).digest();
    }
    return toHash;
  });
  return Buffer.concat(halves);
}

/** Sun's PBEKey keeps the low seven bits of each char (it refuses non-ASCII on creation). */
function asciiPasswordBytes(password: string): Buffer {
  return Buffer.from(Array.from(password, (char) => char.charCodeAt(0) & 0x7f));
}

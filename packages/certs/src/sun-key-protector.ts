import { createHash, timingSafeEqual } from "node:crypto";

const SALT_LENGTH = 20;
const DIGEST_LENGTH = 20;

/** Java `char[]` passwords are hashed as UTF-16BE, two bytes per char. */
export function javaPasswordBytes(password: string): Buffer {
  return Buffer.from(password, "utf16le").swap16();
}

/**
 * Undoes JKS's proprietary key protection (sun.security.provider.KeyProtector, OID
 * 1.3.6.1.4.1.42.2.17.1.1): `salt(20) || ciphertext || check(20)`, where the keystream is
 * SHA-1 chained from the salt, `d_i = SHA1(password || d_{i-1})`, XORed with the PKCS#8
 * bytes, and `check = SHA1(password || plaintext)`. Returns undefined when the check fails,
 * which is how a wrong key password shows itself.
 */
export function recoverSunProtectedKey(encrypted: Buffer, password: string): Buffer | undefined {
  if (encrypted.length < SALT_LENGTH + DIGEST_LENGTH) return undefined;
  const passwordBytes = javaPasswordBytes(password);
  const ciphertext = encrypted.subarray(SALT_LENGTH, encrypted.length - DIGEST_LENGTH);
  const check = encrypted.subarray(encrypted.length - DIGEST_LENGTH);
  const plaintext = Buffer.alloc(ciphertext.length);
  let digest = encrypted.subarray(0, SALT_LENGTH);
  for (let block = 0; block < ciphertext.length; block += DIGEST_LENGTH) {
    digest = createHash("sha1").update(passwordBytes).update(digest).digest();
    for (let i = 0; i < DIGEST_LENGTH && block + i < ciphertext.length; i++) {
      plaintext[block + i] = (ciphertext[block + i] ?? 0) ^ (digest[i] ?? 0);
    }
  }
  const actual = createHash("sha1").update(passwordBytes).update(plaintext).digest();
  return timingSafeEqual(actual, check) ? plaintext : undefined;
}

import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./password-hash.js";

describe("argon2id password hashes", () => {
  it("stores a salted PHC string and verifies only the same password", async () => {
    const first = await hashPassword("correct horse battery");
    const second = await hashPassword("correct horse battery");
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(second).not.toBe(first);
    expect(await verifyPassword("correct horse battery", first)).toBe(true);
    expect(await verifyPassword("correct horse batterz", first)).toBe(false);
    expect(await verifyPassword("", first)).toBe(false);
  });

  it("finishes every one of many concurrent checks (at most two run at once on the thread pool)", async () => {
    const stored = await hashPassword("correct horse battery");
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) => verifyPassword(index % 2 === 0 ? "correct horse battery" : "wrong", stored)),
    );
    expect(results).toEqual([true, false, true, false, true, false, true, false]);
  });

  it("treats a malformed or tampered hash as a mismatch, not a crash", async () => {
    const stored = await hashPassword("correct horse battery");
    const tampered = stored.slice(0, -2) + (stored.endsWith("AA") ? "BB" : "AA");
    expect(await verifyPassword("correct horse battery", tampered)).toBe(false);
    expect(await verifyPassword("correct horse battery", "$2b$10$notargon")).toBe(false);
    expect(await verifyPassword("correct horse battery", stored.replace("argon2id", "argon2i"))).toBe(false);
  });
});

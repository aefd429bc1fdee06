import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CREDENTIAL_HEADERS, findCleartextCredential } from "./cleartext-credentials.js";

describe("findCleartextCredential", () => {
  it("names user info and every credential header over http://, in any case", () => {
    expect(findCleartextCredential(new URL("http://u:p@h/"), {})).toBe("user name or password in an http:// URL");
    for (const name of CREDENTIAL_HEADERS) {
      expect(findCleartextCredential(new URL("http://h/"), { [name.toUpperCase()]: "x" })).toBe(`credential header ${name.toUpperCase()} over http://`);
    }
    expect(findCleartextCredential(new URL("http://h/"), { "X-Secret": "x" }, ["x-secret"])).toMatch(/X-Secret/);
    expect(findCleartextCredential(new URL("http://h/"), { "content-type": "text/plain" })).toBeUndefined();
  });

  it("never objects to https:// (fast-check)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...CREDENTIAL_HEADERS, "x-a", "accept"), fc.string()), fc.webAuthority({ withUserInfo: true }), (headers, authority) => {
        let url: URL;
        try {
          url = new URL(`https://${authority}/`);
        } catch {
          return true;
        }
        return findCleartextCredential(url, headers) === undefined;
      }),
    );
  });
});

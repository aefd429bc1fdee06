import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assertSafeDirectory, assertSafeName, joinInside } from "./safe-path.js";

describe("path safety", () => {
  it("refuses names that could leave their directory", () => {
    for (const name of ["", ".", "..", "../x", "a/b", "a\\b", "/etc/passwd", "x\0y"]) {
      expect(() => assertSafeName(name)).toThrow(expect.objectContaining({ code: "ERR_REMOTEFILE_UNSAFE_PATH" }));
    }
    expect(assertSafeName("..hidden")).toBe("..hidden");
    for (const dir of ["/a/../b", "../a", "a\0", " ", "a\\b"]) expect(() => assertSafeDirectory(dir)).toThrow(expect.objectContaining({ code: "ERR_REMOTEFILE_UNSAFE_PATH" }));
    expect(assertSafeDirectory("/out//2026/./x")).toBe("/out/2026/x");
  });

  it("a joined path always stays inside its directory (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom("..", ".", "/", "\0", "a/../..")), { maxLength: 6 }), (segments) => {
        const relative = segments.join("/");
        let joined: string;
        try {
          joined = joinInside("/base/dir", relative);
        } catch (error) {
          expect(error).toMatchObject({ code: "ERR_REMOTEFILE_UNSAFE_PATH" });
          return;
        }
        expect(joined === "/base/dir" || joined.startsWith("/base/dir/")).toBe(true);
        expect(joined.split("/")).not.toContain("..");
      }),
    );
  });
});

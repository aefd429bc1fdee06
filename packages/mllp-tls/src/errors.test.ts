import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isMllpError, MLLP_ERROR_CODES, MllpError, MllpFrameTooLargeError } from "./errors.js";
import { isNodeMirthError, NodeMirthError } from "@node-mirth/core";

describe("error catalogue", () => {
  it("the README table lists exactly the catalogue's codes", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
    const listed = [...readme.matchAll(/^\| `(ERR_MLLP_[A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(listed).toEqual(Object.keys(MLLP_ERROR_CODES));
  });

  it("errors are NodeMirthErrors recognized by code, without content", () => {
    const error = new MllpFrameTooLargeError(10);
    expect(error).toBeInstanceOf(NodeMirthError);
    expect(error).toBeInstanceOf(MllpError);
    expect(error.name).toBe("MllpFrameTooLargeError");
    expect(isNodeMirthError(error) && isMllpError(error)).toBe(true);
    expect(error.details).toEqual({ maxFrameBytes: 10 });
    expect(isMllpError(Object.assign(new Error("x"), { code: "ERR_OTHER" }))).toBe(false);
  });
});

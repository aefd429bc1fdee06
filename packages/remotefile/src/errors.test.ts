import { isNodeMirthError, NodeMirthError } from "@node-mirth/core";
import { describe, expect, it } from "vitest";
import { isRemoteFileError, RemoteFileError, transferError } from "./errors.js";

describe("errors", () => {
  it("are NodeMirthErrors recognized by code; low-level failures are wrapped with their cause", () => {
    const cause = Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
    const wrapped = transferError("writing a file", cause);
    expect(wrapped).toBeInstanceOf(NodeMirthError);
    expect(isNodeMirthError(wrapped) && isRemoteFileError(wrapped)).toBe(true);
    expect(wrapped).toMatchObject({ code: "ERR_REMOTEFILE_TRANSFER_FAILED", cause, details: { action: "writing a file" } });
    const ours = new RemoteFileError("ERR_REMOTEFILE_FILE_EXISTS", "exists");
    expect(transferError("x", ours)).toBe(ours);
    expect(isRemoteFileError(cause)).toBe(false);
  });
});

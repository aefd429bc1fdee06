import { CommanderError } from "commander";
import { InsecureTlsError, NodeMirthError } from "@node-mirth/core";
import { describe, expect, it } from "vitest";
import { CLI_ERROR_CODES, CliError } from "./cli-error.js";
import { EXIT, exitCodeForError, exitCodeForStatus } from "./exit-codes.js";

describe("exit codes", () => {
  it("are distinct", () => {
    const values = Object.values(EXIT);
    expect(new Set(values).size).toBe(values.length);
  });

  it("map HTTP statuses from the API", () => {
    expect(exitCodeForStatus(401)).toBe(EXIT.unauthenticated);
    expect(exitCodeForStatus(403)).toBe(EXIT.forbidden);
    expect(exitCodeForStatus(404)).toBe(EXIT.notFound);
    expect([400, 409, 413, 422].map(exitCodeForStatus)).toEqual([6, 6, 6, 6]);
    expect(exitCodeForStatus(503)).toBe(EXIT.unhealthy);
    expect([500, 502, 418].map(exitCodeForStatus)).toEqual([1, 1, 1]);
  });

  it("every CLI error code maps to an exit code other than success", () => {
    for (const code of Object.keys(CLI_ERROR_CODES)) {
      expect(exitCodeForError(new CliError(code, "x")), code).not.toBe(EXIT.ok);
    }
  });

  it("a server status decides over the code it carries", () => {
    expect(exitCodeForError(new CliError("ERR_AUTH_FORBIDDEN", "no", { status: 403 }))).toBe(EXIT.forbidden);
  });

  it("usage errors, help, insecure URLs and bugs", () => {
    expect(exitCodeForError(new CommanderError(1, "commander.missingArgument", "x"))).toBe(EXIT.usage);
    expect(exitCodeForError(new CommanderError(0, "commander.helpDisplayed", "x"))).toBe(EXIT.ok);
    expect(exitCodeForError(new InsecureTlsError("url"))).toBe(EXIT.usage);
    expect(exitCodeForError(new NodeMirthError("ERR_SOMETHING_ELSE", "x"))).toBe(EXIT.failed);
    expect(exitCodeForError(new TypeError("bug"))).toBe(EXIT.failed);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI_ERROR_CODES } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";

const README = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");

/** First-column backticked names of the first table after `heading`. */
function tableNames(heading: string): string[] {
  const start = README.indexOf(`\n${heading}\n`);
  expect(start, `README section ${heading}`).toBeGreaterThanOrEqual(0);
  const rest = README.slice(start + 1).split("\n").slice(1);
  const rows = rest.slice(rest.findIndex((line) => line.startsWith("|")));
  const table = rows.slice(0, rows.findIndex((line) => !line.startsWith("|")));
  return table.slice(2).map((line) => /^\|\s*`([^`]+)`/.exec(line)?.[1] ?? "");
}

describe("README, mirth-cli section", () => {
  it("documents every exit status, and only those", () => {
    expect(tableNames("### `mirth-cli` exit status")).toEqual(Object.values(EXIT).map(String));
  });

  it("documents every CLI error code, and only those", () => {
    expect(tableNames("### `mirth-cli` error codes")).toEqual(Object.keys(CLI_ERROR_CODES));
  });

  it("lists every command of the issue", () => {
    const commands = tableNames("## `mirth-cli`").map((name) => name.split(" ")[0] + " " + (name.split(" ")[1] ?? ""));
    for (const expected of ["login -u", "logout ", "channels list", "channels import", "channels export", "messages search", "messages show", "messages reprocess", "queue list", "queue retry", "users add", "users list", "users set-role", "certs convert\\|inspect", "health [--live]"]) {
      expect(commands).toContain(expected);
    }
  });
});

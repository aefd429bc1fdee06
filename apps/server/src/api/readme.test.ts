import { CORE_ERROR_CODES } from "@node-mirth/core";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AUTH_ERROR_CODES } from "../auth/auth-errors.js";
import { API_ERROR_CODES } from "./api-errors.js";
import { httpStatusOf } from "./error-status.js";
import { ACCESS_RULES } from "./route-table.js";

const readme = readFileSync(new URL("README.md", import.meta.url), "utf8");

/** The cells of every table row that starts with a backticked cell. */
function rows(): string[][] {
  return readme
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
}

describe("src/api/README.md", () => {
  it("lists every route with its roles and audit action, as ACCESS_RULES has them", () => {
    const documented = rows()
      .filter((cells) => cells.length === 4 && /^`(GET|POST|PUT|DELETE)`$/.test(cells[0]!))
      .map(([method, path, roles, audit]) => ({ key: `${method!.slice(1, -1)} ${path!.slice(1, -1)}`, roles, audit }));
    const expected = Object.entries(ACCESS_RULES).map(([key, rule]) => ({
      key,
      roles: rule.roles === "public" ? "public" : rule.roles.join(", "),
      audit: rule.audit === false ? "no" : rule.audit === "handler" ? "by the auth service" : `\`${rule.audit}\``,
    }));
    expect(documented).toEqual(expected);
  });

  it("lists every API error code with its status and meaning", () => {
    const documented = rows().filter((cells) => cells.length === 3 && cells[0]!.startsWith("`ERR_API_"));
    expect(documented).toEqual(Object.entries(API_ERROR_CODES).map(([code, text]) => [`\`${code}\``, String(httpStatusOf(code)), text]));
  });

  it("gives the status of every auth and engine code as error-status.ts maps it", () => {
    const documented = rows().filter((cells) => cells.length === 2);
    expect(documented).toEqual(
      [...Object.keys(AUTH_ERROR_CODES), ...Object.keys(CORE_ERROR_CODES)].map((code) => [`\`${code}\``, String(httpStatusOf(code))]),
    );
  });
});

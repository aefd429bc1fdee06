import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { httpStatusOf } from "../api/error-status.js";
import { AUTH_ERROR_CODES } from "../auth/auth-errors.js";
import { HTTPS_REQUIRED_CODE } from "../serve/front-app.js";
import { BOOT_ERROR_CODES } from "./boot-errors.js";
import { ENV_OVERRIDES } from "./env-overrides.js";
import { serverConfigSchema } from "./server-config.js";

const README = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");

/** First-column backticked names of the table under `heading`. */
function tableNames(heading: string): string[] {
  const start = README.indexOf(heading);
  expect(start, `README section ${heading}`).toBeGreaterThanOrEqual(0);
  const rest = README.slice(start).split("\n").slice(1);
  const rows = rest.slice(rest.findIndex((line) => line.startsWith("|")));
  const table = rows.slice(0, rows.findIndex((line) => !line.startsWith("|")));
  return table.slice(2).map((line) => /^\|\s*`([^`]+)`/.exec(line)?.[1] ?? "");
}

describe("README", () => {
  it("documents every config key, and only those", () => {
    const json = z.toJSONSchema(serverConfigSchema, { io: "input", unrepresentable: "any" }) as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    const keys = Object.entries(json.properties).flatMap(([section, schema]) =>
      Object.keys(schema.properties ?? {}).map((key) => `${section}.${key}`),
    );
    expect(tableNames("## Configuration").sort()).toEqual(keys.sort());
  });

  it("documents every environment override with the key it overrides", () => {
    const documented = tableNames("### Environment variables");
    for (const { env, key } of ENV_OVERRIDES) {
      expect(documented).toContain(env);
      expect(README).toContain(`| \`${env}\` | \`${key}\``);
    }
  });

  it("lists every error code the server app defines", () => {
    expect(tableNames("## Error codes").sort()).toEqual([...BOOT_ERROR_CODES, HTTPS_REQUIRED_CODE].sort());
  });

  it("lists every auth error code with the status the API answers it with", () => {
    expect(tableNames("### Auth error codes").sort()).toEqual(Object.keys(AUTH_ERROR_CODES).sort());
    for (const code of Object.keys(AUTH_ERROR_CODES)) {
      expect(README).toContain(`| \`${code}\` | ${httpStatusOf(code)} |`);
    }
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REMOTEFILE_ERROR_CODES } from "./errors.js";
import { remoteFilePropertiesSchema } from "./remotefile-properties.js";

const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");

function tableKeys(heading: string): string[] {
  const start = readme.indexOf(`## ${heading}`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start + 1);
  return [...readme.slice(start, end === -1 ? undefined : end).matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
}

describe("README", () => {
  it("documents every connector property, in schema order", () => {
    expect(tableKeys("Connector properties")).toEqual(Object.keys(remoteFilePropertiesSchema.shape));
  });

  it("lists exactly the catalogue's error codes, in order", () => {
    expect(tableKeys("Errors")).toEqual(Object.keys(REMOTEFILE_ERROR_CODES));
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tlsPropertiesSchema } from "@node-mirth/certs";
import { describe, expect, it } from "vitest";
import { HTTP_ERROR_CODES } from "./errors.js";
import { httpPropertiesSchema } from "./http-connector.js";
import { partnerAuthSchema } from "./partner-auth.js";

const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");

/** First-column names of the table under a heading (up to the next heading). */
function tableKeys(heading: string): string[] {
  const start = readme.indexOf(heading);
  expect(start, `README has a "${heading}" section`).toBeGreaterThan(-1);
  const end = readme.indexOf("\n#", start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
}

describe("README", () => {
  it("documents every connector property, in schema order", () => {
    expect(tableKeys("## Connector properties")).toEqual(Object.keys(httpPropertiesSchema.shape));
  });

  it("documents every partner authentication kind", () => {
    expect(tableKeys("### Partner authentication")).toEqual(partnerAuthSchema.options.map((o) => o.shape.type.value));
  });

  it("documents every TlsProperties field of @node-mirth/certs", () => {
    expect(tableKeys("## TLS properties").sort()).toEqual(Object.keys(tlsPropertiesSchema.in.shape).sort());
  });

  it("lists exactly the error catalogue's codes, in order", () => {
    expect(tableKeys("## Error codes")).toEqual(Object.keys(HTTP_ERROR_CODES));
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tlsPropertiesSchema } from "@node-mirth/certs";
import { describe, expect, it } from "vitest";
import { SMTP_ERROR_CODES } from "./errors.js";
import { smtpPropertiesSchema } from "./smtp-connector.js";

const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");

/** First-column names of the first table under a heading. */
function tableKeys(heading: string): string[] {
  const start = readme.indexOf(`## ${heading}`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThan(-1);
  const next = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, next === -1 ? undefined : next);
  const firstTable = section.slice(section.indexOf("\n|")).split(/\n\n/)[0]!;
  const rows = firstTable.slice(firstTable.indexOf("|---"));
  return [...rows.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
}

describe("README", () => {
  it("documents every connector property, in schema order", () => {
    expect(tableKeys('Connector properties (`type: "smtp"`)')).toEqual(Object.keys(smtpPropertiesSchema.shape));
  });

  it("lists every error code of the catalogue, in order", () => {
    expect(tableKeys("Error codes")).toEqual(Object.keys(SMTP_ERROR_CODES));
  });

  it("names only real TLS properties", () => {
    const tlsKeys = new Set(Object.keys(tlsPropertiesSchema.in.shape));
    const named = [...readme.matchAll(/`tls\.([A-Za-z]+)`/g)].map((match) => match[1]!);
    expect(named.length).toBeGreaterThan(0);
    for (const key of named) expect(tlsKeys.has(key), key).toBe(true);
  });

  it("names the three encryption modes", () => {
    expect(tableKeys("Encryption")).toEqual([...smtpPropertiesSchema.shape.encryption.unwrap().options]);
  });
});

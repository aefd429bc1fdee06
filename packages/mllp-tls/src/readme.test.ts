import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tlsPropertiesSchema } from "@node-mirth/certs";
import { describe, expect, it } from "vitest";
import { mllpPropertiesSchema } from "./mllp-connector.js";
import { transportName } from "./transport.js";

const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");

/** First-column names of the table under a heading. */
function tableKeys(heading: string): string[] {
  const start = readme.indexOf(`## ${heading}`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThan(-1);
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1) === -1 ? undefined : readme.indexOf("\n## ", start + 1));
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
}

describe("README", () => {
  it("documents every connector property, in schema order", () => {
    expect(tableKeys("Connector properties")).toEqual(Object.keys(mllpPropertiesSchema.shape));
  });

  it("documents every TlsProperties field of @node-mirth/certs", () => {
    expect(tableKeys("TLS properties").sort()).toEqual(Object.keys(tlsPropertiesSchema.in.shape).sort());
  });

  it("names the four transports", () => {
    const names = (["MLLP", "FRAME"] as const).flatMap((mode) => [transportName(mode, false), transportName(mode, true)]);
    expect(tableKeys("Transports")).toEqual(names);
  });
});

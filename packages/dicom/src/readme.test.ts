import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dicomPropertiesSchema } from "./dicom-connector.js";
import { DICOM_TLS_MODES } from "./dicom-tls.js";
import { DICOM_ERROR_CODES } from "./errors.js";

const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");

/** First-column names of the table under a heading. */
function tableKeys(heading: string): string[] {
  const start = readme.indexOf(`## ${heading}`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThan(-1);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]!);
}

describe("README", () => {
  it("documents every connector property, in schema order", () => {
    expect(tableKeys("Connector properties")).toEqual(Object.keys(dicomPropertiesSchema.shape));
  });

  it("documents every TLS mode", () => {
    expect(tableKeys("TLS modes")).toEqual([...DICOM_TLS_MODES]);
  });

  it("documents every error code, in catalogue order", () => {
    expect(tableKeys("Error codes")).toEqual(Object.keys(DICOM_ERROR_CODES));
  });
});

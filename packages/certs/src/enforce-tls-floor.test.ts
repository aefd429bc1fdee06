import { describe, expect, it } from "vitest";
import { resolveCertsOptions, type CertsWarning } from "./certs-options.js";
import { DEFAULT_TLS_CIPHERS, enforceTlsFloor } from "./enforce-tls-floor.js";
import { parseTlsProperties, type TlsPropertiesInput } from "./tls-properties-schema.js";

function enforce(
  input: TlsPropertiesInput,
  env: Record<string, string | undefined> = {},
): CertsWarning[] {
  const warnings: CertsWarning[] = [];
  enforceTlsFloor(
    parseTlsProperties(input),
    resolveCertsOptions({ env, onWarning: (w) => warnings.push(w) }),
  );
  return warnings;
}

describe("enforceTlsFloor", () => {
  it("accepts the defaults, TLS 1.3 and forward-secret AEAD ciphers", () => {
    expect(enforce({})).toEqual([]);
    expect(enforce({ minVersion: "TLSv1.3", ciphers: DEFAULT_TLS_CIPHERS })).toEqual([]);
    expect(enforce({ ciphers: "ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256" })).toEqual([]);
  });

  it.each([
    [{ rejectUnauthorized: false }, "rejectUnauthorized: false"],
    [{ minVersion: "TLSv1.1" }, "minVersion: TLSv1.1"],
    [{ minVersion: "TLSv1" }, "minVersion: TLSv1"],
    [{ minVersion: "TLSv1", maxVersion: "TLSv1.1" }, "maxVersion: TLSv1.1"],
    [{ ciphers: "ECDHE-RSA-AES128-SHA" }, "ciphers: ECDHE-RSA-AES128-SHA"],
    [{ ciphers: "AES128-GCM-SHA256" }, "ciphers: AES128-GCM-SHA256"],
    [{ ciphers: "HIGH:!aNULL" }, "ciphers: HIGH:!aNULL"],
  ] as [TlsPropertiesInput, string][])("refuses %j naming the setting", (input, setting) => {
    expect(() => enforce(input)).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_INSECURE_SETTING",
        message: expect.stringContaining(setting),
      }),
    );
  });

  it("allows weak settings with MIRTH_ALLOW_INSECURE_TLS=1, warning once per setting", () => {
    const warnings = enforce(
      { rejectUnauthorized: false, minVersion: "TLSv1.1" },
      { MIRTH_ALLOW_INSECURE_TLS: "1" },
    );
    expect(warnings.map((warning) => warning.details.setting)).toEqual([
      "rejectUnauthorized: false",
      "minVersion: TLSv1.1",
    ]);
    expect(warnings[0]!.code).toBe("ERR_CERTS_INSECURE_SETTING");
    expect(warnings[0]!.message).toMatch(/^INSECURE TLS SETTING IN USE/);
  });

  it("treats any other value of MIRTH_ALLOW_INSECURE_TLS as unset", () => {
    expect(() =>
      enforce({ rejectUnauthorized: false }, { MIRTH_ALLOW_INSECURE_TLS: "true" }),
    ).toThrow(/security floor/);
  });
});

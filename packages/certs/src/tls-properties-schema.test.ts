import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseTlsProperties, tlsPropertiesSchema } from "./tls-properties-schema.js";

describe("tlsPropertiesSchema", () => {
  it("applies the secure defaults", () => {
    expect(parseTlsProperties({})).toEqual({
      enabled: false,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      requireClientCert: false,
    });
  });

  it("takes properties as operators write them, including string booleans", () => {
    const props = parseTlsProperties({
      enabled: "true",
      keyStorePath: "/etc/node-mirth/server.key",
      certStorePath: "/etc/node-mirth/server.crt",
      trustStorePath: "/etc/node-mirth/ca.crt",
      rejectUnauthorized: "true",
      requireClientAuth: "true",
      sniServerName: "mllp.example.org",
      minVersion: "TLSv1.3",
      passphrase: "x",
    });
    expect(props.enabled).toBe(true);
    expect(props.requireClientCert).toBe(true);
    expect(props).not.toHaveProperty("requireClientAuth");
    expect(props.minVersion).toBe("TLSv1.3");
  });

  it("refuses contradicting client-auth flags, a max below the min, and unknown keys, all at once", () => {
    let caught: unknown;
    try {
      parseTlsProperties({
        requireClientCert: true,
        requireClientAuth: false,
        minVersion: "TLSv1.3",
        maxVersion: "TLSv1.2",
        rejectUnauthorised: false,
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "ERR_CERTS_INVALID_PROPERTIES" });
    const message = (caught as Error).message;
    expect(message).toContain("rejectUnauthorised");
    // Refinements run only once the object itself is valid.
    expect(
      parseTlsProperties.bind(null, { requireClientCert: true, requireClientAuth: false }),
    ).toThrow(/alias/);
    expect(parseTlsProperties.bind(null, { minVersion: "TLSv1.3", maxVersion: "TLSv1.2" })).toThrow(
      /below minVersion/,
    );
  });

  it("embeds in a connector's own schema", () => {
    const mllp = z.object({ port: z.number(), tls: tlsPropertiesSchema.optional() });
    expect(mllp.parse({ port: 6661, tls: { enabled: true } }).tls?.rejectUnauthorized).toBe(true);
  });

  it("never echoes a password in a validation error", () => {
    expect(() =>
      parseTlsProperties({ keyStorePassword: "hunter2-secret", minVersion: "SSLv3" }),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining("hunter2-secret") }));
  });
});

describe("tlsPropertiesSchema as JSON Schema", () => {
  it("converts for OpenAPI, every property described, and matches the README's options table", () => {
    const jsonSchema = z.toJSONSchema(tlsPropertiesSchema, { io: "input" }) as {
      properties: Record<string, { description?: string }>;
      additionalProperties: boolean;
    };
    expect(jsonSchema.additionalProperties).toBe(false);
    for (const property of Object.values(jsonSchema.properties))
      expect(property.description).toBeTruthy();
    const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
    const table = readme.slice(
      readme.indexOf("## TLS properties"),
      readme.indexOf("## Security floor"),
    );
    const documented = [...table.matchAll(/^\| `([A-Za-z]+)` *\|/gm)].map((match) => match[1]);
    expect(documented).toEqual(Object.keys(jsonSchema.properties));
  });
});

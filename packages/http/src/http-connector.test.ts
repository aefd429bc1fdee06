import { join } from "node:path";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { http, httpPropertiesSchema } from "./http-connector.js";

const env = { channelId: "c", policy: { allowInsecureBind: false }, dataDir: join(tmpdir(), "node-mirth-connector-test") };

describe("http() properties", () => {
  it("rejects unknown keys (a misspelt setting is never silently ignored)", () => {
    expect(httpPropertiesSchema.safeParse({ url: "https://x.example/", maxSocket: 3 }).success).toBe(false);
    expect(httpPropertiesSchema.safeParse({ url: "https://x.example/", tls: { rejectUnauthorised: false } }).success).toBe(false);
  });

  it("takes numbers and booleans as strings from ${VAR} substitution", () => {
    const parsed = httpPropertiesSchema.parse({ port: "8080", maxSockets: "4", keepAlive: "false", retryableStatuses: ["409"] });
    expect(parsed).toMatchObject({ port: 8080, maxSockets: 4, keepAlive: false, retryableStatuses: [409], body: "${message.encodedData}" });
    expect(httpPropertiesSchema.safeParse({ retryableStatuses: [500] }).success).toBe(false);
  });

  it("a destination needs a url with an http(s) scheme", () => {
    const plugin = http();
    expect(() => plugin.createDestination!(httpPropertiesSchema.parse({}), env)).toThrow(expect.objectContaining({ code: "ERR_HTTP_INVALID_OPTIONS" }));
    expect(() => plugin.createDestination!(httpPropertiesSchema.parse({ url: "ftp://x.example/" }), env)).toThrow(expect.objectContaining({ code: "ERR_HTTP_INVALID_OPTIONS" }));
    expect(() => plugin.createDestination!(httpPropertiesSchema.parse({ url: "https://x.example/" }), env)).not.toThrow();
  });
});

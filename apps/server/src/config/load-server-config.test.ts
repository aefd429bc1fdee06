import { createTempDir } from "@node-mirth/test-peers";
import fc from "fast-check";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigInvalidError } from "./boot-errors.js";
import { loadServerConfig, parseServerConfig } from "./load-server-config.js";

function issuesOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigInvalidError) return error.issues;
    throw error;
  }
  throw new Error("expected ERR_CONFIG_INVALID");
}

describe("loadServerConfig", () => {
  it("defaults to loopback 127.0.0.1:8080, HTTPS port 8443, no TLS, and freezes the result", () => {
    const config = parseServerConfig({});
    expect(config.api).toMatchObject({ host: "127.0.0.1", port: 8080, https_port: 8443, tls_terminated_upstream: false, trusted_proxies: [] });
    expect(config.api.tls_cert_file).toBeUndefined();
    expect(config.inbound.bind_host).toBe("127.0.0.1");
    expect(Object.isFrozen(config.api)).toBe(true);
  });

  it("reads node-mirth.toml and lets the environment override it", async () => {
    await using dir = await createTempDir();
    const file = join(dir.path, "node-mirth.toml");
    writeFileSync(file, ['[api]', 'port = 9000', 'host = "127.0.0.1"', '[egress]', 'allowed_mllp = ["10.0.0.0/8:2575"]', '[store]', 'path = "/var/lib/nm"'].join("\n"));
    const config = loadServerConfig({ file, env: { PORT: "9100", TLS_CERT: "/c.pem", TLS_KEY: "/k.pem", MIRTH_DATA_DIR: "/srv/nm" } });
    expect(config.api.port).toBe(9100);
    expect(config.api.tls_cert_file).toBe("/c.pem");
    expect(config.store.path).toBe("/srv/nm");
    expect(config.egress.allowed_mllp).toEqual(["10.0.0.0/8:2575"]);
  });

  it("reports every problem at once, each with its key and the variable it came from", () => {
    const issues = issuesOf(() =>
      parseServerConfig(
        { api: { prot: 1, trusted_proxies: ["*"], tls_terminated_upstream: true }, logging: { level: "loud" }, cluster: { enabled: true } },
        { env: { PORT: "eighty", TLS_CERT: "/only-cert.pem" } },
      ),
    );
    const keys = issues.map((issue) => issue.key);
    expect(keys).toEqual(
      expect.arrayContaining(["api.prot", "api.port", "api.trusted_proxies.0", "api.tls_key_file", "logging.level", "cluster.enabled"]),
    );
    expect(issues.find((issue) => issue.key === "api.port")?.env).toBe("PORT");
    expect(issues.find((issue) => issue.key === "api.prot")?.message).toBe("unknown key");
  });

  it("names the keys in its message, which is what `serve` prints before exiting 2", () => {
    expect(() => parseServerConfig({ store: { url: "postgres://db/nm" }, bogus: {} })).toThrow(
      /store\.url: this build has only the embedded SQLite store[\s\S]*bogus: unknown key/,
    );
  });

  it("refuses upstream TLS termination without a trusted proxy and mTLS without a certificate", () => {
    const issues = issuesOf(() => parseServerConfig({ api: { tls_terminated_upstream: true, tls_client_ca_file: "/ca.pem" } }));
    expect(issues.map((issue) => issue.key).sort()).toEqual(["api.tls_client_ca_file", "api.trusted_proxies"]);
  });

  it("refuses a TLS floor below 1.2 only when building TLS options, but an unknown version here", () => {
    expect(issuesOf(() => parseServerConfig({ api: { tls_min_version: "SSLv3" } }))[0]?.key).toBe("api.tls_min_version");
  });

  it("fails with ERR_CONFIG_UNREADABLE for a file that is not TOML", async () => {
    await using dir = await createTempDir();
    const file = join(dir.path, "bad.toml");
    writeFileSync(file, "[api\nport = ");
    expect(() => loadServerConfig({ file, env: {} })).toThrow(expect.objectContaining({ code: "ERR_CONFIG_UNREADABLE" }));
    expect(() => loadServerConfig({ file: join(dir.path, "missing.toml"), env: {} })).toThrow(/missing\.toml/);
  });

  it("takes any port number from PORT and refuses anything else", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), (port) => {
        expect(parseServerConfig({ api: { port: 1 } }, { env: { PORT: String(port) } }).api.port).toBe(port);
      }),
    );
    fc.assert(
      fc.property(
        fc.string().filter((text) => text.trim() !== "" && !(/^\s*\d+\s*$/.test(text) && Number(text) <= 65535)),
        (text) => {
          expect(issuesOf(() => parseServerConfig({}, { env: { PORT: text } }))[0]).toMatchObject({ key: "api.port", env: "PORT" });
        },
      ),
    );
  });
});

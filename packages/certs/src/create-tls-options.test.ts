import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  connect,
  createServer,
  type ConnectionOptions,
  type TLSSocket,
  type TlsOptions,
} from "node:tls";
import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CertsWarning } from "./certs-options.js";
import { createClientTlsOptions } from "./create-client-tls-options.js";
import { createServerTlsOptions } from "./create-server-tls-options.js";
import { DEFAULT_TLS_CIPHERS } from "./enforce-tls-floor.js";
import { tlsPropertiesSchema } from "./tls-properties-schema.js";
import { issueCertificate, makeForgePki } from "./__tests__/forge-test-pki.js";

let dir: TempDir;
const paths: Record<string, string> = {};

beforeAll(async () => {
  dir = await createTempDir("node-mirth-certs-tls-");
  const pki = makeForgePki();
  const client = issueCertificate({ commonName: "client", issuer: pki.intermediate });
  const files = {
    serverKey: pki.server.keyPem,
    serverChain: pki.server.certPem + pki.intermediate.certPem,
    ca: pki.root.certPem,
    clientKey: client.keyPem,
    clientChain: client.certPem + pki.intermediate.certPem,
  };
  for (const [name, content] of Object.entries(files)) {
    paths[name] = join(dir.path, name);
    await writeFile(paths[name], content);
  }
});
afterAll(async () => {
  await dir.remove();
});

/** One handshake between a Node server and client on loopback port 0; closed whatever happens. */
async function handshake(
  server: TlsOptions,
  client: ConnectionOptions,
): Promise<{ ok: true; protocol: string | null } | { ok: false; error: string }> {
  const listener = createServer(server, (socket) => socket.end("ok"));
  listener.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as { port: number };
  let socket: TLSSocket | undefined;
  try {
    return await new Promise((resolve) => {
      socket = connect({ ...client, host: "127.0.0.1", port });
      let received = "";
      socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
      socket.on("end", () =>
        resolve(
          received === "ok"
            ? { ok: true, protocol: socket!.getProtocol() }
            : { ok: false, error: "closed by server" },
        ),
      );
      socket.on("error", (error: NodeJS.ErrnoException) =>
        resolve({ ok: false, error: error.code ?? error.message }),
      );
    });
  } finally {
    socket?.destroy();
    await new Promise((resolve) => listener.close(resolve));
  }
}

describe("createServerTlsOptions", () => {
  it("builds a TLS 1.2+ AEAD server from PEM files", () => {
    const options = createServerTlsOptions({
      keyStorePath: paths.serverKey,
      certStorePath: paths.serverChain,
    });
    expect(options).toMatchObject({
      minVersion: "TLSv1.2",
      ciphers: DEFAULT_TLS_CIPHERS,
      honorCipherOrder: true,
      requestCert: false,
      rejectUnauthorized: true,
    });
    expect(options.maxVersion).toBeUndefined();
  });

  it("requests and requires a client certificate for mTLS, and needs the CA to check it", () => {
    const props = {
      keyStorePath: paths.serverKey,
      certStorePath: paths.serverChain,
      requireClientAuth: true,
    };
    expect(() => createServerTlsOptions(props)).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_MISSING_SETTING",
        message: expect.stringContaining("trustStorePath"),
      }),
    );
    const options = createServerTlsOptions({ ...props, trustStorePath: paths.ca });
    expect(options.requestCert).toBe(true);
    expect(options.rejectUnauthorized).toBe(true);
    expect(options.ca).toBeDefined();
  });

  it("takes properties a connector already parsed with the schema", () => {
    const parsed = tlsPropertiesSchema.parse({
      keyStorePath: paths.serverKey,
      certStorePath: paths.serverChain,
      trustStorePath: paths.ca,
      requireClientAuth: "true",
    });
    expect(createServerTlsOptions(parsed).requestCert).toBe(true);
  });

  it("needs a key and a certificate", () => {
    expect(() => createServerTlsOptions({})).toThrow(
      expect.objectContaining({ message: expect.stringContaining("keyStorePath") }),
    );
    expect(() => createServerTlsOptions({ keyStorePath: paths.serverKey })).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_MISSING_SETTING",
        message: expect.stringContaining("certStorePath"),
      }),
    );
  });

  it("checks that the certificate covers sniServerName", () => {
    const props = { keyStorePath: paths.serverKey, certStorePath: paths.serverChain };
    expect(() => createServerTlsOptions({ ...props, sniServerName: "localhost" })).not.toThrow();
    expect(() => createServerTlsOptions({ ...props, sniServerName: "127.0.0.1" })).not.toThrow();
    expect(() => createServerTlsOptions({ ...props, sniServerName: "mllp.example.org" })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_NAME_MISMATCH" }),
    );
  });

  it("refuses insecure settings unless allowed, then warns on every use", () => {
    const props = {
      keyStorePath: paths.serverKey,
      certStorePath: paths.serverChain,
      minVersion: "TLSv1.1",
    } as const;
    expect(() => createServerTlsOptions(props, { env: {} })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_INSECURE_SETTING" }),
    );
    const warnings: CertsWarning[] = [];
    const options = {
      env: { MIRTH_ALLOW_INSECURE_TLS: "1" },
      onWarning: (w: CertsWarning) => warnings.push(w),
    };
    createServerTlsOptions(props, options);
    createServerTlsOptions(props, options);
    expect(warnings.map((warning) => warning.details.setting)).toEqual([
      "minVersion: TLSv1.1",
      "minVersion: TLSv1.1",
    ]);
  });

  it("warns through process.emitWarning when no hook is given", async () => {
    const seen = new Promise<Error>((resolve) => process.once("warning", resolve));
    createClientTlsOptions(
      { rejectUnauthorized: false },
      { env: { MIRTH_ALLOW_INSECURE_TLS: "1" } },
    );
    const warning = await seen;
    expect(warning.name).toBe("NodeMirthCertsWarning");
    expect(warning.message).toContain("rejectUnauthorized: false");
  });
});

describe("createClientTlsOptions", () => {
  it("verifies the server and its name, with SNI from sniServerName", () => {
    const options = createClientTlsOptions({
      trustStorePath: paths.ca,
      sniServerName: "localhost",
    });
    expect(options).toMatchObject({
      servername: "localhost",
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
    });
    expect(typeof options.checkServerIdentity).toBe("function");
    expect(options.key).toBeUndefined();
  });

  it("refuses rejectUnauthorized: false without MIRTH_ALLOW_INSECURE_TLS", () => {
    expect(() => createClientTlsOptions({ rejectUnauthorized: false }, { env: {} })).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_INSECURE_SETTING",
        message: expect.stringContaining("rejectUnauthorized"),
      }),
    );
  });

  it("needs the certificate of a client key", () => {
    expect(() => createClientTlsOptions({ keyStorePath: paths.clientKey })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_MISSING_SETTING" }),
    );
  });
});

describe("Node server and client built from the same properties", () => {
  const server = () => ({
    keyStorePath: paths.serverKey,
    certStorePath: paths.serverChain,
    trustStorePath: paths.ca,
  });

  it("complete a TLS 1.3 handshake", async () => {
    const result = await handshake(
      createServerTlsOptions(server()),
      createClientTlsOptions({ trustStorePath: paths.ca, sniServerName: "localhost" }),
    );
    expect(result).toEqual({ ok: true, protocol: "TLSv1.3" });
  });

  it("complete mTLS with a client certificate and fail without one", async () => {
    const mtls = createServerTlsOptions({ ...server(), requireClientCert: true });
    const withCert = createClientTlsOptions({
      trustStorePath: paths.ca,
      keyStorePath: paths.clientKey,
      certStorePath: paths.clientChain,
    });
    expect(await handshake(mtls, withCert)).toMatchObject({ ok: true });
    expect(
      await handshake(mtls, createClientTlsOptions({ trustStorePath: paths.ca })),
    ).toMatchObject({ ok: false });
  });

  it("fail when the server's name does not match", async () => {
    const result = await handshake(
      createServerTlsOptions(server()),
      createClientTlsOptions({ trustStorePath: paths.ca, sniServerName: "mllp.example.org" }),
    );
    expect(result).toEqual({ ok: false, error: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });
});

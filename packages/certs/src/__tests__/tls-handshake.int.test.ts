import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect, createServer, type ConnectionOptions, type TlsOptions } from "node:tls";
import {
  createTempDir,
  describeWithPeers,
  runCommand,
  startPeer,
  type TempDir,
} from "@node-mirth/test-peers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { convertKeystore } from "../convert-keystore.js";
import { createClientTlsOptions } from "../create-client-tls-options.js";
import { createServerTlsOptions } from "../create-server-tls-options.js";
import {
  KEY_PASSWORD,
  STORE_PASSWORD,
  makeTestKeystores,
  type TestKeystores,
} from "./make-test-keystores.js";
import { makeTestPki, type TestPki } from "./make-test-pki.js";

const GREETING = "hello from node-mirth";

describeWithPeers(
  "TLS handshakes with openssl s_server / s_client",
  ["openssl", "keytool"],
  (peers) => {
    const openssl = () => peers.bin.openssl!;
    let dir: TempDir;
    let pki: TestPki;
    let stores: TestKeystores;
    let converted: { key: string; chain: string; ca: string };
    let emptyOpensslConf: string;

    beforeAll(async () => {
      dir = await createTempDir("node-mirth-certs-tls-");
      pki = await makeTestPki(dir.path, openssl());
      stores = await makeTestKeystores(pki, { openssl: openssl(), keytool: peers.bin.keytool! });
      const result = await convertKeystore(stores.jks, {
        storePassword: STORE_PASSWORD,
        keyPassword: KEY_PASSWORD,
        alias: "server",
        outDir: join(dir.path, "converted"),
      });
      converted = { key: result.keyFile!, chain: result.certFile!, ca: result.caFile! };
      // Debian's openssl.cnf raises s_client's own floor to TLS 1.2; without it the
      // -tls1_1 attempt really reaches our server, which must be the one to refuse.
      emptyOpensslConf = join(dir.path, "empty-openssl.cnf");
      await writeFile(emptyOpensslConf, "");
    });
    afterAll(async () => {
      await dir?.remove();
    });

    /** Handshakes a Node server refused, by error code; `atLeast` waits for them to arrive. */
    interface Refusals {
      codes: string[];
      atLeast(count: number): Promise<string[]>;
    }

    /** A Node TLS server on 127.0.0.1:0 that greets and closes; records refused handshakes. */
    async function withNodeServer(
      options: TlsOptions,
      body: (port: number, refused: Refusals) => Promise<void>,
    ): Promise<void> {
      const codes: string[] = [];
      let arrived: () => void = () => undefined;
      const refused: Refusals = {
        codes,
        async atLeast(count) {
          // s_client can exit on the alert before the server's event loop reports the refusal.
          while (codes.length < count) await new Promise<void>((resolve) => (arrived = resolve));
          return codes;
        },
      };
      const server = createServer(options, (socket) => socket.end(`${GREETING}\n`));
      server.on("tlsClientError", (error: NodeJS.ErrnoException) => {
        codes.push(error.code ?? error.message);
        arrived();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        await body((server.address() as { port: number }).port, refused);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }

    async function sClient(port: number, args: string[], env: Record<string, string> = {}) {
      const result = await runCommand(
        openssl(),
        [
          "s_client",
          "-connect",
          `127.0.0.1:${port}`,
          "-servername",
          "localhost",
          "-ign_eof",
          ...args,
        ],
        { input: "", env, timeoutMs: 20_000 },
      );
      return { code: result.code, output: result.stdout.toString() + result.stderr.toString() };
    }

    /** Connects a Node client; resolves with whether the handshake was accepted. */
    function nodeClient(
      port: number,
      options: ConnectionOptions,
    ): Promise<{ ok: boolean; error?: string }> {
      return new Promise((resolve) => {
        const socket = connect({ ...options, host: "127.0.0.1", port });
        socket.once("secureConnect", () => {
          resolve({ ok: socket.authorized });
          socket.destroy();
        });
        socket.once("error", (error: NodeJS.ErrnoException) => {
          resolve({ ok: false, error: error.code ?? error.message });
          socket.destroy();
        });
      });
    }

    it("serves TLS from PEM converted out of a keytool JKS, verified by s_client", async () => {
      await withNodeServer(
        createServerTlsOptions({ keyStorePath: converted.key, certStorePath: converted.chain }),
        async (port) => {
          const run = await sClient(port, [
            "-CAfile",
            converted.ca,
            "-verify_return_error",
            "-verify_hostname",
            "localhost",
          ]);
          expect(run.output).toContain(GREETING);
          expect(run.output).toMatch(/Verify return code: 0 \(ok\)/);
          expect(run.output).toMatch(/Protocol *: TLSv1\.3/);
        },
      );
    });

    it("serves TLS straight from a JCEKS EC entry, converted in memory", async () => {
      const options = createServerTlsOptions({
        keyStorePath: stores.jceks,
        keyStorePassword: STORE_PASSWORD,
        keyAlias: "ec",
      });
      await withNodeServer(options, async (port) => {
        const run = await sClient(port, ["-CAfile", pki.caBundle, "-verify_return_error"]);
        expect(run.output).toContain(GREETING);
        expect(run.output).toMatch(/Peer signature type: ECDSA/);
      });
    });

    it("mTLS: accepts a client certificate from the trusted CA, rejects none and a stranger's", async () => {
      const options = createServerTlsOptions({
        keyStorePath: converted.key,
        certStorePath: converted.chain,
        trustStorePath: pki.caBundle,
        requireClientCert: true,
      });
      await withNodeServer(options, async (port, refused) => {
        const base = ["-CAfile", pki.caBundle, "-verify_return_error"];
        const trusted = await sClient(port, [
          ...base,
          "-cert",
          pki.clientCert,
          "-key",
          pki.clientKey,
        ]);
        expect(trusted.output).toContain(GREETING);
        expect(refused.codes).toEqual([]);

        const anonymous = await sClient(port, base);
        expect(anonymous.output).not.toContain(GREETING);
        const stranger = await sClient(port, [
          ...base,
          "-cert",
          pki.strangerCert,
          "-key",
          pki.strangerKey,
        ]);
        expect(stranger.output).not.toContain(GREETING);
        expect(await refused.atLeast(2)).toHaveLength(2);
      });
    });

    it("refuses a TLS 1.1 client", async () => {
      await withNodeServer(
        createServerTlsOptions({ keyStorePath: converted.key, certStorePath: converted.chain }),
        async (port, refused) => {
          const run = await sClient(port, ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], {
            OPENSSL_CONF: emptyOpensslConf,
          });
          expect(run.output).not.toContain(GREETING);
          expect(run.code).not.toBe(0);
          expect(await refused.atLeast(1)).toEqual(["ERR_SSL_UNSUPPORTED_PROTOCOL"]);
        },
      );
    });

    it("a client verifies s_server's chain and name, and refuses a wrong name or an unknown CA", async () => {
      const server = await startPeer({
        command: openssl(),
        args: ({ host, port }) => [
          "s_server",
          "-accept",
          `${host}:${port}`,
          "-key",
          pki.serverKey,
          "-cert",
          pki.serverCert,
          "-cert_chain",
          pki.intermediateCert,
          "-www",
        ],
        ready: { kind: "tcp" },
      });
      try {
        const trust = { trustStorePath: stores.trustJks, trustStorePassword: STORE_PASSWORD };
        expect(
          await nodeClient(
            server.port,
            createClientTlsOptions({ ...trust, sniServerName: "localhost" }),
          ),
        ).toEqual({ ok: true });
        expect(
          await nodeClient(
            server.port,
            createClientTlsOptions({ ...trust, sniServerName: "wrong.example.org" }),
          ),
        ).toEqual({
          ok: false,
          error: "ERR_TLS_CERT_ALTNAME_INVALID",
        });
        const strangerCa = join(pki.dir, "stranger-ca.crt");
        expect(
          await nodeClient(
            server.port,
            createClientTlsOptions({ trustStorePath: strangerCa, sniServerName: "localhost" }),
          ),
        ).toMatchObject({
          ok: false,
          error: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
        });
      } finally {
        await server.stop();
      }
    });

    it("refuses insecure properties when MIRTH_ALLOW_INSECURE_TLS is unset", () => {
      const env = { MIRTH_ALLOW_INSECURE_TLS: undefined };
      expect(() => createClientTlsOptions({ rejectUnauthorized: false }, { env })).toThrow(
        expect.objectContaining({ code: "ERR_CERTS_INSECURE_SETTING" }),
      );
      expect(() =>
        createServerTlsOptions(
          { keyStorePath: converted.key, certStorePath: converted.chain, minVersion: "TLSv1" },
          { env },
        ),
      ).toThrow(expect.objectContaining({ code: "ERR_CERTS_INSECURE_SETTING" }));
    });
  },
);

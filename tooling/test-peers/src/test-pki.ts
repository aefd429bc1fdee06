import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./run-command.js";

/** PEM files of a small test PKI made by openssl at test time, all in one temp dir. */
export interface TestPki {
  dir: string;
  caCert: string;
  /** Server key and certificate for localhost / 127.0.0.1, issued by the test CA. */
  serverKey: string;
  serverCert: string;
  /** A second server certificate from the same CA (for rotation tests). */
  rotatedKey: string;
  rotatedCert: string;
  /** An RSA server certificate, for profiles that need RSA key exchange (DICOM 3DES). */
  rsaServerKey: string;
  rsaServerCert: string;
  /** Issued by the test CA for `wrong.example` only: a hostname-mismatch peer on loopback. */
  wrongHostKey: string;
  wrongHostCert: string;
  clientKey: string;
  clientCert: string;
  /** A client certificate from a CA nobody trusts, and that CA. */
  strangerCaCert: string;
  strangerKey: string;
  strangerCert: string;
}

const LEAF_USAGE =
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
  "extendedKeyUsage=serverAuth,clientAuth\n";
const LOCAL_NAMES = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n";
const WRONG_NAMES = "subjectAltName=DNS:wrong.example\n";
const EC = ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
const RSA = ["rsa:2048"];

async function run(openssl: string, args: string[], cwd: string): Promise<void> {
  const result = await runCommand(openssl, args, { cwd, timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr.toString()}`);
}

/**
 * CA -> server, rotated server, RSA server, wrong-host server, client; and an untrusted CA ->
 * stranger client. P-256 keys except where RSA is the point: fast to make.
 */
export async function makeTestPki(dir: string, openssl = "openssl"): Promise<TestPki> {
  await writeFile(join(dir, "local.ext"), LEAF_USAGE + LOCAL_NAMES);
  await writeFile(join(dir, "wrong.ext"), LEAF_USAGE + WRONG_NAMES);
  const ca = (name: string, cn: string) =>
    run(openssl, ["req", "-x509", "-newkey", ...EC, "-nodes", "-keyout", `${name}.key`, "-out", `${name}.crt`,
      "-subj", `/CN=${cn}`, "-days", "365", "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  interface Leaf { name: string; cn: string; issuer?: string; key?: string[]; ext?: string }
  const leaf = async ({ name, cn, issuer = "ca", key = EC, ext = "local.ext" }: Leaf) => {
    await run(openssl, ["req", "-new", "-newkey", ...key, "-nodes", "-keyout", `${name}.key`,
      "-out", `${name}.csr`, "-subj", `/CN=${cn}`], dir);
    await run(openssl, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${issuer}.crt`, "-CAkey", `${issuer}.key`,
      "-set_serial", String(Math.floor(Math.random() * 1e9)), "-days", "365",
      "-extfile", ext, "-out", `${name}.crt`], dir);
  };
  await Promise.all([ca("ca", "node-mirth Test CA"), ca("stranger-ca", "Stranger CA")]);
  await Promise.all([
    leaf({ name: "server", cn: "localhost" }),
    leaf({ name: "rotated", cn: "localhost" }),
    leaf({ name: "rsa-server", cn: "localhost", key: RSA }),
    leaf({ name: "wrong-host", cn: "wrong.example", ext: "wrong.ext" }),
    leaf({ name: "client", cn: "node-mirth-test-client" }),
    leaf({ name: "stranger", cn: "stranger", issuer: "stranger-ca" }),
  ]);
  const at = (name: string) => join(dir, name);
  return {
    dir,
    caCert: at("ca.crt"),
    serverKey: at("server.key"),
    serverCert: at("server.crt"),
    rotatedKey: at("rotated.key"),
    rotatedCert: at("rotated.crt"),
    rsaServerKey: at("rsa-server.key"),
    rsaServerCert: at("rsa-server.crt"),
    wrongHostKey: at("wrong-host.key"),
    wrongHostCert: at("wrong-host.crt"),
    clientKey: at("client.key"),
    clientCert: at("client.crt"),
    strangerCaCert: at("stranger-ca.crt"),
    strangerKey: at("stranger.key"),
    strangerCert: at("stranger.crt"),
  };
}

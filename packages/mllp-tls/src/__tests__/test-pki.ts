import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "@node-mirth/test-peers";

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
  clientKey: string;
  clientCert: string;
  /** A client certificate from a CA nobody trusts, and that CA. */
  strangerCaCert: string;
  strangerKey: string;
  strangerCert: string;
}

const LEAF_EXTENSIONS =
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
  "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n";
const EC = ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

async function run(openssl: string, args: string[], cwd: string): Promise<void> {
  const result = await runCommand(openssl, args, { cwd, timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr.toString()}`);
}

/** CA -> server, rotated server, client; and an untrusted CA -> stranger client. P-256 keys: fast to make. */
export async function makeTestPki(dir: string, openssl = "openssl"): Promise<TestPki> {
  await writeFile(join(dir, "leaf.ext"), LEAF_EXTENSIONS);
  const ca = (name: string, cn: string) =>
    run(openssl, ["req", "-x509", "-newkey", ...EC, "-nodes", "-keyout", `${name}.key`, "-out", `${name}.crt`, "-subj", `/CN=${cn}`,
      "-days", "365", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  const leaf = async (name: string, cn: string, issuer: string) => {
    await run(openssl, ["req", "-new", "-newkey", ...EC, "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`], dir);
    await run(openssl, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${issuer}.crt`, "-CAkey", `${issuer}.key`, "-set_serial",
      String(Math.floor(Math.random() * 1e9)), "-days", "365", "-extfile", "leaf.ext", "-out", `${name}.crt`], dir);
  };
  await Promise.all([ca("ca", "mllp-tls Test CA"), ca("stranger-ca", "Stranger CA")]);
  await Promise.all([
    leaf("server", "localhost", "ca"),
    leaf("rotated", "localhost", "ca"),
    leaf("client", "mllp-test-client", "ca"),
    leaf("stranger", "stranger", "stranger-ca"),
  ]);
  const at = (name: string) => join(dir, name);
  return {
    dir,
    caCert: at("ca.crt"),
    serverKey: at("server.key"),
    serverCert: at("server.crt"),
    rotatedKey: at("rotated.key"),
    rotatedCert: at("rotated.crt"),
    clientKey: at("client.key"),
    clientCert: at("client.crt"),
    strangerCaCert: at("stranger-ca.crt"),
    strangerKey: at("stranger.key"),
    strangerCert: at("stranger.crt"),
  };
}

/** A small valid ADT^A01 with the given control id. */
export function adt(controlId: string): string {
  return [
    `MSH|^~\\&|SENDER|FAC|RECEIVER|FAC|20260101120000||ADT^A01^ADT_A01|${controlId}|P|2.5.1`,
    "EVN|A01|20260101120000",
    `PID|1||${controlId}^^^HOSP^MR||DOE^JANE||19800101|F`,
    "PV1|1|I",
  ].join("\r") + "\r";
}

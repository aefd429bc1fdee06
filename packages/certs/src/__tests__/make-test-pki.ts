import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "@node-mirth/test-peers";

/** PEM files of a small test PKI, all under one temp dir. */
export interface TestPki {
  dir: string;
  caCert: string;
  intermediateCert: string;
  /** RSA server key (PKCS#8) and its certificate for localhost / 127.0.0.1. */
  serverKey: string;
  serverCert: string;
  /** Server leaf then intermediate, as a server presents it. */
  serverChain: string;
  /** P-256 server key and certificate, also issued by the intermediate. */
  ecKey: string;
  ecCert: string;
  /** A client certificate issued by the intermediate. */
  clientKey: string;
  clientCert: string;
  /** A client certificate from a CA nobody trusts. */
  strangerKey: string;
  strangerCert: string;
  /** Root and intermediate together: what a peer trusts. */
  caBundle: string;
}

const CA_EXTENSIONS = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
const LEAF_EXTENSIONS =
  "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
  "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n";

/** Runs a command and fails with its output when it exits non-zero. */
export async function mustRun(
  command: string,
  args: readonly string[],
  cwd: string,
): Promise<string> {
  const result = await runCommand(command, args, { cwd, timeoutMs: 60_000 });
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.code}): ${result.stderr.toString()}`,
    );
  }
  return result.stdout.toString();
}

/** Root CA -> intermediate -> RSA/EC server, client; plus an untrusted CA and its client. */
export async function makeTestPki(dir: string, openssl: string): Promise<TestPki> {
  const run = (args: string[]) => mustRun(openssl, args, dir);
  await writeFile(join(dir, "ca.ext"), CA_EXTENSIONS);
  await writeFile(join(dir, "leaf.ext"), LEAF_EXTENSIONS);
  const selfSignedCa = (name: string, cn: string) =>
    run([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-subj",
      `/CN=${cn}`,
      "-days",
      "30",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
  const issue = async (options: {
    name: string;
    cn: string;
    issuer: string;
    ext: string;
    keyArgs: string[];
  }) => {
    await run([
      "req",
      "-new",
      "-newkey",
      ...options.keyArgs,
      "-nodes",
      "-keyout",
      `${options.name}.key`,
      "-out",
      `${options.name}.csr`,
      "-subj",
      `/CN=${options.cn}`,
    ]);
    await run([
      "x509",
      "-req",
      "-in",
      `${options.name}.csr`,
      "-CA",
      `${options.issuer}.crt`,
      "-CAkey",
      `${options.issuer}.key`,
      "-CAcreateserial",
      "-days",
      "30",
      "-extfile",
      options.ext,
      "-out",
      `${options.name}.crt`,
    ]);
  };
  const rsa = ["rsa:2048"];
  await Promise.all([
    selfSignedCa("ca", "node-mirth Test Root CA"),
    selfSignedCa("stranger-ca", "Stranger CA"),
  ]);
  await issue({
    name: "intermediate",
    cn: "node-mirth Test Intermediate CA",
    issuer: "ca",
    ext: "ca.ext",
    keyArgs: rsa,
  });
  await Promise.all([
    issue({
      name: "server",
      cn: "localhost",
      issuer: "intermediate",
      ext: "leaf.ext",
      keyArgs: rsa,
    }),
    issue({
      name: "ec",
      cn: "localhost",
      issuer: "intermediate",
      ext: "leaf.ext",
      keyArgs: ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    }),
    issue({ name: "client", cn: "client", issuer: "intermediate", ext: "leaf.ext", keyArgs: rsa }),
    issue({
      name: "stranger",
      cn: "stranger",
      issuer: "stranger-ca",
      ext: "leaf.ext",
      keyArgs: rsa,
    }),
  ]);
  const read = (name: string) => readFile(join(dir, name), "utf8");
  await writeFile(
    join(dir, "server-chain.crt"),
    (await read("server.crt")) + (await read("intermediate.crt")),
  );
  await writeFile(
    join(dir, "ca-bundle.crt"),
    (await read("ca.crt")) + (await read("intermediate.crt")),
  );
  const at = (name: string) => join(dir, name);
  return {
    dir,
    caCert: at("ca.crt"),
    intermediateCert: at("intermediate.crt"),
    serverKey: at("server.key"),
    serverCert: at("server.crt"),
    serverChain: at("server-chain.crt"),
    ecKey: at("ec.key"),
    ecCert: at("ec.crt"),
    clientKey: at("client.key"),
    clientCert: at("client.crt"),
    strangerKey: at("stranger.key"),
    strangerCert: at("stranger.crt"),
    caBundle: at("ca-bundle.crt"),
  };
}

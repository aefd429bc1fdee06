import { join } from "node:path";
import { mustRun, type TestPki } from "./make-test-pki.js";

export const STORE_PASSWORD = "store-pass-1";
export const KEY_PASSWORD = "key-pass-22";

/** Keystores made by the real keytool (and one by openssl), from a TestPki. */
export interface TestKeystores {
  /** JKS: "server" (RSA + intermediate, key password KEY_PASSWORD), "ec" (EC), "rootca" (trusted). */
  jks: string;
  /** JCEKS with the same three entries. */
  jceks: string;
  /** keytool -genkeypair PKCS12 (EC) with a trusted "rootca". */
  pkcs12: string;
  /** keytool -genkeypair JKS (RSA), key password KEY_PASSWORD. */
  generatedJks: string;
  /** JCEKS with a secret-key entry. */
  secretJceks: string;
  /** JKS with only the trusted root. */
  trustJks: string;
  /** openssl pkcs12 -export -legacy (RC2-40 certificates, 3DES key), server + intermediate. */
  legacyPkcs12: string;
  /** openssl pkcs12 -export (modern AES), server + intermediate, alias "server". */
  opensslPkcs12: string;
}

/**
 * keytool starts a JVM per call (about a second), so independent stores are made in
 * parallel and each test file makes them once.
 */
export async function makeTestKeystores(
  pki: TestPki,
  bin: { openssl: string; keytool: string },
): Promise<TestKeystores> {
  const dir = pki.dir;
  const at = (name: string) => join(dir, name);
  const openssl = (args: string[]) => mustRun(bin.openssl, args, dir);
  const keytool = (args: string[]) => mustRun(bin.keytool, args, dir);
  const pass = `pass:${STORE_PASSWORD}`;

  await Promise.all([
    openssl([
      "pkcs12",
      "-export",
      "-inkey",
      pki.serverKey,
      "-in",
      pki.serverCert,
      "-certfile",
      pki.intermediateCert,
      "-name",
      "server",
      "-out",
      at("server.p12"),
      "-passout",
      pass,
    ]),
    openssl([
      "pkcs12",
      "-export",
      "-inkey",
      pki.ecKey,
      "-in",
      pki.ecCert,
      "-name",
      "ec",
      "-out",
      at("ec.p12"),
      "-passout",
      pass,
    ]),
    openssl([
      "pkcs12",
      "-export",
      "-legacy",
      "-inkey",
      pki.serverKey,
      "-in",
      pki.serverCert,
      "-certfile",
      pki.intermediateCert,
      "-name",
      "server",
      "-out",
      at("legacy.p12"),
      "-passout",
      pass,
    ]),
  ]);

  const javaStore = async (name: string, storeType: "JKS" | "JCEKS") => {
    const store = at(name);
    const common = [
      "-destkeystore",
      store,
      "-deststoretype",
      storeType,
      "-deststorepass",
      STORE_PASSWORD,
      "-srcstoretype",
      "PKCS12",
      "-srcstorepass",
      STORE_PASSWORD,
      "-noprompt",
    ];
    await keytool([
      "-importkeystore",
      "-srckeystore",
      at("server.p12"),
      "-srcalias",
      "server",
      "-destalias",
      "server",
      "-srckeypass",
      STORE_PASSWORD,
      "-destkeypass",
      KEY_PASSWORD,
      ...common,
    ]);
    await keytool([
      "-importkeystore",
      "-srckeystore",
      at("ec.p12"),
      "-srcalias",
      "ec",
      "-destalias",
      "ec",
      ...common,
    ]);
    await keytool([
      "-importcert",
      "-noprompt",
      "-alias",
      "rootca",
      "-file",
      pki.caCert,
      "-keystore",
      store,
      "-storetype",
      storeType,
      "-storepass",
      STORE_PASSWORD,
    ]);
  };
  const generated = async () => {
    await keytool([
      "-genkeypair",
      "-alias",
      "gen-ec",
      "-keyalg",
      "EC",
      "-groupname",
      "secp256r1",
      "-dname",
      "CN=keytool-ec",
      "-validity",
      "30",
      "-storetype",
      "PKCS12",
      "-keystore",
      at("keytool.p12"),
      "-storepass",
      STORE_PASSWORD,
    ]);
    await keytool([
      "-importcert",
      "-noprompt",
      "-alias",
      "rootca",
      "-file",
      pki.caCert,
      "-keystore",
      at("keytool.p12"),
      "-storetype",
      "PKCS12",
      "-storepass",
      STORE_PASSWORD,
    ]);
  };
  const others = async () => {
    await keytool([
      "-genkeypair",
      "-alias",
      "gen-rsa",
      "-keyalg",
      "RSA",
      "-keysize",
      "2048",
      "-dname",
      "CN=keytool-rsa",
      "-validity",
      "30",
      "-storetype",
      "JKS",
      "-keystore",
      at("generated.jks"),
      "-storepass",
      STORE_PASSWORD,
      "-keypass",
      KEY_PASSWORD,
    ]);
    await keytool([
      "-genseckey",
      "-alias",
      "hmac-secret",
      "-keyalg",
      "AES",
      "-keysize",
      "128",
      "-storetype",
      "JCEKS",
      "-keystore",
      at("secret.jceks"),
      "-storepass",
      STORE_PASSWORD,
      "-keypass",
      STORE_PASSWORD,
    ]);
    await keytool([
      "-importcert",
      "-noprompt",
      "-alias",
      "rootca",
      "-file",
      pki.caCert,
      "-keystore",
      at("trust.jks"),
      "-storetype",
      "JKS",
      "-storepass",
      STORE_PASSWORD,
    ]);
  };
  await Promise.all([
    javaStore("server.jks", "JKS"),
    javaStore("server.jceks", "JCEKS"),
    generated(),
    others(),
  ]);
  return {
    jks: at("server.jks"),
    jceks: at("server.jceks"),
    pkcs12: at("keytool.p12"),
    generatedJks: at("generated.jks"),
    secretJceks: at("secret.jceks"),
    trustJks: at("trust.jks"),
    legacyPkcs12: at("legacy.p12"),
    opensslPkcs12: at("server.p12"),
  };
}

import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convertKeystore } from "./convert-keystore.js";
import { makeForgePki } from "./__tests__/forge-test-pki.js";
import { writeTestJks } from "./__tests__/write-test-jks.js";

let dir: TempDir;
let pki: ReturnType<typeof makeForgePki>;
const der = (pem: string) => new X509Certificate(pem).raw;

async function jks(name: string, keys: { alias: string }[]): Promise<string> {
  const path = join(dir.path, name);
  await writeFile(
    path,
    writeTestJks({
      storePassword: "storepass",
      keyPassword: "storepass",
      keys: keys.map(({ alias }) => ({
        alias,
        privateKey: pki.server.privateKey,
        chainDer: [der(pki.server.certPem), der(pki.intermediate.certPem)],
      })),
      trusted: [{ alias: "root", der: der(pki.root.certPem) }],
    }),
  );
  return path;
}

beforeAll(async () => {
  dir = await createTempDir("node-mirth-certs-convert-");
  pki = makeForgePki();
});
afterAll(async () => {
  await dir.remove();
});

describe("convertKeystore", () => {
  it("writes <alias>.key (PKCS#8, 0600), <alias>.crt and ca.crt", async () => {
    const outDir = join(dir.path, "out");
    const result = await convertKeystore(await jks("one.jks", [{ alias: "server" }]), {
      storePassword: "storepass",
      outDir,
    });
    expect(result).toMatchObject({
      type: "jks",
      alias: "server",
      keyFile: join(outDir, "server.key"),
      caFile: join(outDir, "ca.crt"),
    });
    const keyPem = await readFile(result.keyFile!, "utf8");
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect((await stat(result.keyFile!)).mode & 0o777).toBe(0o600);
    const chain = (await readFile(result.certFile!, "utf8")).match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
    )!;
    expect(chain.map((pem) => new X509Certificate(pem).subject)).toEqual([
      "CN=localhost",
      "CN=Unit Intermediate CA",
    ]);
    expect(new X509Certificate(chain[0]).checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(new X509Certificate(await readFile(result.caFile!)).subject).toBe("CN=Unit Root CA");
  });

  it("replaces an existing world-readable key file with a 0600 one", async () => {
    const outDir = join(dir.path, "again");
    const store = await jks("again.jks", [{ alias: "server" }]);
    await convertKeystore(store, { storePassword: "storepass", outDir });
    const keyFile = join(outDir, "server.key");
    await writeFile(keyFile, "stale", { mode: 0o644 });
    await convertKeystore(store, { storePassword: "storepass", outDir });
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(keyFile, "utf8")).toContain("PRIVATE KEY");
  });

  it("keeps an alias from naming a file outside outDir", async () => {
    const outDir = join(dir.path, "safe");
    const result = await convertKeystore(await jks("evil.jks", [{ alias: "../../etc/evil" }]), {
      storePassword: "storepass",
      outDir,
    });
    expect(dirname(result.keyFile!)).toBe(outDir);
    expect(basename(result.keyFile!)).toBe("__.._etc_evil.key");
  });

  it("needs an alias when there are several key entries", async () => {
    const store = await jks("two.jks", [{ alias: "a" }, { alias: "b" }]);
    await expect(
      convertKeystore(store, { storePassword: "storepass", outDir: dir.path }),
    ).rejects.toMatchObject({
      code: "ERR_CERTS_ALIAS_REQUIRED",
      message: expect.stringContaining("a, b"),
    });
    const result = await convertKeystore(store, {
      storePassword: "storepass",
      alias: "b",
      outDir: join(dir.path, "b"),
    });
    expect(result.alias).toBe("b");
  });

  it("converts a trust store to ca.crt alone", async () => {
    const path = join(dir.path, "trust.jks");
    await writeFile(
      path,
      writeTestJks({
        storePassword: "pw",
        keyPassword: "",
        keys: [],
        trusted: [{ alias: "root", der: der(pki.root.certPem) }],
      }),
    );
    const result = await convertKeystore(path, {
      storePassword: "pw",
      outDir: join(dir.path, "trust"),
    });
    expect(result).toMatchObject({ alias: undefined, keyFile: undefined, certFile: undefined });
    expect(result.caCertificates).toHaveLength(1);
  });

  it("refuses PEM input, a wrong password and an unwritable output directory", async () => {
    const pem = join(dir.path, "already.pem");
    await writeFile(pem, pki.server.certPem);
    await expect(
      convertKeystore(pem, { storePassword: "x", outDir: dir.path }),
    ).rejects.toMatchObject({
      code: "ERR_CERTS_UNSUPPORTED_KEYSTORE",
    });
    const store = await jks("pw.jks", [{ alias: "server" }]);
    await expect(
      convertKeystore(store, { storePassword: "wrong", outDir: dir.path }),
    ).rejects.toMatchObject({
      code: "ERR_CERTS_BAD_PASSWORD",
    });
    await expect(
      convertKeystore(store, { storePassword: "storepass", outDir: join(pem, "sub") }),
    ).rejects.toMatchObject({
      code: "ERR_CERTS_OUTPUT_FAILED",
    });
  });
});

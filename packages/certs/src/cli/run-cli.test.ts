import { X509Certificate } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TS_SOURCE_HOOK, createTempDir, runCommand, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCertificate, makeForgePki, makeForgePkcs12 } from "../__tests__/forge-test-pki.js";
import { writeTestJks } from "../__tests__/write-test-jks.js";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, runCli, type CliIo } from "./run-cli.js";

let dir: TempDir;
const files: Record<string, string> = {};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], io: Partial<CliIo> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: {},
    prompt: undefined,
    ...io,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = await createTempDir("node-mirth-certs-cli-");
  const pki = makeForgePki();
  const der = (pem: string) => new X509Certificate(pem).raw;
  const expired = issueCertificate({
    commonName: "expired",
    notBefore: new Date(Date.now() - 9e8),
    notAfter: new Date(Date.now() - 1e8),
  });
  const contents: Record<string, string | Buffer> = {
    "server.p12": makeForgePkcs12({
      identity: pki.server,
      chain: [pki.intermediate],
      password: "p12-pass",
      friendlyName: "mllp",
    }),
    "server.jks": writeTestJks({
      storePassword: "store-pass",
      keyPassword: "key-pass",
      keys: [
        { alias: "server", privateKey: pki.server.privateKey, chainDer: [der(pki.server.certPem)] },
      ],
      trusted: [{ alias: "root", der: der(pki.root.certPem) }],
    }),
    "server.crt": pki.server.certPem + pki.intermediate.certPem,
    "expired.crt": expired.certPem,
    "store-pass.txt": "store-pass\n",
  };
  for (const [name, content] of Object.entries(contents)) {
    files[name] = join(dir.path, name);
    await writeFile(files[name], content);
  }
});
afterAll(async () => {
  await dir.remove();
});

describe("node-mirth-certs convert", () => {
  it("converts a PKCS12 with the store password from an env variable", async () => {
    const outDir = join(dir.path, "p12-out");
    const run = await cli(
      ["convert", files["server.p12"]!, "--out-dir", outDir, "--store-password-env", "P12_PASS"],
      {
        env: { P12_PASS: "p12-pass" },
      },
    );
    expect(run).toMatchObject({ code: EXIT_OK, stderr: "" });
    expect(run.stdout).toContain(join(outDir, "mllp.key"));
    expect((await stat(join(outDir, "mllp.key"))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(outDir, "mllp.crt"), "utf8")).toContain("BEGIN CERTIFICATE");
  });

  it("converts a JKS with passwords from a file and an env variable, as JSON", async () => {
    const outDir = join(dir.path, "jks-out");
    const run = await cli(
      [
        "convert",
        files["server.jks"]!,
        "-o",
        outDir,
        "--store-password-file",
        files["store-pass.txt"]!,
        "--key-password-env",
        "KP",
        "--json",
      ],
      { env: { KP: "key-pass" } },
    );
    expect(run.code).toBe(EXIT_OK);
    const result = JSON.parse(run.stdout) as {
      alias: string;
      caFile: string;
      chain: { subject: string; notAfter: string }[];
    };
    expect(result.alias).toBe("server");
    expect(result.caFile).toBe(join(outDir, "ca.crt"));
    expect(result.chain[0]!.subject).toBe("CN=localhost");
    expect(result.chain[0]!.notAfter).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("asks on the terminal when no password source is given", async () => {
    const asked: string[] = [];
    const run = await cli(["convert", files["server.p12"]!, "-o", join(dir.path, "prompted")], {
      prompt: (question) => {
        asked.push(question);
        return Promise.resolve("p12-pass");
      },
    });
    expect(run.code).toBe(EXIT_OK);
    expect(asked).toEqual([`store password for ${files["server.p12"]}: `]);
  });

  it("fails cleanly without a password source or terminal, and on a wrong password", async () => {
    const none = await cli(["convert", files["server.p12"]!, "-o", dir.path]);
    expect(none.code).toBe(EXIT_FAILED);
    expect(none.stderr).toContain("ERR_CERTS_PASSWORD_UNAVAILABLE");
    const wrong = await cli(
      ["convert", files["server.jks"]!, "-o", dir.path, "--store-password-env", "P", "--json"],
      {
        env: { P: "nope" },
      },
    );
    expect(wrong.code).toBe(EXIT_FAILED);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ error: { code: "ERR_CERTS_BAD_PASSWORD" } });
    const unset = await cli([
      "convert",
      files["server.jks"]!,
      "-o",
      dir.path,
      "--store-password-env",
      "UNSET",
    ]);
    expect(unset.stderr).toContain("UNSET is not set");
  });

  it("has no flag that takes a password on the command line", async () => {
    const run = await cli([
      "convert",
      files["server.p12"]!,
      "-o",
      dir.path,
      "--store-password",
      "p12-pass",
    ]);
    expect(run.code).toBe(EXIT_USAGE);
    expect(run.stderr).toContain("unknown option '--store-password'");
    const help = await cli(["convert", "--help"]);
    expect(help.code).toBe(EXIT_OK);
    expect(help.stdout).toContain("--store-password-env");
    expect(help.stdout).not.toMatch(/--store-password </);
  });

  it("refuses two sources for one password", async () => {
    const run = await cli([
      "convert",
      files["server.p12"]!,
      "-o",
      dir.path,
      "--store-password-env",
      "A",
      "--store-password-file",
      "B",
    ]);
    expect(run.code).toBe(EXIT_USAGE);
  });
});

describe("node-mirth-certs inspect", () => {
  it("describes a PEM chain", async () => {
    const run = await cli(["inspect", files["server.crt"]!]);
    expect(run.code).toBe(EXIT_OK);
    expect(run.stdout).toContain("[0] CN=localhost");
    expect(run.stdout).toContain("SAN      DNS:localhost, IP Address:127.0.0.1");
  });

  it("exits 1 when it finds an error, such as an expired certificate", async () => {
    const run = await cli(["inspect", files["expired.crt"]!, "--json"]);
    expect(run.code).toBe(EXIT_FAILED);
    expect(JSON.parse(run.stdout)).toMatchObject({
      problems: [{ severity: "error", code: "ERR_CERTS_EXPIRED" }],
    });
  });

  it("lists a keystore as JSON with its passwords", async () => {
    const run = await cli(
      [
        "inspect",
        files["server.jks"]!,
        "--store-password-env",
        "S",
        "--key-password-env",
        "K",
        "--json",
      ],
      {
        env: { S: "store-pass", K: "key-pass" },
      },
    );
    expect(run.code).toBe(EXIT_OK);
    const report = JSON.parse(run.stdout) as {
      format: string;
      entries: { alias: string; keyMatchesLeaf?: boolean }[];
    };
    expect(report.format).toBe("jks");
    expect(report.entries.map((entry) => [entry.alias, entry.keyMatchesLeaf])).toEqual([
      ["server", true],
      ["root", undefined],
    ]);
  });
});

describe("the node-mirth-certs executable", () => {
  it("runs as a process and exits with the code of the outcome", async () => {
    const main = join(import.meta.dirname, "main.ts");
    const importHook = ["--import", TS_SOURCE_HOOK];
    const ok = await runCommand(
      process.execPath,
      [...importHook, main, "inspect", files["server.crt"]!, "--json"],
      {
        input: "",
      },
    );
    expect(ok.stderr.toString()).toBe("");
    expect(ok.code).toBe(EXIT_OK);
    expect(JSON.parse(ok.stdout.toString())).toMatchObject({ format: "pem", problems: [] });
    const failed = await runCommand(
      process.execPath,
      [...importHook, main, "convert", files["server.p12"]!, "-o", dir.path],
      {
        input: "",
      },
    );
    expect(failed.code).toBe(EXIT_FAILED);
    expect(failed.stderr.toString()).toContain("ERR_CERTS_PASSWORD_UNAVAILABLE");
  });
});

import type { ConnectionOptions } from "node:tls";
import { createClientTlsOptions } from "@node-mirth/certs";
import { assertSecureOrAllowed, isLoopbackHost } from "@node-mirth/core";
import { ApiClient } from "./api-client.js";
import { CliError } from "./cli-error.js";
import type { PasswordInput } from "./read-password.js";
import { SessionFile, sessionFilePath, type StoredSession } from "./session-file.js";

export const DEFAULT_URL = "http://127.0.0.1:8080";
export const DEFAULT_TIMEOUT_MS = 30_000;

/** What mirth-cli touches outside itself, so tests can give it their own. */
export interface CliIo extends PasswordInput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Runs node-mirth-certs with these arguments and returns its exit code. */
  runCertsCli: (args: readonly string[]) => Promise<number>;
}

export interface GlobalOptions {
  url?: string;
  json?: boolean;
  timeout?: number;
  /** CA bundle PEM the server certificate must chain to (else Node's roots + NODE_EXTRA_CA_CERTS). */
  ca?: string;
  /** Client certificate chain and key PEM, when the API requires mTLS. */
  cert?: string;
  key?: string;
}

/** Per invocation: the global options, the server URL, the session and how to print. */
export class CliContext {
  readonly io: CliIo;
  private readonly globals: () => GlobalOptions;

  constructor(io: CliIo, globals: () => GlobalOptions) {
    this.io = io;
    this.globals = globals;
  }

  get json(): boolean {
    return this.globals().json === true;
  }

  get sessionFile(): SessionFile {
    return new SessionFile(sessionFilePath(this.io.env));
  }

  /**
   * `--url`, else `MIRTH_URL`, else http://127.0.0.1:8080, without a trailing slash. Plain
   * http is for loopback: elsewhere it would carry passwords and sessions in clear, so it
   * needs MIRTH_ALLOW_INSECURE_TLS=1 like every other weakened setting.
   */
  baseUrl(): string {
    const raw = this.globals().url ?? this.io.env.MIRTH_URL ?? DEFAULT_URL;
    let url: URL;
    try {
      url = new URL(raw);
    } catch (error) {
      throw new CliError("ERR_CLI_INVALID_INPUT", `server URL ${JSON.stringify(raw)} is not a URL (e.g. https://mirth.example.org:8443).`, { cause: error });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new CliError("ERR_CLI_INVALID_INPUT", `server URL ${raw} must start with https:// or http://.`);
    }
    if (url.username !== "" || url.password !== "") {
      throw new CliError("ERR_CLI_INVALID_INPUT", "server URL must not contain credentials; use `mirth-cli login`.");
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (url.protocol === "http:" && !isLoopbackHost(host)) {
      assertSecureOrAllowed(`mirth-cli server URL ${url.origin} (plain http off loopback)`, {
        env: this.io.env,
        onWarning: (warning) => this.io.stderr(`mirth-cli: warning: ${warning.message}\n`),
      });
    }
    return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  }

  /** A client without a session: health and login. */
  anonymousClient(): ApiClient {
    return new ApiClient({ baseUrl: this.baseUrl(), timeoutMs: this.timeoutMs(), tls: this.tlsOptions() });
  }

  /** A client carrying the stored session for this URL; ERR_CLI_NOT_LOGGED_IN without one. */
  async sessionClient(): Promise<ApiClient> {
    const baseUrl = this.baseUrl();
    const session = await this.session(baseUrl);
    return new ApiClient({ baseUrl, sessionId: session.sessionId, timeoutMs: this.timeoutMs(), tls: this.tlsOptions() });
  }

  async session(baseUrl: string): Promise<StoredSession> {
    const session = await this.sessionFile.get(baseUrl);
    if (session === undefined) {
      throw new CliError("ERR_CLI_NOT_LOGGED_IN", `not logged in to ${baseUrl}; run \`mirth-cli login --url ${baseUrl}\`.`);
    }
    return session;
  }

  /** Prints `data` as JSON with --json, else the human text. */
  print(data: unknown, human: () => string): void {
    this.io.stdout(this.json ? `${JSON.stringify(data, null, 2)}\n` : human());
  }

  /** The same TLS floor and verification as every node-mirth client, from @node-mirth/certs. */
  private tlsOptions(): ConnectionOptions {
    const { ca, cert, key } = this.globals();
    if (cert !== undefined && key === undefined) {
      throw new CliError("ERR_CLI_INVALID_INPUT", "--cert needs --key (the client certificate's private key).");
    }
    return createClientTlsOptions(
      {
        ...(ca === undefined ? {} : { trustStorePath: ca }),
        ...(key === undefined ? {} : { keyStorePath: key }),
        ...(cert === undefined ? {} : { certStorePath: cert }),
      },
      { env: this.io.env, onWarning: (warning) => this.io.stderr(`mirth-cli: warning: ${warning.message}\n`) },
    );
  }

  private timeoutMs(): number {
    return this.globals().timeout ?? DEFAULT_TIMEOUT_MS;
  }
}

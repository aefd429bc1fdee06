import { connect, type Socket } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { createClientTlsOptions, type TlsPropertiesInput } from "@node-mirth/certs";
import {
  assertSecureOrAllowed,
  warnInsecureUse,
  type EgressPolicy,
  type PolicyWarningHandler,
} from "@node-mirth/core";
import nodemailer from "nodemailer";
import type { SendMailOptions } from "nodemailer/lib/mailer";
import type { SMTPSentMessageInfo, SMTPTransportOptions } from "nodemailer/lib/smtp-transport";
import { SmtpError } from "./errors.js";
import { checkMail, type SmtpMail } from "./smtp-mail.js";
import { toSmtpError } from "./smtp-failure.js";

/** none = plaintext (port 25); tls = STARTTLS required (587); ssl = implicit TLS (465). */
export type SmtpEncryption = "none" | "tls" | "ssl";

export const DEFAULT_SMTP_PORTS: Readonly<Record<SmtpEncryption, number>> = Object.freeze({ none: 25, tls: 587, ssl: 465 });

export interface SmtpSenderOptions {
  host: string;
  /** Default by encryption: 25, 587 or 465. */
  port?: number;
  /** Default `tls`: STARTTLS, and a server that does not offer it is an error. */
  encryption?: SmtpEncryption;
  /** Log in with these; over `none` refused unless MIRTH_ALLOW_INSECURE_TLS=1. */
  auth?: { user: string; pass: string };
  /** Trust store, client certificate, SNI name, TLS versions (@node-mirth/certs). Ignored for `none`. */
  tls?: TlsPropertiesInput;
  /** The `[egress]` allow-lists: `allowed_smtp` is checked at every connect, and the vetted address is the one dialled. */
  egress?: EgressPolicy;
  /** TCP connect (default 10 s). */
  connectTimeoutMs?: number;
  /** The whole session setup: connect, the server's 220 greeting, STARTTLS or the TLS handshake (default 30 s). */
  greetingTimeoutMs?: number;
  /** Silence on an open connection (default 60 s). */
  socketTimeoutMs?: number;
  /** Keep connections open and reuse them (nodemailer's pooled transport). */
  pool?: boolean;
  /** With `pool`: at most this many connections (default 5). */
  maxConnections?: number;
  /** Where MIRTH_ALLOW_INSECURE_TLS is read; default the process environment. */
  env?: NodeJS.ProcessEnv;
  /** Receives the loud warning for each use of an insecure setting that was allowed. */
  onPolicyWarning?: PolicyWarningHandler;
}

export interface SmtpSendOptions {
  /** Gives up the send in flight. */
  signal?: AbortSignal;
}

export interface SmtpSendResult {
  /** The Message-ID header of the mail sent, e.g. `<...@host>`. */
  messageId: string;
  accepted: string[];
  /** Recipients the server refused while it accepted others. */
  rejected: string[];
  /** The server's final reply, e.g. `250 2.0.0 Ok: queued as 4F2A`. */
  response: string;
}

/** The part of nodemailer's transporter this class uses; the pooled and plain ones both fit. */
interface MailTransport {
  sendMail(mail: SendMailOptions): Promise<SMTPSentMessageInfo>;
  close(): void;
}

interface ResolvedSender {
  host: string;
  port: number;
  encryption: SmtpEncryption;
  where: string;
}

/**
 * Sends mail to one SMTP server with nodemailer, failing closed: `tls` never falls back to
 * plaintext, credentials never cross an unencrypted connection unless the insecure escape
 * is set, certificates are verified with the host name checked, and with an egress policy
 * each connection goes to the address the policy vetted (never a second DNS answer).
 * Usable on its own; the `smtp()` plugin wraps it for the engine.
 */
export class SmtpSender implements AsyncDisposable {
  readonly #target: ResolvedSender;
  readonly #options: SmtpSenderOptions;
  readonly #transport: MailTransport;
  #closed = false;

  constructor(options: SmtpSenderOptions) {
    this.#target = resolveTarget(options);
    this.#options = options;
    const { encryption, where } = this.#target;
    if (options.auth !== undefined && encryption === "none") {
      assertSecureOrAllowed(`SMTP sender to ${where}: username and password over an unencrypted connection (encryption none)`, {
        ...(options.env === undefined ? {} : { env: options.env }),
        ...(options.onPolicyWarning === undefined ? {} : { onWarning: options.onPolicyWarning }),
      });
    }
    // Built now so a bad trust store or client key fails at construction (deploy), not per mail.
    const tls: ConnectionOptions | undefined =
      encryption === "none" ? undefined : createClientTlsOptions(options.tls ?? {}, options.env === undefined ? {} : { env: options.env });
    const settings: SMTPTransportOptions = {
      host: this.#target.host,
      port: this.#target.port,
      secure: encryption === "ssl",
      requireTLS: encryption === "tls",
      // `none` is what the operator asked for: no STARTTLS attempt whose certificate check could fail.
      ignoreTLS: encryption === "none",
      ...(tls === undefined ? {} : { tls }),
      // forceAuth: a server that hides AUTH must not turn configured credentials into an anonymous send.
      ...(options.auth === undefined ? {} : { auth: { user: options.auth.user, pass: options.auth.pass }, forceAuth: true }),
      connectionTimeout: options.greetingTimeoutMs ?? 30_000,
      greetingTimeout: options.greetingTimeoutMs ?? 30_000,
      socketTimeout: options.socketTimeoutMs ?? 60_000,
      // Mail content comes from messages: never let it name a local file or URL to attach.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
      getSocket: (_settings, callback) => {
        this.#openSocket().then(
          (connection) => callback(null, { connection }),
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      },
    };
    this.#transport =
      options.pool === true
        ? nodemailer.createTransport({ ...settings, pool: true, maxConnections: options.maxConnections ?? 5 })
        : nodemailer.createTransport(settings);
  }

  /** `host:port (encryption)`, for logs and errors. */
  get where(): string {
    return this.#target.where;
  }

  /** Sends one mail. Rejects with an SmtpError (or the core egress/template error) naming what failed. */
  async send(mail: SmtpMail, options: SmtpSendOptions = {}): Promise<SmtpSendResult> {
    if (this.#closed) throw new SmtpError("ERR_SMTP_SEND_FAILED", `the SMTP sender to ${this.where} is closed`);
    const checked = checkMail(mail);
    try {
      const info = await this.#transport.sendMail({
        ...checked,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      return {
        messageId: info.messageId,
        accepted: [...info.accepted],
        rejected: [...info.rejected],
        response: info.response,
      };
    } catch (error) {
      throw toSmtpError(error, this.where);
    }
  }

  /** Closes pooled connections; later sends are refused. */
  close(): Promise<void> {
    this.#closed = true;
    this.#transport.close();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** One TCP connection to the vetted address; nodemailer does TLS and SMTP over it. */
  async #openSocket(): Promise<Socket> {
    const { host, port, encryption, where } = this.#target;
    const vetted = await this.#options.egress?.checkConnect("smtp", host, port);
    if (this.#options.auth !== undefined && encryption === "none") {
      warnInsecureUse(`SMTP sender to ${where}: username and password over an unencrypted connection`, this.#options.onPolicyWarning);
    }
    return dial({ host: vetted?.address ?? host, port, timeoutMs: this.#options.connectTimeoutMs ?? 10_000, where });
  }
}

function resolveTarget(options: SmtpSenderOptions): ResolvedSender {
  const host = options.host.trim();
  const encryption = options.encryption ?? "tls";
  const port = options.port ?? DEFAULT_SMTP_PORTS[encryption];
  if (host === "" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SmtpError("ERR_SMTP_INVALID_OPTIONS", "an SMTP sender needs a host and a port from 1 to 65535", { details: { port } });
  }
  if (options.auth !== undefined && (options.auth.user === "" || options.auth.pass === "")) {
    throw new SmtpError("ERR_SMTP_INVALID_OPTIONS", "SMTP authentication needs a username and a password; one of them is empty");
  }
  const shown = host.includes(":") ? `[${host}]` : host;
  return { host, port, encryption, where: `${shown}:${port} (${encryption})` };
}

function dial(target: { host: string; port: number; timeoutMs: number; where: string }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SmtpError("ERR_SMTP_TIMEOUT", `could not connect to ${target.where} within ${target.timeoutMs} ms`));
    }, target.timeoutMs);
    timer.unref();
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new SmtpError("ERR_SMTP_CONNECT_FAILED", `could not connect to ${target.where}: ${error.message}`, { cause: error }));
    });
  });
}

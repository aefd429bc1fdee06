import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { createClientTlsOptions, parseTlsProperties, type CertsOptions, type TlsPropertiesInput } from "@node-mirth/certs";
import type { EgressPolicy } from "@node-mirth/core";
import { parseHl7 } from "@node-mirth/hl7";
import { MllpError, type MllpErrorCode } from "./errors.js";
import { encodeFrame, FrameDecoder, resolveFraming, type FramingOptions, type ResolvedFraming } from "./frame-decoder.js";
import { silentLog, transportName, type MllpLog, type MllpTransport } from "./transport.js";

export interface MllpSenderOptions {
  host: string;
  port: number;
  framing?: FramingOptions;
  /** TLS properties from @node-mirth/certs; TLS is on when `enabled` is true. */
  tls?: TlsPropertiesInput;
  certs?: CertsOptions;
  /** Checked at every connect; the sender connects to the vetted address, never re-resolving. */
  egress?: EgressPolicy;
  /** Keep one connection open across messages (default); false opens one per message. */
  keepConnectionOpen?: boolean;
  /** TCP connect plus TLS handshake; default 10 s. */
  connectTimeoutMs?: number;
  /** Waiting for the complete response; default 30 s. */
  responseTimeoutMs?: number;
  /** Close a kept-open connection after this long unused; 0 (default) keeps it. */
  idleCloseMs?: number;
  keepAliveInitialDelayMs?: number;
  /** Wait for a response at all; default true. False: a written message counts as sent. */
  awaitResponse?: boolean;
  /**
   * Read the response as an HL7 ACK (default true): AA/CA accepted, AE/CE error, AR/CR
   * rejected, anything else ERR_MLLP_INVALID_RESPONSE. False: any response is accepted as is.
   */
  validateAck?: boolean;
  /** With validateAck: MSA-2 must equal the MSH-10 sent; default true. */
  checkControlId?: boolean;
  /** How string messages become bytes; default utf8. */
  encoding?: BufferEncoding;
  /** RAW mode: the response ends after this long without bytes; default 500 ms. */
  rawIdleGapMs?: number;
  log?: MllpLog;
}

export interface MllpSendOptions {
  /** Gives up the send (connect or wait) with ERR_MLLP_SENDER_CLOSED. */
  signal?: AbortSignal;
  /** Overrides the sender's validateAck for this message (say, content that is not HL7). */
  validateAck?: boolean;
}

/** What the receiver said. Transport and protocol failures throw MllpError instead. */
export interface MllpSendResult {
  /** accepted = AA/CA (or any response without validateAck), error = AE/CE, rejected = AR/CR. */
  outcome: "accepted" | "error" | "rejected";
  /** MSA-1 when the response was read as an ACK. */
  ackCode?: string;
  /** MSA-3 text, if any; may be shown to operators. */
  ackText?: string;
  /** The response bytes without framing; undefined when awaitResponse is false. */
  response?: Buffer;
}

interface Waiter {
  resolve: (frame: Buffer) => void;
  reject: (error: Error) => void;
}

interface Link {
  socket: Socket;
  decoder: FrameDecoder;
  waiter: Waiter | undefined;
  closedError: MllpError | undefined;
  rawTimer: NodeJS.Timeout | undefined;
}

const ACK_OUTCOMES: Record<string, MllpSendResult["outcome"]> = {
  AA: "accepted",
  CA: "accepted",
  AE: "error",
  CE: "error",
  AR: "rejected",
  CR: "rejected",
};

/**
 * Sends messages over one MLLP (or RAW/FRAME) connection, TCP or TLS, one at a time: a
 * message is written only after the previous response, so responses cannot be mixed up.
 * Reconnects as needed; retrying a failed message is the caller's (the engine's) job.
 */
export class MllpSender {
  readonly framing: ResolvedFraming;
  readonly transport: MllpTransport;
  readonly #options: MllpSenderOptions;
  readonly #log: MllpLog;
  readonly #tlsEnabled: boolean;
  #tlsOptions: ConnectionOptions | undefined;
  #link: Link | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  readonly #closing = new AbortController();

  constructor(options: MllpSenderOptions) {
    if (typeof options.host !== "string" || options.host.trim() === "") {
      throw new MllpError("ERR_MLLP_INVALID_OPTIONS", "the sender needs a host");
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new MllpError("ERR_MLLP_INVALID_OPTIONS", `port must be 1-65535, not ${String(options.port)}`);
    }
    this.#options = options;
    this.framing = resolveFraming(options.framing);
    this.#tlsEnabled = options.tls === undefined ? false : parseTlsProperties(options.tls).enabled;
    this.transport = transportName(this.framing.mode, this.#tlsEnabled);
    this.#log = options.log ?? silentLog;
    // Read key material now, so a bad trust store or client key fails here, not at the first send.
    if (this.#tlsEnabled) this.#tlsOptions = createClientTlsOptions(options.tls ?? {}, options.certs);
  }

  /**
   * Re-reads the trust store and client certificate from disk for the next connection (the
   * open one keeps its session). A bad new file throws and leaves the old material in use.
   */
  reloadTls(): void {
    if (this.#tlsEnabled) this.#tlsOptions = createClientTlsOptions(this.#options.tls ?? {}, this.#options.certs);
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.#link !== undefined && !this.#link.socket.destroyed;
  }

  /**
   * Sends one message and waits for its response. Messages given while one is in flight wait
   * their turn. Throws MllpError for connect, timeout, closed, invalid-response and
   * control-id failures (the connection is then dropped, so a late answer cannot be
   * mistaken for the next one's).
   */
  send(message: Buffer | string, options: MllpSendOptions = {}): Promise<MllpSendResult> {
    const run = this.#tail.then(() => this.#send(message, options));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Closes the connection; messages still waiting fail with ERR_MLLP_SENDER_CLOSED. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort(new MllpError("ERR_MLLP_SENDER_CLOSED", "the sender was stopped"));
    clearTimeout(this.#idleTimer);
    this.#drop(new MllpError("ERR_MLLP_SENDER_CLOSED", "the sender was stopped"));
    await this.#tail;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #send(message: Buffer | string, options: MllpSendOptions): Promise<MllpSendResult> {
    if (this.#closed) throw new MllpError("ERR_MLLP_SENDER_CLOSED", "the sender is stopped");
    // close() gives up a connect or a wait in flight at once instead of after its timeout.
    const signal = options.signal === undefined ? this.#closing.signal : AbortSignal.any([options.signal, this.#closing.signal]);
    if (signal.aborted) throw new MllpError("ERR_MLLP_SENDER_CLOSED", "sending was aborted", { cause: signal.reason });
    clearTimeout(this.#idleTimer);
    const payload = typeof message === "string" ? Buffer.from(message, this.#options.encoding ?? "utf8") : message;
    const validateAck = options.validateAck ?? this.#options.validateAck ?? true;
    const controlId = validateAck && (this.#options.checkControlId ?? true) ? readControlId(payload) : undefined;
    const link = this.#link !== undefined && !this.#link.socket.destroyed ? this.#link : await this.#connect(signal);
    if (this.#closed) {
      this.#drop(undefined);
      throw new MllpError("ERR_MLLP_SENDER_CLOSED", "the sender was stopped while connecting");
    }
    try {
      const awaitResponse = this.#options.awaitResponse ?? true;
      const response = awaitResponse ? this.#waitForResponse(link, signal) : undefined;
      const written = new Promise<void>((resolve, reject) =>
        link.socket.write(encodeFrame(payload, this.framing), (error) =>
          error ? reject(new MllpError("ERR_MLLP_CONNECTION_CLOSED", `writing to ${this.#options.host}:${this.#options.port} failed: ${error.message}`, { cause: error })) : resolve(),
        ),
      );
      if (response === undefined) {
        await written;
        return { outcome: "accepted" };
      }
      // A failed write also closes the socket, which rejects the response with the reason.
      written.catch(() => {});
      const frame = await response;
      return validateAck ? this.#readAck(frame, controlId) : { outcome: "accepted", response: frame };
    } catch (error) {
      this.#drop(undefined);
      throw error;
    } finally {
      if (!(this.#options.keepConnectionOpen ?? true)) this.#drop(undefined);
      else this.#armIdleClose();
    }
  }

  #readAck(frame: Buffer, controlId: string | undefined): MllpSendResult {
    let code: string | undefined;
    let ackControlId: string | undefined;
    let text: string | undefined;
    try {
      const ack = parseHl7(frame);
      code = ack.get("MSA.1")?.trim().toUpperCase();
      ackControlId = ack.get("MSA.2");
      text = ack.get("MSA.3");
    } catch (error) {
      throw new MllpError("ERR_MLLP_INVALID_RESPONSE", `the response (${frame.length} bytes) is not an HL7 v2 message`, {
        cause: error,
        details: { responseBytes: frame.length },
      });
    }
    const outcome = code === undefined ? undefined : ACK_OUTCOMES[code];
    if (outcome === undefined) {
      throw new MllpError("ERR_MLLP_INVALID_RESPONSE", `the response is HL7 but not an acknowledgement: MSA-1 is ${code === undefined || code === "" ? "missing" : `"${code}"`}`, {
        details: { responseBytes: frame.length },
      });
    }
    if (controlId !== undefined && ackControlId !== controlId) {
      throw new MllpError(
        "ERR_MLLP_CONTROL_ID_MISMATCH",
        `the acknowledgement's MSA-2 "${ackControlId ?? ""}" does not match the MSH-10 "${controlId}" sent; the connection was dropped`,
        { details: { expected: controlId, received: ackControlId ?? "" } },
      );
    }
    return { outcome, ackCode: code!, ...(text === undefined || text === "" ? {} : { ackText: text }), response: frame };
  }

  async #connect(signal: AbortSignal): Promise<Link> {
    this.#drop(undefined);
    const { host, port } = this.#options;
    let address = host;
    if (this.#options.egress !== undefined) {
      address = (await this.#options.egress.checkConnect("mllp", host, port)).address;
    }
    const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    const where = `${host}:${port}${address === host ? "" : ` (${address})`}`;
    const socket = this.#tlsEnabled ? tlsConnect(this.#clientTlsOptions(address)) : netConnect({ host: address, port });
    const link: Link = { socket, decoder: new FrameDecoder(this.framing), waiter: undefined, closedError: undefined, rawTimer: undefined };
    await new Promise<void>((resolve, reject) => {
      const fail = (code: MllpErrorCode, text: string, cause?: unknown) => {
        cleanup();
        socket.destroy();
        reject(new MllpError(code, text, { cause, details: { host, port, address } }));
      };
      const timer = setTimeout(() => fail("ERR_MLLP_CONNECT_TIMEOUT", `could not connect to ${where} within ${timeoutMs} ms`), timeoutMs);
      const onAbort = () => fail("ERR_MLLP_SENDER_CLOSED", `connecting to ${where} was aborted`, signal.reason);
      const onError = (error: Error & { code?: string }) =>
        fail("ERR_MLLP_CONNECT_FAILED", `could not connect to ${where}${this.#tlsEnabled ? " over TLS" : ""}: ${error.code ?? ""} ${error.message}`.trim(), error);
      const onReady = () => {
        cleanup();
        resolve();
      };
      const cleanup = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        socket.off("error", onError);
        socket.off(this.#tlsEnabled ? "secureConnect" : "connect", onReady);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("error", onError);
      socket.once(this.#tlsEnabled ? "secureConnect" : "connect", onReady);
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.#options.keepAliveInitialDelayMs ?? 30_000);
    socket.on("data", (chunk: Buffer) => this.#onData(link, chunk));
    socket.on("error", (error: Error) => {
      link.closedError = new MllpError("ERR_MLLP_CONNECTION_CLOSED", `the connection to ${where} failed: ${error.message}`, { cause: error });
    });
    socket.on("end", () => {
      if (this.framing.mode === "RAW") this.#deliverRaw(link);
    });
    socket.on("close", () => {
      clearTimeout(link.rawTimer);
      const error = link.closedError ?? new MllpError("ERR_MLLP_CONNECTION_CLOSED", `${where} closed the connection before a complete response arrived`);
      link.waiter?.reject(error);
      link.waiter = undefined;
      if (this.#link === link) this.#link = undefined;
    });
    this.#link = link;
    this.#log("debug", `connected to ${where} (${this.transport})`);
    return link;
  }

  #clientTlsOptions(address: string): ConnectionOptions {
    const tlsOptions = this.#tlsOptions!;
    const host = this.#options.host;
    // Connect to the vetted address; SNI and the certificate check use the configured name.
    const servername = tlsOptions.servername ?? (isIP(host) === 0 ? host : undefined);
    return {
      ...tlsOptions,
      host: address,
      port: this.#options.port,
      ...(servername === undefined ? {} : { servername }),
      checkServerIdentity: (_hostname, cert) => tlsOptions.checkServerIdentity!(servername ?? host, cert),
    };
  }

  #waitForResponse(link: Link, signal: AbortSignal): Promise<Buffer> {
    const timeoutMs = this.#options.responseTimeoutMs ?? 30_000;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        finish();
        reject(new MllpError("ERR_MLLP_RESPONSE_TIMEOUT", `no complete response from ${this.#options.host}:${this.#options.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onAbort = () => {
        finish();
        reject(new MllpError("ERR_MLLP_SENDER_CLOSED", "sending was aborted", { cause: signal.reason }));
      };
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        link.waiter = undefined;
      };
      signal.addEventListener("abort", onAbort, { once: true });
      link.waiter = {
        resolve: (frame) => {
          finish();
          resolve(frame);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      };
    });
  }

  #onData(link: Link, chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = link.decoder.push(chunk);
    } catch (error) {
      link.closedError = error as MllpError;
      link.socket.destroy();
      return;
    }
    if (this.framing.mode === "RAW") {
      clearTimeout(link.rawTimer);
      link.rawTimer = setTimeout(() => this.#deliverRaw(link), this.#options.rawIdleGapMs ?? 500);
      return;
    }
    for (const frame of frames) {
      if (link.waiter === undefined) {
        this.#log("warn", `an unexpected frame (${frame.length} bytes) from ${this.#options.host}:${this.#options.port} arrived with no message waiting; discarded`);
        continue;
      }
      link.waiter.resolve(frame);
    }
  }

  #deliverRaw(link: Link): void {
    clearTimeout(link.rawTimer);
    const { frame } = link.decoder.flush();
    if (frame !== undefined) link.waiter?.resolve(frame);
  }

  #armIdleClose(): void {
    const idleCloseMs = this.#options.idleCloseMs ?? 0;
    if (idleCloseMs <= 0 || this.#link === undefined) return;
    this.#idleTimer = setTimeout(() => this.#drop(undefined), idleCloseMs);
    this.#idleTimer.unref();
  }

  #drop(error: MllpError | undefined): void {
    const link = this.#link;
    this.#link = undefined;
    if (link === undefined) return;
    if (error !== undefined) link.closedError = error;
    link.socket.destroy();
  }
}

/** MSH-10 of an outgoing HL7 message; undefined for content that is not HL7 (nothing to match). */
function readControlId(payload: Buffer): string | undefined {
  try {
    const id = parseHl7(payload).controlId;
    return id === undefined || id === "" ? undefined : id;
  } catch {
    return undefined;
  }
}

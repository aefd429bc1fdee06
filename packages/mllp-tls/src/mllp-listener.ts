import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from "node:tls";
import { createServerTlsOptions, parseTlsProperties, type CertsOptions, type TlsPropertiesInput } from "@node-mirth/certs";
import { assertBindAllowed } from "@node-mirth/core";
import { MllpError } from "./errors.js";
import { encodeFrame, FrameDecoder, resolveFraming, type FramingOptions, type ResolvedFraming } from "./frame-decoder.js";
import { silentLog, transportName, type MllpLog, type MllpTransport } from "./transport.js";

/** Facts about the connection a message came from; what Mirth puts in the source map. */
export interface MllpMessageInfo {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  transport: MllpTransport;
  /** 1-based number of the connection since the listener started. */
  connectionId: number;
  /** Subject CN of the verified client certificate (mTLS). */
  peerCertificateSubject?: string;
}

/**
 * Handles one message and resolves with the answer to send back (an ACK), or undefined /
 * empty for none. Messages of one connection are handed over strictly one after another. A
 * throw answers nothing and closes that connection, so the peer sends the message again.
 */
export type MllpMessageHandler = (message: Buffer, info: MllpMessageInfo) => Promise<Buffer | string | undefined>;

export interface MllpListenerOptions {
  onMessage: MllpMessageHandler;
  /** Default 127.0.0.1. Anything but loopback needs TLS (or allowInsecureBind). */
  host?: string;
  /** Default 0: an ephemeral port; read it from `address()` after start. */
  port?: number;
  framing?: FramingOptions;
  /** TLS properties from @node-mirth/certs; TLS is on when `enabled` is true. */
  tls?: TlsPropertiesInput;
  /** Options for reading key material (insecure-TLS escape, warnings). */
  certs?: CertsOptions;
  /** Development only: lets a non-loopback bind go without TLS, with a loud warning. */
  allowInsecureBind?: boolean;
  /** Open connections across all peers; default 100. */
  maxConnections?: number;
  /** Open connections from one remote address; default 20. */
  maxConnectionsPerAddress?: number;
  /** A started frame must be complete within this long, however slowly it trickles; default 30 s, 0 = off. */
  readTimeoutMs?: number;
  /** Close a connection that sends nothing for this long; 0 (default) keeps idle peers. */
  idleTimeoutMs?: number;
  /** RAW mode: a message ends after this long without bytes (or when the peer closes); default 1 s. */
  rawIdleGapMs?: number;
  /** TCP keep-alive probe delay, to notice half-open peers; default 30 s. */
  keepAliveInitialDelayMs?: number;
  /** A TLS handshake must finish within this long; default 10 s. */
  handshakeTimeoutMs?: number;
  /** stop(): how long in-flight messages may take before sockets are destroyed; default 10 s. */
  stopTimeoutMs?: number;
  /** Frames decoded but not yet handled, per connection, before reading pauses; default 32. */
  maxQueuedFrames?: number;
  /** How string answers become bytes; default utf8. */
  encoding?: BufferEncoding;
  /** Names this listener in logs and bind errors; default "MLLP listener". */
  name?: string;
  log?: MllpLog;
}

interface Connection {
  id: number;
  socket: Socket;
  remoteAddress: string;
  decoder: FrameDecoder;
  queue: Buffer[];
  busy: boolean;
  /** Set when stop() began or the connection is closing: no new frame is handled. */
  closing: boolean;
  /** The peer sent FIN: answer what was read, then end our side. */
  ended: boolean;
  readTimer: NodeJS.Timeout | undefined;
  rawTimer: NodeJS.Timeout | undefined;
  info: MllpMessageInfo | undefined;
  idle: Set<() => void>;
}

const DEFAULTS = {
  maxConnections: 100,
  maxConnectionsPerAddress: 20,
  readTimeoutMs: 30_000,
  idleTimeoutMs: 0,
  rawIdleGapMs: 1_000,
  keepAliveInitialDelayMs: 30_000,
  handshakeTimeoutMs: 10_000,
  stopTimeoutMs: 10_000,
  maxQueuedFrames: 32,
};

/**
 * An MLLP (or RAW/FRAME) listener over TCP or TLS, usable without the engine: give it an
 * `onMessage` handler that returns the ACK. Binds 127.0.0.1 by default; key material is
 * read from disk at every start, so stop/start rotates certificates.
 */
export class MllpListener {
  readonly framing: ResolvedFraming;
  readonly transport: MllpTransport;
  readonly #options: MllpListenerOptions & typeof DEFAULTS;
  readonly #log: MllpLog;
  readonly #tlsEnabled: boolean;
  #server: Server | TlsServer | undefined;
  /** Raw TCP sockets (TLS ones included), counted from the moment they connect. */
  readonly #sockets = new Set<Socket>();
  readonly #perAddress = new Map<string, number>();
  readonly #connections = new Set<Connection>();
  #connectionCount = 0;
  #stopping: Promise<void> | undefined;

  constructor(options: MllpListenerOptions) {
    this.#options = { ...DEFAULTS, ...withoutUndefined(options) } as MllpListenerOptions & typeof DEFAULTS;
    for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const value = this.#options[key];
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new MllpError("ERR_MLLP_INVALID_OPTIONS", `${key} must be a non-negative integer, not ${String(value)}.`);
      }
    }
    this.framing = resolveFraming(options.framing);
    this.#tlsEnabled = options.tls === undefined ? false : parseTlsProperties(options.tls).enabled;
    this.transport = transportName(this.framing.mode, this.#tlsEnabled);
    this.#log = options.log ?? silentLog;
  }

  get listening(): boolean {
    return this.#server?.listening ?? false;
  }

  /** Open connections right now. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** The bound address; throws before start. */
  address(): AddressInfo {
    const address = this.#server?.address();
    if (address === null || address === undefined || typeof address === "string") {
      throw new MllpError("ERR_MLLP_INVALID_OPTIONS", "the listener is not started");
    }
    return address;
  }

  /** Checks the bind, reads key material, and listens. Throws (nothing bound) on any problem. */
  async start(): Promise<AddressInfo> {
    if (this.#server !== undefined) throw new MllpError("ERR_MLLP_INVALID_OPTIONS", "the listener is already started");
    const host = this.#options.host ?? "127.0.0.1";
    const name = this.#options.name ?? "MLLP listener";
    assertBindAllowed({
      host,
      kind: name,
      tls: this.#tlsEnabled,
      allowInsecureBind: this.#options.allowInsecureBind ?? false,
      onWarning: (warning) => this.#log("warn", `${warning.code}: ${warning.message}`),
    });
    const server = this.#tlsEnabled ? this.#createTlsServer() : createNetServer({ allowHalfOpen: true });
    server.on("connection", (socket: Socket) => this.#admit(socket));
    if (!this.#tlsEnabled) server.on("connection", (socket: Socket) => this.#serve(socket));
    this.#stopping = undefined;
    this.#server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host, port: this.#options.port ?? 0 }, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      this.#server = undefined;
      throw error;
    }
    server.on("error", (error: Error) => this.#log("error", `${name}: server error: ${error.message}`));
    const address = this.address();
    this.#log("info", `${name} listening on ${address.address}:${address.port} (${this.transport})`);
    return address;
  }

  /**
   * Re-reads key material and applies it to new handshakes without dropping connections
   * (TLS only). A bad new certificate throws and leaves the old one in use.
   */
  reloadTls(): void {
    if (this.#server === undefined || !this.#tlsEnabled) return;
    const options = createServerTlsOptions(this.#options.tls ?? {}, this.#options.certs);
    (this.#server as TlsServer).setSecureContext(options);
  }

  /**
   * Stops accepting, lets the message in flight on each connection finish (and its answer
   * go out) until stopTimeoutMs, then destroys every socket. Always finishes. Frames read
   * but not yet handled are not answered, so their senders send them again.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const connection of this.#connections) {
      connection.closing = true;
      connection.queue.length = 0;
      connection.socket.pause();
    }
    const inFlight = [...this.#connections].filter((c) => c.busy).map((c) => new Promise<void>((resolve) => c.idle.add(resolve)));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#options.stopTimeoutMs);
      timer.unref();
    });
    await Promise.race([Promise.all(inFlight), deadline]);
    clearTimeout(timer);
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    this.#server = undefined;
    this.#log("info", `${this.#options.name ?? "MLLP listener"} stopped`);
  }

  #createTlsServer(): TlsServer {
    const tlsOptions = createServerTlsOptions(this.#options.tls ?? {}, this.#options.certs);
    const server = createTlsServer({ ...tlsOptions, allowHalfOpen: true, handshakeTimeout: this.#options.handshakeTimeoutMs });
    server.on("secureConnection", (socket: TLSSocket) => this.#serve(socket));
    server.on("tlsClientError", (error: Error & { code?: string }, socket: TLSSocket) => {
      this.#log(
        "warn",
        `TLS handshake from ${remoteOf(socket)} refused: ${error.code ?? ""} ${error.message}`.trim(),
      );
    });
    return server;
  }

  /** Counts every TCP connection against the caps before any TLS or MLLP work. */
  #admit(socket: Socket): void {
    const address = socket.remoteAddress ?? "unknown";
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (this.#stopping !== undefined || this.#sockets.size >= this.#options.maxConnections || fromAddress >= this.#options.maxConnectionsPerAddress) {
      const which = this.#sockets.size >= this.#options.maxConnections ? `the listener's cap of ${this.#options.maxConnections}` : `the cap of ${this.#options.maxConnectionsPerAddress} per address`;
      if (this.#stopping === undefined) {
        this.#log("warn", `ERR_MLLP_CONNECTION_LIMIT: connection from ${address} refused: ${which} is reached`);
      }
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    this.#perAddress.set(address, fromAddress + 1);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.#options.keepAliveInitialDelayMs);
    socket.once("close", () => {
      this.#sockets.delete(socket);
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left === 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, left);
    });
    socket.on("error", () => {
      // Reported where it matters (handshake, read); a reset peer needs no stack trace.
    });
  }

  #serve(socket: Socket): void {
    if (socket.destroyed) return;
    const tlsSocket = this.#tlsEnabled ? (socket as TLSSocket) : undefined;
    const subject = tlsSocket?.getPeerCertificate().subject?.CN;
    const connection: Connection = {
      id: ++this.#connectionCount,
      socket,
      remoteAddress: socket.remoteAddress ?? "unknown",
      decoder: new FrameDecoder(this.framing),
      queue: [],
      busy: false,
      closing: this.#stopping !== undefined,
      ended: false,
      readTimer: undefined,
      rawTimer: undefined,
      info: undefined,
      idle: new Set(),
    };
    connection.info = {
      remoteAddress: connection.remoteAddress,
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? "",
      localPort: socket.localPort ?? 0,
      transport: this.transport,
      connectionId: connection.id,
      ...(typeof subject === "string" ? { peerCertificateSubject: subject } : {}),
    };
    this.#connections.add(connection);
    if (this.#options.idleTimeoutMs > 0) {
      socket.setTimeout(this.#options.idleTimeoutMs, () => {
        this.#log("warn", `ERR_MLLP_IDLE_TIMEOUT: connection ${connection.id} from ${connection.remoteAddress} sent nothing for ${this.#options.idleTimeoutMs} ms; closed`);
        this.#close(connection);
      });
    }
    socket.on("data", (chunk: Buffer) => this.#onData(connection, chunk));
    socket.on("end", () => this.#onEnd(connection));
    socket.once("close", () => {
      this.#clearTimers(connection);
      this.#connections.delete(connection);
      connection.closing = true;
      if (!connection.busy) for (const resolve of connection.idle) resolve();
    });
  }

  #onData(connection: Connection, chunk: Buffer): void {
    if (connection.closing) return;
    let frames: Buffer[];
    const discardedBefore = connection.decoder.discardedBytes;
    try {
      frames = connection.decoder.push(chunk);
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      this.#log("warn", `${code}: connection ${connection.id} from ${connection.remoteAddress}: ${(error as Error).message}`);
      this.#close(connection);
      return;
    }
    const discarded = connection.decoder.discardedBytes - discardedBefore;
    if (discarded > 0) {
      this.#log("warn", `connection ${connection.id} from ${connection.remoteAddress}: ${discarded} bytes before a start block discarded`);
    }
    this.#armTimers(connection);
    if (frames.length > 0) this.#enqueue(connection, frames);
  }

  #onEnd(connection: Connection): void {
    const { frame, droppedBytes } = connection.decoder.flush();
    if (droppedBytes > 0) {
      this.#log("warn", `connection ${connection.id} from ${connection.remoteAddress} closed in the middle of a frame; ${droppedBytes} bytes dropped`);
    }
    this.#clearTimers(connection);
    connection.ended = true;
    // The server is half-open so the answers still due go out before our side ends.
    if (frame !== undefined && !connection.closing) this.#enqueue(connection, [frame]);
    else if (!connection.busy) connection.socket.end();
  }

  #armTimers(connection: Connection): void {
    const decoder = connection.decoder;
    if (this.framing.mode === "RAW") {
      clearTimeout(connection.rawTimer);
      if (decoder.bufferedBytes > 0) {
        connection.rawTimer = setTimeout(() => {
          const { frame } = decoder.flush();
          if (frame !== undefined && !connection.closing) this.#enqueue(connection, [frame]);
        }, this.#options.rawIdleGapMs);
      }
    }
    if (decoder.inFrame && this.framing.mode !== "RAW" && this.#options.readTimeoutMs > 0) {
      // Started now, or still running from the frame's first byte: a trickle cannot extend it.
      connection.readTimer ??= setTimeout(() => {
        this.#log("warn", `ERR_MLLP_IDLE_TIMEOUT: connection ${connection.id} from ${connection.remoteAddress} did not finish a frame within ${this.#options.readTimeoutMs} ms; closed`);
        this.#close(connection);
      }, this.#options.readTimeoutMs);
    } else if (connection.readTimer !== undefined) {
      clearTimeout(connection.readTimer);
      connection.readTimer = undefined;
    }
  }

  #clearTimers(connection: Connection): void {
    clearTimeout(connection.readTimer);
    clearTimeout(connection.rawTimer);
    connection.readTimer = undefined;
    connection.rawTimer = undefined;
  }

  #enqueue(connection: Connection, frames: Buffer[]): void {
    connection.queue.push(...frames);
    if (connection.queue.length >= this.#options.maxQueuedFrames) connection.socket.pause();
    if (!connection.busy) void this.#drain(connection);
  }

  /** Handles queued frames one at a time, so answers leave in the order messages came. */
  async #drain(connection: Connection): Promise<void> {
    connection.busy = true;
    try {
      while (!connection.closing) {
        const frame = connection.queue.shift();
        if (frame === undefined) break;
        if (connection.socket.isPaused() && connection.queue.length < this.#options.maxQueuedFrames / 2 && this.#stopping === undefined) {
          connection.socket.resume();
        }
        let answer: Buffer | string | undefined;
        try {
          answer = await this.#options.onMessage(frame, connection.info!);
        } catch (error) {
          this.#log("error", `ERR_MLLP_HANDLER_FAILED: connection ${connection.id} from ${connection.remoteAddress}: the message handler failed (${(error as Error).message}); connection closed unanswered so the sender retries`);
          this.#close(connection);
          break;
        }
        if (answer !== undefined && answer.length > 0 && !connection.socket.destroyed) {
          const bytes = encodeFrame(answer, this.framing, this.#options.encoding ?? "utf8");
          if (!connection.socket.write(bytes)) await waitForDrain(connection.socket);
        }
      }
    } finally {
      connection.busy = false;
      if (connection.ended && connection.queue.length === 0) connection.socket.end();
      for (const resolve of connection.idle) resolve();
      connection.idle.clear();
    }
  }

  #close(connection: Connection): void {
    connection.closing = true;
    connection.queue.length = 0;
    this.#clearTimers(connection);
    connection.socket.destroy();
  }
}

/**
 * A failed handshake may have destroyed the TLS socket already; the TCP socket under it
 * (Node's `_parent`) keeps the peer address read when the connection was admitted.
 */
function remoteOf(socket: TLSSocket): string {
  const parent = (socket as TLSSocket & { _parent?: Socket })._parent;
  return socket.remoteAddress ?? parent?.remoteAddress ?? "unknown";
}

function waitForDrain(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

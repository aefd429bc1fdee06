import { once } from "node:events";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from "node:tls";
import { assertBindAllowed } from "@node-mirth/core";
import { DicomError } from "./errors.js";
import { DicomStatus } from "./dicom-status.js";
import {
  Dataset,
  Implementation,
  Scp,
  VERIFICATION_SOP_CLASS,
  responses,
  type DimseAssociation,
  type DimseCEchoRequest,
  type DimseCEchoResponse,
  type DimseCStoreRequest,
  type DimseCStoreResponse,
  type DimseDataset,
  type DimsePresentationContext,
} from "./dimse.js";
import { InstanceSpool, type SpooledInstance } from "./instance-spool.js";
import { PduLengthGuard } from "./pdu-length-guard.js";
import { writePart10Meta } from "./part10.js";
import { DEFAULT_STORAGE_SOP_CLASSES, DEFAULT_TRANSFER_SYNTAXES } from "./storage-defaults.js";

export type DicomLogLevel = "debug" | "info" | "warn" | "error";

/** One stored instance as the listener hands it over: a synced Part-10 file. */
export interface ReceivedInstance extends SpooledInstance {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  callingAeTitle: string;
  calledAeTitle: string;
  remoteAddress: string;
}

/** The C-STORE status to answer, after the instance is safe (or not). */
export interface InstanceVerdict {
  status: number;
  comment?: string;
}

export interface DicomListenerOptions {
  /** Our AE title; associations calling another one are rejected. */
  aeTitle: string;
  host?: string;
  port: number;
  /** Calling AE titles allowed to associate; empty = any. */
  allowedCallingAeTitles?: readonly string[];
  acceptedSopClasses?: readonly string[];
  acceptedTransferSyntaxes?: readonly string[];
  /** Largest P-DATA PDU we advertise and accept. */
  maxPduLength?: number;
  maxAssociations?: number;
  /** From connect to a complete A-ASSOCIATE-RQ. */
  associationTimeoutMs?: number;
  /** Silence on an open association before it is closed. */
  idleTimeoutMs?: number;
  maxInstanceBytes?: number;
  /** Where incoming instances are streamed; created if missing. */
  spoolDirectory: string;
  /** Server TLS options (createDicomServerTls); undefined = notls. */
  tls?: TlsOptions;
  allowInsecureBind?: boolean;
  stopTimeoutMs?: number;
  /** Takes ownership of the file; resolves with the status to answer once the instance is safe. */
  onInstance(instance: ReceivedInstance): Promise<InstanceVerdict>;
  log?: (level: DicomLogLevel, text: string) => void;
}

/** A-ASSOCIATE-RJ fields (PS3.8 9.3.4). */
const Reject = {
  Permanent: 1,
  Transient: 2,
  ServiceUser: 1,
  ServiceProviderPresentation: 3,
  CallingAeNotRecognized: 3,
  CalledAeNotRecognized: 7,
  LocalLimitExceeded: 2,
} as const;
/** Presentation context results (PS3.8 9.3.3.2). */
const ContextResult = { Accept: 0, AbstractSyntaxNotSupported: 3, TransferSyntaxesNotSupported: 4 } as const;

interface Hooks {
  options: Required<Omit<DicomListenerOptions, "tls" | "host" | "log" | "allowInsecureBind">>;
  remoteAddress: string;
  log: (level: DicomLogLevel, text: string) => void;
  activeAssociations(): number;
  track(work: Promise<unknown>): void;
}

/**
 * One association on the listener. dcmjs-dimse's Scp with our policy and the fixes we need:
 * AE title and association limits, the PDU length guard, streaming C-STOREs to disk, the
 * association timeout (the library never starts its clock on accepted sockets), and the
 * C-STORE answered only after `onInstance` says the instance is safe.
 */
class ListenerScp extends Scp {
  readonly #hooks: Hooks;
  readonly #spools = new WeakMap<DimseCStoreRequest, InstanceSpool>();
  associated = false;

  constructor(socket: Socket, hooks: Hooks) {
    super(socket, {
      // The library's "connect" timeout is the socket's idle timeout on accepted sockets.
      connectTimeout: hooks.options.idleTimeoutMs,
      associationTimeout: hooks.options.associationTimeoutMs,
      pduTimeout: hooks.options.idleTimeoutMs,
    });
    this.#hooks = hooks;
    const self = this as unknown as { connected: boolean; connectedTime: number };
    self.connected = true;
    self.connectedTime = Date.now();
  }

  override associationRequested(association: DimseAssociation): void {
    const { options } = this.#hooks;
    const calling = association.getCallingAeTitle().trim();
    const called = association.getCalledAeTitle().trim();
    const refuse = (why: string, fields: [number, number, number]) => {
      this.#hooks.log("warn", `association from ${calling}@${this.#hooks.remoteAddress} to ${called} rejected: ${why}`);
      this.sendAssociationReject(...fields);
    };
    if (called !== options.aeTitle) {
      refuse(`called AE title is not ${options.aeTitle}`, [Reject.Permanent, Reject.ServiceUser, Reject.CalledAeNotRecognized]);
      return;
    }
    if (options.allowedCallingAeTitles.length > 0 && !options.allowedCallingAeTitles.includes(calling)) {
      refuse("calling AE title is not in allowedCallingAeTitles", [Reject.Permanent, Reject.ServiceUser, Reject.CallingAeNotRecognized]);
      return;
    }
    if (this.#hooks.activeAssociations() >= options.maxAssociations) {
      refuse(`maxAssociations (${options.maxAssociations}) reached`, [Reject.Transient, Reject.ServiceProviderPresentation, Reject.LocalLimitExceeded]);
      return;
    }
    for (const { context } of association.getPresentationContexts()) negotiate(context, options);
    // The A-ASSOCIATE-AC carries our receive limit. The library would send the smaller of the
    // peer's limit and its global one, and 0 (unlimited) when the peer proposes 0.
    association.setMaxPduLength(options.maxPduLength);
    Implementation.setMaxPduLength(options.maxPduLength);
    this.associated = true;
    this.sendAssociationAccept();
  }

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }

  override cEchoRequest(request: DimseCEchoRequest, callback: (response: DimseCEchoResponse) => void): void {
    const response = responses.CEchoResponse.fromRequest(request);
    response.setStatus(DicomStatus.Success);
    callback(response);
  }

  override createStoreWritableStream(context: DimsePresentationContext, request: DimseCStoreRequest): InstanceSpool {
    const socket = (this as unknown as { socket: Socket }).socket;
    const association = (this as unknown as { association: DimseAssociation }).association;
    const spool = new InstanceSpool({
      directory: this.#hooks.options.spoolDirectory,
      header: writePart10Meta({
        sopClassUid: request.getAffectedSopClassUid(),
        sopInstanceUid: request.getAffectedSopInstanceUid(),
        transferSyntaxUid: context.getAcceptedTransferSyntaxUid() ?? "",
        implementationClassUid: Implementation.getImplementationClassUid(),
        implementationVersionName: "NODE_MIRTH",
        sourceAeTitle: association.getCallingAeTitle().trim(),
      }),
      maxBytes: this.#hooks.options.maxInstanceBytes,
      pressure: { pause: () => socket.pause(), resume: () => socket.resume() },
    });
    this.#spools.set(request, spool);
    return spool;
  }

  override createDatasetFromStoreWritableStream(_writable: unknown, context: DimsePresentationContext, callback: (dataset: DimseDataset) => void): void {
    // The dataset stays on disk; the request carries only its transfer syntax.
    callback(new Dataset({}, context.getAcceptedTransferSyntaxUid()));
  }

  override cStoreRequest(request: DimseCStoreRequest, callback: (response: DimseCStoreResponse) => void): void {
    const answer = (verdict: InstanceVerdict) => {
      const response = responses.CStoreResponse.fromRequest(request);
      response.setStatus(verdict.status);
      if (verdict.comment !== undefined && verdict.status !== DicomStatus.Success) response.setErrorComment(verdict.comment.slice(0, 64));
      callback(response);
    };
    const spool = this.#spools.get(request);
    if (spool === undefined) {
      answer({ status: DicomStatus.ProcessingFailure, comment: "dataset missing" });
      return;
    }
    this.#hooks.track(this.#whileBusy(() => this.#store(spool, request)).then(answer));
  }

  /**
   * The peer is silent while it waits for our C-STORE response; the engine may take longer
   * than idleTimeoutMs (an "after delivery" ACK policy waits for the PACS). The library's idle
   * timers would abort the association meanwhile, so they are held off until we answer.
   */
  async #whileBusy<T>(work: () => Promise<T>): Promise<T> {
    const self = this as unknown as { socket: Socket; lastPduTime: number | undefined };
    self.socket.setTimeout(0);
    const hold = setInterval(() => (self.lastPduTime = Date.now()), 500);
    try {
      return await work();
    } finally {
      clearInterval(hold);
      self.lastPduTime = Date.now();
      if (!self.socket.destroyed) self.socket.setTimeout(this.#hooks.options.idleTimeoutMs);
    }
  }

  override abort(): void {
    this.#hooks.log("info", `association from ${this.#hooks.remoteAddress} aborted by the peer`);
  }

  async #store(spool: InstanceSpool, request: DimseCStoreRequest): Promise<InstanceVerdict> {
    const association = (this as unknown as { association: DimseAssociation }).association;
    let spooled: SpooledInstance;
    try {
      spooled = await spool.result();
    } catch (error) {
      this.#hooks.log("error", `an instance from ${this.#hooks.remoteAddress} could not be written to the spool directory: ${(error as Error).message}`);
      return { status: DicomStatus.ProcessingFailure, comment: "spool write failed" };
    }
    if (spool.tooLarge) {
      await spool.discard();
      this.#hooks.log("warn", `ERR_DICOM_INSTANCE_TOO_LARGE: an instance from ${this.#hooks.remoteAddress} exceeded maxInstanceBytes (${this.#hooks.options.maxInstanceBytes}) and was refused`);
      return { status: DicomStatus.OutOfResources, comment: "instance exceeds maxInstanceBytes" };
    }
    try {
      return await this.#hooks.options.onInstance({
        ...spooled,
        sopClassUid: request.getAffectedSopClassUid(),
        sopInstanceUid: request.getAffectedSopInstanceUid(),
        transferSyntaxUid: request.getDataset()?.getTransferSyntaxUid() ?? "",
        callingAeTitle: association.getCallingAeTitle().trim(),
        calledAeTitle: association.getCalledAeTitle().trim(),
        remoteAddress: this.#hooks.remoteAddress,
      });
    } catch (error) {
      await spool.discard();
      this.#hooks.log("error", `an instance from ${this.#hooks.remoteAddress} was not taken: ${(error as Error).message}`);
      return { status: DicomStatus.ProcessingFailure, comment: "not stored; send again" };
    }
  }
}

function negotiate(context: DimsePresentationContext, options: Hooks["options"]): void {
  const abstract = context.getAbstractSyntaxUid();
  if (abstract !== VERIFICATION_SOP_CLASS && !options.acceptedSopClasses.includes(abstract)) {
    context.setResult(ContextResult.AbstractSyntaxNotSupported);
    return;
  }
  // The proposer's order is its preference; the dataset is stored as sent, so any syntax we list is fine.
  const chosen = context.getTransferSyntaxUids().find((uid) => options.acceptedTransferSyntaxes.includes(uid));
  if (chosen === undefined) context.setResult(ContextResult.TransferSyntaxesNotSupported);
  else context.setResult(ContextResult.Accept, chosen);
}

/**
 * DICOM C-ECHO / C-STORE SCP. Binds its own server (dcmjs-dimse's Server listens on every
 * interface with no way to choose), loopback by default, behind core's bind guard.
 */
export class DicomListener {
  readonly #options: DicomListenerOptions;
  readonly #hooksOptions: Hooks["options"];
  readonly #log: (level: DicomLogLevel, text: string) => void;
  readonly #associations = new Set<ListenerScp>();
  readonly #sockets = new Set<Socket>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #server: Server | undefined;

  constructor(options: DicomListenerOptions) {
    if (!/^[\x20-\x7e]{1,16}$/.test(options.aeTitle) || options.aeTitle.trim() !== options.aeTitle) {
      throw new DicomError("ERR_DICOM_INVALID_OPTIONS", "aeTitle must be 1 to 16 printable ASCII characters without leading or trailing spaces");
    }
    this.#options = options;
    this.#log = options.log ?? (() => {});
    this.#hooksOptions = {
      aeTitle: options.aeTitle,
      port: options.port,
      allowedCallingAeTitles: options.allowedCallingAeTitles ?? [],
      acceptedSopClasses: options.acceptedSopClasses ?? DEFAULT_STORAGE_SOP_CLASSES,
      acceptedTransferSyntaxes: options.acceptedTransferSyntaxes ?? DEFAULT_TRANSFER_SYNTAXES,
      maxPduLength: options.maxPduLength ?? 65_536,
      maxAssociations: options.maxAssociations ?? 10,
      associationTimeoutMs: options.associationTimeoutMs ?? 30_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      maxInstanceBytes: options.maxInstanceBytes ?? 4 * 1024 ** 3,
      spoolDirectory: options.spoolDirectory,
      stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      onInstance: (instance) => options.onInstance(instance),
    };
  }

  async start(): Promise<AddressInfo> {
    const host = this.#options.host ?? "127.0.0.1";
    assertBindAllowed({
      host,
      kind: `DICOM listener ${this.#options.aeTitle}`,
      tls: this.#options.tls !== undefined,
      ...(this.#options.allowInsecureBind === undefined ? {} : { allowInsecureBind: this.#options.allowInsecureBind }),
    });
    await mkdir(this.#options.spoolDirectory, { recursive: true, mode: 0o700 });
    await this.#sweepOrphans();
    const tls = this.#options.tls;
    const server =
      tls === undefined
        ? createTcpServer((socket) => this.#accept(socket))
        : createTlsServer(tls, (socket: TLSSocket) => this.#accept(socket));
    if (tls !== undefined) {
      server.on("tlsClientError", (error: Error, socket: TLSSocket) => {
        this.#log("warn", `TLS handshake from ${socket.remoteAddress ?? "?"} failed: ${error.message}`);
      });
    }
    server.listen({ host, port: this.#options.port });
    await once(server, "listening");
    this.#server = server;
    return server.address() as AddressInfo;
  }

  /** Stops accepting, lets C-STOREs in flight finish (up to stopTimeoutMs), then closes every association. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#inFlight]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#hooksOptions.stopTimeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Removes partial files a crash left behind. An `.incoming-` file untouched for longer than
   * idleTimeoutMs belongs to no live association (it would have timed out), so this is safe
   * even when another listener shares the directory. Kept instances never carry the prefix.
   */
  async #sweepOrphans(): Promise<void> {
    const directory = this.#options.spoolDirectory;
    const before = Date.now() - this.#hooksOptions.idleTimeoutMs;
    for (const name of await readdir(directory)) {
      if (!name.startsWith(".incoming-")) continue;
      const path = join(directory, name);
      const facts = await stat(path).catch(() => undefined);
      if (facts !== undefined && facts.mtimeMs < before) {
        await rm(path, { force: true });
        this.#log("info", `removed a partial instance file left by an earlier run: ${name}`);
      }
    }
  }

  #accept(socket: Socket): void {
    const remoteAddress = socket.remoteAddress ?? "?";
    // C-STORE-RSP and A-RELEASE-RP are small PDUs: Nagle plus the peer's delayed ACK would add ~40 ms each.
    socket.setNoDelay(true);
    this.#sockets.add(socket);
    const guard = new PduLengthGuard(this.#hooksOptions.maxPduLength);
    // Ahead of the library's own listener, so an oversized PDU is cut before it is buffered.
    socket.prependListener("data", (chunk: Buffer) => {
      const violation = guard.feed(chunk);
      if (violation === undefined) return;
      this.#log("warn", `ERR_DICOM_PDU_TOO_LARGE: ${remoteAddress} sent a PDU of type ${violation.type} with ${violation.length} bytes (limit ${violation.limit}); connection closed`);
      socket.destroy();
    });
    const scp = new ListenerScp(socket, {
      options: this.#hooksOptions,
      remoteAddress,
      log: this.#log,
      activeAssociations: () => [...this.#associations].filter((other) => other.associated).length,
      track: (work) => {
        this.#inFlight.add(work);
        void work.finally(() => this.#inFlight.delete(work));
      },
    });
    this.#associations.add(scp);
    scp.on("networkError", (error: Error) => {
      this.#log("info", `association from ${remoteAddress} ended: ${error.message}`);
      socket.destroy();
    });
    socket.on("close", () => {
      this.#sockets.delete(socket);
      this.#associations.delete(scp);
    });
  }
}


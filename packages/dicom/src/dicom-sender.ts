import { connect as connectTcp, isIP, type Socket } from "node:net";
import { checkServerIdentity, connect as connectTls, type ConnectionOptions, type PeerCertificate } from "node:tls";
import type { EgressPolicy } from "@node-mirth/core";
import { classifyStoreStatus, type StoreOutcome } from "./dicom-status.js";
import { Dataset, Scp, TransferSyntax, association as dimseAssociation, requests, type DimseAssociation, type DimseDataset } from "./dimse.js";
import { DicomError, type DicomErrorCode } from "./errors.js";
import { readPart10Meta, type Part10Meta } from "./part10.js";

export interface DicomSenderOptions {
  host: string;
  port: number;
  /** The remote AE title (called). */
  calledAeTitle: string;
  /** Our AE title (calling). */
  callingAeTitle: string;
  /** Client TLS options (createDicomClientTls); undefined = notls. */
  tls?: ConnectionOptions;
  /** Checked at every connect; the socket goes to the vetted address. */
  egress?: EgressPolicy;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
  /** An idle association is released after this long; 0 = release after every instance. */
  idleCloseMs?: number;
  maxPduLength?: number;
}

export interface DicomStoreResult {
  status: number;
  outcome: StoreOutcome;
  comment?: string;
  /** The transfer syntax the instance went out in. */
  transferSyntaxUid: string;
}

const UNCOMPRESSED = new Set<string>([TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian]);

/**
 * The dataset exactly as the Part-10 file holds it. dcmjs-dimse would re-encode a parsed
 * dataset (dcmjs may reorder, re-pad or change VRs); the instance must leave as it came.
 */
class RawDataset extends Dataset {
  readonly #bytes: Buffer;

  constructor(meta: Part10Meta, bytes: Buffer) {
    super({ SOPClassUID: meta.sopClassUid, SOPInstanceUID: meta.sopInstanceUid }, meta.transferSyntaxUid);
    this.#bytes = bytes;
  }

  override getDenaturalizedDataset(): Buffer {
    return this.#bytes;
  }
}

interface OpenAssociation {
  network: InstanceType<typeof Scp>;
  socket: Socket;
  sopClassUid: string;
  /** Accepted transfer syntax of the one presentation context. */
  transferSyntaxUid: string;
  closed: boolean;
  onClose: Set<(error: DicomError) => void>;
}

function senderError(code: DicomErrorCode, message: string, cause?: unknown): DicomError {
  return new DicomError(code, message, cause === undefined ? {} : { cause });
}

/**
 * DICOM C-STORE SCU with association reuse: consecutive instances of the same SOP class and
 * transfer syntax go over one association; a different one releases it and negotiates anew.
 * One C-STORE at a time (the engine sends a destination's queue in order).
 */
export class DicomSender {
  readonly #options: DicomSenderOptions;
  #current: OpenAssociation | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: DicomSenderOptions) {
    for (const [name, title] of [["calledAeTitle", options.calledAeTitle], ["callingAeTitle", options.callingAeTitle]] as const) {
      if (!/^[\x20-\x7e]{1,16}$/.test(title) || title.trim() !== title) {
        throw new DicomError("ERR_DICOM_INVALID_OPTIONS", `${name} must be 1 to 16 printable ASCII characters without leading or trailing spaces`);
      }
    }
    this.#options = options;
  }

  /** Sends one Part-10 instance; resolves with the remote status, rejects with a DicomError. */
  store(part10: Buffer, options: { signal?: AbortSignal } = {}): Promise<DicomStoreResult> {
    const run = this.#queue.then(() => this.#store(part10, options.signal));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Releases the association (if any) and refuses further sends. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await this.#release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #store(part10: Buffer, signal: AbortSignal | undefined): Promise<DicomStoreResult> {
    if (this.#closed) throw senderError("ERR_DICOM_SENDER_CLOSED", "the DICOM sender is stopped");
    clearTimeout(this.#idleTimer);
    const meta = readPart10Meta(part10);
    const dataset = part10.subarray(meta.datasetOffset);
    let current = this.#current;
    if (current !== undefined && (current.closed || current.sopClassUid !== meta.sopClassUid || !acceptable(current.transferSyntaxUid, meta))) {
      await this.#release();
      current = undefined;
    }
    current ??= await this.#associate(meta);
    this.#current = current;
    try {
      const result = await this.#cStore(current, { meta, dataset, signal });
      return result;
    } finally {
      this.#scheduleIdleClose();
    }
  }

  #scheduleIdleClose(): void {
    const idle = this.#options.idleCloseMs ?? 10_000;
    if (idle === 0) {
      void this.#release();
      return;
    }
    this.#idleTimer = setTimeout(() => void this.#release(), idle);
    this.#idleTimer.unref();
  }

  async #connect(): Promise<Socket> {
    const { host, port } = this.#options;
    const vetted = this.#options.egress === undefined ? { address: host } : await this.#options.egress.checkConnect("dicom", host, port);
    const tls = this.#options.tls;
    const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    const socket =
      tls === undefined
        ? connectTcp({ host: vetted.address, port })
        : connectTls({
            ...tls,
            host: vetted.address,
            port,
            ...(isIP(host) === 0 ? { servername: tls.servername ?? host } : {}),
            // The certificate must name the host the operator configured, not the vetted IP.
            checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(host, cert),
          });
    // C-STORE-RQ command PDUs are small: Nagle plus the peer's delayed ACK would add ~40 ms each.
    socket.setNoDelay(true);
    const ready = tls === undefined ? "connect" : "secureConnect";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(senderError("ERR_DICOM_CONNECT_TIMEOUT", `connecting to ${host}:${port} took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once(ready, () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (error: Error) => {
        clearTimeout(timer);
        reject(senderError("ERR_DICOM_CONNECT_FAILED", `could not connect to ${host}:${port}: ${error.message}`, error));
      });
    });
    return socket;
  }

  async #associate(meta: Part10Meta): Promise<OpenAssociation> {
    const socket = await this.#connect();
    const { host, port } = this.#options;
    const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    const responseTimeoutMs = this.#options.responseTimeoutMs ?? 30_000;
    const network = new Scp(socket, { connectTimeout: responseTimeoutMs * 4, associationTimeout: timeoutMs, pduTimeout: responseTimeoutMs * 4 });
    const state = network as unknown as { connected: boolean; connectedTime: number };
    state.connected = true;
    state.connectedTime = Date.now();
    const request = new dimseAssociation.Association(this.#options.callingAeTitle, this.#options.calledAeTitle);
    request.setMaxPduLength(this.#options.maxPduLength ?? 65_536);
    const context = request.addPresentationContext(meta.sopClassUid);
    const proposed = [meta.transferSyntaxUid, TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian];
    for (const uid of new Set(proposed)) request.addTransferSyntaxToPresentationContext(context, uid);
    const open: OpenAssociation = { network, socket, sopClassUid: meta.sopClassUid, transferSyntaxUid: "", closed: false, onClose: new Set() };
    const gone = (error: DicomError) => {
      if (open.closed) return;
      open.closed = true;
      socket.destroy();
      for (const listener of open.onClose) listener(error);
    };
    network.on("networkError", (error: Error) => gone(senderError("ERR_DICOM_ASSOCIATION_ABORTED", `${host}:${port}: ${error.message}`, error)));
    network.on("abort", () => gone(senderError("ERR_DICOM_ASSOCIATION_ABORTED", `${host}:${port} aborted the association`)));
    socket.on("close", () => gone(senderError("ERR_DICOM_ASSOCIATION_ABORTED", `${host}:${port} closed the connection`)));
    const accepted = await new Promise<DimseAssociation>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(senderError("ERR_DICOM_CONNECT_TIMEOUT", `${host}:${port} did not answer the association request within ${timeoutMs} ms`));
        gone(senderError("ERR_DICOM_CONNECT_TIMEOUT", "association timeout"));
      }, timeoutMs);
      const settle = () => clearTimeout(timer);
      network.once("associationAccepted", (answer: DimseAssociation) => {
        settle();
        resolve(answer);
      });
      network.once("associationRejected", (why: { result: number; source: number; reason: number }) => {
        settle();
        const error = new DicomError(
          "ERR_DICOM_ASSOCIATION_REJECTED",
          `${host}:${port} rejected the association from ${this.#options.callingAeTitle} to ${this.#options.calledAeTitle} (${why.result === 1 ? "permanent" : "transient"}, source ${why.source}, reason ${why.reason})`,
          { details: { transient: why.result !== 1, source: why.source, reason: why.reason } },
        );
        reject(error);
        gone(error);
      });
      open.onClose.add((error) => {
        settle();
        reject(error);
      });
      network.sendAssociationRequest(request);
    });
    const result = accepted.getPresentationContext(context);
    const chosen = result.getResult() === 0 ? result.getAcceptedTransferSyntaxUid() : undefined;
    if (chosen === undefined) {
      gone(senderError("ERR_DICOM_NO_PRESENTATION_CONTEXT", "released"));
      throw senderError("ERR_DICOM_NO_PRESENTATION_CONTEXT", `${host}:${port} accepted no transfer syntax for SOP class ${meta.sopClassUid} (${result.getResultDescription()})`);
    }
    open.transferSyntaxUid = chosen;
    open.onClose.clear();
    return open;
  }

  #cStore(open: OpenAssociation, job: { meta: Part10Meta; dataset: Buffer; signal: AbortSignal | undefined }): Promise<DicomStoreResult> {
    const { host, port } = this.#options;
    const { meta } = job;
    if (!acceptable(open.transferSyntaxUid, meta)) {
      throw senderError("ERR_DICOM_TRANSCODE_UNSUPPORTED", `${host}:${port} accepts only ${open.transferSyntaxUid} for this SOP class; the instance is ${meta.transferSyntaxUid}`);
    }
    let dataset: DimseDataset;
    if (open.transferSyntaxUid === meta.transferSyntaxUid) {
      dataset = new RawDataset(meta, job.dataset);
    } else {
      // Explicit <-> Implicit VR Little Endian: dcmjs re-encodes; no pixel codec involved.
      dataset = new Dataset(job.dataset, meta.transferSyntaxUid);
      dataset.setTransferSyntaxUid(open.transferSyntaxUid);
    }
    const request = new requests.CStoreRequest(dataset);
    const responseTimeoutMs = this.#options.responseTimeoutMs ?? 30_000;
    return new Promise<DicomStoreResult>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        open.onClose.delete(onClose);
        job.signal?.removeEventListener("abort", onAbort);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(senderError("ERR_DICOM_RESPONSE_TIMEOUT", `${host}:${port} sent no C-STORE response within ${responseTimeoutMs} ms`));
        open.closed = true;
        open.socket.destroy();
      }, responseTimeoutMs);
      const onClose = (error: DicomError) => {
        cleanup();
        reject(error);
      };
      const onAbort = () => {
        cleanup();
        open.closed = true;
        open.socket.destroy();
        reject(senderError("ERR_DICOM_SENDER_CLOSED", "the send was cancelled (channel stopping)"));
      };
      open.onClose.add(onClose);
      job.signal?.addEventListener("abort", onAbort, { once: true });
      request.on("response", (response: { getStatus(): number; getErrorComment(): string | undefined }) => {
        cleanup();
        const status = response.getStatus();
        const comment = response.getErrorComment();
        resolve({
          status,
          outcome: classifyStoreStatus(status),
          transferSyntaxUid: open.transferSyntaxUid,
          ...(comment === undefined || comment === "" ? {} : { comment }),
        });
      });
      open.network.sendRequests(request);
    });
  }

  async #release(): Promise<void> {
    clearTimeout(this.#idleTimer);
    const open = this.#current;
    this.#current = undefined;
    if (open === undefined || open.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        open.socket.destroy();
        resolve();
      }, 2_000);
      timer.unref();
      open.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      open.network.once("associationReleaseResponse", () => open.socket.end());
      open.closed = true;
      open.network.sendAssociationReleaseRequest();
    });
  }
}

/** Whether an instance can go out over a context that accepted `accepted`. */
function acceptable(accepted: string, meta: Part10Meta): boolean {
  return accepted === meta.transferSyntaxUid || (UNCOMPRESSED.has(accepted) && UNCOMPRESSED.has(meta.transferSyntaxUid));
}


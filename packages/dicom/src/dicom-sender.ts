import { open } from "node:fs/promises";
import { connect as connectTcp, isIP, type Socket } from "node:net";
import { checkServerIdentity, connect as connectTls, type ConnectionOptions, type PeerCertificate } from "node:tls";
import type { EgressPolicy } from "@node-mirth/core";
import { classifyStoreStatus, type StoreOutcome } from "./dicom-status.js";
import { Dataset, Scp, TransferSyntax, association as dimseAssociation, requests, type DimseAssociation, type DimseDataset } from "./dimse.js";
import { DicomError, type DicomErrorCode } from "./errors.js";
import type { Part10File } from "./dicom-message.js";
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

/** A dataset left in its Part-10 file: SenderNetwork streams it, fragment by fragment. */
class FileDataset extends Dataset {
  readonly path: string;
  readonly offset: number;
  readonly length: number;

  constructor(meta: Part10Meta, file: { path: string; size: number }) {
    super({ SOPClassUID: meta.sopClassUid, SOPInstanceUID: meta.sopInstanceUid }, meta.transferSyntaxUid);
    this.path = file.path;
    this.offset = meta.datasetOffset;
    this.length = file.size - meta.datasetOffset;
  }

  override getDenaturalizedDataset(): Buffer {
    throw new Error("a file-backed dataset is streamed, never materialized");
  }
}

const P_DATA_TF = 0x04;
/** dcmjs-dimse's own cap on fragments when the peer advertises no limit (0). */
const UNLIMITED_PDU_FRAGMENT = 4 * 1024 * 1024;
const FLAG_COMMAND = 0x01;
const FLAG_LAST = 0x02;

/** Writes the header of a P-DATA-TF PDU with a single PDV item (PS3.8 9.3.5) into `pdu`. */
function writePDataHeader(pdu: Buffer, header: { pcId: number; flags: number; valueLength: number }): void {
  pdu.writeUInt8(P_DATA_TF, 0);
  pdu.writeUInt8(0, 1);
  pdu.writeUInt32BE(header.valueLength + 6, 2);
  pdu.writeUInt32BE(header.valueLength + 2, 6);
  pdu.writeUInt8(header.pcId, 10);
  pdu.writeUInt8(header.flags, 11);
}

interface DimseCommand {
  getDataset(): DimseDataset | undefined;
  getCommandDataset(): DimseDataset;
}

/** dcmjs-dimse's own (private) P-DATA writer, for datasets held in memory. */
const librarySendPDataTF = (Scp.prototype as unknown as { _sendPDataTF: (command: DimseCommand, pcId: number, maxPdu: number) => void })._sendPDataTF;

/**
 * The association as the SCU sees it. dcmjs-dimse writes a dataset from one buffer, every
 * PDU at once with no regard for the socket's buffer; for a file-backed dataset this reads
 * the file one fragment at a time and waits for the socket to drain, so sending a 1 GB
 * instance needs one PDU of memory, not 1 GB (twice).
 */
class SenderNetwork extends Scp {
  _sendPDataTF(command: DimseCommand, pcId: number, maxPdu: number): void {
    const dataset = command.getDataset();
    if (!(dataset instanceof FileDataset)) {
      librarySendPDataTF.call(this, command, pcId, maxPdu);
      return;
    }
    const socket = (this as unknown as { socket: Socket }).socket;
    const commandBytes = command.getCommandDataset().getDenaturalizedCommandDataset();
    const commandPdu = Buffer.alloc(12 + commandBytes.length);
    writePDataHeader(commandPdu, { pcId, flags: FLAG_COMMAND | FLAG_LAST, valueLength: commandBytes.length });
    commandBytes.copy(commandPdu, 12);
    socket.write(commandPdu);
    const fragment = (maxPdu === 0 ? UNLIMITED_PDU_FRAGMENT : Math.min(maxPdu, UNLIMITED_PDU_FRAGMENT)) - 6;
    // A read failure ends the association: the socket's error reaches the pending C-STORE.
    streamDataset(socket, { dataset, pcId, fragment }).catch((error: unknown) => socket.destroy(error as Error));
  }
}

/**
 * Two PDU buffers, each reused once the socket has flushed it: memory stays at two PDUs and
 * no garbage piles up (fresh buffers per PDU grew the heap by half the instance before GC ran).
 */
async function streamDataset(socket: Socket, job: { dataset: FileDataset; pcId: number; fragment: number }): Promise<void> {
  const { dataset, pcId, fragment } = job;
  const buffers = [Buffer.allocUnsafe(12 + fragment), Buffer.allocUnsafe(12 + fragment)];
  const flushed: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  const handle = await open(dataset.path, "r");
  try {
    let sent = 0;
    for (let index = 0; sent < dataset.length; index++) {
      const slot = index % 2;
      await flushed[slot];
      if (socket.destroyed) return;
      const length = Math.min(fragment, dataset.length - sent);
      const pdu = buffers[slot]!.subarray(0, 12 + length);
      writePDataHeader(pdu, { pcId, flags: sent + length === dataset.length ? FLAG_LAST : 0, valueLength: length });
      const { bytesRead } = await handle.read(pdu, 12, length, dataset.offset + sent);
      if (bytesRead !== length) throw new Error("the instance file shrank while it was being sent");
      sent += length;
      // The callback also runs (with an error) when the socket is destroyed, so this never hangs.
      flushed[slot] = new Promise<void>((resolve) => socket.write(pdu, () => resolve()));
    }
    await Promise.all(flushed);
  } finally {
    await handle.close();
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

  /**
   * Sends one Part-10 instance, from memory or streamed from its file; resolves with the
   * remote status, rejects with a DicomError.
   */
  store(part10: Buffer | Part10File, options: { signal?: AbortSignal } = {}): Promise<DicomStoreResult> {
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

  async #store(part10: Buffer | Part10File, signal: AbortSignal | undefined): Promise<DicomStoreResult> {
    if (this.#closed) throw senderError("ERR_DICOM_SENDER_CLOSED", "the DICOM sender is stopped");
    clearTimeout(this.#idleTimer);
    const { meta, dataset } = await describeInstance(part10);
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
    const network = new SenderNetwork(socket, { connectTimeout: responseTimeoutMs * 4, associationTimeout: timeoutMs, pduTimeout: responseTimeoutMs * 4 });
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

  async #cStore(open: OpenAssociation, job: { meta: Part10Meta; dataset: Buffer | FileDataset; signal: AbortSignal | undefined }): Promise<DicomStoreResult> {
    const { host, port } = this.#options;
    const { meta } = job;
    if (!acceptable(open.transferSyntaxUid, meta)) {
      throw senderError("ERR_DICOM_TRANSCODE_UNSUPPORTED", `${host}:${port} accepts only ${open.transferSyntaxUid} for this SOP class; the instance is ${meta.transferSyntaxUid}`);
    }
    let dataset: DimseDataset;
    if (open.transferSyntaxUid === meta.transferSyntaxUid) {
      dataset = job.dataset instanceof FileDataset ? job.dataset : new RawDataset(meta, job.dataset);
    } else {
      // Explicit <-> Implicit VR Little Endian: dcmjs re-encodes the whole dataset in memory;
      // no pixel codec involved. Rare: every storage SCP accepts Implicit VR Little Endian.
      dataset = new Dataset(job.dataset instanceof FileDataset ? await readDataset(job.dataset) : job.dataset, meta.transferSyntaxUid);
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

/** The meta information, and the dataset: a slice of the buffer, or left in the file. */
async function describeInstance(part10: Buffer | Part10File): Promise<{ meta: Part10Meta; dataset: Buffer | FileDataset }> {
  if (Buffer.isBuffer(part10)) {
    const meta = readPart10Meta(part10);
    return { meta, dataset: part10.subarray(meta.datasetOffset) };
  }
  const handle = await open(part10.path, "r");
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const meta = readPart10Meta(head.subarray(0, bytesRead));
    return { meta, dataset: new FileDataset(meta, { path: part10.path, size: (await handle.stat()).size }) };
  } finally {
    await handle.close();
  }
}

async function readDataset(dataset: FileDataset): Promise<Buffer> {
  const handle = await open(dataset.path, "r");
  try {
    const bytes = Buffer.alloc(dataset.length);
    await handle.read(bytes, 0, dataset.length, dataset.offset);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Whether an instance can go out over a context that accepted `accepted`. */
function acceptable(accepted: string, meta: Part10Meta): boolean {
  return accepted === meta.transferSyntaxUid || (UNCOMPRESSED.has(accepted) && UNCOMPRESSED.has(meta.transferSyntaxUid));
}


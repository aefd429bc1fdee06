import { randomUUID } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  defineConnector,
  DestinationClient,
  isNodeMirthError,
  listenerSource,
  wholeNumberProperty as count,
  type ConnectorEnvironment,
  type ConnectorPlugin,
  type ConnectorResponse,
  type DestinationConnector,
  type LogLevel,
  type SourceConnector,
  type SourceContext,
} from "@node-mirth/core";
import { z } from "zod";
import { DicomListener, type InstanceVerdict, type ReceivedInstance } from "./dicom-listener.js";
import { buildDicomMessage, loadPart10, parseDicomMessage } from "./dicom-message.js";
import { DicomSender } from "./dicom-sender.js";
import { DicomStatus, formatStatus } from "./dicom-status.js";
import { DEFAULT_HEADER_BYTES, readDicomTags } from "./dicom-tags.js";
import { createDicomClientTls, createDicomServerTls, dicomTlsShape, type DicomTlsProperties } from "./dicom-tls.js";
import { DicomError, isDicomError } from "./errors.js";
import { readPart10Meta } from "./part10.js";

/** Numbers and booleans may arrive as strings from ${VAR} substitution and Mirth exports. */
const aeTitle = z
  .string()
  .regex(/^[\x20-\x7e]{1,16}$/, "an AE title is 1 to 16 printable ASCII characters")
  .refine((value) => value.trim() === value, "an AE title has no leading or trailing spaces");
const uidList = z.array(z.string().regex(/^[0-9]+(\.[0-9]+)*$/, "expected a UID"));

/**
 * Properties of the `dicom` connector, for both roles. As a source (listener) `host` is the
 * bind address and `aeTitle` our AE title; as a destination (sender) `host`/`port` are the
 * remote AE's and `calledAeTitle`/`callingAeTitle` name both ends.
 */
export const dicomPropertiesSchema = z.strictObject({
  /** Source: bind address (default 127.0.0.1). Destination: remote host (required). */
  host: z.string().trim().min(1).optional(),
  /** Source: listen port (0 = ephemeral). Destination: remote port. */
  port: count(0, 65535),
  ...dicomTlsShape,
  // Source only.
  aeTitle: aeTitle.default("NODE_MIRTH"),
  allowedCallingAeTitles: z.array(aeTitle).default([]),
  acceptedSopClasses: uidList.optional(),
  acceptedTransferSyntaxes: uidList.optional(),
  maxPduLength: count(4096, 16 * 1024 * 1024).default(65_536),
  maxAssociations: count(1).default(10),
  associationTimeoutMs: count(1).default(30_000),
  idleTimeoutMs: count(1).default(60_000),
  maxInstanceBytes: count(1).default(4 * 1024 ** 3),
  inlineMaxBytes: count(0).default(8 * 1024 * 1024),
  spoolDirectory: z.string().trim().min(1).optional(),
  stopTimeoutMs: count(0).default(10_000),
  // Destination only.
  calledAeTitle: aeTitle.optional(),
  callingAeTitle: aeTitle.default("NODE_MIRTH"),
  connectTimeoutMs: count(1).default(10_000),
  responseTimeoutMs: count(1).default(60_000),
  idleCloseMs: count(0).default(10_000),
});

export type DicomProperties = z.output<typeof dicomPropertiesSchema>;
export type DicomPropertiesInput = z.input<typeof dicomPropertiesSchema>;

function tlsOf(props: DicomProperties): DicomTlsProperties {
  const { tls, keyStore, certStore, keyStorePW, keyPW, trustStore, trustStorePW, noClientAuth, nossl2 } = props;
  return {
    tls,
    noClientAuth,
    nossl2,
    ...(keyStore === undefined ? {} : { keyStore }),
    ...(certStore === undefined ? {} : { certStore }),
    ...(keyStorePW === undefined ? {} : { keyStorePW }),
    ...(keyPW === undefined ? {} : { keyPW }),
    ...(trustStore === undefined ? {} : { trustStore }),
    ...(trustStorePW === undefined ? {} : { trustStorePW }),
  };
}

/**
 * The `dicom` connector plugin: `createEngine({ store, plugins: [dicom()] })`. The source
 * stores every received instance as a message (channel dataType JSON: header tags for
 * scripts, Part-10 bytes inline or in the spool directory) and answers the C-STORE only
 * after the engine committed it; the destination C-STOREs the instance, byte for byte.
 */
export function dicom(): ConnectorPlugin<DicomProperties> {
  return defineConnector({
    type: "dicom",
    propertiesSchema: dicomPropertiesSchema,
    createSource: (properties, env) => createDicomSource(properties, env),
    createDestination: (properties, env) => createDicomDestination(properties, env),
  });
}

function createDicomSource(props: DicomProperties, env: ConnectorEnvironment): SourceConnector {
  const spoolDirectory = props.spoolDirectory ?? join(env.dataDir, "dicom", env.channelId);
  // Key material is checked at deploy: a bad keystore is a deploy issue, not a failure at start.
  createDicomServerTls(tlsOf(props));
  return listenerSource((ctx) => {
    // Read again at every start, so a rotated certificate is picked up.
    const tls = createDicomServerTls(tlsOf(props));
    return new DicomListener({
      aeTitle: props.aeTitle,
      ...(props.host === undefined ? {} : { host: props.host }),
      port: props.port,
      allowedCallingAeTitles: props.allowedCallingAeTitles,
      ...(props.acceptedSopClasses === undefined ? {} : { acceptedSopClasses: props.acceptedSopClasses }),
      ...(props.acceptedTransferSyntaxes === undefined ? {} : { acceptedTransferSyntaxes: props.acceptedTransferSyntaxes }),
      maxPduLength: props.maxPduLength,
      maxAssociations: props.maxAssociations,
      associationTimeoutMs: props.associationTimeoutMs,
      idleTimeoutMs: props.idleTimeoutMs,
      maxInstanceBytes: props.maxInstanceBytes,
      spoolDirectory,
      ...(tls === undefined ? {} : { tls }),
      allowInsecureBind: env.policy.allowInsecureBind,
      stopTimeoutMs: props.stopTimeoutMs,
      onInstance: (instance) => dispatchInstance(ctx, { instance, inlineMaxBytes: props.inlineMaxBytes, spoolDirectory }),
      log: (level: LogLevel, text: string) => ctx.log(level, text),
    });
  });
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(head, 0, bytes, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Renames into place and syncs the directory, so the name survives a crash like the bytes do. */
async function keepFile(from: string, to: string): Promise<void> {
  await rename(from, to);
  const directory = await open(dirname(to), "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * One received instance through the engine. Resolves with the C-STORE status: success only
 * once the engine has committed the message (the durability contract).
 */
async function dispatchInstance(
  ctx: SourceContext,
  job: { instance: ReceivedInstance; inlineMaxBytes: number; spoolDirectory: string },
): Promise<InstanceVerdict> {
  const { instance } = job;
  const inline = instance.bytes <= job.inlineMaxBytes;
  const whole = inline ? await readFile(instance.path) : undefined;
  const head = whole ?? (await readHead(instance.path, Math.min(instance.bytes, DEFAULT_HEADER_BYTES + 4096)));
  const meta = readPart10Meta(head);
  const tags = readDicomTags(head.subarray(meta.datasetOffset, meta.datasetOffset + DEFAULT_HEADER_BYTES), meta.transferSyntaxUid);
  let kept: string | undefined;
  if (inline) {
    await rm(instance.path, { force: true });
  } else {
    kept = join(job.spoolDirectory, `${instance.sopInstanceUid}-${randomUUID()}.dcm`);
    await keepFile(instance.path, kept);
  }
  const facts = {
    sopClassUid: instance.sopClassUid,
    sopInstanceUid: instance.sopInstanceUid,
    transferSyntaxUid: instance.transferSyntaxUid,
    callingAeTitle: instance.callingAeTitle,
    calledAeTitle: instance.calledAeTitle,
    remoteAddress: instance.remoteAddress,
    bytes: instance.bytes,
    sha256: instance.sha256,
    ...(whole === undefined ? { file: kept! } : { part10: whole.toString("base64") }),
  };
  try {
    const result = await ctx.dispatch({
      content: buildDicomMessage(tags, facts),
      sourceMap: {
        callingAeTitle: instance.callingAeTitle,
        calledAeTitle: instance.calledAeTitle,
        remoteAddress: instance.remoteAddress,
        sopInstanceUid: instance.sopInstanceUid,
      },
    });
    if (result.response?.outcome === "error") {
      return { status: DicomStatus.ProcessingFailure, comment: "processing failed; send again" };
    }
    return { status: DicomStatus.Success };
  } catch (error) {
    // Not committed: the peer gets a failure status and sends again; the file is not needed.
    if (kept !== undefined) await rm(kept, { force: true });
    const reason = isNodeMirthError(error) ? error.code : "the channel did not take the instance";
    ctx.log("warn", `an instance from ${instance.callingAeTitle}@${instance.remoteAddress} was answered ${formatStatus(DicomStatus.ProcessingFailure)}: ${reason}`);
    return { status: DicomStatus.ProcessingFailure, comment: "not stored; send again" };
  }
}

/** Errors that sending the same message again will not cure. */
function isPermanent(error: unknown): boolean {
  if (!isNodeMirthError(error)) return false;
  switch (error.code) {
    case "ERR_POLICY_EGRESS_DENIED":
    case "ERR_DICOM_INVALID_MESSAGE":
    case "ERR_DICOM_INVALID_PART10":
    case "ERR_DICOM_NO_PRESENTATION_CONTEXT":
    case "ERR_DICOM_TRANSCODE_UNSUPPORTED":
      return true;
    case "ERR_DICOM_ASSOCIATION_REJECTED":
      return (error.details as { transient?: boolean } | undefined)?.transient !== true;
    default:
      return false;
  }
}

function createDicomDestination(props: DicomProperties, env: ConnectorEnvironment): DestinationConnector {
  if (props.host === undefined || props.port < 1 || props.calledAeTitle === undefined) {
    throw new DicomError("ERR_DICOM_INVALID_OPTIONS", "a DICOM destination needs host, a port from 1 to 65535 and calledAeTitle");
  }
  const host = props.host;
  const calledAeTitle = props.calledAeTitle;
  // Early and clear at deploy; the check that protects runs again at every connect.
  env.policy.egress?.checkConfigured("dicom", host, props.port);
  const build = () => {
    const tls = createDicomClientTls(tlsOf(props));
    return new DicomSender({
      host,
      port: props.port,
      calledAeTitle,
      callingAeTitle: props.callingAeTitle,
      ...(tls === undefined ? {} : { tls }),
      ...(env.policy.egress === undefined ? {} : { egress: env.policy.egress }),
      connectTimeoutMs: props.connectTimeoutMs,
      responseTimeoutMs: props.responseTimeoutMs,
      idleCloseMs: props.idleCloseMs,
      maxPduLength: props.maxPduLength,
    });
  };
  // Built now so a bad trust store or client key is a deploy issue.
  const client = new DestinationClient(build);
  const where = `${calledAeTitle}@${host}:${props.port}`;
  return {
    start() {
      client.get();
      return Promise.resolve();
    },
    stop: () => client.close(),
    async send(message, ctx): Promise<ConnectorResponse> {
      const sender = client.get();
      try {
        const facts = parseDicomMessage(message.content);
        const part10 = await loadPart10(facts);
        const result = await sender.store(part10, { signal: ctx.signal });
        const said = `${where} answered ${formatStatus(result.status)}${result.comment === undefined ? "" : ` (${result.comment})`}`;
        switch (result.outcome) {
          case "success":
            return { status: "SENT", content: formatStatus(result.status) };
          case "warning":
            return { status: "SENT", content: formatStatus(result.status), message: `warning: ${said}` };
          case "failure":
            return { status: "ERROR", retryable: true, content: formatStatus(result.status), message: `ERR_DICOM_STORE_FAILED: ${said}` };
          case "refused":
            return { status: "ERROR", retryable: false, content: formatStatus(result.status), message: `ERR_DICOM_STORE_REFUSED: ${said}` };
        }
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        const coded = isDicomError(error) || isNodeMirthError(error) ? `${error.code}: ${text}` : text;
        return { status: "ERROR", retryable: !isPermanent(error), message: coded };
      }
    },
  };
}

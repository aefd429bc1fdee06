import { createServerTlsOptions, tlsPropertiesSchema } from "@node-mirth/certs";
import {
  defineConnector,
  DestinationClient,
  flagProperty as flag,
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
import { buildAck, parseHl7 } from "@node-mirth/hl7";
import { z } from "zod";
import { MllpError, isMllpError } from "./errors.js";
import { DEFAULT_MAX_FRAME_BYTES, resolveFraming, type FramingOptions } from "./frame-decoder.js";
import { MllpListener, type MllpMessageInfo } from "./mllp-listener.js";
import { MllpSender } from "./mllp-sender.js";

/**
 * Properties of the `mllp` connector, for both roles. As a source (listener) `host` is the
 * bind address; as a destination (sender) it is the remote host, and `port` must be set.
 */
export const mllpPropertiesSchema = z
  .strictObject({
    /** Source: bind address (default 127.0.0.1). Destination: remote host (required). */
    host: z.string().trim().min(1).optional(),
    /** Source: listen port (0 = ephemeral). Destination: remote port. */
    port: count(0, 65535),
    /** MLLP (default), FRAME (custom blocks) or RAW (no framing). */
    mode: z.enum(["MLLP", "RAW", "FRAME"]).default("MLLP"),
    /** Hex, as in Mirth: "0B". */
    startBytes: z.string().optional(),
    /** Hex, as in Mirth: "1C0D". */
    endBytes: z.string().optional(),
    lenientEnd: flag.optional(),
    maxFrameBytes: count(1).default(DEFAULT_MAX_FRAME_BYTES),
    /** How string content becomes bytes and responses become strings. */
    charset: z.enum(["utf8", "latin1", "ascii", "utf16le"]).default("utf8"),
    tls: tlsPropertiesSchema.optional(),
    // Source only.
    maxConnections: count(1).default(100),
    maxConnectionsPerAddress: count(1).default(20),
    readTimeoutMs: count(1).default(30_000),
    idleTimeoutMs: count(0).default(0),
    rawIdleGapMs: count(1).default(1_000),
    keepAliveInitialDelayMs: count(0).default(30_000),
    handshakeTimeoutMs: count(1).default(10_000),
    stopTimeoutMs: count(0).default(10_000),
    // Destination only.
    keepConnectionOpen: flag.default(true),
    connectTimeoutMs: count(1).default(10_000),
    responseTimeoutMs: count(1).default(30_000),
    idleCloseMs: count(0).default(0),
    /** False: a written message counts as sent, no response is read. */
    awaitResponse: flag.default(true),
    /** For HL7 v2 content: read the response as an ACK (AA/AE/AR). */
    validateAck: flag.default(true),
    /** With validateAck: MSA-2 must equal the MSH-10 sent. */
    checkControlId: flag.default(true),
  })
  .superRefine((props, context) => {
    try {
      resolveFraming(framingOf(props));
    } catch (error) {
      context.addIssue({ code: "custom", path: ["mode"], message: (error as Error).message });
    }
  });

export type MllpProperties = z.output<typeof mllpPropertiesSchema>;
export type MllpPropertiesInput = z.input<typeof mllpPropertiesSchema>;

function framingOf(props: Pick<MllpProperties, "mode" | "startBytes" | "endBytes" | "lenientEnd" | "maxFrameBytes">): FramingOptions {
  return {
    mode: props.mode,
    maxFrameBytes: props.maxFrameBytes,
    ...(props.startBytes === undefined ? {} : { startBytes: props.startBytes }),
    ...(props.endBytes === undefined ? {} : { endBytes: props.endBytes }),
    ...(props.lenientEnd === undefined ? {} : { lenientEnd: props.lenientEnd }),
  };
}

/**
 * The `mllp` connector plugin: `createEngine({ store, plugins: [mllp()] })`. The source hands
 * each message to the engine and answers with the engine's ACK; the destination sends and
 * maps the receiver's ACK to SENT or a (retryable or permanent) ERROR.
 */
export function mllp(): ConnectorPlugin<MllpProperties> {
  return defineConnector({
    type: "mllp",
    propertiesSchema: mllpPropertiesSchema,
    createSource: (properties, env) => createMllpSource(properties, env),
    createDestination: (properties, env) => createMllpDestination(properties, env),
  });
}

function createMllpSource(props: MllpProperties, env: ConnectorEnvironment): SourceConnector {
  const build = (ctx: SourceContext | undefined) =>
    new MllpListener({
      ...(props.host === undefined ? {} : { host: props.host }),
      port: props.port,
      framing: framingOf(props),
      ...(props.tls === undefined ? {} : { tls: props.tls }),
      allowInsecureBind: env.policy.allowInsecureBind,
      maxConnections: props.maxConnections,
      maxConnectionsPerAddress: props.maxConnectionsPerAddress,
      readTimeoutMs: props.readTimeoutMs,
      idleTimeoutMs: props.idleTimeoutMs,
      rawIdleGapMs: props.rawIdleGapMs,
      keepAliveInitialDelayMs: props.keepAliveInitialDelayMs,
      handshakeTimeoutMs: props.handshakeTimeoutMs,
      stopTimeoutMs: props.stopTimeoutMs,
      encoding: props.charset,
      name: `MLLP listener of channel ${env.channelId}`,
      onMessage: ctx === undefined ? () => Promise.resolve(undefined) : (raw, info) => answer(ctx, { raw, charset: props.charset }, info),
      ...(ctx === undefined ? {} : { log: (level: LogLevel, text: string) => ctx.log(level, text) }),
    });
  // Options and key material are checked at deploy, so a bad one is a deploy issue, not a
  // failure at start; start reads the key material again.
  build(undefined);
  if (props.tls?.enabled === true) createServerTlsOptions(props.tls);
  return listenerSource(build);
}

/**
 * One message through the engine. The engine stores it first (unparseable HL7 included, as
 * ERROR, answered AR) and resolves with the ACK. When the channel cannot take it, the peer
 * gets AE (HL7) or no answer at all (the connection closes): either way it sends again.
 */
async function answer(ctx: SourceContext, message: { raw: Buffer; charset: BufferEncoding }, info: MllpMessageInfo): Promise<string | undefined> {
  const raw = message.raw;
  try {
    // Decoded here, as Mirth's charsetEncoding does: the operator knows what the feed sends.
    const result = await ctx.dispatch({ content: raw.toString(message.charset), sourceMap: { ...info } });
    const content = result.response?.content;
    return content === undefined || content === "" ? undefined : content;
  } catch (error) {
    const reason = isNodeMirthError(error) ? error.code : "the channel did not take the message";
    let nack: string | undefined;
    try {
      nack = buildAck(parseHl7(raw), { outcome: "error", text: `Message not accepted (${reason}); send it again` })?.toString();
    } catch {
      nack = undefined;
    }
    if (nack === undefined) throw error;
    ctx.log("warn", `a message from ${info.remoteAddress} was answered AE: ${reason}`);
    return nack;
  }
}

function createMllpDestination(props: MllpProperties, env: ConnectorEnvironment): DestinationConnector {
  if (props.host === undefined || props.port < 1) {
    throw new MllpError("ERR_MLLP_INVALID_OPTIONS", "an MLLP destination needs host and a port from 1 to 65535");
  }
  const host = props.host;
  // Early and clear at deploy; the check that protects runs again at every connect.
  env.policy.egress?.checkConfigured("mllp", host, props.port);
  let log: (level: LogLevel, text: string) => void = () => {};
  const build = () =>
    new MllpSender({
      host,
      port: props.port,
      framing: framingOf(props),
      ...(props.tls === undefined ? {} : { tls: props.tls }),
      ...(env.policy.egress === undefined ? {} : { egress: env.policy.egress }),
      keepConnectionOpen: props.keepConnectionOpen,
      connectTimeoutMs: props.connectTimeoutMs,
      responseTimeoutMs: props.responseTimeoutMs,
      idleCloseMs: props.idleCloseMs,
      keepAliveInitialDelayMs: props.keepAliveInitialDelayMs,
      awaitResponse: props.awaitResponse,
      validateAck: props.validateAck,
      checkControlId: props.checkControlId,
      rawIdleGapMs: props.rawIdleGapMs,
      encoding: props.charset,
      log: (level, text) => log(level, text),
    });
  // Built now so a bad trust store or client key is a deploy issue.
  const client = new DestinationClient(build);
  return {
    start() {
      client.get();
      return Promise.resolve();
    },
    stop: () => client.close(),
    async send(message, ctx): Promise<ConnectorResponse> {
      log = (level, text) => ctx.log(level, text);
      const sender = client.get();
      const where = `${host}:${props.port}`;
      try {
        const result = await sender.send(message.content, {
          signal: ctx.signal,
          validateAck: props.validateAck && message.dataType === "HL7V2",
        });
        const content = result.response?.toString(props.charset);
        const withContent = content === undefined ? {} : { content };
        const said = result.ackCode === undefined ? "" : `${result.ackCode}${result.ackText === undefined ? "" : ` (${result.ackText})`}`;
        switch (result.outcome) {
          case "accepted":
            return { status: "SENT", ...withContent, ...(said === "" ? {} : { message: `${where} answered ${said}` }) };
          case "error":
            return { status: "ERROR", retryable: true, ...withContent, message: `ERR_MLLP_NEGATIVE_ACK: ${where} answered ${said}` };
          case "rejected":
            return { status: "ERROR", retryable: false, ...withContent, message: `ERR_MLLP_REJECTED: ${where} answered ${said}` };
        }
      } catch (error) {
        const code = isNodeMirthError(error) ? error.code : "ERR_MLLP_CONNECT_FAILED";
        // Egress refusals and a stopped sender will not heal by retrying the same message now;
        // everything else (connect, timeout, hang-up, bad or mismatched response) may.
        const permanent = code === "ERR_POLICY_EGRESS_DENIED";
        const text = error instanceof Error ? error.message : String(error);
        return { status: "ERROR", retryable: !permanent, message: isMllpError(error) || isNodeMirthError(error) ? `${code}: ${text}` : text };
      }
    },
  };
}

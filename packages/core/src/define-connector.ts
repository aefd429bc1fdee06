import type { ZodType } from "zod";
import type { DataType } from "./channel-schema.js";
import type { EgressPolicy } from "./egress-policy.js";
import type { MessageStatus } from "./message-store.js";

/** What a source hands to the engine. */
export interface RawMessage {
  content: string | Buffer;
  /** Facts about the transport (remote address, file name, ...), stored with the message. */
  sourceMap?: Record<string, unknown>;
}

/** The answer for the source: what to send back to the peer, if anything. */
export interface SourceResponse {
  /** accept = AA/CA, error = AE/CE, reject = AR/CR. */
  outcome: "accept" | "error" | "reject";
  /** The bytes to answer with (an HL7 ACK, a destination's response); empty when none. */
  content: string;
}

export interface DispatchResult {
  messageId: number;
  /** The source connector message's status when the answer was decided. */
  status: MessageStatus;
  /** Undefined when the channel's ACK policy is "none" or HL7 enhanced mode says no ACK. */
  response?: SourceResponse;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Security settings connectors must honour (bind guard, egress allow-lists). */
export interface ConnectorPolicy {
  allowInsecureBind: boolean;
  egress?: EgressPolicy;
}

export interface SourceContext {
  channelId: string;
  /**
   * Hands one message to the engine. Resolves once the raw content is committed (and later
   * for slower ACK policies) with what to answer; never resolves for a message that could
   * be lost. Rejects when the channel cannot take it (stopped, store failure): answer with
   * a negative acknowledgement so the peer sends it again.
   */
  dispatch(raw: RawMessage): Promise<DispatchResult>;
  policy: ConnectorPolicy;
  /** Operator log lines; never pass message content. */
  log(level: LogLevel, text: string): void;
  /** Aborted when the channel stops: close listeners, end polling. */
  signal: AbortSignal;
}

export interface SourceConnector {
  start(ctx: SourceContext): Promise<void>;
  stop(): Promise<void>;
}

export interface OutboundMessage {
  channelId: string;
  messageId: number;
  destinationId: string;
  /** The encoded content to send. */
  content: string;
  dataType: DataType;
  /** Read-only views of the message's maps at the time of sending. */
  channelMap: ReadonlyMap<string, unknown>;
  sourceMap: ReadonlyMap<string, unknown>;
}

export interface DestinationContext {
  policy: ConnectorPolicy;
  log(level: LogLevel, text: string): void;
  /** Aborted when the channel halts: give up the send in flight. */
  signal: AbortSignal;
}

/** What happened to one send. Retrying, ordering and status are the engine's, not the connector's. */
export type ConnectorResponse =
  | { status: "SENT"; content?: string; message?: string }
  | {
      status: "ERROR";
      retryable: boolean;
      content?: string;
      message: string;
      /**
       * The peer asked for this long before the next attempt (HTTP Retry-After on 429/503):
       * the queue waits at least this, beyond its own backoff. Cap it in the connector.
       */
      retryAfterMs?: number;
    };

export interface DestinationConnector {
  send(message: OutboundMessage, ctx: DestinationContext): Promise<ConnectorResponse>;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** Handed to a plugin's factories: the engine services a connector may use. */
export interface ConnectorEnvironment {
  channelId: string;
  policy: ConnectorPolicy;
  /**
   * The server's data directory: a connector keeps durable state of its own under it (a
   * file reader's ledger, received DICOM instances), never in a temp directory that a
   * reboot may empty.
   */
  dataDir: string;
}

export interface ConnectorPlugin<P = unknown> {
  /** The `type` of a ConnectorConfig that this plugin serves. */
  type: string;
  /** Validates `ConnectorConfig.properties` at deploy. */
  propertiesSchema: ZodType<P>;
  createSource?(properties: P, env: ConnectorEnvironment): SourceConnector;
  createDestination?(properties: P, env: ConnectorEnvironment): DestinationConnector;
}

/** Declares a connector plugin with its properties type inferred from its schema. */
export function defineConnector<P>(plugin: ConnectorPlugin<P>): ConnectorPlugin<P> {
  return plugin;
}

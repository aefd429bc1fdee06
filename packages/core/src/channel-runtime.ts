import { parseHl7, resolveCharset, type Hl7Message } from "@node-mirth/hl7";
import type { Channel, Destination } from "./channel-schema.js";
import type {
  CompiledExpression,
  CompiledFilter,
  CompiledTransformer,
  ScriptScope,
} from "./channel-scripts.js";
import type {
  ConnectorPolicy,
  ConnectorResponse,
  DestinationConnector,
  DispatchResult,
  LogLevel,
  RawMessage,
  SourceConnector,
  SourceContext,
  SourceResponse,
} from "./define-connector.js";
import { DestinationQueue, type AttemptRetry, type QueueEntry } from "./destination-queue.js";
import type { ChannelState, EngineEvents } from "./engine-events.js";
import { NodeMirthError } from "./errors.js";
import type { GroupCommit, GroupCommitWriteOptions } from "./group-commit.js";
import {
  EMPTY_STATISTICS,
  SOURCE_CONNECTOR_ID,
  UNFINISHED_STATUSES,
  type ConnectorMessageRecord,
  type MessageStatus,
  type MessageStore,
  type StatisticsCounts,
  type StoreWrite,
} from "./message-store.js";
import { buildSourceResponse, buildUnparseableResponse } from "./source-response.js";
import { storagePolicy, type StoragePolicy } from "./storage-policy.js";
import { withDeadline } from "./with-deadline.js";

/** A destination with its connector and compiled scripts. */
export interface CompiledDestination {
  config: Destination;
  connector: DestinationConnector;
  filter?: CompiledFilter;
  transformer?: CompiledTransformer;
  responseTransformer?: CompiledTransformer;
  groupBy?: CompiledExpression;
}

/** A channel ready to run: validated, connectors created, scripts compiled. */
export interface CompiledChannel {
  channel: Channel;
  source: SourceConnector;
  /** The engine's global preprocessor, compiled in this channel's sandbox. */
  globalPreprocessor?: CompiledTransformer;
  preprocessor?: CompiledTransformer;
  filter?: CompiledFilter;
  transformer?: CompiledTransformer;
  postprocessor?: CompiledTransformer;
  /** The engine's global postprocessor, run after the channel's own. */
  globalPostprocessor?: CompiledTransformer;
  deployScript?: CompiledTransformer;
  undeployScript?: CompiledTransformer;
  metadata: { name: string; value: CompiledExpression }[];
  destinations: CompiledDestination[];
}

export interface ChannelRuntimeOptions {
  compiled: CompiledChannel;
  store: MessageStore;
  commit: GroupCommit;
  events: EngineEvents;
  policy: ConnectorPolicy;
  globalMap: Map<string, unknown>;
  configurationMap: Map<string, unknown>;
  /** Delivers what scripts routed with `router.routeMessage`. */
  route: (channel: string, content: string) => Promise<DispatchResult>;
  /** Messages waiting for stage 2 before `dispatch` waits: memory stays bounded under load. */
  maxBacklog?: number;
  /** How long `stop` waits for the source and for sends in flight before it cuts them off. */
  stopTimeoutMs?: number;
}

/** How one destination ended for one message, for the ACK policy and waitForPrevious. */
interface DestinationOutcome {
  status: MessageStatus;
  response?: string;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

/** A message between receipt and the end of its destinations; memory only. */
interface InFlight {
  messageId: number;
  raw: string;
  parsed: Hl7Message | undefined;
  sourceMap: Map<string, unknown>;
  channelMap: Map<string, unknown>;
  responseMap: Map<string, unknown>;
  processed: Deferred<MessageStatus>;
  /** Per destination: `first` settles after its first attempt (for the ACK), `done` when it is finished. */
  outcomes: Map<string, { first: Deferred<DestinationOutcome>; done: Deferred<void> }>;
  left: number;
}

/**
 * A destination queue past its buffer: newer QUEUED messages wait in the store only, and
 * are read back in id order (after `through`) as the queue drains. `newest` is the highest
 * id left in the store; once `through` reaches it, new messages go to memory again.
 */
interface Overflow {
  active: boolean;
  /** The highest message id handed to the in-memory queue. */
  through: number;
  newest: number;
  reading: Promise<void> | undefined;
}

interface Delivery extends QueueEntry {
  message: InFlight;
  destination: CompiledDestination;
  /** The encoded content; while `chained`, the input of the destination's filter and transformer. */
  content: string;
  /**
   * A waitForPrevious destination: its filter and transformer run in its lane, after the
   * previous destination finished the message, so they see its response (`responseMap`) and
   * the maps its response transformer changed.
   */
  chained?: boolean;
  /** Its transformer ran in the lane: the encoded content is stored with the final outcome. */
  encodedInLane?: boolean;
}

const DEFAULT_MAX_BACKLOG = 10_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/** Messages processed per turn of the event loop, so I/O is never starved. */
const PROCESS_SLICE = 256;

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One deployed channel: the durable pipeline of ARCHITECTURE.md §3. Stage 1 commits the
 * raw message (group commit) before `dispatch` answers; stage 2-3 (filter, transformers,
 * destination filters and encoders) run in receive order and commit TRANSFORMED together
 * with every destination's QUEUED; the destination queues send, retry and dead-letter.
 */
export class ChannelRuntime {
  readonly id: string;
  readonly #options: ChannelRuntimeOptions;
  readonly #compiled: CompiledChannel;
  readonly #storage: StoragePolicy;
  readonly #queues = new Map<string, DestinationQueue<Delivery>>();
  readonly #globalChannelMap = new Map<string, unknown>();
  #state: ChannelState = "stopped";
  #lastMessageId = 0;
  #backlog: InFlight[] = [];
  #processing: Promise<void> | undefined;
  #backlogWaiters: (() => void)[] = [];
  #source = new AbortController();
  #sends = new AbortController();
  #inFlight = new Set<InFlight>();
  /** Per destination whose queue may overflow to the store: see `QueuePolicy.bufferSize`. */
  readonly #overflow = new Map<string, Overflow>();
  /** Bumped by every start, so work begun before a restart cannot touch the new run. */
  #generation = 0;
  /** Committed statistics per connector, for the `statistics` events. */
  #totals: Record<string, StatisticsCounts> = {};

  constructor(options: ChannelRuntimeOptions) {
    this.#options = options;
    this.#compiled = options.compiled;
    this.id = options.compiled.channel.id;
    this.#storage = storagePolicy(options.compiled.channel.storage);
    this.#compiled.destinations.forEach((destination, index) => {
      const next = this.#compiled.destinations[index + 1];
      // A waitForPrevious chain needs every message of it in memory; without stored
      // queued content there is nothing to read back.
      const chained = destination.config.waitForPrevious || next?.config.waitForPrevious === true;
      if (!chained && this.#storage.keepsEncodedWhileQueued) {
        this.#overflow.set(destination.config.id, {
          active: false,
          through: 0,
          newest: 0,
          reading: undefined,
        });
      }
    });
    for (const destination of this.#compiled.destinations) {
      this.#queues.set(
        destination.config.id,
        new DestinationQueue<Delivery>({
          policy: destination.config.queue,
          attempt: (entry, final) => this.#attempt(entry, final),
        }),
      );
    }
  }

  get #stopTimeoutMs(): number {
    return this.#options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  }

  get state(): ChannelState {
    return this.#state;
  }

  get channel(): Channel {
    return this.#compiled.channel;
  }

  /** Runs the deploy script; a failure is ERR_CHANNEL_DEPLOY_SCRIPT_FAILED. */
  runDeployScript(): void {
    const script = this.#compiled.deployScript;
    if (script === undefined) return;
    try {
      script("", this.#lifecycleScope());
    } catch (error) {
      throw new NodeMirthError(
        "ERR_CHANNEL_DEPLOY_SCRIPT_FAILED",
        `The deploy script of channel ${this.id} failed (${errorKind(error)}); the channel is not deployed.`,
        { cause: error, details: { channelId: this.id } },
      );
    }
  }

  /** Runs the undeploy script; a failure is logged, the undeploy goes on. */
  runUndeployScript(): void {
    const script = this.#compiled.undeployScript;
    if (script === undefined) return;
    try {
      script("", this.#lifecycleScope());
    } catch (error) {
      this.#log("warn", `undeploy script failed (${errorKind(error)})`);
    }
  }

  /** Deploy and undeploy scripts see the global maps; there is no message. */
  #lifecycleScope(): ScriptScope {
    return {
      channelMap: new Map(),
      sourceMap: new Map(),
      connectorMap: new Map(),
      responseMap: new Map(),
      globalMap: this.#options.globalMap,
      globalChannelMap: this.#globalChannelMap,
      configurationMap: this.#options.configurationMap,
      logger: (level, text) => this.#log(level, text),
      routed: [],
    };
  }

  /** Recovers unfinished work, then starts the queues, then the source. */
  async start(): Promise<void> {
    if (this.#state === "started" || this.#state === "paused") return;
    this.#setState("starting");
    try {
      this.#lastMessageId = await this.#options.store.maxMessageId(this.id);
      this.#generation++;
      this.#totals = await this.#options.store.getStatistics(this.id);
      for (const overflow of this.#overflow.values()) {
        Object.assign(overflow, { active: false, through: 0, newest: 0, reading: undefined });
      }
      this.#sends = new AbortController();
      for (const queue of this.#queues.values()) queue.start();
      await this.#recover();
    } catch (error) {
      await this.#stopQueues();
      const failure = new NodeMirthError(
        "ERR_CHANNEL_RECOVERY_FAILED",
        `Channel ${this.id} could not recover its unfinished messages and stays stopped.`,
        { cause: error, details: { channelId: this.id } },
      );
      this.#setState("failed", failure);
      throw failure;
    }
    for (const destination of this.#compiled.destinations) await destination.connector.start?.();
    this.#setState("started");
    await this.#startSource();
  }

  /** Stops taking input; processing and queues go on. */
  async pause(): Promise<void> {
    if (this.#state !== "started") return;
    this.#setState("paused");
    await this.#stopSource();
  }

  async resume(): Promise<void> {
    if (this.#state !== "paused") return;
    this.#setState("started");
    await this.#startSource();
  }

  /**
   * Stops the source, processes what was received, lets each destination finish the attempt
   * it is making, and commits. Messages still queued stay QUEUED in the store for next start.
   */
  async stop(): Promise<void> {
    if (this.#state === "stopped" || this.#state === "failed") return;
    this.#setState("stopping");
    await this.#stopSource();
    await this.#processing;
    await this.#stopQueues();
    await this.#options.commit.flush();
    this.#setState("stopped");
  }

  /** Like stop, without waiting for sends in flight or the backlog: they are recovered next start. */
  async halt(): Promise<void> {
    if (this.#state === "stopped" || this.#state === "failed") return;
    this.#setState("stopping");
    this.#sends.abort();
    // They stay RECEIVED in the store and are processed after the next start; a waiting source hears an error.
    for (const message of this.#backlog.splice(0)) message.processed.resolve("ERROR");
    await this.#stopSource();
    await this.#stopQueues();
    await this.#options.commit.flush().catch(() => undefined);
    this.#setState("stopped");
  }

  /** Resolves once every received message is processed and every queue is empty. */
  async idle(): Promise<void> {
    for (;;) {
      for (const destination of this.#compiled.destinations) this.#readBack(destination);
      await Promise.all(
        [...this.#overflow.values()].map((overflow) => overflow.reading ?? Promise.resolve()),
      );
      await this.#processing;
      await Promise.all([...this.#queues.values()].map((queue) => queue.idle()));
      await this.#options.commit.flush();
      const queued =
        [...this.#queues.values()].some((queue) => queue.size > 0) ||
        [...this.#overflow.values()].some((overflow) => overflow.active);
      if (
        this.#processing === undefined &&
        this.#backlog.length === 0 &&
        (!queued || this.#state !== "started")
      ) {
        return;
      }
    }
  }

  /** Stage 1: commit the raw message, then answer per the ACK policy. */
  async dispatch(raw: RawMessage, reuseMessageId?: number): Promise<DispatchResult> {
    if (this.#state !== "started") {
      throw new NodeMirthError("ERR_CHANNEL_NOT_STARTED", `Channel ${this.id} is ${this.#state}.`, {
        details: { channelId: this.id, state: this.#state },
      });
    }
    while (this.#backlog.length >= (this.#options.maxBacklog ?? DEFAULT_MAX_BACKLOG)) {
      await new Promise<void>((resolve) => this.#backlogWaiters.push(resolve));
    }
    const channel = this.#compiled.channel;
    const messageId = reuseMessageId ?? ++this.#lastMessageId;
    const now = Date.now();
    const { content, parsed, parseError } = decode(raw.content, channel.dataType);
    const status: MessageStatus = parseError === undefined ? "RECEIVED" : "ERROR";
    const writes: StoreWrite[] = [];
    if (reuseMessageId !== undefined)
      writes.push({ op: "deleteMessage", channelId: this.id, messageId });
    const sourceMap = new Map(Object.entries(raw.sourceMap ?? {}));
    if (this.#storage.storesMessages) {
      writes.push(
        { op: "insertMessage", channelId: this.id, messageId, receivedAt: now },
        this.#status(messageId, SOURCE_CONNECTOR_ID, { status, error: parseError }),
      );
      this.#content(writes, { messageId, connectorId: SOURCE_CONNECTOR_ID, kind: "raw", content });
      if (sourceMap.size > 0) {
        this.#content(writes, {
          messageId,
          connectorId: SOURCE_CONNECTOR_ID,
          kind: "sourceMap",
          content: JSON.stringify(raw.sourceMap),
        });
      }
      if (parseError !== undefined) {
        this.#content(writes, {
          messageId,
          connectorId: SOURCE_CONNECTOR_ID,
          kind: "error",
          content: parseError,
        });
      }
    }
    writes.push(
      this.#stats(
        SOURCE_CONNECTOR_ID,
        parseError === undefined ? { received: 1 } : { received: 1, errored: 1 },
      ),
    );
    const committed = this.#write(writes);
    if (this.#storage.storesMessages) await committed;
    else
      committed.catch((error: unknown) =>
        this.#log("error", `statistics write failed: ${describe(error)}`),
      );
    this.#messageEvent(messageId, SOURCE_CONNECTOR_ID, status);
    if (parseError !== undefined) {
      return { messageId, status, response: buildUnparseableResponse(content) };
    }
    const message = this.#newInFlight({ messageId, raw: content, parsed, sourceMap });
    this.#enqueueProcessing(message);
    return this.#answer(message);
  }

  async #answer(message: InFlight): Promise<DispatchResult> {
    const channel = this.#compiled.channel;
    const respond = (outcome: SourceResponse["outcome"], text?: string) =>
      buildSourceResponse({
        dataType: channel.dataType,
        parsed: message.parsed,
        outcome,
        ...(text === undefined ? {} : { text }),
      });
    const result = (status: MessageStatus, response: SourceResponse | undefined): DispatchResult =>
      response === undefined
        ? { messageId: message.messageId, status }
        : { messageId: message.messageId, status, response };
    const ack = channel.ack;
    switch (ack.mode) {
      case "none":
        return { messageId: message.messageId, status: "RECEIVED" };
      case "afterCommit":
        return result("RECEIVED", respond("accept"));
      case "afterTransform": {
        const status = await message.processed.promise;
        return result(
          status,
          respond(outcomeOf(status), status === "ERROR" ? "Processing failed" : undefined),
        );
      }
      case "afterDestination": {
        const status = await message.processed.promise;
        const outcome = message.outcomes.get(ack.destination);
        if (status !== "TRANSFORMED" || outcome === undefined) {
          return result(status, respond(outcomeOf(status)));
        }
        const reached = await outcome.first.promise;
        if (ack.useResponse && reached.response !== undefined) {
          return result(reached.status, {
            outcome: outcomeOf(reached.status),
            content: reached.response,
          });
        }
        const accepted = reached.status === "FILTERED" ? "SENT" : reached.status;
        return result(
          reached.status,
          respond(outcomeOf(accepted), reached.status === "ERROR" ? "Delivery failed" : undefined),
        );
      }
    }
  }

  #newInFlight(input: {
    messageId: number;
    raw: string;
    parsed: Hl7Message | undefined;
    sourceMap: Map<string, unknown>;
  }): InFlight {
    const message: InFlight = {
      ...input,
      channelMap: new Map(),
      responseMap: new Map(),
      processed: deferred(),
      outcomes: new Map(),
      left: 0,
    };
    this.#inFlight.add(message);
    return message;
  }

  #enqueueProcessing(message: InFlight): void {
    this.#backlog.push(message);
    this.#processing ??= this.#processBacklog();
  }

  async #processBacklog(): Promise<void> {
    try {
      while (this.#backlog.length > 0) {
        const slice = this.#backlog.splice(0, PROCESS_SLICE);
        for (const message of slice) {
          try {
            this.#process(message);
          } catch (error) {
            // A defect, not a script failure (those are caught per message): the message stays
            // RECEIVED in the store and is processed again on the next start.
            this.#log(
              "error",
              `message ${message.messageId}: processing aborted (${errorKind(error)})`,
            );
            message.processed.resolve("ERROR");
            this.#inFlight.delete(message);
          }
        }
        const waiters = this.#backlogWaiters;
        this.#backlogWaiters = [];
        for (const wake of waiters) wake();
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#processing = undefined;
    }
  }

  #scope(message: InFlight, connectorMap: Map<string, unknown>): ScriptScope {
    return {
      channelMap: message.channelMap,
      sourceMap: message.sourceMap,
      connectorMap,
      responseMap: message.responseMap,
      globalMap: this.#options.globalMap,
      globalChannelMap: this.#globalChannelMap,
      configurationMap: this.#options.configurationMap,
      logger: (level, text) => this.#log(level, text),
      routed: [],
    };
  }

  /** Stage 2-3 for one message: synchronous, so receive order is kept; one commit for all of it. */
  #process(message: InFlight): void {
    const compiled = this.#compiled;
    const messageId = message.messageId;
    const writes: StoreWrite[] = [];
    const deliveries: Delivery[] = [];
    const events: [string, MessageStatus][] = [];
    const scope = this.#scope(message, new Map());
    let sourceStatus: MessageStatus;
    try {
      let content = message.raw;
      if (compiled.globalPreprocessor !== undefined)
        content = compiled.globalPreprocessor(content, scope);
      if (compiled.preprocessor !== undefined) content = compiled.preprocessor(content, scope);
      if (compiled.globalPreprocessor !== undefined || compiled.preprocessor !== undefined) {
        this.#content(writes, {
          messageId,
          connectorId: SOURCE_CONNECTOR_ID,
          kind: "processedRaw",
          content,
        });
      }
      if (compiled.filter !== undefined && !compiled.filter(content, scope)) {
        sourceStatus = "FILTERED";
        writes.push(this.#status(messageId, SOURCE_CONNECTOR_ID, { status: sourceStatus }));
        writes.push(this.#stats(SOURCE_CONNECTOR_ID, { filtered: 1 }));
      } else {
        const transformed =
          compiled.transformer === undefined ? content : compiled.transformer(content, scope);
        sourceStatus = "TRANSFORMED";
        writes.push(this.#status(messageId, SOURCE_CONNECTOR_ID, { status: sourceStatus }));
        this.#content(writes, {
          messageId,
          connectorId: SOURCE_CONNECTOR_ID,
          kind: "transformed",
          content: transformed,
        });
        if (compiled.metadata.length > 0 && this.#storage.storesMessages) {
          const values: Record<string, string> = {};
          for (const column of compiled.metadata)
            values[column.name] = column.value(transformed, scope);
          writes.push({ op: "putMetadata", channelId: this.id, messageId, values });
        }
        this.#route(message, { transformed, scope, writes, deliveries, events });
      }
    } catch (error) {
      sourceStatus = "ERROR";
      writes.length = 0;
      writes.push(
        this.#status(messageId, SOURCE_CONNECTOR_ID, {
          status: sourceStatus,
          error: "Processing failed",
        }),
      );
      writes.push(this.#stats(SOURCE_CONNECTOR_ID, { errored: 1 }));
      this.#content(writes, {
        messageId,
        connectorId: SOURCE_CONNECTOR_ID,
        kind: "error",
        content: describe(error),
      });
      deliveries.length = 0;
      events.length = 0;
      message.outcomes.clear();
      message.left = 0;
      this.#log("warn", `message ${messageId}: source processing failed (${errorKind(error)})`);
    }
    if (this.#storage.keeps("maps")) {
      this.#content(writes, {
        messageId,
        connectorId: SOURCE_CONNECTOR_ID,
        kind: "maps",
        content: mapsJson(message.channelMap),
      });
    }
    const committed = this.#write(writes);
    for (const delivery of deliveries) {
      delivery.ready = committed;
      this.#queues.get(delivery.destination.config.id)?.enqueue(delivery);
    }
    const status = sourceStatus;
    committed.then(
      () => {
        this.#messageEvent(messageId, SOURCE_CONNECTOR_ID, status);
        for (const [connectorId, destinationStatus] of events)
          this.#messageEvent(messageId, connectorId, destinationStatus);
        message.processed.resolve(status);
        if (message.left === 0) this.#finish(message, scope);
        for (const routed of scope.routed) {
          this.#options.route(routed.channel, routed.content).catch((error: unknown) => {
            this.#log(
              "warn",
              `message ${messageId}: routing to channel ${routed.channel} failed (${describe(error)})`,
            );
          });
        }
      },
      (error: unknown) => {
        // The stage commit failed: the message stays RECEIVED in the store and is processed again on restart.
        this.#log("error", `message ${messageId}: stage commit failed (${describe(error)})`);
        message.processed.resolve("ERROR");
        this.#inFlight.delete(message);
      },
    );
  }

  /** Stage 3: each destination's filter, transformer and lane key, and its QUEUED status. */
  #route(
    message: InFlight,
    stage: {
      transformed: string;
      scope: ScriptScope;
      writes: StoreWrite[];
      deliveries: Delivery[];
      events: [string, MessageStatus][];
    },
  ): void {
    const messageId = message.messageId;
    let previous: Promise<void> | undefined;
    for (const destination of this.#compiled.destinations) {
      const id = destination.config.id;
      const outcome = { first: deferred<DestinationOutcome>(), done: deferred<void>() };
      const after = destination.config.waitForPrevious ? previous : undefined;
      // Its filter and transformer run in the lane, once `after` settled (see Delivery.chained).
      const chained = after !== undefined;
      message.outcomes.set(id, outcome);
      previous = outcome.done.promise;
      const scope = { ...stage.scope, connectorMap: new Map<string, unknown>() };
      try {
        if (
          !chained &&
          destination.filter !== undefined &&
          !destination.filter(stage.transformed, scope)
        ) {
          stage.writes.push(
            this.#status(messageId, id, { status: "FILTERED" }),
            this.#stats(id, { filtered: 1 }),
          );
          stage.events.push([id, "FILTERED"]);
          settle(outcome, { status: "FILTERED" });
          continue;
        }
        const encoded =
          chained || destination.transformer === undefined
            ? stage.transformed
            : destination.transformer(stage.transformed, scope);
        const laneKey = destination.groupBy?.(encoded, scope);
        stage.writes.push(
          this.#status(messageId, id, {
            status: "QUEUED",
            sendAttempts: 0,
            ...(laneKey === undefined ? {} : { laneKey }),
          }),
          this.#stats(id, { queued: 1 }),
        );
        if (this.#storage.keeps("encoded") || this.#storage.keepsEncodedWhileQueued) {
          this.#content(
            stage.writes,
            { messageId, connectorId: id, kind: "encoded", content: encoded },
            true,
          );
        }
        stage.events.push([id, "QUEUED"]);
        const overflow = this.#overflow.get(id);
        if (overflow !== undefined) {
          const queued = this.#queues.get(id)?.size ?? 0;
          if (overflow.active || queued >= destination.config.queue.bufferSize) {
            // Durable in the store; read back when the queue drains. A source waiting on
            // this destination hears "queued" (accepted) now.
            overflow.active = true;
            overflow.newest = messageId;
            settle(outcome, { status: "QUEUED" });
            continue;
          }
          overflow.through = messageId;
        }
        message.left++;
        const delivery: Delivery = {
          messageId,
          sendAttempts: 0,
          ready: Promise.resolve(),
          message,
          destination,
          content: encoded,
        };
        if (laneKey !== undefined) delivery.laneKey = laneKey;
        if (after !== undefined) {
          delivery.after = after;
          delivery.chained = true;
        }
        stage.deliveries.push(delivery);
      } catch (error) {
        stage.writes.push(
          this.#status(messageId, id, { status: "ERROR", error: "Destination processing failed" }),
          this.#stats(id, { errored: 1 }),
        );
        this.#content(stage.writes, {
          messageId,
          connectorId: id,
          kind: "error",
          content: describe(error),
        });
        stage.events.push([id, "ERROR"]);
        settle(outcome, { status: "ERROR" });
        this.#log(
          "warn",
          `message ${messageId}: destination ${id} processing failed (${errorKind(error)})`,
        );
      }
    }
  }

  /**
   * A chained destination's filter and transformer, in its lane. False when the message went
   * no further (FILTERED or ERROR, committed here); otherwise `delivery.content` is encoded.
   */
  #prepareChained(delivery: Delivery): boolean {
    const { destination, message } = delivery;
    const id = destination.config.id;
    const messageId = delivery.messageId;
    const scope = this.#scope(message, new Map());
    const writes: StoreWrite[] = [];
    let outcome: DestinationOutcome;
    try {
      if (destination.filter !== undefined && !destination.filter(delivery.content, scope)) {
        writes.push(
          this.#status(messageId, id, { status: "FILTERED" }),
          this.#stats(id, { filtered: 1, queued: -1 }),
        );
        outcome = { status: "FILTERED" };
      } else {
        if (destination.transformer !== undefined)
          delivery.content = destination.transformer(delivery.content, scope);
        delivery.chained = false;
        delivery.encodedInLane = true;
        this.#routeLater(messageId, scope.routed);
        return true;
      }
    } catch (error) {
      writes.length = 0;
      writes.push(
        this.#status(messageId, id, { status: "ERROR", error: "Destination processing failed" }),
        this.#stats(id, { errored: 1, queued: -1 }),
      );
      this.#content(writes, {
        messageId,
        connectorId: id,
        kind: "error",
        content: describe(error),
      });
      outcome = { status: "ERROR" };
      this.#log(
        "warn",
        `message ${messageId}: destination ${id} processing failed (${errorKind(error)})`,
      );
    }
    this.#dropQueuedContent(writes, messageId, id);
    this.#readBack(destination);
    this.#write(writes, { lazy: !this.#awaited(destination) }).then(
      () => {
        this.#messageEvent(messageId, id, outcome.status);
        const pending = message.outcomes.get(id);
        if (pending !== undefined) settle(pending, outcome);
        if (outcome.status === "FILTERED") this.#routeLater(messageId, scope.routed);
        if (--message.left === 0) this.#finish(message, this.#scope(message, new Map()));
      },
      (error: unknown) => {
        this.#log(
          "error",
          `message ${messageId}: destination ${id} status commit failed (${describe(error)}); it is processed again after a restart`,
        );
      },
    );
    return false;
  }

  /** Sends what scripts routed with router.routeMessage. */
  #routeLater(messageId: number, routed: ScriptScope["routed"]): void {
    for (const route of routed) {
      this.#options.route(route.channel, route.content).catch((error: unknown) => {
        this.#log(
          "warn",
          `message ${messageId}: routing to channel ${route.channel} failed (${describe(error)})`,
        );
      });
    }
  }

  /** One send of one queued message; persists what happened. */
  async #attempt(delivery: Delivery, final: boolean): Promise<"done" | AttemptRetry> {
    const { destination, message } = delivery;
    const id = destination.config.id;
    const messageId = delivery.messageId;
    if (delivery.chained === true && !this.#prepareChained(delivery)) return "done";
    let response: ConnectorResponse;
    try {
      response = await destination.connector.send(
        {
          channelId: this.id,
          messageId,
          destinationId: id,
          content: delivery.content,
          dataType: destination.config.dataType ?? this.#compiled.channel.dataType,
          channelMap: message.channelMap,
          sourceMap: message.sourceMap,
        },
        {
          policy: this.#options.policy,
          log: (level, text) => this.#log(level, text),
          signal: this.#sends.signal,
        },
      );
    } catch (error) {
      // A connector that throws instead of reporting: treated as a retryable failure.
      response = { status: "ERROR", retryable: true, message: describe(error) };
    }
    if (this.#sends.signal.aborted) return "done";
    delivery.sendAttempts++;
    const writes: StoreWrite[] = [];
    const base = { sendAttempts: delivery.sendAttempts };
    let outcome: DestinationOutcome;
    let result: "done" | AttemptRetry = "done";
    let processed = response.content;
    /** The sent and response content are stored with PENDING already. */
    let pendingStored = false;
    if (
      response.status === "SENT" &&
      destination.responseTransformer !== undefined &&
      response.content !== undefined
    ) {
      // PENDING (Mirth's meaning): sent, the response awaits its transformer. Committed
      // before the transformer runs, so a crash from here on leaves the message PENDING and
      // recovery sends it again; the lane waits for this commit because the transformer
      // may still turn the send into a retry.
      const pending: StoreWrite[] = [this.#status(messageId, id, { ...base, status: "PENDING" })];
      this.#content(pending, {
        messageId,
        connectorId: id,
        kind: "sent",
        content: delivery.content,
      });
      this.#content(pending, {
        messageId,
        connectorId: id,
        kind: "response",
        content: response.content,
      });
      try {
        await this.#write(pending);
      } catch (error) {
        this.#log(
          "error",
          `message ${messageId}: destination ${id} status commit failed (${describe(error)}); it will be sent again after a restart`,
        );
        return "done";
      }
      if (this.#sends.signal.aborted) return "done";
      pendingStored = true;
      this.#messageEvent(messageId, id, "PENDING");
      const scope: ScriptScope = {
        ...this.#scope(message, new Map()),
        response: { status: "SENT", content: response.content },
      };
      try {
        processed = destination.responseTransformer(response.content, scope);
      } catch (error) {
        this.#log(
          "warn",
          `message ${messageId}: response transformer of ${id} failed (${errorKind(error)})`,
        );
      }
      const verdict = scope.responseOutcome;
      if (verdict?.status === "ERROR" || verdict?.status === "QUEUED") {
        // The transformer judged the response a failure: QUEUED retries per the queue
        // policy, ERROR ends the delivery now (dead-letter in queued modes).
        response = {
          status: "ERROR",
          retryable: verdict.status === "QUEUED",
          content: response.content,
          message:
            verdict.statusMessage ?? `The response transformer set the status ${verdict.status}`,
        };
      }
    }
    if (response.status === "SENT") {
      writes.push(
        this.#status(messageId, id, { ...base, status: "SENT" }),
        this.#stats(id, { sent: 1, queued: -1 }),
      );
      if (!pendingStored) {
        this.#content(writes, {
          messageId,
          connectorId: id,
          kind: "sent",
          content: delivery.content,
        });
      }
      if (response.content !== undefined) {
        if (!pendingStored) {
          this.#content(writes, {
            messageId,
            connectorId: id,
            kind: "response",
            content: response.content,
          });
        }
        message.responseMap.set(destination.config.name, processed);
      }
      if (processed !== undefined && processed !== response.content) {
        this.#content(writes, {
          messageId,
          connectorId: id,
          kind: "processedResponse",
          content: processed,
        });
      }
      this.#dropQueuedContent(writes, messageId, id);
      outcome =
        processed === undefined ? { status: "SENT" } : { status: "SENT", response: processed };
    } else if (response.retryable && !final) {
      writes.push(
        this.#status(messageId, id, { ...base, status: "QUEUED", error: response.message }),
      );
      result = response.retryAfterMs === undefined ? {} : { retryAfterMs: response.retryAfterMs };
      outcome = { status: "QUEUED" };
    } else {
      const deadLetter = destination.config.queue.mode !== "never";
      writes.push(
        this.#status(messageId, id, {
          ...base,
          status: "ERROR",
          error: response.message,
          deadLetter,
        }),
        this.#stats(id, { errored: 1, queued: -1 }),
      );
      if (response.content !== undefined) {
        this.#content(writes, {
          messageId,
          connectorId: id,
          kind: "response",
          content: response.content,
        });
      }
      if (!deadLetter) this.#dropQueuedContent(writes, messageId, id);
      outcome =
        response.content === undefined
          ? { status: "ERROR" }
          : { status: "ERROR", response: response.content };
      this.#log(
        "warn",
        `message ${messageId}: destination ${id} gave up after ${delivery.sendAttempts} attempt(s)${deadLetter ? "; moved to dead-letter" : ""}`,
      );
    }
    if (delivery.encodedInLane === true && result === "done" && this.#storage.keeps("encoded")) {
      this.#content(writes, {
        messageId,
        connectorId: id,
        kind: "encoded",
        content: delivery.content,
      });
    }
    if (result !== "done") {
      try {
        await this.#write(writes);
      } catch (error) {
        this.#log(
          "error",
          `message ${messageId}: destination ${id} status commit failed (${describe(error)})`,
        );
      }
      this.#messageEvent(messageId, id, "QUEUED");
      // A source waiting on this destination hears its first attempt; a queued retry counts as
      // accepted (it is durable), while "never" keeps the source waiting through its retries.
      if (destination.config.queue.mode !== "never")
        message.outcomes.get(id)?.first.resolve(outcome);
      return result;
    }
    this.#readBack(destination);
    // The lane goes on to its next message without waiting for this commit, and the commit
    // waits a few ms (lazy) so the statuses of consecutive sends share one fsync. Nothing
    // counts the message as done before it commits; a crash before it means this message
    // is sent again after restart (at-least-once), never lost. A source or a chained
    // destination waiting on this outcome gets an ordinary (prompt) window.
    this.#write(writes, { lazy: !this.#awaited(destination) }).then(
      () => {
        this.#messageEvent(messageId, id, outcome.status);
        const pending = message.outcomes.get(id);
        if (pending !== undefined) settle(pending, outcome);
        if (--message.left === 0) this.#finish(message, this.#scope(message, new Map()));
      },
      (error: unknown) => {
        this.#log(
          "error",
          `message ${messageId}: destination ${id} status commit failed (${describe(error)}); it will be sent again after a restart`,
        );
      },
    );
    return result;
  }

  /** Whether a source ACK or the next destination of a chain waits on this destination's outcome. */
  #awaited(destination: CompiledDestination): boolean {
    const ack = this.#compiled.channel.ack;
    if (ack.mode === "afterDestination" && ack.destination === destination.config.id) return true;
    const index = this.#compiled.destinations.indexOf(destination);
    return this.#compiled.destinations[index + 1]?.config.waitForPrevious === true;
  }

  /** After the last destination: the postprocessor, then the message leaves memory. */
  #finish(message: InFlight, scope: ScriptScope): void {
    this.#inFlight.delete(message);
    const { postprocessor, globalPostprocessor } = this.#compiled;
    for (const [run, name] of [
      [postprocessor, "postprocessor"],
      [globalPostprocessor, "global postprocessor"],
    ] as const) {
      if (run === undefined) continue;
      try {
        run(message.raw, scope);
      } catch (error) {
        this.#log("warn", `message ${message.messageId}: ${name} failed (${errorKind(error)})`);
      }
    }
  }

  /** In "raw" mode the encoded content lives only while the message is queued. */
  #dropQueuedContent(writes: StoreWrite[], messageId: number, connectorId: string): void {
    if (
      this.#storage.storesMessages &&
      !this.#storage.keeps("encoded") &&
      this.#storage.keepsEncodedWhileQueued
    ) {
      writes.push({
        op: "deleteContent",
        channelId: this.id,
        messageId,
        connectorId,
        kind: "encoded",
      });
    }
  }

  /** Recovery: RECEIVED messages are processed again, QUEUED/PENDING ones sent again, in id order. */
  async #recover(): Promise<void> {
    if (!this.#storage.storesMessages) return;
    const store = this.#options.store;
    const work = await store.listUnfinished(this.id);
    const lost: StoreWrite[] = [];
    const byMessage = new Map<number, InFlight>();
    const loaded = new Map<string, number>();
    for (const record of work.queued) {
      const overflow = this.#overflow.get(record.connectorId);
      const count = loaded.get(record.connectorId) ?? 0;
      const destination = this.#compiled.destinations.find(
        (d) => d.config.id === record.connectorId,
      );
      if (
        overflow !== undefined &&
        destination !== undefined &&
        count >= destination.config.queue.bufferSize
      ) {
        overflow.active = true;
        overflow.newest = record.messageId;
        continue;
      }
      loaded.set(record.connectorId, count + 1);
      await this.#enqueueStored(record, { byMessage, lost });
      if (overflow !== undefined) overflow.through = record.messageId;
    }
    for (const messageId of work.received) {
      const raw = await store.getContent(
        { channelId: this.id, messageId, connectorId: SOURCE_CONNECTOR_ID },
        "raw",
      );
      if (raw === undefined) {
        lost.push(
          this.#status(messageId, SOURCE_CONNECTOR_ID, {
            status: "ERROR",
            error: "Content not stored (storage mode)",
          }),
        );
        lost.push(this.#stats(SOURCE_CONNECTOR_ID, { errored: 1 }));
        continue;
      }
      let parsed: Hl7Message | undefined;
      try {
        if (this.#compiled.channel.dataType === "HL7V2") parsed = parseHl7(raw);
      } catch {
        lost.push(
          this.#status(messageId, SOURCE_CONNECTOR_ID, {
            status: "ERROR",
            error: "Message could not be parsed",
          }),
        );
        lost.push(this.#stats(SOURCE_CONNECTOR_ID, { errored: 1 }));
        continue;
      }
      this.#enqueueProcessing(
        this.#newInFlight({
          messageId,
          raw,
          parsed,
          sourceMap: await this.#storedSourceMap(messageId),
        }),
      );
    }
    if (lost.length > 0) {
      this.#log(
        "error",
        `recovery: ${lost.length / 2} unfinished message(s) could not be recovered and are marked ERROR`,
      );
      await this.#write(lost);
    }
    // Recovery completes (reprocessed messages committed) before any new input is accepted.
    await this.#processing;
    await this.#options.commit.flush();
  }

  /** Puts a stored QUEUED destination message back into its lane, with its stored encoded content. */
  async #enqueueStored(
    record: ConnectorMessageRecord,
    batch: { byMessage: Map<number, InFlight>; lost: StoreWrite[] },
  ): Promise<void> {
    const generation = this.#generation;
    const destination = this.#compiled.destinations.find((d) => d.config.id === record.connectorId);
    // A disabled destination keeps its queue in the store until it is enabled again.
    if (
      destination === undefined &&
      this.channel.destinations.some((d) => d.id === record.connectorId)
    )
      return;
    const ref = {
      channelId: this.id,
      messageId: record.messageId,
      connectorId: record.connectorId,
    };
    const content = await this.#options.store.getContent(ref, "encoded");
    if (destination === undefined || content === undefined) {
      const reason =
        destination === undefined
          ? "Destination no longer exists"
          : "Content not stored (storage mode)";
      batch.lost.push(
        this.#status(record.messageId, record.connectorId, { status: "ERROR", error: reason }),
      );
      batch.lost.push(this.#stats(record.connectorId, { errored: 1, queued: -1 }));
      return;
    }
    let message = batch.byMessage.get(record.messageId);
    if (message === undefined) {
      message = this.#newInFlight({
        messageId: record.messageId,
        raw: "",
        parsed: undefined,
        sourceMap: await this.#storedSourceMap(record.messageId),
      });
      message.processed.resolve("TRANSFORMED");
      batch.byMessage.set(record.messageId, message);
    }
    message.left++;
    message.outcomes.set(record.connectorId, { first: deferred(), done: deferred() });
    const delivery: Delivery = {
      messageId: record.messageId,
      sendAttempts: record.sendAttempts,
      ready: Promise.resolve(),
      message,
      destination,
      content,
    };
    if (record.laneKey !== undefined) delivery.laneKey = record.laneKey;
    const index = this.#compiled.destinations.indexOf(destination);
    const previous = this.#compiled.destinations[index - 1];
    const waitFor =
      destination.config.waitForPrevious && previous !== undefined
        ? message.outcomes.get(previous.config.id)
        : undefined;
    if (destination.config.waitForPrevious && previous !== undefined) {
      // Stored while queued is the input of its filter and transformer (they had not run).
      delivery.chained = true;
      if (waitFor !== undefined) delivery.after = waitFor.done.promise;
    }
    // A restart while the content was read recovers this message itself.
    if (generation !== this.#generation) return;
    this.#queues.get(destination.config.id)?.enqueue(delivery);
  }

  /** Processes a stored message again: as a new message, or in place of the old one. */
  async reprocess(messageId: number, overwrite: boolean): Promise<DispatchResult> {
    const store = this.#options.store;
    const detail = await store.getMessage(this.id, messageId);
    if (detail === undefined) {
      throw new NodeMirthError(
        "ERR_MESSAGE_NOT_FOUND",
        `Channel ${this.id} has no message ${messageId}.`,
        {
          details: { channelId: this.id, messageId },
        },
      );
    }
    const raw = detail.connectors.find((c) => c.connectorId === SOURCE_CONNECTOR_ID)?.content.raw;
    if (raw === undefined) {
      throw new NodeMirthError(
        "ERR_MESSAGE_CONTENT_NOT_STORED",
        `Message ${messageId} of channel ${this.id} has no stored raw content (storage mode ${this.channel.storage}).`,
        { details: { channelId: this.id, messageId } },
      );
    }
    if (
      overwrite &&
      detail.connectors.some((c) => UNFINISHED_STATUSES.includes(c.status) && !c.deadLetter)
    ) {
      throw new NodeMirthError(
        "ERR_MESSAGE_UNFINISHED",
        `Message ${messageId} of channel ${this.id} is still being processed; reprocess it as a new message or wait.`,
        { details: { channelId: this.id, messageId } },
      );
    }
    const sourceMap = Object.fromEntries(await this.#storedSourceMap(messageId));
    if (overwrite) return this.dispatch({ content: raw, sourceMap }, messageId);
    return this.dispatch({
      content: raw,
      sourceMap: { ...sourceMap, reprocessedMessageId: messageId },
    });
  }

  /** Moves dead letters back into their queues with a fresh retry budget. */
  async requeue(entries: readonly { messageId: number; destinationId: string }[]): Promise<number> {
    const records: ConnectorMessageRecord[] = [];
    for (const entry of entries) {
      const detail = await this.#options.store.getMessage(this.id, entry.messageId);
      const record = detail?.connectors.find(
        (c) => c.connectorId === entry.destinationId && c.deadLetter,
      );
      if (record !== undefined)
        records.push({ ...record, sendAttempts: 0, status: "QUEUED", deadLetter: false });
    }
    if (records.length === 0) return 0;
    await this.#write(
      records.flatMap((record) => [
        this.#status(record.messageId, record.connectorId, {
          status: "QUEUED",
          sendAttempts: 0,
          deadLetter: false,
        }),
        this.#stats(record.connectorId, { queued: 1 }),
      ]),
    );
    const batch = { byMessage: new Map<number, InFlight>(), lost: [] as StoreWrite[] };
    for (const record of records) await this.#enqueueStored(record, batch);
    if (batch.lost.length > 0) await this.#write(batch.lost);
    return records.length - batch.lost.length / 2;
  }

  /** Starts reading an overflowed queue back from the store once it has drained to half. */
  #readBack(destination: CompiledDestination): void {
    const overflow = this.#overflow.get(destination.config.id);
    const queue = this.#queues.get(destination.config.id);
    if (
      overflow === undefined ||
      queue === undefined ||
      !overflow.active ||
      overflow.reading !== undefined
    )
      return;
    if (this.#state !== "started" && this.#state !== "paused") return;
    const bufferSize = destination.config.queue.bufferSize;
    if (queue.size > bufferSize / 2) return;
    const generation = this.#generation;
    // Only the read that is current may clear the marker: one left over from before a
    // restart must not let a second read of the same page start beside the new one.
    const done = () => {
      if (overflow.reading !== reading || generation !== this.#generation) return;
      overflow.reading = undefined;
      this.#readBack(destination);
    };
    const reading: Promise<void> = this.#readPage(destination, {
      overflow,
      limit: Math.max(1, bufferSize - queue.size),
    }).then(done, (error: unknown) => {
      this.#log(
        "error",
        `destination ${destination.config.id}: reading its queue back failed (${describe(error)})`,
      );
      // Tried again a second later.
      setTimeout(done, 1_000).unref();
    });
    overflow.reading = reading;
  }

  async #readPage(
    destination: CompiledDestination,
    page: { overflow: Overflow; limit: number },
  ): Promise<void> {
    const { overflow } = page;
    const generation = this.#generation;
    // Everything overflowed so far is committed before the store is asked for it.
    await this.#options.commit.flush();
    const records = await this.#options.store.listQueued(
      { channelId: this.id, connectorId: destination.config.id },
      { afterMessageId: overflow.through, limit: page.limit },
    );
    const batch = { byMessage: new Map<number, InFlight>(), lost: [] as StoreWrite[] };
    for (const record of records) {
      // A restart meanwhile recovers the queue itself; entries read here would be stale.
      if (generation !== this.#generation) return;
      await this.#enqueueStored(record, batch);
      overflow.through = record.messageId;
    }
    if (generation !== this.#generation) return;
    if (batch.lost.length > 0) await this.#write(batch.lost);
    // Checked after the last await: a message that overflowed meanwhile keeps it active.
    if (overflow.through >= overflow.newest) overflow.active = false;
  }

  async #storedSourceMap(messageId: number): Promise<Map<string, unknown>> {
    const json = await this.#options.store.getContent(
      { channelId: this.id, messageId, connectorId: SOURCE_CONNECTOR_ID },
      "sourceMap",
    );
    return new Map(
      Object.entries(json === undefined ? {} : (JSON.parse(json) as Record<string, unknown>)),
    );
  }

  async #startSource(): Promise<void> {
    this.#source = new AbortController();
    const context: SourceContext = {
      channelId: this.id,
      dispatch: (raw) => this.dispatch(raw),
      policy: this.#options.policy,
      log: (level, text) => this.#log(level, text),
      signal: this.#source.signal,
    };
    try {
      await this.#compiled.source.start(context);
    } catch (error) {
      await this.halt();
      const failure = new NodeMirthError(
        "ERR_CHANNEL_NOT_STARTED",
        `The source of channel ${this.id} failed to start.`,
        {
          cause: error,
          details: { channelId: this.id },
        },
      );
      this.#setState("failed", failure);
      throw failure;
    }
  }

  async #stopSource(): Promise<void> {
    this.#source.abort();
    const stopped = this.#compiled.source.stop().catch((error: unknown) => {
      this.#log("warn", `source stop failed (${describe(error)})`);
    });
    if (!(await withDeadline(stopped, this.#stopTimeoutMs))) {
      this.#log("warn", `source did not stop within ${this.#stopTimeoutMs} ms; left behind`);
    }
  }

  async #stopQueues(): Promise<void> {
    const stopped = Promise.all([...this.#queues.values()].map((queue) => queue.stop()));
    if (!(await withDeadline(stopped, this.#stopTimeoutMs))) {
      // Sends still in flight are cut off; their messages stay QUEUED and are sent after restart.
      this.#sends.abort();
      this.#log("warn", `sends in flight did not finish within ${this.#stopTimeoutMs} ms; aborted`);
    }
    for (const destination of this.#compiled.destinations) {
      try {
        await destination.connector.stop?.();
      } catch (error) {
        this.#log("warn", `destination ${destination.config.id} stop failed (${describe(error)})`);
      }
    }
    // Messages still queued are durable; a source waiting on one hears "queued" (accepted).
    for (const message of this.#inFlight) {
      for (const outcome of message.outcomes.values()) settle(outcome, { status: "QUEUED" });
    }
    this.#inFlight.clear();
  }

  #write(writes: StoreWrite[], options?: GroupCommitWriteOptions): Promise<void> {
    const stats = writes.filter((write) => write.op === "addStatistics");
    const committed = this.#options.commit.write(
      this.#storage.storesMessages ? writes : stats,
      options,
    );
    if (stats.length > 0)
      committed.then(
        () => this.#count(stats),
        () => undefined,
      );
    return committed;
  }

  /** Applies committed statistics deltas to the running totals and publishes them. */
  #count(stats: StoreWrite[]): void {
    for (const write of stats) {
      if (write.op !== "addStatistics") continue;
      const counts = (this.#totals[write.connectorId] ??= { ...EMPTY_STATISTICS });
      for (const field of Object.keys(write.delta) as (keyof StatisticsCounts)[]) {
        counts[field] += write.delta[field] ?? 0;
      }
    }
    const events = this.#options.events;
    if (!events.active) return;
    const statistics = Object.fromEntries(
      Object.entries(this.#totals).map(([connectorId, counts]) => [connectorId, { ...counts }]),
    );
    events.emit({ type: "statistics", channelId: this.id, statistics, at: Date.now() });
  }

  #status(
    messageId: number,
    connectorId: string,
    change: {
      status: MessageStatus;
      error?: string | undefined;
      sendAttempts?: number;
      deadLetter?: boolean;
      laneKey?: string;
    },
  ): StoreWrite {
    const write: StoreWrite = {
      op: "setStatus",
      channelId: this.id,
      messageId,
      connectorId,
      status: change.status,
      updatedAt: Date.now(),
    };
    if (change.error !== undefined) write.error = change.error;
    if (change.sendAttempts !== undefined) write.sendAttempts = change.sendAttempts;
    if (change.deadLetter !== undefined) write.deadLetter = change.deadLetter;
    if (change.laneKey !== undefined) write.laneKey = change.laneKey;
    return write;
  }

  /** Adds a content write when the storage mode keeps that kind (or `force` for queued content). */
  #content(
    writes: StoreWrite[],
    content: {
      messageId: number;
      connectorId: string;
      kind: Extract<StoreWrite, { op: "putContent" }>["kind"];
      content: string;
    },
    force = false,
  ): void {
    if (!this.#storage.storesMessages || (!force && !this.#storage.keeps(content.kind))) return;
    writes.push({ op: "putContent", channelId: this.id, ...content });
  }

  #stats(connectorId: string, delta: Partial<StatisticsCounts>): StoreWrite {
    return { op: "addStatistics", channelId: this.id, connectorId, delta };
  }

  #messageEvent(messageId: number, connectorId: string, status: MessageStatus): void {
    const events = this.#options.events;
    if (events.active)
      events.emit({
        type: "message",
        channelId: this.id,
        messageId,
        connectorId,
        status,
        at: Date.now(),
      });
  }

  #log(level: LogLevel, text: string): void {
    this.#options.events.emit({ type: "log", level, channelId: this.id, text, at: Date.now() });
  }

  #setState(state: ChannelState, error?: NodeMirthError): void {
    this.#state = state;
    this.#options.events.emit({
      type: "channelState",
      channelId: this.id,
      state,
      ...(error === undefined ? {} : { error: { code: error.code, message: error.message } }),
      at: Date.now(),
    });
  }
}

function settle(
  outcome: { first: Deferred<DestinationOutcome>; done: Deferred<void> },
  value: DestinationOutcome,
): void {
  outcome.first.resolve(value);
  outcome.done.resolve();
}

/** The channel map as stored JSON; values JSON cannot hold are stored as their type name. */
/**
 * The text of what a source received. HL7 bytes are decoded with the charset their MSH-18
 * names (as @node-mirth/hl7 parses them); bytes that are not HL7 are kept as latin1, which
 * maps every byte to one character and loses none. Other data types are UTF-8.
 */
function decode(
  input: string | Buffer,
  dataType: Channel["dataType"],
): { content: string; parsed?: Hl7Message; parseError?: string } {
  if (dataType !== "HL7V2") {
    return { content: typeof input === "string" ? input : input.toString("utf8") };
  }
  try {
    const parsed = parseHl7(input);
    const content =
      typeof input === "string" ? input : resolveCharset(parsed.get("MSH.18") ?? "").decode(input);
    return { content, parsed };
  } catch (error) {
    return {
      content: typeof input === "string" ? input : input.toString("latin1"),
      parseError: describe(error),
    };
  }
}

function mapsJson(channelMap: Map<string, unknown>): string {
  try {
    return JSON.stringify({ channelMap: Object.fromEntries(channelMap) });
  } catch {
    return JSON.stringify({
      channelMap: Object.fromEntries(
        [...channelMap].map(([key, value]) => [key, `[${typeof value}]`]),
      ),
    });
  }
}

function outcomeOf(status: MessageStatus): SourceResponse["outcome"] {
  switch (status) {
    case "ERROR":
      return "error";
    case "FILTERED":
      return "reject";
    case "RECEIVED":
    case "TRANSFORMED":
    case "QUEUED":
    case "SENT":
    case "PENDING":
      return "accept";
  }
}

/** Logged instead of the error's message, which may quote content. */
function errorKind(error: unknown): string {
  if (error instanceof Error && "kind" in error)
    return `script ${String((error as { kind: unknown }).kind)}`;
  if (error instanceof Error && "code" in error) return String((error as { code: unknown }).code);
  return error instanceof Error ? error.name : "error";
}

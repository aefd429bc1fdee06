import { resolve } from "node:path";
import type { ZodType } from "zod";
import { channelConnector, type MessageRouter } from "./channel-connector.js";
import {
  ChannelRuntime,
  type CompiledChannel,
  type CompiledDestination,
} from "./channel-runtime.js";
import { channelSchema, isHl7Path, type Channel, type ConnectorConfig } from "./channel-schema.js";
import { ChannelScripts, type CompileIssue, type CompiledTransformer } from "./channel-scripts.js";
import type {
  ConnectorPlugin,
  ConnectorPolicy,
  DestinationConnector,
  DispatchResult,
  LogLevel,
  RawMessage,
  SourceConnector,
} from "./define-connector.js";
import { EngineEvents, type ChannelState, type EngineEventListener } from "./engine-events.js";
import { NodeMirthError } from "./errors.js";
import { GroupCommit, type GroupCommitMetrics } from "./group-commit.js";
import {
  type ConnectorMessageRecord,
  type MessageDetail,
  type MessageQuery,
  type MessageStore,
  type MessageSummary,
  type PruneResult,
  type StatisticsCounts,
} from "./message-store.js";
import { resolveVariablesDeep, UnsetVariableError } from "./resolve-variables.js";
import { createScriptSandbox } from "./script-sandbox.js";
import type { ScriptSandbox, ScriptSandboxOptions } from "./script-types.js";

export interface EngineOptions {
  store: MessageStore;
  /** Connector plugins; the built-in `channel` connector is always registered. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- plugins differ in their properties type
  plugins?: ConnectorPlugin<any>[];
  groupCommit?: { maxWrites?: number; maxDelayMs?: number; lazyDelayMs?: number };
  /** Mirth's configuration map: `${NAME}` in connector properties and `configurationMap` in scripts. */
  configurationMap?: Record<string, string>;
  /** Environment for `${NAME}`; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  policy?: Partial<ConnectorPolicy>;
  /** Limits of each channel's script sandbox. */
  sandbox?: ScriptSandboxOptions;
  /** Per channel: received messages waiting for processing before `dispatch` waits. */
  maxBacklog?: number;
  /** How long stopping a channel waits for its source and sends in flight; default 10 s. */
  stopTimeoutMs?: number;
  /** Mirth's global scripts (JavaScript), run around every channel; see GlobalScripts. */
  globalScripts?: GlobalScripts;
  /** Where connectors keep durable state of their own (ConnectorEnvironment.dataDir); default `./data`. */
  dataDir?: string;
}

/**
 * Server-wide scripts, as Mirth's global scripts. `deploy` runs once per `deploy` /
 * `deployAll` call, before the channels' own deploy scripts, and `undeploy` once per
 * `undeploy` call and at `close`, after the channels' undeploy scripts (Mirth runs them
 * once per deploy / undeploy operation, not per channel). They run in an engine-wide
 * sandbox with `globalMap`, `configurationMap` and `logger`; a failure is logged and the
 * operation goes on. `preprocessor` runs in each channel's sandbox before the channel's
 * preprocessor (its result is what that one gets), `postprocessor` after the channel's
 * postprocessor, with the message's maps; a compile error in either makes every deploy
 * fail with ERR_CHANNEL_INVALID (path `globalScripts.preprocessor` / `.postprocessor`).
 */
export interface GlobalScripts {
  deploy?: string;
  undeploy?: string;
  preprocessor?: string;
  postprocessor?: string;
}

export interface ChannelStatus {
  id: string;
  name: string;
  state: ChannelState;
}

export interface DeployIssue {
  /** Dotted path in the channel document, e.g. `destinations.0.connector.properties.host`. */
  path: string;
  message: string;
}

export interface DeployReport {
  channelId: string | undefined;
  ok: boolean;
  error?: NodeMirthError;
}

export interface Engine {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- plugins differ in their properties type
  registerPlugin(plugin: ConnectorPlugin<any>): void;
  /**
   * Validates (all problems at once, ERR_CHANNEL_INVALID), builds and starts a channel (when
   * enabled or `start` says so). Redeploying an id replaces the running channel only after the
   * new one validated; its queued messages carry over through the store.
   */
  deploy(channel: unknown, options?: { start?: boolean }): Promise<void>;
  /** Deploys each channel; one that fails is reported and the others still run. */
  deployAll(channels: readonly unknown[]): Promise<DeployReport[]>;
  undeploy(channelId: string): Promise<void>;
  start(channelId: string): Promise<void>;
  stop(channelId: string): Promise<void>;
  pause(channelId: string): Promise<void>;
  resume(channelId: string): Promise<void>;
  halt(channelId: string): Promise<void>;
  status(channelId: string): ChannelStatus;
  channels(): ChannelStatus[];
  /** Hands a message to a started channel, as its source would. */
  dispatch(channelId: string, raw: RawMessage): Promise<DispatchResult>;
  router: MessageRouter;
  statistics(channelId: string): Promise<Record<string, StatisticsCounts>>;
  subscribe(listener: EngineEventListener): () => void;
  messages: {
    search(query: MessageQuery): Promise<MessageSummary[]>;
    get(channelId: string, messageId: number): Promise<MessageDetail | undefined>;
    /** Processes stored raw content again: as new messages, or in place (`overwrite`). */
    reprocess(
      channelId: string,
      options: { messageIds: readonly number[]; overwrite?: boolean },
    ): Promise<DispatchResult[]>;
    remove(channelId: string, messageIds: readonly number[]): Promise<number>;
    prune(options: {
      channelId: string;
      olderThanMs: number;
      batchSize?: number;
      maxBatches?: number;
    }): Promise<PruneResult>;
  };
  deadLetters: {
    list(channelId: string, options?: { limit?: number }): Promise<ConnectorMessageRecord[]>;
    requeue(
      channelId: string,
      entries: readonly { messageId: number; destinationId: string }[],
    ): Promise<number>;
  };
  /** Resolves when the channel has processed what it received and its queues are empty. */
  idle(channelId: string): Promise<void>;
  commitMetrics(): GroupCommitMetrics;
  /** Stops every channel (graceful) and commits what is pending; the store stays open (it is the caller's). */
  close(): Promise<void>;
}

interface Deployed {
  runtime: ChannelRuntime;
  sandbox: ScriptSandbox | undefined;
}

/** Creates the engine: an open registry of connector plugins and the deployed channels. */
export function createEngine(options: EngineOptions): Engine {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- plugins differ in their properties type
  const plugins = new Map<string, ConnectorPlugin<any>>();
  const deployed = new Map<string, Deployed>();
  const events = new EngineEvents();
  const commit = new GroupCommit({ store: options.store, ...options.groupCommit });
  const globalMap = new Map<string, unknown>();
  const configuration = options.configurationMap ?? {};
  const configurationMap = new Map<string, unknown>(Object.entries(configuration));
  const policy: ConnectorPolicy = { allowInsecureBind: false, ...options.policy };
  const dataDir = resolve(options.dataDir ?? "data");
  let closed = false;

  const runtimeOf = (channelId: string): ChannelRuntime => {
    const entry = deployed.get(channelId);
    if (entry === undefined) {
      throw new NodeMirthError("ERR_CHANNEL_NOT_DEPLOYED", `No channel ${channelId} is deployed.`, {
        details: { channelId },
      });
    }
    return entry.runtime;
  };

  const router: MessageRouter = {
    routeMessage(channel, content) {
      try {
        const byId = deployed.get(channel)?.runtime;
        const target =
          byId ??
          [...deployed.values()].find((entry) => entry.runtime.channel.name === channel)?.runtime;
        return (target ?? runtimeOf(channel)).dispatch({ content });
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };

  const registerPlugin: Engine["registerPlugin"] = (plugin) => {
    if (plugins.has(plugin.type)) {
      throw new NodeMirthError(
        "ERR_CONNECTOR_DUPLICATE_TYPE",
        `A connector plugin of type ${plugin.type} is already registered.`,
        {
          details: { type: plugin.type },
        },
      );
    }
    plugins.set(plugin.type, plugin);
  };
  registerPlugin(channelConnector(router));
  for (const plugin of options.plugins ?? []) registerPlugin(plugin);

  /** Validate → plan: every problem of the document, its connectors and its scripts, at once. */
  async function compile(
    input: unknown,
  ): Promise<{ compiled: CompiledChannel; sandbox: ScriptSandbox | undefined }> {
    const issues: DeployIssue[] = [];
    const parsed = channelSchema.safeParse(input);
    const raw = (typeof input === "object" && input !== null ? input : {}) as Record<
      string,
      unknown
    >;
    const channelId = typeof raw.id === "string" ? raw.id : undefined;
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        issues.push({ path: issue.path.join("."), message: issue.message });
      // The connectors are checked even so: the operator gets every problem in one round.
      const destinations = Array.isArray(raw.destinations) ? (raw.destinations as unknown[]) : [];
      checkConnector(raw.source, { path: "source", role: "source", issues });
      destinations.forEach((destination, index) => {
        const connector = (destination as { connector?: unknown } | null)?.connector;
        checkConnector(connector, {
          path: `destinations.${index}.connector`,
          role: "destination",
          issues,
        });
      });
      throw invalid(channelId, issues);
    }
    const channel = parsed.data;
    const sourceProperties = checkConnector(channel.source, {
      path: "source",
      role: "source",
      issues,
    });
    const destinationProperties = channel.destinations.map((destination, index) =>
      checkConnector(destination.connector, {
        path: `destinations.${index}.connector`,
        role: "destination",
        issues,
      }),
    );
    let sandbox: ScriptSandbox | undefined;
    const global = options.globalScripts ?? {};
    if (
      usesJavaScript(channel) ||
      global.preprocessor !== undefined ||
      global.postprocessor !== undefined
    ) {
      try {
        sandbox = await createScriptSandbox(options.sandbox);
      } catch (error) {
        issues.push({
          path: "",
          message: `script sandbox: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
    try {
      const scripts = new ChannelScripts(sandbox);
      const at = (path: (string | number)[]) => ({ path, dataType: channel.dataType });
      const compiled: Omit<CompiledChannel, "source" | "destinations"> = {
        channel,
        metadata: channel.metadataColumns.map((column, index) => ({
          name: column.name,
          value: scripts.expression(
            column.expression,
            at(["metadataColumns", index, "expression"]),
          ),
        })),
      };
      if (global.preprocessor !== undefined) {
        compiled.globalPreprocessor = scripts.script(global.preprocessor, {
          ...at(["globalScripts", "preprocessor"]),
          kind: "preprocessor",
        });
      }
      if (global.postprocessor !== undefined) {
        compiled.globalPostprocessor = scripts.script(global.postprocessor, {
          ...at(["globalScripts", "postprocessor"]),
          kind: "postprocessor",
        });
      }
      if (channel.preprocessor !== undefined) {
        compiled.preprocessor = scripts.script(channel.preprocessor, {
          ...at(["preprocessor"]),
          kind: "preprocessor",
        });
      }
      if (channel.filter !== undefined)
        compiled.filter = scripts.filter(channel.filter, at(["filter"]));
      if (channel.transformer !== undefined) {
        compiled.transformer = scripts.transformer(channel.transformer, at(["transformer"]));
      }
      if (channel.deployScript !== undefined) {
        compiled.deployScript = scripts.script(channel.deployScript, {
          ...at(["deployScript"]),
          kind: "deploy",
        });
      }
      if (channel.undeployScript !== undefined) {
        compiled.undeployScript = scripts.script(channel.undeployScript, {
          ...at(["undeployScript"]),
          kind: "undeploy",
        });
      }
      if (channel.postprocessor !== undefined) {
        compiled.postprocessor = scripts.script(channel.postprocessor, {
          ...at(["postprocessor"]),
          kind: "postprocessor",
        });
      }
      const env = { channelId: channel.id, policy, dataDir };
      const source = create<SourceConnector>(
        () =>
          sourceProperties === undefined
            ? undefined
            : plugins.get(channel.source.type)?.createSource?.(sourceProperties.properties, env),
        {
          path: "source",
          issues,
        },
      );
      const destinations = channel.destinations
        .filter((destination) => destination.enabled)
        .map((destination) => {
          const index = channel.destinations.indexOf(destination);
          const where = (path: (string | number)[]) => ({
            path: ["destinations", index, ...path],
            dataType: destination.dataType ?? channel.dataType,
          });
          const connector = create<DestinationConnector>(
            () =>
              destinationProperties[index] === undefined
                ? undefined
                : plugins
                    .get(destination.connector.type)
                    ?.createDestination?.(destinationProperties[index].properties, env),
            { path: `destinations.${index}.connector`, issues },
          );
          const entry: CompiledDestination = {
            config: destination,
            connector: connector ?? { send: unreachableSend },
          };
          if (destination.filter !== undefined)
            entry.filter = scripts.filter(destination.filter, where(["filter"]));
          if (destination.transformer !== undefined)
            entry.transformer = scripts.transformer(
              destination.transformer,
              where(["transformer"]),
            );
          if (destination.responseTransformer !== undefined) {
            entry.responseTransformer = scripts.transformer(destination.responseTransformer, {
              ...where(["responseTransformer"]),
              kind: "responseTransformer",
            });
          }
          if (destination.queue.groupBy !== undefined) {
            entry.groupBy = scripts.expression(
              destination.queue.groupBy,
              where(["queue", "groupBy"]),
            );
          }
          return entry;
        });
      for (const issue of await scripts.issues()) issues.push(toDeployIssue(issue));
      if (issues.length > 0 || source === undefined) throw invalid(channel.id, issues);
      return { compiled: { ...compiled, source, destinations }, sandbox };
    } catch (error) {
      sandbox?.dispose();
      throw error;
    }
  }

  /** Checks a connector's type and properties; returns the parsed properties (${VAR} resolved) when valid. */
  function checkConnector(
    config: unknown,
    where: { path: string; role: "source" | "destination"; issues: DeployIssue[] },
  ): { properties: unknown } | undefined {
    const connector = config as Partial<ConnectorConfig> | undefined;
    if (typeof connector?.type !== "string") return undefined;
    const plugin = plugins.get(connector.type);
    if (plugin === undefined) {
      where.issues.push({
        path: `${where.path}.type`,
        message: `unknown connector type "${connector.type}"`,
      });
      return undefined;
    }
    const canServe =
      where.role === "source"
        ? plugin.createSource !== undefined
        : plugin.createDestination !== undefined;
    if (!canServe) {
      where.issues.push({
        path: `${where.path}.type`,
        message: `connector "${connector.type}" cannot be a ${where.role}`,
      });
    }
    let properties: unknown = connector.properties ?? {};
    try {
      properties = resolveVariablesDeep(properties, {
        configurationMap: configuration,
        ...(options.env === undefined ? {} : { env: options.env }),
        path: `${where.path}.properties`,
      });
    } catch (error) {
      if (!(error instanceof UnsetVariableError)) throw error;
      for (const unset of error.unset) {
        where.issues.push({ path: unset.path, message: `\${${unset.variable}} is not set` });
      }
    }
    const result = (plugin.propertiesSchema as ZodType).safeParse(properties);
    if (!result.success) {
      for (const issue of result.error.issues) {
        where.issues.push({
          path: [`${where.path}.properties`, ...issue.path].join("."),
          message: issue.message,
        });
      }
      return undefined;
    }
    return { properties: result.data };
  }

  function assertOpen(): void {
    if (closed) throw new NodeMirthError("ERR_ENGINE_CLOSED", "The engine is closed.");
  }

  /** Stops a deployed channel, runs its undeploy script and frees its sandbox. */
  async function retire(entry: Deployed): Promise<void> {
    await entry.runtime.stop();
    entry.runtime.runUndeployScript();
    entry.sandbox?.dispose();
  }

  /** The engine-wide sandbox of the global deploy and undeploy scripts, made on first use. */
  let lifecycle:
    | Promise<{
        sandbox: ScriptSandbox | undefined;
        scripts: Partial<Record<"deploy" | "undeploy", CompiledTransformer>>;
      }>
    | undefined;
  const log = (level: LogLevel, text: string) =>
    events.emit({ type: "log", level, text, at: Date.now() });

  async function globalLifecycle() {
    const sandbox = await createScriptSandbox(options.sandbox);
    const compiler = new ChannelScripts(sandbox);
    const scripts: Partial<Record<"deploy" | "undeploy", CompiledTransformer>> = {};
    for (const kind of ["deploy", "undeploy"] as const) {
      const code = options.globalScripts?.[kind];
      if (code === undefined) continue;
      scripts[kind] = compiler.script(code, {
        path: ["globalScripts", kind],
        dataType: "RAW",
        kind,
      });
    }
    for (const issue of await compiler.issues()) {
      const kind = issue.path[1] as "deploy" | "undeploy";
      delete scripts[kind];
      log("error", `global ${kind} script does not compile (${issue.message}); it will not run`);
    }
    return { sandbox, scripts };
  }

  /** Runs the global deploy or undeploy script; a failure is logged, never thrown. */
  async function runGlobal(kind: "deploy" | "undeploy"): Promise<void> {
    if (options.globalScripts?.[kind] === undefined) return;
    try {
      lifecycle ??= globalLifecycle();
      const script = (await lifecycle).scripts[kind];
      script?.("", {
        channelMap: new Map(),
        sourceMap: new Map(),
        connectorMap: new Map(),
        responseMap: new Map(),
        globalMap,
        globalChannelMap: new Map(),
        configurationMap,
        logger: log,
        routed: [],
      });
    } catch (error) {
      const kindOf =
        error instanceof Error && "kind" in error ? `script ${String(error.kind)}` : "failure";
      log("warn", `global ${kind} script failed (${kindOf})`);
    }
  }

  const deploy: Engine["deploy"] = async (input, deployOptions = {}) => {
    assertOpen();
    await runGlobal("deploy");
    return deployOne(input, deployOptions);
  };

  const deployOne: Engine["deploy"] = async (input, deployOptions = {}) => {
    assertOpen();
    const { compiled, sandbox } = await compile(input);
    const id = compiled.channel.id;
    const previous = deployed.get(id);
    if (previous !== undefined) await retire(previous);
    const runtime = new ChannelRuntime({
      compiled,
      store: options.store,
      commit,
      events,
      policy,
      globalMap,
      configurationMap,
      route: (channel, content) => router.routeMessage(channel, content),
      ...(options.maxBacklog === undefined ? {} : { maxBacklog: options.maxBacklog }),
      ...(options.stopTimeoutMs === undefined ? {} : { stopTimeoutMs: options.stopTimeoutMs }),
    });
    try {
      runtime.runDeployScript();
    } catch (error) {
      sandbox?.dispose();
      deployed.delete(id);
      if (previous !== undefined) {
        events.emit({ type: "channelState", channelId: id, state: "undeployed", at: Date.now() });
      }
      throw error;
    }
    deployed.set(id, { runtime, sandbox });
    events.emit({ type: "channelState", channelId: id, state: "deployed", at: Date.now() });
    if (deployOptions.start ?? compiled.channel.enabled) await runtime.start();
  };

  return {
    registerPlugin,
    deploy,
    async deployAll(channels) {
      assertOpen();
      await runGlobal("deploy");
      const reports: DeployReport[] = [];
      for (const channel of channels) {
        const id = (channel as { id?: unknown } | null)?.id;
        const channelId = typeof id === "string" ? id : undefined;
        try {
          await deployOne(channel);
          reports.push({ channelId, ok: true });
        } catch (error) {
          const failure =
            error instanceof NodeMirthError
              ? error
              : new NodeMirthError("ERR_CHANNEL_INVALID", "The channel could not be deployed.", {
                  cause: error,
                });
          reports.push({ channelId, ok: false, error: failure });
        }
      }
      return reports;
    },
    async undeploy(channelId) {
      const entry = deployed.get(channelId);
      if (entry === undefined) return;
      await retire(entry);
      deployed.delete(channelId);
      events.emit({ type: "channelState", channelId, state: "undeployed", at: Date.now() });
      await runGlobal("undeploy");
    },
    start: (channelId) => runtimeOf(channelId).start(),
    stop: (channelId) => runtimeOf(channelId).stop(),
    pause: (channelId) => runtimeOf(channelId).pause(),
    resume: (channelId) => runtimeOf(channelId).resume(),
    halt: (channelId) => runtimeOf(channelId).halt(),
    status(channelId) {
      const runtime = runtimeOf(channelId);
      return { id: runtime.id, name: runtime.channel.name, state: runtime.state };
    },
    channels() {
      return [...deployed.values()].map(({ runtime }) => ({
        id: runtime.id,
        name: runtime.channel.name,
        state: runtime.state,
      }));
    },
    dispatch: (channelId, raw) => {
      try {
        return runtimeOf(channelId).dispatch(raw);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    router,
    statistics: (channelId) => options.store.getStatistics(channelId),
    subscribe: (listener) => events.subscribe(listener),
    messages: {
      search: (query) => options.store.search(query),
      get: (channelId, messageId) => options.store.getMessage(channelId, messageId),
      async reprocess(channelId, reprocess) {
        const runtime = runtimeOf(channelId);
        const results: DispatchResult[] = [];
        for (const messageId of reprocess.messageIds) {
          results.push(await runtime.reprocess(messageId, reprocess.overwrite ?? false));
        }
        return results;
      },
      remove: (channelId, messageIds) => options.store.removeMessages(channelId, messageIds),
      prune: (prune) =>
        options.store.prune({
          channelId: prune.channelId,
          receivedBefore: Date.now() - prune.olderThanMs,
          ...(prune.batchSize === undefined ? {} : { batchSize: prune.batchSize }),
          ...(prune.maxBatches === undefined ? {} : { maxBatches: prune.maxBatches }),
        }),
    },
    deadLetters: {
      list: (channelId, list) => options.store.listDeadLetters(channelId, list),
      requeue: (channelId, entries) => runtimeOf(channelId).requeue(entries),
    },
    idle: (channelId) => runtimeOf(channelId).idle(),
    commitMetrics: () => commit.metrics(),
    async close() {
      if (closed) return;
      closed = true;
      const any = deployed.size > 0;
      for (const [id, entry] of deployed) {
        await retire(entry);
        deployed.delete(id);
      }
      if (any) await runGlobal("undeploy");
      if (lifecycle !== undefined) (await lifecycle.catch(() => undefined))?.sandbox?.dispose();
      await commit.flush();
    },
  };
}

function create<T>(
  factory: () => T | undefined,
  where: { path: string; issues: DeployIssue[] },
): T | undefined {
  try {
    return factory();
  } catch (error) {
    where.issues.push({
      path: where.path,
      message: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

/** Stands in for a connector that failed to build; the deploy is refused before it could run. */
function unreachableSend(): never {
  throw new Error("unreachable: a channel with an invalid connector is never deployed");
}

function invalid(channelId: string | undefined, issues: readonly DeployIssue[]): NodeMirthError {
  const name = channelId === undefined ? "The channel" : `Channel ${channelId}`;
  const list = issues
    .map((issue) => `${issue.path === "" ? "(channel)" : issue.path}: ${issue.message}`)
    .join("; ");
  return new NodeMirthError(
    "ERR_CHANNEL_INVALID",
    `${name} has ${issues.length} configuration problem(s): ${list}`,
    {
      details: { channelId, issues: issues.map((issue) => ({ ...issue })) },
    },
  );
}

function toDeployIssue(issue: CompileIssue): DeployIssue {
  return { path: issue.path.join("."), message: issue.message };
}

/** True when any part of the channel needs the sandbox (HL7 paths and field rules do not). */
function usesJavaScript(channel: Channel): boolean {
  const transformers = [
    channel.transformer,
    ...channel.destinations.flatMap((d) => [d.transformer, d.responseTransformer]),
  ];
  const filters = [channel.filter, ...channel.destinations.map((d) => d.filter)];
  return (
    channel.preprocessor !== undefined ||
    channel.postprocessor !== undefined ||
    channel.deployScript !== undefined ||
    channel.undeployScript !== undefined ||
    channel.metadataColumns.some((column) => !isHl7Path(column.expression)) ||
    filters.some((filter) => filter?.rules.some((rule) => rule.type === "javascript") === true) ||
    transformers.some(
      (transformer) =>
        transformer?.steps.some(
          (step) =>
            step.type === "javascript" || (step.type === "mapper" && "javascript" in step.from),
        ) === true,
    )
  );
}

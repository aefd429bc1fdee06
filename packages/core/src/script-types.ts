/**
 * The public types of the script sandbox; the behaviour is in `script-sandbox.ts`.
 *
 * ## What a script sees (the guest API)
 *
 * Scripts are plain JavaScript function bodies, as in Mirth: a filter ends with
 * `return <boolean>`, a transformer changes `msg` (or `tmp`), an expression is one
 * JavaScript expression whose value is returned. They run in QuickJS (ES2023), not in
 * Node: there is no `require`, `import`, `process`, `fetch`, `Buffer`, timers, file system
 * or network, and nothing reaches the host except the API below.
 *
 * - `msg` — the message being processed:
 *   - HL7V2: an accessor backed by `@node-mirth/hl7` on the host, parsed on first use and
 *     re-serialized only when changed. Paths are `SEG[occurrence].field[repetition].component.subcomponent`
 *     (`PID.5.1`, `OBX[2].5`, `PID.3[2].1`, `PID-5.1`).
 *     `msg.get(path)` decoded text, "" when absent · `msg.set(path, value)` escapes and stores,
 *     creating what is missing · `msg.getRaw(path)` / `msg.setRaw(path, er7)` without
 *     escaping · `msg.has(path)` · `msg.repetitions('PID.3')` · `msg.segments(name?)` →
 *     `[{ name, occurrence }]` · `msg.addSegment('ZPI|1|A', index?)` ·
 *     `msg.removeSegment(name, occurrence?)` · `msg.toString()` (ER7) · `msg.toXml()`
 *     (Mirth's HL7 XML). E4X (`msg['PID']['PID.5']['PID.5.1'].toString()`) is NOT supported:
 *     write `msg.get('PID.5.1')`. A script may assign new ER7 text to `msg`.
 *   - JSON: the parsed value; serialized back after the run (the original text is kept
 *     when nothing changed).
 *   - XML and RAW: the text as a string; assign a new string to change it.
 * - `message` — in preprocessors only: the raw text; a string returned (`return message;`)
 *   becomes the message to process, as in Mirth.
 * - `tmp` — the outbound template in destination transformers, same rules; otherwise undefined.
 * - `response` — in response transformers: `{ status, content, getStatus(), getMessage() }`;
 *   there `responseStatus` (initially the destination's status) and `responseStatusMessage`
 *   may be set, with the names `SENT`, `QUEUED` and `ERROR` defined: `responseStatus = ERROR`
 *   fails the delivery for good, `QUEUED` retries it per the queue policy, `SENT` accepts it.
 * - Maps with Mirth's Java-style API: `channelMap`, `sourceMap` (read-only), `connectorMap`,
 *   `responseMap`, `globalMap`, `globalChannelMap`, `configurationMap`, each with
 *   `get(k)` (null when absent), `put(k, v)` (returns the previous value), `containsKey`,
 *   `remove`, `keySet()` (an array), `size()`, `isEmpty()`, `clear()`. Values are copied
 *   across as JSON-safe data (strings, numbers, booleans, null, plain objects and arrays);
 *   a function is refused. Shortcuts `$c`, `$s`, `$co`, `$r`, `$g`, `$gc`, `$cfg`
 *   (`$c(k)` gets, `$c(k, v)` puts).
 * - `$(key)` — the first map holding `key`, in Mirth's order: responseMap, connectorMap,
 *   channelMap, sourceMap, globalChannelMap, globalMap, configurationMap; "" when none.
 * - `logger.debug|info|warn|error(text)`.
 * - `router.routeMessage(channelNameOrId, content)` — recorded in the result's `routed`;
 *   the engine sends it after the script.
 * - Code templates: global code loaded once per context; their functions (and top-level
 *   state) are shared by all of the channel's scripts.
 *
 * Inputs are refused before any script runs when a text is larger than half the memory
 * limit (kind "memory") or a JSON message nests more than 1000 levels (kind "error").
 *
 * Globals a script creates are deleted after every run, so nothing of one message is left
 * for the next one; use the maps to keep state. Promise jobs run before the run ends.
 */

export interface ScriptSandboxOptions {
  /** Per run (and per compile/template load); default 2000. */
  timeLimitMs?: number;
  /**
   * For the whole context: API, templates, compiled scripts and what a run allocates;
   * default 64 MiB. Enforced as the cap of the WebAssembly instance's linear memory
   * (this limit plus a 16 MiB base), since QuickJS's own limit counts allocations, not bytes.
   */
  memoryLimitBytes?: number;
  /**
   * QuickJS stack limit; default 256 KiB (about 1,300 frames of plain recursion). Larger
   * values let some recursion exhaust the host's own stack first; that is survived too
   * (the WebAssembly instance is replaced), at more cost.
   */
  stackLimitBytes?: number;
  /** JavaScript function libraries shared by a channel's scripts, loaded once per context. */
  codeTemplates?: string[];
}

export type ScriptKind =
  | "filter"
  | "transformer"
  | "preprocessor"
  | "postprocessor"
  | "responseTransformer"
  | "deploy"
  | "undeploy"
  | "expression";

export const SCRIPT_KINDS: readonly ScriptKind[] = [
  "filter",
  "transformer",
  "preprocessor",
  "postprocessor",
  "responseTransformer",
  "deploy",
  "undeploy",
  "expression",
];

export type ScriptDataType = "HL7V2" | "XML" | "JSON" | "RAW";
export type ScriptLogLevel = "debug" | "info" | "warn" | "error";

export interface ScriptMessage {
  content: string;
  dataType: ScriptDataType;
}

export interface ScriptBindings {
  message: ScriptMessage;
  /** The outbound template in destination transformers. */
  tmp?: ScriptMessage;
  channelMap: Map<string, unknown>;
  /** Read-only in scripts. */
  sourceMap: Map<string, unknown>;
  connectorMap: Map<string, unknown>;
  responseMap: Map<string, unknown>;
  globalMap: Map<string, unknown>;
  globalChannelMap: Map<string, unknown>;
  configurationMap: Map<string, unknown>;
  logger: (level: ScriptLogLevel, text: string) => void;
  /** In response transformers. */
  response?: { status: string; content: string };
}

export interface ScriptRunFailure {
  message: string;
  /** 1-based line in the script's own body. */
  line?: number;
  /** "memory" covers the memory limit and stack exhaustion. */
  kind: "error" | "timeout" | "memory";
}

export interface ScriptRoute {
  channel: string;
  content: string;
}

export type ScriptRunResult =
  | {
      ok: true;
      returnValue: unknown;
      message: { content: string };
      tmp?: { content: string };
      /**
       * Response transformers only: `responseStatus` as the script left it (initially the
       * destination's status) and `responseStatusMessage` when it set one.
       */
      response?: { status: string; statusMessage?: string };
      routed: ScriptRoute[];
    }
  | { ok: false; error: ScriptRunFailure };

export interface ScriptSource {
  id: string;
  code: string;
  kind: ScriptKind;
}

export interface ScriptSandbox {
  /** Syntax errors throw NodeMirthError ERR_SCRIPT_COMPILE with `details.line`. Same id replaces. */
  compile(script: ScriptSource): void;
  /** Synchronous. Script failures are results; an unknown id or a disposed sandbox throws. */
  run(id: string, bindings: ScriptBindings): ScriptRunResult;
  dispose(): void;
}

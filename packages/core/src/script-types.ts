/** The public types of the script sandbox; the behaviour is in `script-sandbox.ts`. */

export interface ScriptSandboxOptions {
  /** Per run (and per compile/template load); default 2000. */
  timeLimitMs?: number;
  /** For the whole context: API, templates, compiled scripts and what a run allocates; default 64 MiB. */
  memoryLimitBytes?: number;
  /** QuickJS stack limit; default 512 KiB. */
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

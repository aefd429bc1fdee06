import { parseHl7, type Hl7Message } from "@node-mirth/hl7";
import type { DataType, Filter, FilterRule, MapperSource, Transformer } from "./channel-schema.js";
import { isHl7Path } from "./channel-schema.js";
import type { ScriptBindings, ScriptKind, ScriptSandbox } from "./script-types.js";

/** Everything a script may see and change while one message is processed. */
export interface ScriptScope {
  channelMap: Map<string, unknown>;
  sourceMap: Map<string, unknown>;
  connectorMap: Map<string, unknown>;
  responseMap: Map<string, unknown>;
  globalMap: Map<string, unknown>;
  globalChannelMap: Map<string, unknown>;
  configurationMap: Map<string, unknown>;
  logger: (level: "debug" | "info" | "warn" | "error", text: string) => void;
  /** Messages a script asked `router.routeMessage` to send; routed after the stage commits. */
  routed: { channel: string; content: string }[];
  /** In a response transformer: the destination's status and response (also its `msg`). */
  response?: { status: string; content: string };
  /** Set by a response transformer that left `responseStatus` (and maybe a message). */
  responseOutcome?: { status: string; statusMessage?: string };
}

/** A script or rule that failed; `message` comes from the script's error, not the content. */
export class ScriptFailure extends Error {
  readonly kind: "error" | "timeout" | "memory";
  constructor(message: string, kind: "error" | "timeout" | "memory") {
    super(message);
    this.kind = kind;
  }
}

export type CompiledFilter = (content: string, scope: ScriptScope) => boolean;
export type CompiledTransformer = (content: string, scope: ScriptScope) => string;
export type CompiledExpression = (content: string, scope: ScriptScope) => string;

/** A deploy-time problem found while compiling, reported with the rest of the channel's issues. */
export interface CompileIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Turns a channel's filters, transformers and expressions into host functions. Rules and
 * mapper steps that are not JavaScript run on the host with @node-mirth/hl7; JavaScript
 * runs in the channel's sandbox. Without a sandbox, JavaScript is a compile issue.
 */
export class ChannelScripts {
  readonly #sandbox: ScriptSandbox | undefined;
  readonly #issues: CompileIssue[] = [];
  readonly #pending: Promise<void>[] = [];
  #sequence = 0;

  constructor(sandbox: ScriptSandbox | undefined) {
    this.#sandbox = sandbox;
  }

  /** Every issue found; awaits the sandbox's compiles. */
  async issues(): Promise<CompileIssue[]> {
    await Promise.all(this.#pending);
    return this.#issues;
  }

  filter(filter: Filter, where: { path: (string | number)[]; dataType: DataType }): CompiledFilter {
    const rules = filter.rules.map((rule, index) =>
      this.#rule(rule, { ...where, path: [...where.path, "rules", index] }),
    );
    const all = filter.combine === "and";
    return (content, scope) => {
      for (const rule of rules) {
        const accepted = rule(content, scope);
        if (all && !accepted) return false;
        if (!all && accepted) return true;
      }
      return all;
    };
  }

  transformer(
    transformer: Transformer,
    where: {
      path: (string | number)[];
      dataType: DataType;
      kind?: "transformer" | "responseTransformer";
    },
  ): CompiledTransformer {
    const steps: CompiledTransformer[] = transformer.steps.map((step, index) => {
      const path = [...where.path, "steps", index];
      switch (step.type) {
        case "javascript": {
          const id = this.#compile({
            code: step.script,
            kind: where.kind ?? "transformer",
            path: [...path, "script"],
          });
          return (content, scope) =>
            String(run(this.#sandbox, id, { content, where, scope }).content);
        }
        case "mapper": {
          this.#requireHl7(where.dataType, path);
          const value = this.#source(step.from, { ...where, path: [...path, "from"] });
          const field = step.field;
          return (content, scope) => {
            const message = parseHl7(content);
            message.set(field, value(content, scope));
            return message.toString();
          };
        }
      }
    });
    return (content, scope) => steps.reduce((current, step) => step(current, scope), content);
  }

  /** A metadata column, group-by key or mapper source: an HL7 path, or a JavaScript expression. */
  expression(
    expression: string,
    where: { path: (string | number)[]; dataType: DataType },
  ): CompiledExpression {
    if (isHl7Path(expression)) {
      this.#requireHl7(where.dataType, where.path);
      return (content) => readField(content, expression);
    }
    const id = this.#compile({ code: expression, kind: "expression", path: where.path });
    return (content, scope) => {
      const value = run(this.#sandbox, id, { content, where, scope }).returnValue;
      return toText(value);
    };
  }

  /** A pre/postprocessor or a whole-message script of the given kind; returns its resulting content. */
  script(
    code: string,
    where: { path: (string | number)[]; dataType: DataType; kind: ScriptKind },
  ): CompiledTransformer {
    const id = this.#compile({ code, kind: where.kind, path: where.path });
    return (content, scope) => run(this.#sandbox, id, { content, where, scope }).content;
  }

  #rule(
    rule: FilterRule,
    where: { path: (string | number)[]; dataType: DataType },
  ): CompiledFilter {
    switch (rule.type) {
      case "javascript": {
        const id = this.#compile({
          code: rule.script,
          kind: "filter",
          path: [...where.path, "script"],
        });
        return (content, scope) =>
          run(this.#sandbox, id, { content, where, scope }).returnValue === true;
      }
      case "field": {
        this.#requireHl7(where.dataType, where.path);
        const { field, operator } = rule;
        const values =
          rule.value === undefined ? [] : Array.isArray(rule.value) ? rule.value : [rule.value];
        if (
          (operator === "==" || operator === "!=" || operator === "contains") &&
          values.length === 0
        ) {
          this.#issues.push({
            path: [...where.path, "value"],
            message: `operator ${operator} needs a value`,
          });
        }
        return (content) => {
          const actual = readField(content, field);
          switch (operator) {
            case "==":
              return values.includes(actual);
            case "!=":
              return !values.includes(actual);
            case "contains":
              return values.some((value) => actual.includes(value));
            case "exists":
              return actual !== "";
            case "notExists":
              return actual === "";
          }
        };
      }
    }
  }

  #source(
    from: MapperSource,
    where: { path: (string | number)[]; dataType: DataType },
  ): CompiledExpression {
    if ("field" in from) return (content) => readField(content, from.field);
    if ("value" in from) {
      const value = from.value;
      return () => value;
    }
    if ("channelMap" in from) {
      const key = from.channelMap;
      return (_content, scope) => {
        const value = scope.channelMap.get(key);
        return toText(value);
      };
    }
    return this.expression(from.javascript, { ...where, path: [...where.path, "javascript"] });
  }

  #requireHl7(dataType: DataType, path: (string | number)[]): void {
    if (dataType !== "HL7V2") {
      this.#issues.push({
        path,
        message: `field rules and HL7 paths need data type HL7V2, not ${dataType}`,
      });
    }
  }

  #compile(script: { code: string; kind: ScriptKind; path: (string | number)[] }): string {
    const id = `${script.path.join(".")}#${++this.#sequence}`;
    const sandbox = this.#sandbox;
    if (sandbox === undefined) {
      this.#issues.push({
        path: script.path,
        message: "JavaScript needs the script sandbox, which is not available",
      });
      return id;
    }
    this.#pending.push(
      Promise.resolve()
        .then(() => sandbox.compile({ id, code: script.code, kind: script.kind }))
        .catch((error: unknown) => {
          this.#issues.push({
            path: script.path,
            message: error instanceof Error ? error.message : String(error),
          });
        }),
    );
    return id;
  }
}

let lastParsed: { content: string; message: Hl7Message } | undefined;

/** Reads one field; rules on the same message parse it once. */
export function readField(content: string, path: string): string {
  if (lastParsed?.content !== content) lastParsed = { content, message: parseHl7(content) };
  return lastParsed.message.get(path) ?? "";
}

function run(
  sandbox: ScriptSandbox | undefined,
  id: string,
  input: { content: string; where: { dataType: DataType }; scope: ScriptScope },
): { content: string; returnValue: unknown } {
  if (sandbox === undefined) throw new ScriptFailure("no script sandbox", "error");
  const { scope } = input;
  const bindings: ScriptBindings = {
    message: { content: input.content, dataType: input.where.dataType },
    channelMap: scope.channelMap,
    sourceMap: scope.sourceMap,
    connectorMap: scope.connectorMap,
    responseMap: scope.responseMap,
    globalMap: scope.globalMap,
    globalChannelMap: scope.globalChannelMap,
    configurationMap: scope.configurationMap,
    logger: scope.logger,
  };
  if (scope.response !== undefined) bindings.response = scope.response;
  const result = sandbox.run(id, bindings);
  if (!result.ok) {
    const line = result.error.line === undefined ? "" : ` (line ${result.error.line})`;
    throw new ScriptFailure(`${result.error.message}${line}`, result.error.kind);
  }
  scope.routed.push(...result.routed);
  if (result.response !== undefined) scope.responseOutcome = result.response;
  return { content: result.message.content, returnValue: result.returnValue };
}

/** What a script value reads as in a field or metadata column. */
function toText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  return JSON.stringify(value);
}

import { NodeMirthError } from "./errors.js";
import { isMessageTimeVariable } from "./message-template.js";

/** Mirth's configuration map: a Map or a plain record of string values. */
export type ConfigurationMapLike =
  ReadonlyMap<string, string> | Readonly<Record<string, string | undefined>>;

export interface ResolveVariablesOptions {
  /** Environment variables; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Consulted first: the operator's per-server settings win over the environment. */
  configurationMap?: ConfigurationMapLike;
  /** Where the text sits in the configuration, for the error, e.g. `channels.adt.source.properties.host`. */
  path?: string;
}

export interface ResolveVariablesDeepOptions extends ResolveVariablesOptions {
  /**
   * Paths to leave untouched (returned as they are, not checked), e.g. message-time
   * templates such as an HTTP body of `${message.encodedData}` that are not configuration.
   */
  skip?: (path: string) => boolean;
}

/** One `${VAR}` that had no value. */
export interface UnsetVariable {
  variable: string;
  path: string;
}

/** Thrown with every unset variable found, so an operator fixes them all in one go. */
export class UnsetVariableError extends NodeMirthError {
  readonly unset: readonly UnsetVariable[];

  constructor(unset: readonly UnsetVariable[]) {
    const list = unset.map((u) => `\${${u.variable}}${u.path === "" ? "" : ` at ${u.path}`}`);
    const head =
      unset.length === 1
        ? `Variable ${list[0]} is not set`
        : `${unset.length} variables are not set: ${list.join(", ")}`;
    super(
      "ERR_CONFIG_UNSET_VARIABLE",
      `${head}. Define ${unset.length === 1 ? "it" : "them"} in the configuration map or as ` +
        `environment variables, or write $\${NAME} for a literal \${NAME}.`,
      { details: { unset: unset.map((u) => ({ ...u })) } },
    );
    this.unset = unset;
  }
}

/** `$${` is an escaped literal `${`; `${NAME}` is a variable. Anything else is left as written. */
const TOKEN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;

function lookup(name: string, options: ResolveVariablesOptions): string | undefined {
  const map = options.configurationMap;
  if (map instanceof Map) {
    const value: unknown = map.get(name);
    if (typeof value === "string") return value;
  } else if (map !== undefined && Object.hasOwn(map, name)) {
    const value: unknown = (map as Record<string, unknown>)[name];
    if (typeof value === "string") return value;
  }
  const env = options.env ?? process.env;
  // hasOwn: `${constructor}` must not find Object.prototype.constructor.
  if (!Object.hasOwn(env, name)) return undefined;
  const value: unknown = env[name];
  return typeof value === "string" ? value : undefined;
}

function substitute(
  text: string,
  options: ResolveVariablesOptions,
  unset: UnsetVariable[],
): string {
  return text.replace(TOKEN, (match: string, name: string | undefined) => {
    if (name === undefined) return "${";
    if (isMessageTimeVariable(name)) return match;
    const value = lookup(name, options);
    if (value !== undefined) return value;
    unset.push({ variable: name, path: options.path ?? "" });
    return match;
  });
}

/**
 * Replaces each `${NAME}` with its value from the configuration map, else the environment.
 * Message-time names (`${message.encodedData}`, `${channelMap.x}`, ...) are left for
 * `renderMessageTemplate` at send time. An empty string is a value. Values are inserted verbatim (never re-scanned). Throws
 * `ERR_CONFIG_UNSET_VARIABLE` listing every unset name in the text.
 */
export function resolveVariables(text: string, options: ResolveVariablesOptions = {}): string {
  const unset: UnsetVariable[] = [];
  const result = substitute(text, options, unset);
  if (unset.length > 0) throw new UnsetVariableError(unset);
  return result;
}

function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return parent === "" ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

interface Walk {
  options: ResolveVariablesDeepOptions;
  unset: UnsetVariable[];
}

function walk(value: unknown, path: string, state: Walk): unknown {
  if (state.options.skip?.(path) === true) return value;
  if (typeof value === "string") return substitute(value, { ...state.options, path }, state.unset);
  if (Array.isArray(value)) return value.map((item, i) => walk(item, childPath(path, i), state));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      out[key] = walk(item, childPath(path, key), state);
    return out;
  }
  return value;
}

/**
 * Resolves every string inside plain objects and arrays (connector properties), returning a
 * new structure; the input is not modified; keys, numbers, booleans and class instances are
 * left as they are. `path` is the root's path. Throws one `ERR_CONFIG_UNSET_VARIABLE` listing
 * every unset variable with its path.
 */
export function resolveVariablesDeep<T>(value: T, options: ResolveVariablesDeepOptions = {}): T {
  const state: Walk = { options, unset: [] };
  const result = walk(value, options.path ?? "", state);
  if (state.unset.length > 0) throw new UnsetVariableError(state.unset);
  return result as T;
}

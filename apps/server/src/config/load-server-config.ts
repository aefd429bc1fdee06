import { readFileSync } from "node:fs";
import { parse as parseToml } from "smol-toml";
import { ConfigInvalidError, ConfigUnreadableError, type ConfigIssue } from "./boot-errors.js";
import { applyEnvOverrides } from "./env-overrides.js";
import { serverConfigSchema, type ServerConfig } from "./server-config.js";

export interface LoadServerConfigOptions {
  /** Path of node-mirth.toml; without it only defaults and the environment apply. */
  file?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads the TOML file, lays the environment overrides over it and validates the whole
 * result at once: ERR_CONFIG_INVALID lists every problem with its key before anything
 * starts. The returned config is frozen.
 */
export function loadServerConfig(options: LoadServerConfigOptions = {}): ServerConfig {
  const raw = options.file === undefined ? {} : readToml(options.file);
  return parseServerConfig(raw, {
    env: options.env ?? process.env,
    source: options.file ?? "defaults and environment",
  });
}

/** Validates an already-read config object (tests, the harness) with the environment overrides. */
export function parseServerConfig(
  raw: Record<string, unknown>,
  options: { env?: Readonly<Record<string, string | undefined>>; source?: string } = {},
): ServerConfig {
  const { merged, fromEnv } = applyEnvOverrides(raw, options.env ?? {});
  const result = serverConfigSchema.safeParse(merged);
  if (!result.success) {
    const issues = result.error.issues.flatMap((issue): ConfigIssue[] => {
      const path = issue.path.map(String);
      // An unknown key is named itself, so "api.prot" points at the typo, not at [api].
      const keys =
        issue.code === "unrecognized_keys"
          ? issue.keys.map((unknown) => ({ key: [...path, unknown].join("."), message: "unknown key" }))
          : [{ key: path.join(".") || "(root)", message: issue.message }];
      return keys.map(({ key, message }) => {
        const env = fromEnv.get(key);
        return env === undefined ? { key, message } : { key, env, message };
      });
    });
    throw new ConfigInvalidError(issues, options.source ?? "config");
  }
  return deepFreeze(result.data);
}

function readToml(file: string): Record<string, unknown> {
  try {
    return parseToml(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigUnreadableError(file, error);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

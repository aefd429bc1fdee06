/**
 * Environment variables operators already use for Mirth deployments, and the config key each
 * one overrides. The environment wins over the file, so one image serves every environment.
 */
export const ENV_OVERRIDES = [
  { env: "HOST", key: "api.host" },
  { env: "PORT", key: "api.port" },
  { env: "HTTPS_PORT", key: "api.https_port" },
  { env: "TLS_CERT", key: "api.tls_cert_file" },
  { env: "TLS_KEY", key: "api.tls_key_file" },
  { env: "MIRTH_DATA_DIR", key: "store.path" },
  { env: "MIRTH_CLUSTER_ENABLED", key: "cluster.enabled" },
] as const;

export type EnvOverride = (typeof ENV_OVERRIDES)[number];

type Table = Record<string, unknown>;

/**
 * Copies `raw` with every set override written at its key. Values stay strings: the schema
 * coerces them, so a bad `PORT` is reported like a bad `api.port` (with the variable named).
 * Returns which keys came from which variable, for the error messages.
 */
export function applyEnvOverrides(
  raw: Table,
  env: Readonly<Record<string, string | undefined>>,
): { merged: Table; fromEnv: Map<string, string> } {
  const merged = structuredClone(raw);
  const fromEnv = new Map<string, string>();
  for (const { env: name, key } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    const [section, field] = key.split(".") as [string, string];
    const existing = merged[section];
    const table = typeof existing === "object" && existing !== null && !Array.isArray(existing) ? (existing as Table) : {};
    table[field] = value;
    merged[section] = table;
    fromEnv.set(key, name);
  }
  return { merged, fromEnv };
}

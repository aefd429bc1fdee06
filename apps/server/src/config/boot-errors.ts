import { NodeMirthError } from "@node-mirth/core";

/** Stable codes of the start-up errors; each exits `node-mirth` with status 2. */
export const BOOT_ERROR_CODES = ["ERR_CONFIG_INVALID", "ERR_CONFIG_UNREADABLE"] as const;
export type BootErrorCode = (typeof BOOT_ERROR_CODES)[number];

/** One problem of the configuration, named by its key (and the variable it came from). */
export interface ConfigIssue {
  /** Dotted key in node-mirth.toml, e.g. `api.port`. */
  key: string;
  /** Set when the value came from the environment, e.g. `PORT`. */
  env?: string;
  message: string;
}

/** The configuration was read but is wrong; every problem is listed, not just the first. */
export class ConfigInvalidError extends NodeMirthError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], source: string) {
    const lines = issues.map((issue) => `  - ${issue.key}${issue.env === undefined ? "" : ` (from ${issue.env})`}: ${issue.message}`);
    super("ERR_CONFIG_INVALID", `The configuration (${source}) is invalid; nothing was started:\n${lines.join("\n")}`, {
      details: { issues },
    });
    this.issues = issues;
  }
}

/** The configuration file is missing, unreadable or not TOML. */
export class ConfigUnreadableError extends NodeMirthError {
  constructor(file: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super("ERR_CONFIG_UNREADABLE", `Cannot read the configuration file ${file}: ${reason}`, {
      cause,
      details: { file },
    });
  }
}

export type AuditOutcome = "success" | "failure";

export interface AuditEntryInput {
  /** Username, or `anonymous`/`system`. */
  actor: string;
  /** Dotted verb: `auth.login`, `channel.deploy`, ... */
  action: string;
  target?: string;
  outcome: AuditOutcome;
  /** Structured facts; never message content (PHI), never passwords or secrets. */
  details?: Record<string, unknown>;
}

export interface AuditEntry extends AuditEntryInput {
  id: number;
  /** Epoch ms. */
  at: number;
  /** Hex sha256 of the entry before (64 zeros for the first). */
  prevHash: string;
  hash: string;
}

export interface AuditVerifyResult {
  intact: boolean;
  checked: number;
  /** The first entry whose hash or link does not match. */
  firstBrokenId?: number;
}

export interface AuditLog {
  append(entry: AuditEntryInput): AuditEntry;
  /** Newest first; `beforeId` pages to older entries. */
  list(options: { beforeId?: number; limit: number }): AuditEntry[];
  verify(): AuditVerifyResult;
}

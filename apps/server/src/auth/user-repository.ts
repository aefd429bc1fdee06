import type { DatabaseSync } from "node:sqlite";
import type { Role, User } from "./auth-types.js";

export interface UserRow {
  id: number;
  username: string;
  role: Role;
  password_hash: string;
  totp_secret: string | null;
  mfa_confirmed: number;
  totp_last_step: number;
  failed_logins: number;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
}

/** The SQL over the users table of server.db; the rules live in the auth service. */
export class UserRepository {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  byId(id: number): UserRow | undefined {
    return this.#db.prepare("SELECT * FROM users WHERE id = ?").get(id) as UserRow | undefined;
  }

  byUsername(username: string): UserRow | undefined {
    return this.#db.prepare("SELECT * FROM users WHERE username = ?").get(username) as UserRow | undefined;
  }

  all(): UserRow[] {
    return this.#db.prepare("SELECT * FROM users ORDER BY id").all() as unknown as UserRow[];
  }

  countAdmins(): number {
    return (this.#db.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin'").get() as { n: number }).n;
  }

  insert(row: { username: string; role: Role; passwordHash: string; totpSecret: string | null; now: number }): number {
    const result = this.#db
      .prepare(
        "INSERT INTO users (username, role, password_hash, totp_secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run(row.username, row.role, row.passwordHash, row.totpSecret, row.now, row.now);
    return Number(result.lastInsertRowid);
  }

  /** Sets only the given columns (names come from this file, never from a request). */
  update(id: number, columns: Partial<Omit<UserRow, "id" | "created_at">>): void {
    const names = Object.keys(columns);
    if (names.length === 0) return;
    const values: (string | number | null)[] = Object.values(columns);
    this.#db.prepare(`UPDATE users SET ${names.map((name) => `${name} = ?`).join(", ")} WHERE id = ?`).run(...values, id);
  }

  remove(id: number): boolean {
    return this.#db.prepare("DELETE FROM users WHERE id = ?").run(id).changes > 0;
  }
}

export function toUser(row: UserRow, now: number): User {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    mfaEnrolled: row.totp_secret !== null && row.mfa_confirmed === 1,
    mfaPending: row.totp_secret !== null && row.mfa_confirmed === 0,
    createdAt: row.created_at,
    ...(row.last_login_at === null ? {} : { lastLoginAt: row.last_login_at }),
    ...(row.locked_until !== null && row.locked_until > now ? { lockedUntil: row.locked_until } : {}),
  };
}

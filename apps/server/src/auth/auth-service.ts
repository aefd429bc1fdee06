import type { DatabaseSync } from "node:sqlite";
import type { AuditLog } from "../audit/audit-types.js";
import type { AuthConfig } from "./auth-config.js";
import { AuthError } from "./auth-errors.js";
import { createAuthHandlers } from "./auth-handlers.js";
import { usernameSchema } from "./auth-schemas.js";
import type { AuthService, CreatedUser, LoginInput, LoginResult, Principal, Role, UpdateUserInput, User } from "./auth-types.js";
import { base32Decode, base32Encode } from "./base32.js";
import { decoyPasswordHash, hashPassword, verifyPassword } from "./password-hash.js";
import { sessionIdFromRequest } from "./request-session.js";
import { SessionStore } from "./session-store.js";
import { generateTotpSecret, matchTotp, otpauthUri } from "./totp.js";
import { toUser, UserRepository, type UserRow } from "./user-repository.js";

export interface CreateAuthServiceOptions {
  db: DatabaseSync;
  config: AuthConfig;
  audit: AuditLog;
  clock?: () => number;
  /** Read for TLS_ENABLED and NODE_ENV (the Secure cookie flag); default process.env. */
  env?: NodeJS.ProcessEnv;
}

const LOGIN_ACTION = "auth.login";

/**
 * Local accounts, MFA and sessions. Every login attempt, success or not, is appended to the
 * audit log with its reason; passwords, codes and session ids never are.
 */
export function createAuthService(options: CreateAuthServiceOptions): AuthService {
  const { config, audit } = options;
  const clock = options.clock ?? Date.now;
  const users = new UserRepository(options.db);
  const endListeners = new Set<(sessionId: string) => void>();
  const sessions = new SessionStore({
    idleMs: config.session_idle_timeout_seconds * 1000,
    absoluteMs: config.session_absolute_timeout_seconds * 1000,
    clock,
    onEnd: (session, reason) => {
      if (reason === "idle" || reason === "absolute") {
        try {
          const row = users.byId(session.userId);
          audit.append({ actor: row?.username ?? "system", action: "auth.session_expired", outcome: "success", details: { reason } });
        } catch {
          // This runs from a timer: a failed write (server.db closing) must not take the process down,
          // and the session ends all the same.
        }
      }
      for (const listener of endListeners) {
        try {
          listener(session.id);
        } catch {
          // One subscriber failing (a WebSocket already gone) must not keep others open.
        }
      }
    },
  });
  let decoy: Promise<string> | undefined;

  const requireRow = (id: number): UserRow => {
    const row = users.byId(id);
    if (row === undefined) throw new AuthError("ERR_AUTH_USER_NOT_FOUND", undefined, { details: { id } });
    return row;
  };

  const checkPasswordLength = (password: string) => {
    if ([...password].length < config.password_min_length) {
      throw new AuthError("ERR_AUTH_WEAK_PASSWORD", `the password needs at least ${config.password_min_length} characters`, {
        details: { minLength: config.password_min_length },
      });
    }
  };

  const uriFor = (username: string, secret: string) =>
    otpauthUri({ secret: base32Decode(secret)!, issuer: config.totp_issuer, account: username });

  /** Counts a wrong password or code; at the threshold the account locks and the counter restarts. */
  const recordFailure = (row: UserRow, now: number): boolean => {
    const failures = (users.byId(row.id)?.failed_logins ?? row.failed_logins) + 1;
    if (failures >= config.lockout_threshold) {
      users.update(row.id, { failed_logins: 0, locked_until: now + config.lockout_duration_seconds * 1000 });
      audit.append({
        actor: row.username,
        action: "auth.lockout",
        target: row.username,
        outcome: "success",
        details: { failures, lockedForSeconds: config.lockout_duration_seconds },
      });
      return true;
    }
    users.update(row.id, { failed_logins: failures });
    return false;
  };

  const lockedOut = (row: UserRow, now: number): AuthError | undefined =>
    row.locked_until !== null && row.locked_until > now
      ? new AuthError("ERR_AUTH_LOCKED_OUT", undefined, { details: { retryAfterSeconds: Math.ceil((row.locked_until - now) / 1000) } })
      : undefined;

  const login = async (input: LoginInput): Promise<LoginResult> => {
    const actor = input.username.slice(0, 64);
    const failed = (reason: string, error: AuthError): never => {
      audit.append({
        actor,
        action: LOGIN_ACTION,
        outcome: "failure",
        details: { reason, ...(input.remoteAddress === undefined ? {} : { remoteAddress: input.remoteAddress }) },
      });
      throw error;
    };
    const row = users.byUsername(input.username);
    if (row === undefined) {
      // Same argon2 cost as a real account, so timing does not tell which usernames exist.
      decoy ??= decoyPasswordHash();
      await verifyPassword(input.password, await decoy);
      return failed("unknown-user", new AuthError("ERR_AUTH_INVALID_CREDENTIALS"));
    }
    const lockedBefore = lockedOut(row, clock());
    if (lockedBefore !== undefined) return failed("locked", lockedBefore);
    const passwordOk = await verifyPassword(input.password, row.password_hash);
    // Everything from here is synchronous: re-read the account so concurrent attempts that
    // awaited argon2 together cannot both spend one TOTP code or slip past a fresh lock.
    const now = clock();
    const current = users.byId(row.id);
    if (current === undefined) return failed("unknown-user", new AuthError("ERR_AUTH_INVALID_CREDENTIALS"));
    const lockedMeanwhile = lockedOut(current, now);
    if (lockedMeanwhile !== undefined) return failed("locked", lockedMeanwhile);
    if (!passwordOk || current.password_hash !== row.password_hash) {
      const locked = recordFailure(current, now);
      return failed(locked ? "bad-password-locked" : "bad-password", new AuthError("ERR_AUTH_INVALID_CREDENTIALS"));
    }
    const confirmsEnrollment = current.totp_secret !== null && current.mfa_confirmed === 0;
    let totpStep = current.totp_last_step;
    if (current.totp_secret === null && config.mfa_required) {
      return failed(
        "mfa-not-enrolled",
        new AuthError("ERR_AUTH_MFA_REQUIRED", "this account has no authenticator enrolled yet; an admin must start MFA enrollment"),
      );
    }
    if (current.totp_secret !== null) {
      if (input.totp === undefined) return failed("mfa-code-missing", new AuthError("ERR_AUTH_MFA_REQUIRED"));
      const step = matchTotp(base32Decode(current.totp_secret)!, { code: input.totp, atMs: now });
      if (step === undefined || step <= current.totp_last_step) {
        const locked = recordFailure(current, now);
        const reason = step === undefined ? "bad-totp" : "replayed-totp";
        return failed(locked ? `${reason}-locked` : reason, new AuthError("ERR_AUTH_INVALID_CREDENTIALS"));
      }
      totpStep = step;
    }
    users.update(row.id, {
      failed_logins: 0,
      locked_until: null,
      last_login_at: now,
      totp_last_step: totpStep,
      ...(confirmsEnrollment ? { mfa_confirmed: 1 } : {}),
    });
    // Rotation: the id the client held before is ended, whoever it belonged to; only the new one is valid.
    if (input.previousSessionId !== undefined) sessions.end(input.previousSessionId, "rotated");
    const session = sessions.create(row.id);
    audit.append({
      actor: row.username,
      action: LOGIN_ACTION,
      outcome: "success",
      details: {
        ...(confirmsEnrollment ? { mfaEnrollmentConfirmed: true } : {}),
        ...(input.remoteAddress === undefined ? {} : { remoteAddress: input.remoteAddress }),
      },
    });
    return { sessionId: session.id, user: toUser(requireRow(row.id), now) };
  };

  const principalOf = (sessionId: string | undefined): Principal | undefined => {
    if (sessionId === undefined) return undefined;
    const session = sessions.touch(sessionId);
    if (session === undefined) return undefined;
    const row = users.byId(session.userId);
    if (row === undefined) {
      sessions.end(sessionId, "user-removed");
      return undefined;
    }
    return { userId: row.id, username: row.username, role: row.role, sessionId };
  };

  const refuseLastAdmin = (row: UserRow) => {
    if (row.role === "admin" && users.countAdmins() <= 1) {
      throw new AuthError("ERR_AUTH_LAST_ADMIN", undefined, { details: { username: row.username } });
    }
  };

  const service: Omit<AuthService, "handlers"> = {
    authenticate: (req, res, next) => {
      const sessionId = sessionIdFromRequest(req);
      if (sessionId === undefined) {
        next(new AuthError("ERR_AUTH_REQUIRED"));
        return;
      }
      const principal = principalOf(sessionId);
      if (principal === undefined) {
        next(new AuthError("ERR_AUTH_SESSION_EXPIRED"));
        return;
      }
      res.locals.principal = principal;
      next();
    },

    principalFromRequest: (req) => principalOf(sessionIdFromRequest(req)),

    onSessionEnd(listener) {
      endListeners.add(listener);
      return () => {
        endListeners.delete(listener);
      };
    },

    login,

    logout(sessionId) {
      const row = sessionOwner(sessionId);
      if (sessions.end(sessionId, "logout")) {
        audit.append({ actor: row ?? "unknown", action: "auth.logout", outcome: "success" });
      }
    },

    async createUser(input): Promise<CreatedUser> {
      const username = usernameSchema.safeParse(input.username);
      if (!username.success) throw new AuthError("ERR_AUTH_INVALID_INPUT", `username: ${username.error.issues[0]?.message}`);
      checkPasswordLength(input.password);
      if (users.byUsername(input.username) !== undefined) {
        throw new AuthError("ERR_AUTH_USER_EXISTS", undefined, { details: { username: input.username } });
      }
      const passwordHash = await hashPassword(input.password);
      const secret = config.mfa_required ? base32Encode(generateTotpSecret()) : null;
      let id: number;
      try {
        id = users.insert({ username: input.username, role: input.role, passwordHash, totpSecret: secret, now: clock() });
      } catch (error) {
        // Two creations of one name raced past the check above; the UNIQUE index decided.
        if (users.byUsername(input.username) !== undefined) {
          throw new AuthError("ERR_AUTH_USER_EXISTS", undefined, { details: { username: input.username }, cause: error });
        }
        throw error;
      }
      const user = toUser(requireRow(id), clock());
      return secret === null ? { user } : { user, otpauthUri: uriFor(user.username, secret) };
    },

    listUsers: () => users.all().map((row) => toUser(row, clock())),

    getUser: (id) => toUser(requireRow(id), clock()),

    findUserByUsername(username) {
      const row = users.byUsername(username);
      return row === undefined ? undefined : toUser(row, clock());
    },

    async updateUser(id, input: UpdateUserInput): Promise<User> {
      const row = requireRow(id);
      if (input.password !== undefined) checkPasswordLength(input.password);
      if (input.currentPassword !== undefined && !(await verifyPassword(input.currentPassword, row.password_hash))) {
        // Counts toward the lockout, so a stolen session cannot guess the password here instead.
        recordFailure(row, clock());
        audit.append({ actor: row.username, action: "auth.password_check", outcome: "failure", details: { reason: "bad-current-password" } });
        throw new AuthError("ERR_AUTH_INVALID_CREDENTIALS", "the current password is wrong");
      }
      if (input.role !== undefined && input.role !== "admin") refuseLastAdmin(row);
      const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
      users.update(id, {
        ...(input.role === undefined ? {} : { role: input.role }),
        ...(passwordHash === undefined ? {} : { password_hash: passwordHash, failed_logins: 0, locked_until: null }),
        updated_at: clock(),
      });
      // A new password ends every session opened with the old one.
      if (passwordHash !== undefined) sessions.endForUser(id, "credentials-changed");
      return toUser(requireRow(id), clock());
    },

    deleteUser(id) {
      const row = requireRow(id);
      refuseLastAdmin(row);
      users.remove(id);
      sessions.endForUser(id, "user-removed");
    },

    setRole(id, role: Role) {
      const row = requireRow(id);
      if (role !== "admin") refuseLastAdmin(row);
      users.update(id, { role, updated_at: clock() });
      return toUser(requireRow(id), clock());
    },

    enrollMfa(id) {
      const row = requireRow(id);
      const secret = base32Encode(generateTotpSecret());
      users.update(id, { totp_secret: secret, mfa_confirmed: 0, totp_last_step: -1, updated_at: clock() });
      return { otpauthUri: uriFor(row.username, secret) };
    },

    confirmMfa(id, code) {
      const row = requireRow(id);
      const now = clock();
      if (row.totp_secret === null || row.mfa_confirmed === 1) {
        throw new AuthError("ERR_AUTH_INVALID_INPUT", "no enrollment is waiting for confirmation; start one first");
      }
      const step = matchTotp(base32Decode(row.totp_secret)!, { code, atMs: now });
      if (step === undefined || step <= row.totp_last_step) {
        recordFailure(row, now);
        audit.append({ actor: row.username, action: "auth.mfa_confirm", outcome: "failure", details: { reason: "bad-totp" } });
        throw new AuthError("ERR_AUTH_INVALID_CREDENTIALS", "the code does not match the new authenticator enrollment");
      }
      users.update(id, { mfa_confirmed: 1, totp_last_step: step, updated_at: now });
      audit.append({ actor: row.username, action: "auth.mfa_confirm", outcome: "success" });
      return { user: toUser(requireRow(id), now) };
    },

    close: () => sessions.close(),
  };

  function sessionOwner(sessionId: string): string | undefined {
    const session = sessions.touch(sessionId);
    return session === undefined ? undefined : users.byId(session.userId)?.username;
  }

  return { ...service, handlers: createAuthHandlers({ service, env: options.env ?? process.env, config }) };
}

import type { IncomingMessage } from "node:http";
import type { RequestHandler } from "express";

export const ROLES = ["admin", "developer", "operator", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/** Who made a request: set on `res.locals.principal` by `authenticate`. */
export interface Principal {
  userId: number;
  username: string;
  role: Role;
  sessionId: string;
}

/** A local account as the API shows it: never the password hash or the TOTP secret. */
export interface User {
  id: number;
  username: string;
  role: Role;
  /** True once the first login after enrollment verified a TOTP code. */
  mfaEnrolled: boolean;
  /** An enrollment is waiting for its first verified code. */
  mfaPending: boolean;
  createdAt: number;
  lastLoginAt?: number;
  /** Set while the account is locked after repeated failed logins (epoch ms). */
  lockedUntil?: number;
}

export interface CreateUserInput {
  username: string;
  password: string;
  role: Role;
}

export interface UpdateUserInput {
  role?: Role;
  password?: string;
  /** When given, checked against the stored hash first (the handler requires it for a change of one's own password). */
  currentPassword?: string;
}

export interface CreatedUser {
  user: User;
  /** Present when MFA is required: the enrollment for the authenticator app (holds the secret). */
  otpauthUri?: string;
}

export interface LoginInput {
  username: string;
  password: string;
  totp?: string;
  /** Client address, for the audit entry. */
  remoteAddress?: string;
  /** A session the client already holds: ended when the login succeeds (the new id replaces it). */
  previousSessionId?: string;
}

export interface LoginResult {
  sessionId: string;
  user: User;
}

/** Express handlers S-API mounts in its route table (they throw AuthError; S-API maps the status). */
export interface AuthHandlers {
  /** `POST /api/users/_login` `{ username, password, totp? }` (body parsed by the caller, small limit). */
  login: RequestHandler;
  /** `POST /api/users/_logout`: ends the session, clears the cookie, 204. */
  logout: RequestHandler;
  /** `GET /api/users/current`. */
  current: RequestHandler;
  /** `GET /api/users`. */
  listUsers: RequestHandler;
  /** `GET /api/users/:id`. */
  getUser: RequestHandler;
  /** `POST /api/users` `{ username, password, role }` → 201 `{ user, otpauthUri? }`. */
  createUser: RequestHandler;
  /**
   * `PUT /api/users/:userId` `{ role?, password?, currentPassword? }`: role changes need an
   * admin; changing one's own password needs `currentPassword`; a new password ends the
   * account's sessions.
   */
  updateUser: RequestHandler;
  /** `DELETE /api/users/:id` → 204; ends the user's sessions. */
  deleteUser: RequestHandler;
  /**
   * `POST /api/users/current/_enrollMfa` (or `/api/users/:userId/_enrollMfa`, admin or the
   * account itself): `{}` → `{ otpauthUri }` starts an enrollment; `{ totp }` → `{ user }`
   * confirms the pending one with a code (else the next login confirms it).
   */
  enrollMfa: RequestHandler;
}

export interface AuthService {
  /** Express middleware: session from `JSESSIONID` or `X-Session-ID`, else ERR_AUTH_REQUIRED (401). */
  authenticate: RequestHandler;
  /** For the WebSocket upgrade: the live session's principal, or undefined. Touches the session. */
  principalFromRequest(req: IncomingMessage): Principal | undefined;
  /** Called with the session id on logout, expiry, user deletion; returns the unsubscribe. */
  onSessionEnd(listener: (sessionId: string) => void): () => void;
  login(input: LoginInput): Promise<LoginResult>;
  logout(sessionId: string): void;
  createUser(input: CreateUserInput): Promise<CreatedUser>;
  listUsers(): User[];
  getUser(id: number): User;
  findUserByUsername(username: string): User | undefined;
  updateUser(id: number, input: UpdateUserInput): Promise<User>;
  deleteUser(id: number): void;
  setRole(id: number, role: Role): User;
  /** Starts (or restarts) TOTP enrollment; the next login must verify a code from it. */
  enrollMfa(id: number): { otpauthUri: string };
  /** Confirms a pending enrollment with a code from the new secret; ERR_AUTH_INVALID_CREDENTIALS otherwise. */
  confirmMfa(id: number, code: string): { user: User };
  handlers: AuthHandlers;
  /** Stops the session expiry timers. */
  close(): void;
}

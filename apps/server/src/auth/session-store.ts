import { randomBytes } from "node:crypto";

/** setTimeout fires at once for anything longer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Session {
  id: string;
  userId: number;
  createdAt: number;
  lastSeenAt: number;
}

export type SessionEndReason = "logout" | "idle" | "absolute" | "user-removed" | "credentials-changed" | "rotated" | "shutdown";

export interface SessionStoreOptions {
  idleMs: number;
  absoluteMs: number;
  clock: () => number;
  onEnd: (session: Session, reason: SessionEndReason) => void;
}

/**
 * Sessions live in memory only: a restart logs everyone out, and nothing on disk can be
 * replayed. Each session has one unref'd timer at its nearest deadline so WebSockets close on
 * expiry even when no request comes; a request past a deadline ends it too.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #options: SessionStoreOptions;

  constructor(options: SessionStoreOptions) {
    this.#options = options;
  }

  create(userId: number): Session {
    const now = this.#options.clock();
    const session: Session = { id: randomBytes(32).toString("base64url"), userId, createdAt: now, lastSeenAt: now };
    this.#sessions.set(session.id, session);
    this.#schedule(session);
    return session;
  }

  /** The live session with this id, its idle clock restarted; an expired one is ended and undefined. */
  touch(id: string): Session | undefined {
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const expiry = this.#expiry(session);
    if (expiry !== undefined) {
      this.end(id, expiry);
      return undefined;
    }
    session.lastSeenAt = this.#options.clock();
    return session;
  }

  end(id: string, reason: SessionEndReason): boolean {
    const session = this.#sessions.get(id);
    if (session === undefined) return false;
    this.#sessions.delete(id);
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
    this.#options.onEnd(session, reason);
    return true;
  }

  endForUser(userId: number, reason: SessionEndReason): void {
    for (const session of [...this.#sessions.values()]) {
      if (session.userId === userId) this.end(session.id, reason);
    }
  }

  get size(): number {
    return this.#sessions.size;
  }

  close(): void {
    for (const id of [...this.#sessions.keys()]) this.end(id, "shutdown");
  }

  #expiry(session: Session): SessionEndReason | undefined {
    const now = this.#options.clock();
    if (now - session.createdAt >= this.#options.absoluteMs) return "absolute";
    if (now - session.lastSeenAt >= this.#options.idleMs) return "idle";
    return undefined;
  }

  #schedule(session: Session): void {
    const now = this.#options.clock();
    const due = Math.min(session.createdAt + this.#options.absoluteMs, session.lastSeenAt + this.#options.idleMs);
    // At least 1 s between checks, so an injected clock that stands still cannot spin the loop.
    const timer = setTimeout(() => this.#check(session.id), Math.min(Math.max(due - now, 1_000), MAX_TIMER_MS));
    timer.unref();
    this.#timers.set(session.id, timer);
  }

  #check(id: string): void {
    const session = this.#sessions.get(id);
    if (session === undefined) return;
    const expiry = this.#expiry(session);
    if (expiry === undefined) this.#schedule(session);
    else this.end(id, expiry);
  }
}

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SessionStore, type SessionEndReason } from "./session-store.js";

describe("SessionStore expiry timers", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function store(options: { idleMs: number; absoluteMs: number }) {
    const ended: [string, SessionEndReason][] = [];
    const sessions = new SessionStore({ ...options, clock: Date.now, onEnd: (session, reason) => ended.push([session.id, reason]) });
    return { sessions, ended };
  }

  it("ends an idle session by its timer, without any request", () => {
    const { sessions, ended } = store({ idleMs: 60_000, absoluteMs: 3_600_000 });
    const session = sessions.create(1);
    vi.advanceTimersByTime(59_000);
    expect(ended).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(ended).toEqual([[session.id, "idle"]]);
    expect(sessions.touch(session.id)).toBeUndefined();
  });

  it("moves the idle deadline on each touch but never past the absolute one", () => {
    const { sessions, ended } = store({ idleMs: 60_000, absoluteMs: 150_000 });
    const session = sessions.create(1);
    for (let index = 0; index < 4; index += 1) {
      vi.advanceTimersByTime(30_000);
      expect(sessions.touch(session.id)?.id).toBe(session.id);
    }
    vi.advanceTimersByTime(30_000);
    expect(ended).toEqual([[session.id, "absolute"]]);
  });

  it("ends every session of one user and leaves the others", () => {
    const { sessions, ended } = store({ idleMs: 60_000, absoluteMs: 3_600_000 });
    const a1 = sessions.create(1);
    const a2 = sessions.create(1);
    const b = sessions.create(2);
    sessions.endForUser(1, "user-removed");
    expect(ended.map(([id]) => id).sort()).toEqual([a1.id, a2.id].sort());
    expect(sessions.touch(b.id)?.userId).toBe(2);
    sessions.close();
    expect(sessions.size).toBe(0);
    expect(ended.at(-1)).toEqual([b.id, "shutdown"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("issues 256-bit base64url ids that do not repeat", () => {
    const { sessions } = store({ idleMs: 60_000, absoluteMs: 3_600_000 });
    const ids = new Set(Array.from({ length: 200 }, () => sessions.create(1).id));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    sessions.close();
  });
});

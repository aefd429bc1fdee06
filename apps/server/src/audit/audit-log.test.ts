import { createTempDir } from "@node-mirth/test-peers";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openServerDatabase } from "../auth/server-database.js";
import { createAuditLog, GENESIS_HASH } from "./audit-log.js";

function logWith(count: number) {
  const db = openServerDatabase(":memory:");
  let now = 1_700_000_000_000;
  const audit = createAuditLog(db, { clock: () => (now += 1000) });
  for (let index = 0; index < count; index += 1) {
    audit.append({
      actor: `user${index % 3}`,
      action: index % 2 === 0 ? "auth.login" : "channel.deploy",
      ...(index % 2 === 1 ? { target: `channel-${index}` } : {}),
      outcome: index % 4 === 0 ? "failure" : "success",
      details: { index, nested: { b: 2, a: [1, "x"] } },
    });
  }
  return { db, audit };
}

describe("audit log hash chain", () => {
  it("links every entry to the one before and verifies intact", () => {
    const { audit } = logWith(10);
    const entries = audit.list({ limit: 100 }).reverse();
    expect(entries.map((entry) => entry.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    for (let index = 1; index < entries.length; index += 1) expect(entries[index]!.prevHash).toBe(entries[index - 1]!.hash);
    expect(audit.verify()).toEqual({ intact: true, checked: 10 });
  });

  it("reports the entry whose row was edited directly in the database", () => {
    const { db, audit } = logWith(10);
    expect(audit.list({ beforeId: 6, limit: 1 })[0]?.outcome).toBe("failure");
    db.prepare("UPDATE audit_log SET outcome = 'success' WHERE id = 5").run();
    expect(audit.verify()).toEqual({ intact: false, checked: 4, firstBrokenId: 5 });
  });

  it("reports edited details, a recomputed-looking hash, a deleted entry and unparseable details", () => {
    const edits = [
      { sql: `UPDATE audit_log SET details = '{"index":6,"nested":{"a":[1,"x"],"b":3}}' WHERE id = 7`, broken: 7 },
      { sql: "UPDATE audit_log SET actor = 'mallory', hash = prev_hash WHERE id = 2", broken: 2 },
      { sql: "DELETE FROM audit_log WHERE id = 5", broken: 6 },
      { sql: "UPDATE audit_log SET details = '{not json' WHERE id = 9", broken: 9 },
    ];
    for (const edit of edits) {
      const { db, audit } = logWith(10);
      db.exec(edit.sql);
      expect(audit.verify(), edit.sql).toMatchObject({ intact: false, firstBrokenId: edit.broken });
    }
  });

  it("shows entries cut off the end as a gap once the next entry is appended", () => {
    const { db, audit } = logWith(10);
    db.exec("DELETE FROM audit_log WHERE id >= 9");
    expect(audit.verify()).toEqual({ intact: true, checked: 8 });
    const next = audit.append({ actor: "x", action: "auth.login", outcome: "success" });
    expect(next.id).toBe(11);
    expect(audit.verify()).toEqual({ intact: false, checked: 8, firstBrokenId: 11 });
  });

  it("caps and sanitises page sizes", () => {
    const { audit } = logWith(3);
    expect(audit.list({ limit: Number.NaN })).toHaveLength(3);
    expect(audit.list({ limit: 0 })).toHaveLength(1);
    expect(audit.list({ limit: -5, beforeId: 3 })).toHaveLength(1);
  });

  it("hashes details by content, not key order", () => {
    const first = createAuditLog(openServerDatabase(":memory:"), { clock: () => 5 });
    const second = createAuditLog(openServerDatabase(":memory:"), { clock: () => 5 });
    const a = first.append({ actor: "x", action: "y", outcome: "success", details: { a: 1, b: { c: 2, d: 3 } } });
    const b = second.append({ actor: "x", action: "y", outcome: "success", details: { b: { d: 3, c: 2 }, a: 1 } });
    expect(a.hash).toBe(b.hash);
  });

  it("pages newest first with beforeId", () => {
    const { audit } = logWith(25);
    const first = audit.list({ limit: 10 });
    expect(first.map((entry) => entry.id)).toEqual([25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
    const second = audit.list({ beforeId: first.at(-1)!.id, limit: 10 });
    expect(second[0]!.id).toBe(15);
    expect(audit.list({ beforeId: 3, limit: 10 }).map((entry) => entry.id)).toEqual([2, 1]);
    expect(first[0]).toMatchObject({ actor: "user0", action: "auth.login", details: { index: 24 } });
  });

  it("keeps the chain across a reopen of server.db", async () => {
    await using dir = await createTempDir("audit-");
    const path = join(dir.path, "server.db");
    const db = openServerDatabase(path);
    createAuditLog(db).append({ actor: "a", action: "auth.login", outcome: "success" });
    db.close();
    const reopened = openServerDatabase(path);
    const audit = createAuditLog(reopened);
    audit.append({ actor: "b", action: "auth.logout", outcome: "success" });
    expect(audit.verify()).toEqual({ intact: true, checked: 2 });
    reopened.close();
  });
});

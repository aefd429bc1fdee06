import { createTempDir } from "@node-mirth/test-peers";
import { chmodSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { openServerDatabase, SERVER_DATABASE_VERSION } from "./server-database.js";

describe("server.db", () => {
  it("creates the tables owner-only, in WAL with synchronous=FULL, and migrates once", async () => {
    await using dir = await createTempDir("serverdb-");
    const path = join(dir.path, "server.db");
    const db = openServerDatabase(path);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(statSync(file).mode & 0o777, file).toBe(0o600);
    expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.prepare("PRAGMA synchronous").get()).toEqual({ synchronous: 2 });
    expect(db.prepare("PRAGMA user_version").get()).toEqual({ user_version: SERVER_DATABASE_VERSION });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
    expect(tables.map((row) => row.name)).toEqual(["audit_log", "users"]);
    db.prepare("INSERT INTO users (username, role, password_hash, created_at, updated_at) VALUES ('a', 'admin', 'h', 1, 1)").run();
    db.close();
    const again = openServerDatabase(path);
    expect(again.prepare("SELECT count(*) AS n FROM users").get()).toEqual({ n: 1 });
    again.close();
  });

  it("tightens a server.db left readable by others", async () => {
    await using dir = await createTempDir("serverdb-");
    const path = join(dir.path, "server.db");
    openServerDatabase(path).close();
    chmodSync(path, 0o644);
    const db = openServerDatabase(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    db.close();
  });

  it("refuses a role outside the four", () => {
    const db = openServerDatabase(":memory:");
    expect(() =>
      db.prepare("INSERT INTO users (username, role, password_hash, created_at, updated_at) VALUES ('a', 'root', 'h', 1, 1)").run(),
    ).toThrow(/CHECK/);
  });

  it("refuses a server.db from a newer node-mirth with a typed error", async () => {
    await using dir = await createTempDir("serverdb-");
    const path = join(dir.path, "server.db");
    const future = new DatabaseSync(path);
    future.exec(`PRAGMA user_version = ${SERVER_DATABASE_VERSION + 1}`);
    future.close();
    expect(() => openServerDatabase(path)).toThrow(expect.objectContaining({ code: "ERR_AUTH_DATABASE_TOO_NEW" }));
  });
});

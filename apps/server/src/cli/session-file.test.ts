import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTempDir } from "@node-mirth/test-peers";
import { describe, expect, it } from "vitest";
import { SessionFile, sessionFilePath } from "./session-file.js";

const session = (id: string) => ({ sessionId: id, username: "olivia", role: "operator", createdAt: "2026-11-24T08:00:00.000Z" });

describe("sessionFilePath", () => {
  it("uses XDG_CONFIG_HOME, else ~/.config", () => {
    expect(sessionFilePath({ XDG_CONFIG_HOME: "/x", HOME: "/home/o" })).toBe("/x/node-mirth/session.json");
    expect(sessionFilePath({ XDG_CONFIG_HOME: "", HOME: "/home/o" })).toBe("/home/o/.config/node-mirth/session.json");
    expect(sessionFilePath({ HOME: "/home/o" })).toBe("/home/o/.config/node-mirth/session.json");
  });
});

describe("SessionFile", () => {
  it("writes 0600 in a 0700 directory even under a permissive umask, one session per server", async () => {
    await using dir = await createTempDir("session-file-");
    const file = new SessionFile(join(dir.path, "node-mirth", "session.json"));
    const umask = process.umask(0o000);
    try {
      await file.put("https://a:8443", session("one"));
      await file.put("http://127.0.0.1:8080", session("two"));
    } finally {
      process.umask(umask);
    }
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir.path, "node-mirth"))).mode & 0o777).toBe(0o700);
    expect((await file.get("https://a:8443"))?.sessionId).toBe("one");
    expect((await file.get("http://127.0.0.1:8080"))?.sessionId).toBe("two");
    expect(await file.get("https://b:8443")).toBeUndefined();
  });

  it("removes one server's session and the file with the last one", async () => {
    await using dir = await createTempDir("session-file-");
    const file = new SessionFile(join(dir.path, "session.json"));
    await file.put("https://a", session("one"));
    await file.put("https://b", session("two"));
    expect(await file.remove("https://a")).toBe(true);
    expect(await file.remove("https://a")).toBe(false);
    expect(JSON.parse(await readFile(file.path, "utf8"))).toMatchObject({ sessions: { "https://b": { sessionId: "two" } } });
    await file.remove("https://b");
    await expect(stat(file.path)).rejects.toThrow(/ENOENT/);
  });

  it("refuses a file group or others can read, like ssh does with a key", async () => {
    await using dir = await createTempDir("session-file-");
    const file = new SessionFile(join(dir.path, "session.json"));
    await file.put("https://a", session("one"));
    await chmod(file.path, 0o640);
    await expect(file.get("https://a")).rejects.toMatchObject({ code: "ERR_CLI_SESSION_FILE_UNSAFE" });
  });

  it("treats a file of another shape as empty and replaces it at the next login", async () => {
    await using dir = await createTempDir("session-file-");
    const file = new SessionFile(join(dir.path, "session.json"));
    await writeFile(file.path, "not json", { mode: 0o600 });
    expect(await file.get("https://a")).toBeUndefined();
    await file.put("https://a", session("one"));
    expect((await file.get("https://a"))?.sessionId).toBe("one");
  });
});

import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileChannelRepository } from "./channel-repository.js";

describe("createFileChannelRepository", () => {
  let dir: TempDir;

  beforeEach(async () => {
    dir = await createTempDir("channel-repository-");
  });

  afterEach(async () => {
    await dir.remove();
  });

  it("saves, lists in id order, replaces and removes documents as <id>.json (0600, no temp file left)", async () => {
    const repository = createFileChannelRepository(dir.path);
    await repository.save({ id: "b", name: "B" });
    await repository.save({ id: "a", name: "A", extra: { kept: true } });
    await repository.save({ id: "b", name: "B2" });
    expect(await repository.list()).toEqual([{ id: "a", name: "A", extra: { kept: true } }, { id: "b", name: "B2" }]);
    expect(readdirSync(dir.path).sort()).toEqual(["a.json", "b.json"]);
    expect(statSync(join(dir.path, "a.json")).mode & 0o777).toBe(0o600);
    expect(await repository.remove("a")).toBe(true);
    expect(await repository.remove("a")).toBe(false);
    expect(await repository.get("a")).toBeUndefined();
  });

  it("never turns an unsafe id into a path", async () => {
    const repository = createFileChannelRepository(dir.path);
    expect(await repository.get("../etc/passwd")).toBeUndefined();
    expect(await repository.remove("../x")).toBe(false);
    await expect(repository.save({ id: "../escape", name: "x" })).rejects.toThrow(/unsafe channel id/);
  });

  it("lists the readable documents when one file is not JSON", async () => {
    const repository = createFileChannelRepository(dir.path);
    await repository.save({ id: "good", name: "Good" });
    writeFileSync(join(dir.path, "broken.json"), "{ not json");
    expect(await repository.list()).toEqual([{ id: "good", name: "Good" }]);
  });
});

import { describe, expect, it } from "vitest";
import { CONTENT_KINDS } from "./message-store.js";
import { storagePolicy } from "./storage-policy.js";

describe("storagePolicy", () => {
  it("keeps what each of Mirth's storage modes keeps", () => {
    const kept = (mode: Parameters<typeof storagePolicy>[0]) =>
      CONTENT_KINDS.filter((kind) => storagePolicy(mode).keeps(kind));
    expect(kept("development")).toEqual([...CONTENT_KINDS]);
    expect(kept("production")).toEqual([
      "raw",
      "encoded",
      "sent",
      "response",
      "sourceMap",
      "error",
    ]);
    expect(kept("raw")).toEqual(["raw"]);
    expect(kept("metadata")).toEqual([]);
    expect(kept("disabled")).toEqual([]);
  });

  it("keeps queued content where recovery can use it, and message rows unless disabled", () => {
    expect(storagePolicy("raw").keepsEncodedWhileQueued).toBe(true);
    expect(storagePolicy("metadata").keepsEncodedWhileQueued).toBe(false);
    expect(storagePolicy("metadata").storesMessages).toBe(true);
    expect(storagePolicy("disabled").storesMessages).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import type { SourceContext } from "./define-connector.js";
import { listenerSource } from "./listener-source.js";

const ctx = { channelId: "c" } as SourceContext;

describe("listenerSource", () => {
  it("builds and starts a fresh listener at every start, and stops the current one", async () => {
    const events: string[] = [];
    let built = 0;
    const source = listenerSource(() => {
      const n = ++built;
      return {
        start: () => Promise.resolve(void events.push(`start ${n}`)),
        stop: () => Promise.resolve(void events.push(`stop ${n}`)),
      };
    });
    await source.start(ctx);
    await source.stop();
    await source.stop();
    await source.start(ctx);
    await source.stop();
    expect(events).toEqual(["start 1", "stop 1", "start 2", "stop 2"]);
  });

  it("keeps nothing from a listener that failed to start", async () => {
    let stops = 0;
    const source = listenerSource(() => ({
      start: () => Promise.reject(new Error("port taken")),
      stop: () => Promise.resolve(void stops++),
    }));
    await expect(source.start(ctx)).rejects.toThrow("port taken");
    await source.stop();
    expect(stops).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { DestinationClient } from "./destination-client.js";

function counting() {
  const built: { closed: boolean }[] = [];
  const build = () => {
    const client = { closed: false, close: () => Promise.resolve(void (client.closed = true)) };
    built.push(client);
    return client;
  };
  return { built, build };
}

describe("DestinationClient", () => {
  it("builds at once, so a bad configuration fails where the destination is created", () => {
    expect(() => new DestinationClient(() => { throw new Error("bad key"); })).toThrow("bad key");
    const { built, build } = counting();
    const client = new DestinationClient(build);
    expect(built).toHaveLength(1);
    expect(client.get()).toBe(built[0]);
    expect(client.get()).toBe(built[0]);
  });

  it("closes on close and builds a fresh one on the next get", async () => {
    const { built, build } = counting();
    const client = new DestinationClient(build);
    await client.close();
    expect(built[0]!.closed).toBe(true);
    await client.close();
    expect(client.get()).toBe(built[1]);
    expect(built).toHaveLength(2);
  });
});

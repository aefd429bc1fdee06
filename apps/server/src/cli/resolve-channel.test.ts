import { describe, expect, it } from "vitest";
import { CliError } from "./cli-error.js";
import { pickChannel } from "./resolve-channel.js";

const channels = [
  { id: "mllps-rx", name: "MLLPS Receiver" },
  { id: "Lab", name: "lab-archive" },
  { id: "lab-archive", name: "Lab" },
  { id: "a", name: "Twin" },
  { id: "b", name: "Twin" },
  { id: "c", name: "twin" },
];

describe("pickChannel", () => {
  it("an id wins over a name that equals it", () => {
    expect(pickChannel(channels, "Lab").id).toBe("Lab");
    expect(pickChannel(channels, "lab-archive").id).toBe("lab-archive");
  });

  it("finds by exact name, then by name ignoring case", () => {
    expect(pickChannel(channels, "MLLPS Receiver").id).toBe("mllps-rx");
    expect(pickChannel(channels, "mllps receiver").id).toBe("mllps-rx");
  });

  it("an exact name match is preferred to case-folded ones", () => {
    expect(pickChannel(channels, "twin").id).toBe("c");
  });

  it("refuses to guess between channels of the same name", () => {
    expect(() => pickChannel(channels, "Twin")).toThrow(
      expect.objectContaining({ code: "ERR_CLI_CHANNEL_AMBIGUOUS", details: { channel: "Twin", ids: ["a", "b"] } }),
    );
  });

  it("names the miss", () => {
    const error = (() => {
      try {
        pickChannel(channels, "nope");
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe("ERR_CLI_CHANNEL_NOT_FOUND");
  });
});

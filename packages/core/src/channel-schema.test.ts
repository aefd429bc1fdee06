import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { channelJsonSchema, channelSchema } from "./channel-schema.js";

const SCHEMA_FILE = join(import.meta.dirname, "..", "channel.schema.json");

describe("channelSchema", () => {
  it("fills the defaults of a minimal channel", () => {
    const channel = channelSchema.parse({
      id: "adt",
      name: "ADT",
      source: { type: "mllp" },
      destinations: [{ id: "d1", name: "D1", connector: { type: "file" } }],
    });
    expect(channel).toMatchObject({
      enabled: true,
      dataType: "HL7V2",
      storage: "development",
      ack: { mode: "afterCommit" },
      metadataColumns: [],
      source: { properties: {} },
    });
    expect(channel.destinations[0]?.queue).toEqual({
      mode: "never",
      retryCount: 0,
      retryIntervalMs: 10_000,
      backoffMultiplier: 1,
      maxRetryIntervalMs: 600_000,
      threads: 1,
      bufferSize: 10_000,
    });
  });

  it("reports duplicate and reserved destination ids and an ACK destination that does not exist", () => {
    const result = channelSchema.safeParse({
      id: "adt",
      name: "ADT",
      source: { type: "mllp" },
      destinations: [
        { id: "source", name: "A", connector: { type: "file" } },
        { id: "d1", name: "B", connector: { type: "file" } },
        { id: "d1", name: "C", connector: { type: "file" } },
      ],
      ack: { mode: "afterDestination", destination: "d9" },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toEqual([
      "destinations.0.id",
      "destinations.2.id",
      "ack.destination",
    ]);
  });

  it("accepts only HL7 paths where a field is expected", () => {
    const rule = (field: string) =>
      channelSchema.safeParse({
        id: "a",
        name: "A",
        source: { type: "t" },
        destinations: [{ id: "d", name: "D", connector: { type: "t" } }],
        filter: { rules: [{ type: "field", field, operator: "exists" }] },
      }).success;
    expect(rule("MSH.9.1")).toBe(true);
    expect(rule("PID-3")).toBe(true);
    expect(rule("OBX[2].5.1")).toBe(true);
    expect(rule("msg['PID']")).toBe(false);
  });

  it("publishes a JSON Schema kept in step with the zod schema (channel.schema.json)", () => {
    const current = `${JSON.stringify(channelJsonSchema(), null, 2)}\n`;
    // Regenerate after a deliberate schema change: UPDATE_CHANNEL_SCHEMA=1 npx vitest run --project core
    if (process.env.UPDATE_CHANNEL_SCHEMA === "1") writeFileSync(SCHEMA_FILE, current);
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(current);
  });
});

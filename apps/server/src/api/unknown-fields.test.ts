import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { unknownFields } from "./unknown-fields.js";

const schema = z.object({
  id: z.string(),
  nested: z.object({ keep: z.number() }).optional(),
  list: z.array(z.object({ name: z.string() })).default([]),
  properties: z.record(z.string(), z.unknown()).default({}),
});

describe("unknownFields", () => {
  it("names the fields a schema stripped, at any depth", () => {
    const input = { id: "a", extra: 1, nested: { keep: 1, sneaky: true }, list: [{ name: "x" }, { name: "y", bad: 2 }] };
    expect(unknownFields(input, schema.parse(input))).toEqual(["extra", "nested.sneaky", "list.1.bad"]);
  });

  it("keeps record keys and defaults: nothing unknown in a valid document", () => {
    fc.assert(
      fc.property(fc.string(), fc.dictionary(fc.string({ minLength: 1 }).filter((key) => key !== "__proto__"), fc.jsonValue()), (id, properties) => {
        const input = { id, properties };
        expect(unknownFields(input, schema.parse(input))).toEqual([]);
      }),
    );
  });

  it("finds any extra top-level key", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((key) => !["id", "nested", "list", "properties", "__proto__"].includes(key)), (key) => {
        const input = { id: "a", [key]: 1 };
        expect(unknownFields(input, schema.parse(input))).toEqual([key]);
      }),
    );
  });
});

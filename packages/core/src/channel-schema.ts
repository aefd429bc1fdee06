import { z } from "zod";

/** `PID.3`, `PID-3.1`, `OBX[2].5.1`: the path syntax of @node-mirth/hl7. */
const HL7_PATH = /^[A-Za-z0-9]{3}(?:\[\d+\])?(?:[.-]\d+(?:\[\d+\])?(?:\.\d+(?:\.\d+)?)?)?$/;

export const hl7PathSchema = z.string().regex(HL7_PATH, "an HL7 path such as PID.3.1 or MSH-9.1");

export const dataTypeSchema = z.enum(["HL7V2", "XML", "JSON", "RAW"]);
export type DataType = z.infer<typeof dataTypeSchema>;

/**
 * What is kept of each message (Mirth's meanings): development = every content kind;
 * production = raw, encoded, sent, response, source map and errors; raw = raw only (plus
 * the encoded content while a message sits in a queue); metadata = statuses and metadata
 * only; disabled = nothing. The README spells out what each costs on a crash.
 */
export const storageModeSchema = z.enum([
  "development",
  "production",
  "raw",
  "metadata",
  "disabled",
]);
export type StorageMode = z.infer<typeof storageModeSchema>;

export const connectorConfigSchema = z.object({
  /** The type of a registered connector plugin: "mllp", "http", "channel", ... */
  type: z.string().min(1),
  /** Validated by the plugin's own schema at deploy. */
  properties: z.record(z.string(), z.unknown()).default({}),
});
export type ConnectorConfig = z.infer<typeof connectorConfigSchema>;

const javascriptRuleSchema = z.object({
  type: z.literal("javascript"),
  name: z.string().optional(),
  /** A function body that returns true to accept the message. */
  script: z.string().min(1),
});

/** A rule evaluated without JavaScript, e.g. `MSH.9.1 == "ADT"`. */
const fieldRuleSchema = z.object({
  type: z.literal("field"),
  name: z.string().optional(),
  field: hl7PathSchema,
  operator: z.enum(["==", "!=", "contains", "exists", "notExists"]),
  /** For == and != a list means "any of"; unused by exists / notExists. */
  value: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
});

export const filterRuleSchema = z.discriminatedUnion("type", [
  javascriptRuleSchema,
  fieldRuleSchema,
]);
export type FilterRule = z.infer<typeof filterRuleSchema>;

export const filterSchema = z.object({
  /** How the rules' results combine. */
  combine: z.enum(["and", "or"]).default("and"),
  rules: z.array(filterRuleSchema).min(1),
});
export type Filter = z.infer<typeof filterSchema>;

/** Where a mapper step takes its value from. */
export const mapperSourceSchema = z.union([
  z.object({ field: hl7PathSchema }).strict(),
  z.object({ value: z.string() }).strict(),
  z.object({ channelMap: z.string().min(1) }).strict(),
  z.object({ javascript: z.string().min(1) }).strict(),
]);
export type MapperSource = z.infer<typeof mapperSourceSchema>;

const javascriptStepSchema = z.object({
  type: z.literal("javascript"),
  name: z.string().optional(),
  script: z.string().min(1),
});

/** "set field X from expression": the message builder step of Mirth. */
const mapperStepSchema = z.object({
  type: z.literal("mapper"),
  name: z.string().optional(),
  field: hl7PathSchema,
  from: mapperSourceSchema,
});

export const transformerStepSchema = z.discriminatedUnion("type", [
  javascriptStepSchema,
  mapperStepSchema,
]);
export type TransformerStep = z.infer<typeof transformerStepSchema>;

export const transformerSchema = z.object({ steps: z.array(transformerStepSchema).min(1) });
export type Transformer = z.infer<typeof transformerSchema>;

export const queuePolicySchema = z.object({
  /** never: send in line, ERROR after the retries; onFailure: queue what fails; always: queue everything. */
  mode: z.enum(["never", "onFailure", "always"]).default("never"),
  /** Attempts after the first; when spent, a queued message goes to dead-letter. */
  retryCount: z.int().min(0).max(1_000_000).default(0),
  retryIntervalMs: z.int().min(0).default(10_000),
  /** Each retry waits interval × multiplier^(retry - 1), capped at maxRetryIntervalMs. */
  backoffMultiplier: z.number().min(1).max(100).default(1),
  maxRetryIntervalMs: z.int().min(0).default(600_000),
  /** Workers; more than one needs `groupBy` to keep any order. */
  threads: z.int().min(1).max(64).default(1),
  /**
   * Queued messages kept in memory; beyond it they wait in the store only and are read back
   * in order as the queue drains. Not applied to waitForPrevious chains or to storage modes
   * that keep no queued content (metadata, disabled).
   */
  bufferSize: z.int().min(1).default(10_000),
  /** An HL7 path (e.g. PID.3.1): messages with the same value keep their order on one worker. */
  groupBy: hl7PathSchema.optional(),
});
export type QueuePolicy = z.infer<typeof queuePolicySchema>;

export const destinationSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and -, at most 64"),
  name: z.string().min(1),
  enabled: z.boolean().default(true),
  connector: connectorConfigSchema,
  /** Data type of the encoded message sent; defaults to the channel's. */
  dataType: dataTypeSchema.optional(),
  filter: filterSchema.optional(),
  transformer: transformerSchema.optional(),
  responseTransformer: transformerSchema.optional(),
  queue: queuePolicySchema.default(queuePolicySchema.parse({})),
  /** Start on a message only after the previous destination has finished with it. */
  waitForPrevious: z.boolean().default(false),
});
export type Destination = z.infer<typeof destinationSchema>;

/** When the source gets its answer, and which one. */
export const ackPolicySchema = z.discriminatedUnion("mode", [
  /** After the raw message is committed (default): the fastest durable answer. */
  z.object({ mode: z.literal("afterCommit") }),
  /** After the filter and transformers ran and the destination messages are queued. */
  z.object({ mode: z.literal("afterTransform") }),
  /** After the named destination's first attempt; `useResponse` answers with its response. */
  z.object({
    mode: z.literal("afterDestination"),
    destination: z.string().min(1),
    useResponse: z.boolean().default(false),
  }),
  /** No answer (e.g. a file reader). */
  z.object({ mode: z.literal("none") }),
]);
export type AckPolicy = z.infer<typeof ackPolicySchema>;

export const metadataColumnSchema = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "an identifier of at most 64 characters"),
  /** An HL7 path (read from the transformed message) or a JavaScript expression. */
  expression: z.string().min(1),
});
export type MetadataColumn = z.infer<typeof metadataColumnSchema>;

export const channelSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and -, at most 64"),
    name: z.string().min(1),
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    /** Data type of what the source receives. */
    dataType: dataTypeSchema.default("HL7V2"),
    source: connectorConfigSchema,
    preprocessor: z.string().optional(),
    filter: filterSchema.optional(),
    transformer: transformerSchema.optional(),
    destinations: z.array(destinationSchema).min(1),
    postprocessor: z.string().optional(),
    /** JavaScript run once when the channel is deployed (e.g. to fill globalChannelMap); a failure refuses the deploy. */
    deployScript: z.string().optional(),
    /** JavaScript run once when the channel is undeployed or replaced. */
    undeployScript: z.string().optional(),
    storage: storageModeSchema.default("development"),
    ack: ackPolicySchema.default({ mode: "afterCommit" }),
    metadataColumns: z.array(metadataColumnSchema).default([]),
  })
  .superRefine((channel, ctx) => {
    const seen = new Set<string>();
    channel.destinations.forEach((destination, index) => {
      if (destination.id === "source") {
        ctx.addIssue({
          code: "custom",
          path: ["destinations", index, "id"],
          message: '"source" is reserved',
        });
      }
      if (seen.has(destination.id)) {
        ctx.addIssue({
          code: "custom",
          path: ["destinations", index, "id"],
          message: "duplicate destination id",
        });
      }
      seen.add(destination.id);
    });
    if (channel.ack.mode === "afterDestination" && !seen.has(channel.ack.destination)) {
      ctx.addIssue({
        code: "custom",
        path: ["ack", "destination"],
        message: "no destination with this id",
      });
    }
    const columns = new Set<string>();
    channel.metadataColumns.forEach((column, index) => {
      if (columns.has(column.name)) {
        ctx.addIssue({
          code: "custom",
          path: ["metadataColumns", index, "name"],
          message: "duplicate column",
        });
      }
      columns.add(column.name);
    });
  });

/** A channel as written by a person or the API; defaults are filled in by parsing. */
export type ChannelInput = z.input<typeof channelSchema>;
/** A validated channel with every default applied. */
export type Channel = z.infer<typeof channelSchema>;

/** The published JSON Schema of a channel document (input side: defaults are optional). */
export function channelJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(channelSchema, { io: "input", unrepresentable: "any" });
}

/** HL7 paths are evaluated on the host; anything else is a JavaScript expression. */
export function isHl7Path(expression: string): boolean {
  return HL7_PATH.test(expression);
}

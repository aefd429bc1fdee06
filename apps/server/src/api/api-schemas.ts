import { CONTENT_KINDS, MESSAGE_STATUSES } from "@node-mirth/core";
import { z } from "zod";

/*
 * Request and response bodies of the API. Requests are strict (an unknown field is a 400);
 * responses describe what the server sends, for /api/openapi.json and for mirth-cli.
 */

/** A query value given once or repeated (`?status=A&status=B`): always an array. */
const repeated = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => (value === undefined || Array.isArray(value) ? value : [value]), z.array(item).max(50));

/** Epoch milliseconds, or an ISO 8601 instant. */
const instant = z.union([z.string().regex(/^\d{1,15}$/).transform(Number), z.iso.datetime({ offset: true }).transform((text) => Date.parse(text))]);

const positiveIntText = z.string().regex(/^[1-9]\d{0,14}$/, "a positive integer").transform(Number);
const positiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const channelIdParamsSchema = z.strictObject({ channelId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) });
export const messageParamsSchema = channelIdParamsSchema.extend({ messageId: positiveIntText });
export const userParamsSchema = z.strictObject({ userId: z.string().regex(/^\d{1,15}$/, "a user id") });

export const emptyQuerySchema = z.strictObject({});

export const messageSearchQuerySchema = z.strictObject({
  status: repeated(z.enum(MESSAGE_STATUSES)).optional(),
  from: instant.optional(),
  to: instant.optional(),
  text: z.string().min(1).max(1_000).optional(),
  /** `key=value`, repeated: exact matches on custom metadata columns. */
  metadata: repeated(z.string().regex(/^[^=]+=.*$/, "key=value")).optional(),
  limit: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.number().int().min(1).max(1_000)).optional(),
  /** The `nextCursor` of the previous page. */
  before: positiveIntText.optional(),
});
export type MessageSearchQuery = z.output<typeof messageSearchQuerySchema>;

export const reprocessBodySchema = z.strictObject({
  messageIds: z.array(positiveInt).min(1).max(1_000),
  overwrite: z.boolean().default(false),
});

export const pruneBodySchema = z.strictObject({
  /** Messages received more than this long ago are removed (unfinished ones are kept). */
  olderThanMs: z.number().int().min(0),
  batchSize: z.number().int().min(1).max(10_000).optional(),
  maxBatches: z.number().int().min(1).optional(),
});

export const queueQuerySchema = z.strictObject({
  /** Only dead letters (messages that used up their retry budget). */
  deadLetter: z.enum(["true", "false"]).transform((flag) => flag === "true").optional(),
  destination: z.string().min(1).max(64).optional(),
  /** Queued entries after this message id (paging a long queue). */
  after: z.string().regex(/^\d{1,15}$/).transform(Number).optional(),
  limit: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.number().int().min(1).max(1_000)).optional(),
});

export const requeueBodySchema = z.strictObject({
  entries: z.array(z.strictObject({ messageId: positiveInt, destinationId: z.string().min(1).max(64) })).min(1).max(1_000),
});

export const eventsQuerySchema = z.strictObject({
  before: positiveIntText.optional(),
  limit: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.number().int().min(1).max(1_000)).optional(),
});

// Responses.

export const errorBodySchema = z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() });

export const healthResponseSchema = z.object({
  status: z.enum(["ok", "unavailable"]),
  checks: z.object({ store: z.boolean(), channels: z.boolean() }).optional(),
});

export const channelSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  enabled: z.boolean(),
  state: z.string(),
});

export const channelStatusSchema = z.object({ id: z.string(), name: z.string(), state: z.string() });

const countsSchema = z.object({ received: z.number(), filtered: z.number(), queued: z.number(), sent: z.number(), errored: z.number() });
export const statisticsResponseSchema = z.record(z.string(), countsSchema);

export const messageSummarySchema = z.object({
  channelId: z.string(),
  messageId: z.number(),
  receivedAt: z.number(),
  statuses: z.record(z.string(), z.enum(MESSAGE_STATUSES)),
  metadata: z.record(z.string(), z.string()),
});

export const messageSearchResponseSchema = z.object({
  messages: z.array(messageSummarySchema),
  nextCursor: z.number().optional(),
});

export const connectorMessageSchema = z.object({
  channelId: z.string(),
  messageId: z.number(),
  connectorId: z.string(),
  status: z.enum(MESSAGE_STATUSES),
  sendAttempts: z.number(),
  deadLetter: z.boolean(),
  error: z.string().optional(),
  updatedAt: z.number(),
});

export const messageDetailSchema = z.object({
  channelId: z.string(),
  messageId: z.number(),
  receivedAt: z.number(),
  metadata: z.record(z.string(), z.string()),
  connectors: z.array(connectorMessageSchema.extend({ content: z.partialRecord(z.enum(CONTENT_KINDS), z.string()) })),
});

export const reprocessResponseSchema = z.object({
  results: z.array(z.object({ messageId: z.number(), status: z.enum(MESSAGE_STATUSES) })),
});

export const removedResponseSchema = z.object({ removed: z.number() });
export const pruneResponseSchema = z.object({ deleted: z.number(), batches: z.number(), complete: z.boolean() });
export const queueListResponseSchema = z.array(connectorMessageSchema);
export const requeueResponseSchema = z.object({ requeued: z.number() });
export const channelActionResponseSchema = z.object({ id: z.string(), state: z.string() });

export const serverInfoResponseSchema = z.object({
  name: z.literal("node-mirth"),
  version: z.string(),
  nodeVersion: z.string(),
  startedAt: z.number(),
});

export const serverStatusResponseSchema = z.object({
  uptimeMs: z.number(),
  channels: z.record(z.string(), z.number()),
  store: z.object({ commits: z.number(), writes: z.number() }),
});

export const eventsResponseSchema = z.object({ events: z.array(z.unknown()), nextCursor: z.number().optional() });
export const verifyResponseSchema = z.object({ intact: z.boolean(), checked: z.number(), firstBrokenId: z.number().optional() });

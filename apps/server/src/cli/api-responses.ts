import { MESSAGE_STATUSES } from "@node-mirth/core";
import { z } from "zod";

/*
 * What mirth-cli reads from the API answers. Objects are loose on purpose: a newer server
 * that adds a field must not break an older CLI; only the fields printed are required.
 */

const idSchema = z.union([z.string(), z.number()]).transform(String);

export const healthResponseSchema = z.looseObject({ status: z.string() });

export const userSchema = z.looseObject({
  id: idSchema,
  username: z.string(),
  role: z.string(),
  mfaEnrolled: z.boolean().optional(),
});
export type ApiUser = z.infer<typeof userSchema>;

export const loginResponseSchema = z.looseObject({ sessionId: z.string().min(1), user: userSchema });

export const createUserResponseSchema = z.looseObject({
  user: userSchema,
  otpauthUri: z.string().optional(),
});

export const channelSummarySchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean().optional(),
  description: z.string().optional(),
});
export type ChannelSummary = z.infer<typeof channelSummarySchema>;

/** A whole channel document, as stored and exported. */
export const channelDocumentSchema = z.looseObject({ id: z.string(), name: z.string() });

export const channelStatusSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  state: z.string(),
});
export type ChannelStatusRow = z.infer<typeof channelStatusSchema>;

export const statisticsCountsSchema = z.looseObject({
  received: z.number(),
  filtered: z.number(),
  queued: z.number(),
  sent: z.number(),
  errored: z.number(),
});

/** Per connector id (`source` and each destination id). */
export const channelStatisticsSchema = z.record(z.string(), statisticsCountsSchema);

const messageStatusSchema = z.enum(MESSAGE_STATUSES);

export const messageSummarySchema = z.looseObject({
  channelId: z.string(),
  messageId: z.number(),
  receivedAt: z.number(),
  statuses: z.record(z.string(), messageStatusSchema),
  metadata: z.record(z.string(), z.string()).default({}),
});
export type MessageSummaryRow = z.infer<typeof messageSummarySchema>;

export const messageSearchResponseSchema = z.looseObject({
  messages: z.array(messageSummarySchema),
  /** Pass as `--before` for the next (older) page; absent on the last page. */
  nextCursor: z.union([z.string(), z.number()]).optional(),
});

export const connectorMessageSchema = z.looseObject({
  connectorId: z.string(),
  status: messageStatusSchema,
  sendAttempts: z.number().optional(),
  deadLetter: z.boolean().optional(),
  error: z.string().optional(),
  updatedAt: z.number().optional(),
  content: z.record(z.string(), z.string()).optional(),
});

export const messageDetailSchema = z.looseObject({
  channelId: z.string(),
  messageId: z.number(),
  receivedAt: z.number(),
  metadata: z.record(z.string(), z.string()).default({}),
  connectors: z.array(connectorMessageSchema),
});
export type MessageDetailBody = z.infer<typeof messageDetailSchema>;

export const reprocessResponseSchema = z.looseObject({});

export const queueEntrySchema = connectorMessageSchema.extend({ messageId: z.number() });
export type QueueEntry = z.infer<typeof queueEntrySchema>;

export const queueListResponseSchema = z.array(queueEntrySchema);

export const requeueResponseSchema = z.looseObject({ requeued: z.number() });

/** Action routes (`_deploy`, `_start`, ...) may answer 204 or a small JSON body. */
export const anyResponseSchema = z.unknown();

import type { ConnectorMessageRecord } from "@node-mirth/core";
import type { z } from "zod";
import type { ApiDeps } from "./api-deps.js";
import { ApiError } from "./api-errors.js";
import { jsonRoute } from "./api-route.js";
import {
  channelIdParamsSchema,
  emptyQuerySchema,
  queueListResponseSchema,
  queueQuerySchema,
  requeueBodySchema,
  requeueResponseSchema,
} from "./api-schemas.js";
import type { RouteBehaviour } from "./route-behaviour.js";

type ChannelParams = { channelId: string };
type QueueQuery = z.output<typeof queueQuerySchema>;

const DEFAULT_PAGE = 100;

/** The destination ids of a saved channel, in document order. */
async function destinationIds(deps: Pick<ApiDeps, "channelRepository">, channelId: string): Promise<string[]> {
  const channel = await deps.channelRepository.get(channelId);
  if (channel === undefined) {
    throw new ApiError("ERR_API_CHANNEL_NOT_FOUND", `No channel ${channelId} is saved.`, { details: { channelId } });
  }
  const destinations = Array.isArray(channel.destinations) ? (channel.destinations as { id?: unknown }[]) : [];
  return destinations.map((destination) => destination.id).filter((id): id is string => typeof id === "string");
}

/** Destination queues: what waits to be sent, the dead letters, and re-queueing them. */
export function queueRoutes(deps: Pick<ApiDeps, "engine" | "store" | "channelRepository">): RouteBehaviour[] {
  const { engine, store } = deps;
  return [
    {
      method: "get",
      path: "/api/channels/:channelId/queue",
      summary: "queued (or, with deadLetter=true, dead-lettered) destination messages, oldest first",
      params: channelIdParamsSchema,
      query: queueQuerySchema,
      response: { status: 200, schema: queueListResponseSchema },
      handler: jsonRoute<ChannelParams, QueueQuery>(async ({ params, query }) => {
        const limit = query.limit ?? DEFAULT_PAGE;
        const matches = (entry: ConnectorMessageRecord) => query.destination === undefined || entry.connectorId === query.destination;
        if (query.deadLetter === true) {
          return (await engine.deadLetters.list(params.channelId, { limit })).filter(matches);
        }
        const ids = (await destinationIds(deps, params.channelId)).filter((id) => query.destination === undefined || id === query.destination);
        const pages = await Promise.all(
          ids.map((connectorId) => store.listQueued({ channelId: params.channelId, connectorId }, { afterMessageId: query.after ?? 0, limit })),
        );
        return pages.flat().sort((a, b) => a.messageId - b.messageId).slice(0, limit);
      }),
    },
    {
      method: "post",
      path: "/api/channels/:channelId/queue/_retry",
      summary: "put dead letters back in their destination queue for another round of attempts",
      params: channelIdParamsSchema,
      query: emptyQuerySchema,
      body: requeueBodySchema,
      response: { status: 200, schema: requeueResponseSchema },
      handler: jsonRoute<ChannelParams, unknown, z.output<typeof requeueBodySchema>>(async ({ params, body }) => ({
        requeued: await engine.deadLetters.requeue(params.channelId, body.entries),
      })),
    },
  ];
}

import { NodeMirthError, type MessageQuery } from "@node-mirth/core";
import type { z } from "zod";
import type { ApiDeps } from "./api-deps.js";
import { jsonRoute } from "./api-route.js";
import {
  channelIdParamsSchema,
  emptyQuerySchema,
  messageDetailSchema,
  messageParamsSchema,
  messageSearchQuerySchema,
  messageSearchResponseSchema,
  pruneBodySchema,
  pruneResponseSchema,
  reprocessBodySchema,
  reprocessResponseSchema,
  type MessageSearchQuery,
} from "./api-schemas.js";
import type { RouteBehaviour } from "./route-behaviour.js";

type ChannelParams = { channelId: string };
type MessageParams = { channelId: string; messageId: number };

const DEFAULT_PAGE = 100;

function queryOf(channelId: string, search: MessageSearchQuery): MessageQuery {
  const metadata = search.metadata === undefined
    ? undefined
    : Object.fromEntries(search.metadata.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
  return {
    channelId,
    limit: search.limit ?? DEFAULT_PAGE,
    ...(search.status === undefined ? {} : { statuses: search.status }),
    ...(search.from === undefined ? {} : { receivedFrom: search.from }),
    ...(search.to === undefined ? {} : { receivedTo: search.to }),
    ...(search.text === undefined ? {} : { text: search.text }),
    ...(metadata === undefined ? {} : { metadata }),
    ...(search.before === undefined ? {} : { beforeMessageId: search.before }),
  };
}

function notFound(params: MessageParams): NodeMirthError {
  return new NodeMirthError("ERR_MESSAGE_NOT_FOUND", `Channel ${params.channelId} has no message ${params.messageId}.`, { details: { ...params } });
}

/** Stored messages: search (newest first, cursor pages), one with its content, reprocess, delete, prune. */
export function messageRoutes(deps: Pick<ApiDeps, "engine">): RouteBehaviour[] {
  const { engine } = deps;
  return [
    {
      method: "get",
      path: "/api/channels/:channelId/messages",
      summary: "search messages by status, receive time, metadata and text; newest first, `before` = the previous page's nextCursor",
      params: channelIdParamsSchema,
      query: messageSearchQuerySchema,
      response: { status: 200, schema: messageSearchResponseSchema },
      handler: jsonRoute<ChannelParams, MessageSearchQuery>(async ({ params, query }) => {
        const search = queryOf(params.channelId, query);
        const messages = await engine.messages.search(search);
        const last = messages.at(-1);
        // A full page may have more behind it; the cursor is the last id seen.
        return { messages, ...(last !== undefined && messages.length === search.limit ? { nextCursor: last.messageId } : {}) };
      }),
    },
    {
      method: "post",
      path: "/api/channels/:channelId/messages/_reprocess",
      summary: "process stored messages again, as new messages or in place (overwrite)",
      params: channelIdParamsSchema,
      query: emptyQuerySchema,
      body: reprocessBodySchema,
      response: { status: 200, schema: reprocessResponseSchema },
      handler: jsonRoute<ChannelParams, unknown, z.output<typeof reprocessBodySchema>>(async ({ params, body }) => {
        const results = await engine.messages.reprocess(params.channelId, body);
        return { results: results.map(({ messageId, status }) => ({ messageId, status })) };
      }),
    },
    {
      method: "post",
      path: "/api/channels/:channelId/messages/_prune",
      summary: "delete finished messages older than olderThanMs, in bounded batches",
      params: channelIdParamsSchema,
      query: emptyQuerySchema,
      body: pruneBodySchema,
      response: { status: 200, schema: pruneResponseSchema },
      handler: jsonRoute<ChannelParams, unknown, z.output<typeof pruneBodySchema>>(({ params, body }) =>
        engine.messages.prune({ channelId: params.channelId, ...body }),
      ),
    },
    {
      method: "get",
      path: "/api/channels/:channelId/messages/:messageId",
      summary: "one message: statuses per connector and the stored content",
      params: messageParamsSchema,
      query: emptyQuerySchema,
      response: { status: 200, schema: messageDetailSchema },
      handler: jsonRoute<MessageParams>(async ({ params }) => {
        const message = await engine.messages.get(params.channelId, params.messageId);
        if (message === undefined) throw notFound(params);
        return message;
      }),
    },
    {
      method: "delete",
      path: "/api/channels/:channelId/messages/:messageId",
      summary: "delete one stored message",
      params: messageParamsSchema,
      query: emptyQuerySchema,
      response: { status: 204 },
      handler: jsonRoute<MessageParams>(async ({ params }) => {
        if ((await engine.messages.remove(params.channelId, [params.messageId])) === 0) throw notFound(params);
        return undefined;
      }),
    },
  ];
}

import { channelSchema, type Engine } from "@node-mirth/core";
import { z } from "zod";
import type { ApiDeps } from "./api-deps.js";
import { ApiError } from "./api-errors.js";
import { jsonRoute } from "./api-route.js";
import {
  channelActionResponseSchema,
  channelIdParamsSchema,
  channelStatusSchema,
  channelSummarySchema,
  emptyQuerySchema,
  statisticsResponseSchema,
} from "./api-schemas.js";
import type { ChannelDocument, ChannelRepository } from "./channel-repository.js";
import type { RouteBehaviour } from "./route-behaviour.js";

type ChannelParams = { channelId: string };

/** The state the engine reports, or "undeployed" for a saved channel it does not run. */
function stateOf(engine: Engine, channelId: string): string {
  return engine.channels().find((status) => status.id === channelId)?.state ?? "undeployed";
}

async function savedChannel(repository: ChannelRepository, channelId: string): Promise<ChannelDocument> {
  const channel = await repository.get(channelId);
  if (channel === undefined) {
    throw new ApiError("ERR_API_CHANNEL_NOT_FOUND", `No channel ${channelId} is saved.`, { details: { channelId } });
  }
  return channel;
}

function summaryOf(engine: Engine, channel: ChannelDocument) {
  return {
    id: channel.id,
    name: channel.name,
    ...(typeof channel.description === "string" ? { description: channel.description } : {}),
    enabled: channel.enabled !== false,
    state: stateOf(engine, channel.id),
  };
}

/** Channel documents (saved under <data>/channels) and the engine's lifecycle actions. */
export function channelRoutes(deps: Pick<ApiDeps, "engine" | "channelRepository">): RouteBehaviour[] {
  const { engine, channelRepository: repository } = deps;
  const action = (name: string, run: (channelId: string) => Promise<void>): RouteBehaviour => ({
    method: "post",
    path: `/api/channels/:channelId/_${name}`,
    summary: `${name} the channel`,
    params: channelIdParamsSchema,
    query: emptyQuerySchema,
    response: { status: 200, schema: channelActionResponseSchema },
    handler: jsonRoute<ChannelParams>(async ({ params }) => {
      await run(params.channelId);
      return { id: params.channelId, state: stateOf(engine, params.channelId) };
    }),
  });

  return [
    {
      method: "get",
      path: "/api/channels",
      summary: "saved channels with their state",
      query: emptyQuerySchema,
      response: { status: 200, schema: z.array(channelSummarySchema) },
      handler: jsonRoute(async () => (await repository.list()).map((channel) => summaryOf(engine, channel))),
    },
    {
      method: "get",
      path: "/api/channels/statuses",
      summary: "the state of every deployed or saved channel",
      query: emptyQuerySchema,
      response: { status: 200, schema: z.array(channelStatusSchema) },
      handler: jsonRoute(async () => {
        const running = engine.channels();
        const saved = (await repository.list())
          .filter((channel) => !running.some((status) => status.id === channel.id))
          .map((channel) => ({ id: channel.id, name: channel.name, state: "undeployed" }));
        return [...running.map(({ id, name, state }) => ({ id, name, state })), ...saved];
      }),
    },
    {
      method: "post",
      path: "/api/channels",
      summary: "save a new channel (deploy it with _deploy)",
      query: emptyQuerySchema,
      body: channelSchema,
      response: { status: 201, schema: channelSummarySchema },
      handler: jsonRoute(async ({ rawBody }) => {
        const channel = rawBody as ChannelDocument;
        if ((await repository.get(channel.id)) !== undefined) {
          throw new ApiError("ERR_API_CHANNEL_EXISTS", `A channel ${channel.id} already exists; PUT /api/channels/${channel.id} replaces it.`, {
            details: { channelId: channel.id },
          });
        }
        await repository.save(channel);
        return summaryOf(engine, channel);
      }, 201),
    },
    {
      method: "get",
      path: "/api/channels/:channelId",
      summary: "the saved channel document",
      params: channelIdParamsSchema,
      query: emptyQuerySchema,
      response: { status: 200, schema: channelSchema },
      handler: jsonRoute<ChannelParams>(({ params }) => savedChannel(repository, params.channelId)),
    },
    {
      method: "put",
      path: "/api/channels/:channelId",
      summary: "replace a saved channel (a deployed one keeps running the old version until _deploy)",
      params: channelIdParamsSchema,
      query: emptyQuerySchema,
      body: channelSchema,
      response: { status: 200, schema: channelSummarySchema },
      handler: jsonRoute<ChannelParams>(async ({ params, rawBody }) => {
        const channel = rawBody as ChannelDocument;
        if (channel.id !== params.channelId) {
          throw new ApiError("ERR_API_CHANNEL_ID_MISMATCH", `The document's id ${channel.id} is not ${params.channelId}.`);
        }
        await savedChannel(repository, params.channelId);
        await repository.save(channel);
        return summaryOf(engine, channel);
      }),
    },
    {
      method: "delete",
      path: "/api/channels/:channelId",
      summary: "undeploy (when deployed) and delete a saved channel; its messages stay until pruned",
      params: channelIdParamsSchema,
      query: emptyQuerySchema,
      response: { status: 204 },
      handler: jsonRoute<ChannelParams>(async ({ params }) => {
        await savedChannel(repository, params.channelId);
        if (stateOf(engine, params.channelId) !== "undeployed") await engine.undeploy(params.channelId);
        await repository.remove(params.channelId);
        return undefined;
      }),
    },
    action("deploy", async (channelId) => engine.deploy(await savedChannel(repository, channelId))),
    action("undeploy", (channelId) => engine.undeploy(channelId)),
    action("start", (channelId) => engine.start(channelId)),
    action("stop", (channelId) => engine.stop(channelId)),
    action("pause", (channelId) => engine.pause(channelId)),
    action("resume", (channelId) => engine.resume(channelId)),
    action("halt", (channelId) => engine.halt(channelId)),
    {
      method: "get",
      path: "/api/channels/:channelId/statistics",
      summary: "message counts per connector (source and each destination)",
      params: channelIdParamsSchema,
      query: emptyQuerySchema,
      response: { status: 200, schema: statisticsResponseSchema },
      handler: jsonRoute<ChannelParams>(({ params }) => engine.statistics(params.channelId)),
    },
  ];
}

import type { z } from "zod";
import type { ApiDeps } from "./api-deps.js";
import { jsonRoute } from "./api-route.js";
import {
  emptyQuerySchema,
  eventsQuerySchema,
  eventsResponseSchema,
  healthResponseSchema,
  serverInfoResponseSchema,
  serverStatusResponseSchema,
  verifyResponseSchema,
} from "./api-schemas.js";
import type { RouteBehaviour } from "./route-behaviour.js";

type EventsQuery = z.output<typeof eventsQuerySchema>;

const DEFAULT_EVENTS_PAGE = 100;
const HEALTH_PROBE_CHANNEL = "__health__";
/** A store that takes longer than this is not ready: a probe must answer, not hang. */
const STORE_PROBE_TIMEOUT_MS = 2_000;

function answersWithin(probe: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref();
  });
  return Promise.race([probe.then(() => true, () => false), late]).finally(() => clearTimeout(timer));
}

/** Probes, server facts and the audit log. */
export function serverRoutes(deps: Pick<ApiDeps, "engine" | "store" | "audit" | "channelRepository" | "serverInfo">): RouteBehaviour[] {
  const { engine, store, audit, channelRepository, serverInfo } = deps;
  return [
    {
      method: "get",
      path: "/api/health/live",
      summary: "liveness: the process answers",
      query: emptyQuerySchema,
      response: { status: 200, schema: healthResponseSchema },
      handler: jsonRoute(() => ({ status: "ok" })),
    },
    {
      method: "get",
      path: "/api/health",
      summary: "readiness: the store answers and every enabled saved channel is deployed and not failed (503 otherwise)",
      query: emptyQuerySchema,
      response: { status: 200, schema: healthResponseSchema },
      handler: async (_req, res) => {
        const storeOk = await answersWithin(store.maxMessageId(HEALTH_PROBE_CHANNEL), STORE_PROBE_TIMEOUT_MS);
        const running = new Map(engine.channels().map((status) => [status.id, status.state]));
        const saved = await channelRepository.list().catch(() => undefined);
        const channelsOk = saved !== undefined && saved.every((channel) => {
          const state = running.get(channel.id);
          return channel.enabled === false ? state !== "failed" : state !== undefined && state !== "failed";
        });
        const checks = { store: storeOk, channels: channelsOk };
        if (storeOk && channelsOk) {
          res.json({ status: "ok", checks });
          return;
        }
        res.status(503).json({
          status: "unavailable",
          code: "ERR_API_NOT_READY",
          message: storeOk ? "A saved channel is not deployed or has failed." : "The message store does not answer.",
          checks,
        });
      },
    },
    {
      method: "get",
      path: "/api/server/info",
      summary: "server version and start time",
      query: emptyQuerySchema,
      response: { status: 200, schema: serverInfoResponseSchema },
      handler: jsonRoute(() => ({ name: "node-mirth", version: serverInfo.version, nodeVersion: process.versions.node, startedAt: serverInfo.startedAt })),
    },
    {
      method: "get",
      path: "/api/server/status",
      summary: "uptime, channels per state and store commit counters",
      query: emptyQuerySchema,
      response: { status: 200, schema: serverStatusResponseSchema },
      handler: jsonRoute(() => {
        const channels: Record<string, number> = {};
        for (const status of engine.channels()) channels[status.state] = (channels[status.state] ?? 0) + 1;
        const { commits, writes } = store.metrics();
        return { uptimeMs: Date.now() - serverInfo.startedAt, channels, store: { commits, writes } };
      }),
    },
    {
      method: "get",
      path: "/api/events",
      summary: "the audit log, newest first; `before` = the previous page's nextCursor",
      query: eventsQuerySchema,
      response: { status: 200, schema: eventsResponseSchema },
      handler: jsonRoute<unknown, EventsQuery>(({ query }) => {
        const limit = query.limit ?? DEFAULT_EVENTS_PAGE;
        const events = audit.list({ limit, ...(query.before === undefined ? {} : { beforeId: query.before }) });
        const lastId = (events.at(-1) as { id?: unknown } | undefined)?.id;
        return { events, ...(events.length === limit && typeof lastId === "number" ? { nextCursor: lastId } : {}) };
      }),
    },
    {
      method: "get",
      path: "/api/events/_verify",
      summary: "walks the audit hash chain: intact, or the first entry that does not match",
      query: emptyQuerySchema,
      response: { status: 200, schema: verifyResponseSchema },
      handler: jsonRoute(() => audit.verify()),
    },
  ];
}

import type { RequestHandler } from "express";
import type { Role } from "../auth/auth-types.js";
import type { ApiDeps } from "./api-deps.js";
import type { ApiRoute } from "./api-route.js";
import { emptyQuerySchema } from "./api-schemas.js";
import { channelRoutes } from "./channel-routes.js";
import { messageRoutes } from "./message-routes.js";
import { queueRoutes } from "./queue-routes.js";
import type { RouteBehaviour } from "./route-behaviour.js";
import { serverRoutes } from "./server-routes.js";
import { userRoutes } from "./user-routes.js";

const ANYONE: readonly Role[] = ["admin", "developer", "operator", "viewer"];
/** Start/stop, message content, reprocessing and queues: operators and up. */
const OPERATORS: readonly Role[] = ["admin", "developer", "operator"];
/** Channel documents and their deployment. */
const DEVELOPERS: readonly Role[] = ["admin", "developer"];
/** Users, the audit log, and deleting clinical records. */
const ADMINS: readonly Role[] = ["admin"];

export interface AccessRule {
  roles: readonly Role[] | "public";
  /** An audit action, "handler" (the handler writes its own entries) or false for reads. */
  audit: string | false;
}

/**
 * THE access table: every route's roles and audit action, keyed by `METHOD path`. A route
 * with no row here (or a row with no route) stops the API from being built, and the RBAC
 * matrix test walks this table. The viewer sees the dashboard (channels, states,
 * statistics, server facts, metrics), never a message.
 */
export const ACCESS_RULES = {
  "GET /api/health/live": { roles: "public", audit: false },
  "GET /api/health": { roles: "public", audit: false },
  "GET /api/openapi.json": { roles: "public", audit: false },
  "GET /metrics": { roles: ANYONE, audit: false },

  "POST /api/users/_login": { roles: "public", audit: "handler" },
  "POST /api/users/_logout": { roles: ANYONE, audit: "handler" },
  "GET /api/users/current": { roles: ANYONE, audit: false },
  "GET /api/users": { roles: ADMINS, audit: false },
  "POST /api/users": { roles: ADMINS, audit: "user.create" },
  // Anyone may reach their own account; the handler refuses another's unless admin.
  "GET /api/users/:userId": { roles: ANYONE, audit: false },
  "PUT /api/users/:userId": { roles: ANYONE, audit: "user.update" },
  "DELETE /api/users/:userId": { roles: ADMINS, audit: "user.delete" },
  "POST /api/users/current/_enrollMfa": { roles: ANYONE, audit: "user.enrollMfa" },
  "POST /api/users/:userId/_enrollMfa": { roles: ANYONE, audit: "user.enrollMfa" },

  "GET /api/channels": { roles: ANYONE, audit: false },
  "GET /api/channels/statuses": { roles: ANYONE, audit: false },
  "POST /api/channels": { roles: DEVELOPERS, audit: "channel.create" },
  "GET /api/channels/:channelId": { roles: OPERATORS, audit: false },
  "PUT /api/channels/:channelId": { roles: DEVELOPERS, audit: "channel.update" },
  "DELETE /api/channels/:channelId": { roles: DEVELOPERS, audit: "channel.delete" },
  "POST /api/channels/:channelId/_deploy": { roles: DEVELOPERS, audit: "channel.deploy" },
  "POST /api/channels/:channelId/_undeploy": { roles: DEVELOPERS, audit: "channel.undeploy" },
  "POST /api/channels/:channelId/_start": { roles: OPERATORS, audit: "channel.start" },
  "POST /api/channels/:channelId/_stop": { roles: OPERATORS, audit: "channel.stop" },
  "POST /api/channels/:channelId/_pause": { roles: OPERATORS, audit: "channel.pause" },
  "POST /api/channels/:channelId/_resume": { roles: OPERATORS, audit: "channel.resume" },
  "POST /api/channels/:channelId/_halt": { roles: OPERATORS, audit: "channel.halt" },
  "GET /api/channels/:channelId/statistics": { roles: ANYONE, audit: false },

  "GET /api/channels/:channelId/messages": { roles: OPERATORS, audit: false },
  "POST /api/channels/:channelId/messages/_reprocess": { roles: OPERATORS, audit: "message.reprocess" },
  "POST /api/channels/:channelId/messages/_prune": { roles: ADMINS, audit: "message.prune" },
  "GET /api/channels/:channelId/messages/:messageId": { roles: OPERATORS, audit: false },
  "DELETE /api/channels/:channelId/messages/:messageId": { roles: ADMINS, audit: "message.delete" },

  "GET /api/channels/:channelId/queue": { roles: OPERATORS, audit: false },
  "POST /api/channels/:channelId/queue/_retry": { roles: OPERATORS, audit: "queue.retry" },

  "GET /api/server/info": { roles: ANYONE, audit: false },
  "GET /api/server/status": { roles: ANYONE, audit: false },
  "GET /api/events": { roles: ADMINS, audit: false },
  "GET /api/events/_verify": { roles: ADMINS, audit: false },
} as const satisfies Record<string, AccessRule>;

export type RouteKey = keyof typeof ACCESS_RULES;

export function routeKey(route: Pick<ApiRoute, "method" | "path">): string {
  return `${route.method.toUpperCase()} ${route.path}`;
}

export interface RouteTableOptions {
  deps: ApiDeps;
  /** Answers /api/openapi.json (built from this very table). */
  openApi: RequestHandler;
  /** Answers /metrics. */
  metrics: RequestHandler;
}

/**
 * Every route of the API, each with its rule from ACCESS_RULES. Order matters where paths
 * overlap: `/api/channels/statuses` before `/api/channels/:channelId`.
 */
export function createRouteTable(options: RouteTableOptions): ApiRoute[] {
  const { deps } = options;
  const behaviours: RouteBehaviour[] = [
    ...serverRoutes(deps),
    {
      method: "get",
      path: "/api/openapi.json",
      summary: "this API as OpenAPI 3.1, generated from its zod schemas",
      query: emptyQuerySchema,
      response: { status: 200 },
      handler: options.openApi,
    },
    {
      method: "get",
      path: "/metrics",
      summary: "Prometheus metrics: messages per channel/connector/status, queue depths, latencies",
      query: emptyQuerySchema,
      response: { status: 200, contentType: "text/plain" },
      handler: options.metrics,
    },
    ...userRoutes(deps.auth.handlers),
    ...channelRoutes(deps),
    ...messageRoutes(deps),
    ...queueRoutes(deps),
  ];
  return applyAccessRules(behaviours);
}

/** Joins each route with its rule; a route without a rule, or a rule without a route, throws. */
export function applyAccessRules(behaviours: readonly RouteBehaviour[], rules: Readonly<Record<string, AccessRule>> = ACCESS_RULES): ApiRoute[] {
  const keys = new Set(behaviours.map(routeKey));
  const unruled = [...keys].filter((key) => rules[key] === undefined);
  const orphaned = Object.keys(rules).filter((key) => !keys.has(key));
  if (unruled.length > 0 || orphaned.length > 0 || keys.size !== behaviours.length) {
    throw new Error(`route table and ACCESS_RULES disagree: no rule for [${unruled.join(", ")}], no route for [${orphaned.join(", ")}]`);
  }
  return behaviours.map((behaviour) => ({ ...behaviour, ...rules[routeKey(behaviour)]! }));
}

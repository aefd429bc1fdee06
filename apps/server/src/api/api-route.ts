import type { RequestHandler, Response } from "express";
import type { z } from "zod";
import type { Principal, Role } from "../auth/auth-types.js";

export type HttpMethod = "get" | "post" | "put" | "delete";

/**
 * One row of the route table: what the route is, who may call it, whether the call is
 * audited, how its input is validated, and what answers it.
 */
export interface ApiRoute {
  method: HttpMethod;
  /** Express path, e.g. `/api/channels/:channelId/_start`. */
  path: string;
  summary: string;
  /** Roles allowed; "public" only for the probes, the spec and the login. */
  roles: readonly Role[] | "public";
  /**
   * The audit action of a state-changing call, or "handler" when the handler writes its own
   * entries (login: every attempt, including unknown users; logout). Reads are `false`.
   */
  audit: string | false;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Largest accepted body in bytes; default DEFAULT_BODY_LIMIT. */
  bodyLimit?: number;
  /** What a success answers, for the OpenAPI document. */
  response?: { status: number; schema?: z.ZodType; contentType?: string };
  handler: RequestHandler;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** What the validation step leaves in `res.locals.input`. */
export interface RouteInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
  /** The body as sent (validated, with no unknown field), before defaults were applied. */
  rawBody: unknown;
  principal: Principal | undefined;
}

function routeInput(res: Response): RouteInput {
  return res.locals.input as RouteInput;
}

/** A handler that returns the JSON to send; `undefined` answers 204. */
export function jsonRoute<P = Record<string, unknown>, Q = Record<string, unknown>, B = unknown>(
  handle: (input: RouteInput & { params: P; query: Q; body: B }) => unknown,
  status = 200,
): RequestHandler {
  return async (_req, res) => {
    const result = await handle(routeInput(res) as RouteInput & { params: P; query: Q; body: B });
    if (result === undefined) res.status(204).end();
    else res.status(status).json(result);
  };
}

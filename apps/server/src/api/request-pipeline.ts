import type { Request, RequestHandler, Response } from "express";
import type { z } from "zod";
import { AuthError } from "../auth/auth-errors.js";
import type { Principal } from "../auth/auth-types.js";
import { ApiError } from "./api-errors.js";
import { DEFAULT_BODY_LIMIT, type ApiRoute, type RouteInput } from "./api-route.js";
import { readJsonBody } from "./read-json-body.js";
import { unknownFields } from "./unknown-fields.js";

export function principalOf(res: Response): Principal | undefined {
  return res.locals.principal as Principal | undefined;
}

/** 403 unless the authenticated role is in the route's rule. */
export function authorize(route: ApiRoute): RequestHandler {
  return (_req, res, next) => {
    if (route.roles === "public") return next();
    const principal = principalOf(res);
    if (principal === undefined) {
      return next(new AuthError("ERR_AUTH_REQUIRED"));
    }
    if (!route.roles.includes(principal.role)) {
      return next(new ApiError("ERR_API_FORBIDDEN", `The ${principal.role} role may not call ${route.method.toUpperCase()} ${route.path}.`, {
        details: { role: principal.role, allowed: [...route.roles] },
      }));
    }
    next();
  };
}

/**
 * Reads the JSON body, only for a route that takes one and only once the caller passed
 * authentication and authorization (the login excepted). A body where none is expected,
 * or one that is not application/json, is refused without being read.
 */
export function parseBody(route: ApiRoute): RequestHandler {
  const limit = route.bodyLimit ?? DEFAULT_BODY_LIMIT;
  return async (req, _res, next) => {
    if (!hasBody(req)) {
      req.body = undefined;
      return next();
    }
    if (route.body === undefined) {
      return next(new ApiError("ERR_API_INVALID_REQUEST", `${route.method.toUpperCase()} ${route.path} takes no request body.`));
    }
    const charset = /;\s*charset=([^;\s]+)/i.exec(req.headers["content-type"] ?? "")?.[1]?.replace(/"/g, "").toLowerCase();
    if (!req.is("application/json") || (charset !== undefined && charset !== "utf-8")) {
      return next(new ApiError("ERR_API_UNSUPPORTED_MEDIA_TYPE", "Send the request body as Content-Type: application/json (UTF-8)."));
    }
    req.body = await readJsonBody(req, limit);
    next();
  };
}

function hasBody(req: Request): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** Validates params, query and body with the route's schemas into `res.locals.input`. */
export function validateInput(route: ApiRoute): RequestHandler {
  return (req, res, next) => {
    const issues: { path: string; message: string }[] = [];
    const check = (where: "params" | "query" | "body", schema: z.ZodType | undefined, value: unknown): unknown => {
      if (schema === undefined) return value;
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        issues.push(...parsed.error.issues.flatMap((issue) => issuePaths(where, issue)));
        return undefined;
      }
      issues.push(...unknownFields(value, parsed.data, [where]).map((path) => ({ path, message: "unknown field" })));
      return parsed.data;
    };
    const input: RouteInput = {
      params: check("params", route.params, { ...req.params }) as Record<string, unknown>,
      query: check("query", route.query, { ...(req.query as Record<string, unknown>) }) as Record<string, unknown>,
      body: check("body", route.body, req.body),
      rawBody: req.body,
      principal: principalOf(res),
    };
    if (issues.length > 0) {
      return next(new ApiError("ERR_API_INVALID_REQUEST", `The request is not valid: ${issues.slice(0, 5).map((issue) => `${issue.path}: ${issue.message}`).join("; ")}.`, {
        details: { issues },
      }));
    }
    res.locals.input = input;
    // The user routes' handlers (S-AUTH) read the validated body where express puts it.
    req.body = input.body;
    next();
  };
}

/** One entry per problem: zod reports all unknown keys of an object as one issue, we name each. */
function issuePaths(where: string, issue: z.core.$ZodIssue): { path: string; message: string }[] {
  const base = [where, ...issue.path.map(String)];
  if (issue.code === "unrecognized_keys") return issue.keys.map((key) => ({ path: [...base, key].join("."), message: "unknown field" }));
  return [{ path: base.join("."), message: issue.message }];
}

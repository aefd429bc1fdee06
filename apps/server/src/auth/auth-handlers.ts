import type { Request, RequestHandler, Response } from "express";
import type { z } from "zod";
import type { AuthConfig } from "./auth-config.js";
import { AuthError } from "./auth-errors.js";
import { createUserBodySchema, enrollMfaBodySchema, loginBodySchema, updateUserBodySchema } from "./auth-schemas.js";
import type { AuthHandlers, AuthService, Principal } from "./auth-types.js";
import { clearedSessionCookie, sessionCookie, sessionIdFromRequest, wantsSecureCookie } from "./request-session.js";

export interface AuthHandlersOptions {
  service: Omit<AuthService, "handlers">;
  env: NodeJS.ProcessEnv;
  config: AuthConfig;
}

/**
 * The express side of the auth service. Handlers throw AuthError; S-API's error handler maps
 * the code to the status. Bodies arrive parsed (login by the small-limit parser before
 * authentication, the rest after it) and are checked here against strict schemas.
 */
export function createAuthHandlers(options: AuthHandlersOptions): AuthHandlers {
  const { service, env, config } = options;
  const secure = (req: Request) => wantsSecureCookie(env, req.secure);

  return {
    async login(req, res) {
      const body = parseBody(loginBodySchema, req.body);
      const result = await service.login({
        ...body,
        ...(req.ip === undefined ? {} : { remoteAddress: req.ip }),
        ...withPrevious(sessionIdFromRequest(req)),
      });
      res.set("Cache-Control", "no-store");
      res.append(
        "Set-Cookie",
        sessionCookie({ sessionId: result.sessionId, secure: secure(req), maxAgeSeconds: config.session_absolute_timeout_seconds }),
      );
      res.json(result);
    },

    logout(req, res) {
      service.logout(principalOf(res).sessionId);
      res.append("Set-Cookie", clearedSessionCookie(secure(req)));
      res.status(204).end();
    },

    current(_req, res) {
      res.json(service.getUser(principalOf(res).userId));
    },

    listUsers(_req, res) {
      res.json(service.listUsers());
    },

    getUser(req, res) {
      const id = userIdParam(req);
      requireSelfOrAdmin(principalOf(res), id);
      res.json(service.getUser(id));
    },

    async createUser(req, res) {
      const body = parseBody(createUserBodySchema, req.body);
      res.set("Cache-Control", "no-store");
      res.status(201).json(await service.createUser(body));
    },

    async updateUser(req, res) {
      const id = userIdParam(req);
      const body = parseBody(updateUserBodySchema, req.body);
      const principal = principalOf(res);
      if (body.role !== undefined && principal.role !== "admin") {
        throw new AuthError("ERR_AUTH_FORBIDDEN", "only an admin may change a role");
      }
      requireSelfOrAdmin(principal, id);
      if (body.password !== undefined && principal.userId === id && body.currentPassword === undefined) {
        throw new AuthError("ERR_AUTH_INVALID_INPUT", "changing your own password needs currentPassword");
      }
      res.json(
        await service.updateUser(id, {
          ...(body.role === undefined ? {} : { role: body.role }),
          ...(body.password === undefined ? {} : { password: body.password }),
          ...(body.currentPassword === undefined ? {} : { currentPassword: body.currentPassword }),
        }),
      );
    },

    deleteUser(req, res) {
      service.deleteUser(userIdParam(req));
      res.status(204).end();
    },

    enrollMfa(req, res) {
      const principal = principalOf(res);
      const params = req.params as Record<string, string | undefined>;
      // `/api/users/current/_enrollMfa` has no id: the logged-in account.
      const id = params.userId === undefined && params.id === undefined ? principal.userId : userIdParam(req);
      requireSelfOrAdmin(principal, id);
      const body = parseBody(enrollMfaBodySchema, req.body);
      res.set("Cache-Control", "no-store");
      if (body.totp === undefined) {
        res.json(service.enrollMfa(id));
        return;
      }
      res.json(service.confirmMfa(id, body.totp));
    },
  } satisfies Record<keyof AuthHandlers, RequestHandler>;
}

function withPrevious(sessionId: string | undefined): { previousSessionId?: string } {
  return sessionId === undefined ? {} : { previousSessionId: sessionId };
}

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new AuthError("ERR_AUTH_INVALID_INPUT", undefined, {
      // Paths and messages only: never the rejected values (they may be passwords).
      details: { issues: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })) },
    });
  }
  return parsed.data;
}

function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (principal === undefined) throw new AuthError("ERR_AUTH_REQUIRED");
  return principal;
}

/** S-API names the parameter `userId`; `id` is accepted too. */
function userIdParam(req: Request): number {
  const params = req.params as Record<string, string | undefined>;
  const raw = params.userId ?? params.id;
  if (typeof raw !== "string" || !/^\d{1,15}$/.test(raw)) throw new AuthError("ERR_AUTH_USER_NOT_FOUND");
  return Number(raw);
}

function requireSelfOrAdmin(principal: Principal, userId: number): void {
  if (principal.role !== "admin" && principal.userId !== userId) throw new AuthError("ERR_AUTH_FORBIDDEN");
}

import { z } from "zod";
import {
  confirmMfaResponseSchema,
  createUserBodySchema,
  enrollMfaBodySchema,
  enrollMfaResponseSchema,
  loginBodySchema,
  updateUserBodySchema,
  userResponseSchema,
} from "../auth/auth-schemas.js";
import type { AuthHandlers } from "../auth/auth-types.js";
import { emptyQuerySchema, userParamsSchema } from "./api-schemas.js";
import type { RouteBehaviour } from "./route-behaviour.js";

/** The login body is read before anyone is authenticated: kept small. */
export const LOGIN_BODY_LIMIT = 4 * 1024;

/** The user routes: the auth service's handlers behind the API's rules and validation. */
export function userRoutes(handlers: AuthHandlers): RouteBehaviour[] {
  return [
    {
      method: "post",
      path: "/api/users/_login",
      summary: "log in with username, password and TOTP code; sets JSESSIONID and returns the session id for X-Session-ID",
      query: emptyQuerySchema,
      body: loginBodySchema,
      bodyLimit: LOGIN_BODY_LIMIT,
      response: { status: 200, schema: z.object({ sessionId: z.string(), user: userResponseSchema }) },
      handler: handlers.login,
    },
    {
      method: "post",
      path: "/api/users/_logout",
      summary: "end the session",
      query: emptyQuerySchema,
      response: { status: 204 },
      handler: handlers.logout,
    },
    {
      method: "get",
      path: "/api/users/current",
      summary: "the logged-in user",
      query: emptyQuerySchema,
      response: { status: 200, schema: userResponseSchema },
      handler: handlers.current,
    },
    {
      method: "get",
      path: "/api/users",
      summary: "every user",
      query: emptyQuerySchema,
      response: { status: 200, schema: z.array(userResponseSchema) },
      handler: handlers.listUsers,
    },
    {
      method: "post",
      path: "/api/users",
      summary: "create a user; the answer has the otpauth:// enrollment URI",
      query: emptyQuerySchema,
      body: createUserBodySchema,
      response: { status: 201, schema: z.object({ user: userResponseSchema, otpauthUri: z.string().optional() }) },
      handler: handlers.createUser,
    },
    {
      method: "get",
      path: "/api/users/:userId",
      summary: "one user (an admin, or the account itself)",
      params: userParamsSchema,
      query: emptyQuerySchema,
      response: { status: 200, schema: userResponseSchema },
      handler: handlers.getUser,
    },
    {
      method: "put",
      path: "/api/users/:userId",
      summary: "change a user's role (admin) or password (admin, or the account itself)",
      params: userParamsSchema,
      query: emptyQuerySchema,
      body: updateUserBodySchema,
      response: { status: 200, schema: userResponseSchema },
      handler: handlers.updateUser,
    },
    {
      method: "delete",
      path: "/api/users/:userId",
      summary: "delete a user and end their sessions",
      params: userParamsSchema,
      query: emptyQuerySchema,
      response: { status: 204 },
      handler: handlers.deleteUser,
    },
    {
      method: "post",
      path: "/api/users/current/_enrollMfa",
      summary: "without a code: start a new TOTP enrollment (answers the otpauth:// URI); with { totp }: confirm it",
      query: emptyQuerySchema,
      body: enrollMfaBodySchema,
      response: { status: 200, schema: z.union([enrollMfaResponseSchema, confirmMfaResponseSchema]) },
      handler: handlers.enrollMfa,
    },
    {
      method: "post",
      path: "/api/users/:userId/_enrollMfa",
      summary: "as /api/users/current/_enrollMfa, for another account (admin) or one's own",
      params: userParamsSchema,
      query: emptyQuerySchema,
      body: enrollMfaBodySchema,
      response: { status: 200, schema: z.union([enrollMfaResponseSchema, confirmMfaResponseSchema]) },
      handler: handlers.enrollMfa,
    },
  ];
}

import type { RequestHandler } from "express";
import type { Logger } from "pino";
import type { AuditLog } from "../audit/audit-types.js";
import type { ApiRoute } from "./api-route.js";
import { principalOf } from "./request-pipeline.js";

/** Path parameters that name what a call acted on, most specific last. */
const TARGET_PARAMS = ["userId", "channelId", "messageId"] as const;

/**
 * Appends one audit entry when a state-changing call by an authenticated caller finishes,
 * refused ones included (outcome "failure"), so a 403 is on the record too. Runs after
 * authentication: anonymous calls are answered 401 and never reach the chain, which keeps a
 * flood of them from growing the log. Details name the route and status, never a body.
 */
export function auditCall(options: { route: ApiRoute; audit: AuditLog; logger: Logger }): RequestHandler {
  const { route, audit, logger } = options;
  return (req, res, next) => {
    if (route.audit === false || route.audit === "handler") return next();
    const action = route.audit;
    // Read now: once an error leaves the router, express gives req.params back to the app.
    const target = TARGET_PARAMS.map((name) => req.params[name])
      .filter((value): value is string => typeof value === "string")
      .join("/");
    res.on("finish", () => {
      const principal = principalOf(res);
      if (principal === undefined) return;
      const entry = {
        actor: principal.username,
        action,
        ...(target === "" ? {} : { target }),
        outcome: res.statusCode < 400 ? ("success" as const) : ("failure" as const),
        details: { method: req.method, route: route.path, status: res.statusCode, role: principal.role },
      };
      Promise.resolve()
        .then(() => audit.append(entry))
        .catch((error: unknown) => logger.error({ err: error, action, actor: principal.username }, "audit entry could not be written"));
    });
    next();
  };
}

import { describe, expect, it } from "vitest";
import { AUTH_ERROR_CODES } from "../auth/auth-errors.js";
import { CORE_ERROR_CODES } from "@node-mirth/core";
import { API_ERROR_CODES } from "./api-errors.js";
import { httpStatusOf } from "./error-status.js";
import { ACCESS_RULES, applyAccessRules } from "./route-table.js";
import type { RouteBehaviour } from "./route-behaviour.js";

const handler: RouteBehaviour["handler"] = (_req, res) => {
  res.end();
};

function behavioursOfTable(): RouteBehaviour[] {
  return Object.keys(ACCESS_RULES).map((key) => {
    const [method, path] = key.split(" ") as [RouteBehaviour["method"], string];
    return { method: method.toLowerCase() as RouteBehaviour["method"], path, summary: key, handler };
  });
}

describe("applyAccessRules", () => {
  it("gives every route its rule from the one table", () => {
    const routes = applyAccessRules(behavioursOfTable());
    expect(routes).toHaveLength(Object.keys(ACCESS_RULES).length);
    expect(routes.find((route) => route.path === "/api/channels/:channelId/_deploy")).toMatchObject({ roles: ["admin", "developer"], audit: "channel.deploy" });
  });

  it("refuses a route that has no rule", () => {
    const extra: RouteBehaviour = { method: "post", path: "/api/channels/:channelId/_explode", summary: "new", handler };
    expect(() => applyAccessRules([...behavioursOfTable(), extra])).toThrow(/no rule for \[POST \/api\/channels\/:channelId\/_explode\]/);
  });

  it("refuses a rule whose route is gone, and a route listed twice", () => {
    const behaviours = behavioursOfTable();
    expect(() => applyAccessRules(behaviours.slice(1))).toThrow(/no route for \[GET \/api\/health\/live\]/);
    expect(() => applyAccessRules([...behaviours, behaviours[0]!])).toThrow(/disagree/);
  });

  it("audits every state-changing route, and no read", () => {
    for (const [key, rule] of Object.entries(ACCESS_RULES)) {
      if (key.startsWith("GET ")) expect(rule.audit, key).toBe(false);
      else expect(rule.audit, key).not.toBe(false);
    }
  });
});

describe("httpStatusOf", () => {
  it("maps every catalogued code to a deliberate status", () => {
    for (const code of [...Object.keys(API_ERROR_CODES), ...Object.keys(AUTH_ERROR_CODES), ...Object.keys(CORE_ERROR_CODES)]) {
      expect(httpStatusOf(code), code).toBeGreaterThanOrEqual(400);
    }
    expect(httpStatusOf("ERR_API_FORBIDDEN")).toBe(403);
    expect(httpStatusOf("ERR_AUTH_REQUIRED")).toBe(401);
    expect(httpStatusOf("ERR_CHANNEL_NOT_DEPLOYED")).toBe(409);
    expect(httpStatusOf("ERR_MESSAGE_NOT_FOUND")).toBe(404);
    expect(httpStatusOf("ERR_SOMETHING_NEW")).toBe(500);
  });
});

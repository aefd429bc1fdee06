import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../__tests__/start-test-server.js";
import { ACCESS_RULES } from "../route-table.js";
import { callApi } from "./api-fixtures.js";

type Operation = {
  security?: unknown[];
  operationId: string;
  "x-roles": unknown;
  parameters: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; additionalProperties?: unknown } }> };
  responses: Record<string, unknown>;
};

describe("/api/openapi.json (generated from the route table and its zod schemas)", () => {
  let server: TestServer;
  let document: { openapi: string; paths: Record<string, Record<string, Operation>> };

  beforeAll(async () => {
    server = await startTestServer();
    const answer = await callApi(server.url, { method: "GET", path: "/api/openapi.json" });
    expect(answer.status).toBe(200);
    document = answer.body as typeof document;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it("describes every route of the table with its roles", () => {
    expect(document.openapi).toBe("3.1.0");
    for (const [key, rule] of Object.entries(ACCESS_RULES)) {
      const [method, path] = key.split(" ") as [string, string];
      const operation = document.paths[path.replace(/:([A-Za-z]+)/g, "{$1}")]?.[method.toLowerCase()];
      expect(operation, key).toBeDefined();
      expect(operation!["x-roles"], key).toEqual(rule.roles);
      if (rule.roles === "public") expect(operation!.security, key).toEqual([]);
      else expect(operation!.responses, key).toHaveProperty("403");
    }
  });

  it("gives every operation a unique operationId", () => {
    const ids = Object.values(document.paths).flatMap((item) => Object.values(item).map((operation) => operation.operationId));
    expect(ids).toHaveLength(Object.keys(ACCESS_RULES).length);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("carries the strict request schemas: the channel body and the search query", () => {
    const create = document.paths["/api/channels"]!.post!;
    expect(Object.keys(create.requestBody!.content["application/json"]!.schema.properties ?? {})).toEqual(
      expect.arrayContaining(["id", "name", "source", "destinations"]),
    );
    const login = document.paths["/api/users/_login"]!.post!.requestBody!.content["application/json"]!.schema;
    expect(login.additionalProperties).toBe(false);
    const searchParameters = document.paths["/api/channels/{channelId}/messages"]!.get!.parameters.map((parameter) => `${parameter.in}:${parameter.name}`);
    expect(searchParameters).toEqual(expect.arrayContaining(["path:channelId", "query:status", "query:before", "query:metadata", "query:text"]));
  });
});

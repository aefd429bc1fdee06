import { z } from "zod";
import type { ApiRoute } from "./api-route.js";
import { errorBodySchema } from "./api-schemas.js";

type JsonSchema = Record<string, unknown>;

/** JSON Schema of what a schema accepts (input), or sends (output) for responses. */
function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  return z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" });
}

/** `:channelId` → `{channelId}`. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, "{$1}");
}

function parametersOf(route: ApiRoute): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  const add = (where: "path" | "query", schema: z.ZodType | undefined) => {
    if (schema === undefined) return;
    const json = jsonSchemaOf(schema, "input");
    const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      parameters.push({ name, in: where, required: where === "path" || required.has(name), schema: property });
    }
  };
  add("path", route.params);
  add("query", route.query);
  return parameters;
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: jsonSchemaOf(errorBodySchema, "output") } },
});

/** The OpenAPI 3.1 document of the route table: paths, roles, bodies and answers from the zod schemas. */
export function buildOpenApiDocument(routes: readonly ApiRoute[], info: { version: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const item = (paths[openApiPath(route.path)] ??= {});
    const success = route.response ?? { status: 200 };
    const roles = route.roles === "public" ? "public" : route.roles.join(", ");
    item[route.method] = {
      operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) => (next ?? "").toUpperCase())}`,
      summary: route.summary,
      description: `Roles: ${roles}.${typeof route.audit === "string" ? " Audited." : ""}`,
      "x-roles": route.roles,
      ...(route.roles === "public" ? { security: [] } : {}),
      parameters: parametersOf(route),
      ...(route.body === undefined
        ? {}
        : { requestBody: { required: true, content: { "application/json": { schema: jsonSchemaOf(route.body, "input") } } } }),
      responses: {
        [String(success.status)]: {
          description: "success",
          ...(success.schema === undefined
            ? success.contentType === undefined ? {} : { content: { [success.contentType]: { schema: { type: "string" } } } }
            : { content: { "application/json": { schema: jsonSchemaOf(success.schema, "output") } } }),
        },
        ...(route.roles === "public" ? {} : { "401": errorResponse("no valid session"), "403": errorResponse("the role may not call this route") }),
        ...(route.body === undefined && route.params === undefined ? {} : { "400": errorResponse("invalid request") }),
        default: errorResponse("an error `{ code, message }`"),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "node-mirth API", version: info.version },
    components: {
      securitySchemes: {
        session: { type: "apiKey", in: "header", name: "X-Session-ID" },
        cookie: { type: "apiKey", in: "cookie", name: "JSESSIONID" },
      },
    },
    security: [{ session: [] }, { cookie: [] }],
    paths,
  };
}

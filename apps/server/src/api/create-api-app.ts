import express, { type Express, type RequestHandler } from "express";
import type { ApiDeps } from "./api-deps.js";
import type { ApiRoute } from "./api-route.js";
import { auditCall } from "./audit-middleware.js";
import { createErrorHandler, notFound } from "./error-handler.js";
import { buildOpenApiDocument } from "./openapi-document.js";
import { createApiMetrics, createMetricsHandler } from "./prometheus-metrics.js";
import { observeRequest } from "./request-log.js";
import { authorize, parseBody, validateInput } from "./request-pipeline.js";
import { createRouteTable } from "./route-table.js";

export interface ApiApp extends Express {
  /** The table the app was built from (the RBAC matrix test walks it). */
  readonly routes: readonly ApiRoute[];
  /** For S-BOOT's loopback metrics port: `/metrics` without a session. */
  readonly metricsHandler: RequestHandler;
  /** Stops the metrics' engine subscription. */
  close(): void;
}

/**
 * The node-mirth API. Per route, in this order: authenticate (not for public routes), audit
 * hook, role check, only then read the body (JSON, size-limited), validate params/query/body
 * strictly, run the handler. Every failure ends in the one error handler.
 */
export function createApiApp(deps: ApiDeps): ApiApp {
  const metrics = createApiMetrics({ engine: deps.engine, store: deps.store });
  const metricsHandler = createMetricsHandler(metrics);
  let openApiDocument: unknown;
  const routes = createRouteTable({
    deps,
    metrics: metricsHandler,
    openApi: (_req, res) => {
      openApiDocument ??= buildOpenApiDocument(routes, { version: deps.serverInfo.version });
      res.json(openApiDocument);
    },
  });

  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  // Answers carry message content and session ids: no cache keeps them, no browser sniffs them.
  app.use((_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("X-Content-Type-Options", "nosniff");
    next();
  });
  const router = express.Router({ caseSensitive: true, strict: true });
  for (const route of routes) {
    router[route.method](
      route.path,
      observeRequest({ route, metrics, logger: deps.logger }),
      ...(route.roles === "public" ? [] : [deps.auth.authenticate]),
      auditCall({ route, audit: deps.audit, logger: deps.logger }),
      authorize(route),
      parseBody(route),
      validateInput(route),
      route.handler,
    );
  }
  app.use(router);
  app.use(notFound);
  app.use(createErrorHandler(deps.logger));
  return Object.assign(app, { routes, metricsHandler, close: () => metrics.close() });
}

import type { RequestHandler } from "express";
import type { Logger } from "pino";
import type { ApiRoute } from "./api-route.js";
import type { ApiMetrics } from "./prometheus-metrics.js";
import { principalOf } from "./request-pipeline.js";

/**
 * When an answer is sent: counts it for /metrics and writes one access-log line. The line
 * names the route pattern, never the URL: a search's query string (`text=`, `metadata=`)
 * can hold patient data. Probes log at debug so a scraper polling them adds no noise.
 */
export function observeRequest(options: { route: ApiRoute; metrics: ApiMetrics; logger: Logger }): RequestHandler {
  const { route, metrics, logger } = options;
  return (req, res, next) => {
    const started = performance.now();
    res.on("finish", () => {
      metrics.observeRequest({ method: req.method, route: route.path, status: res.statusCode });
      const principal = principalOf(res);
      const line = {
        method: req.method,
        route: route.path,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...(principal === undefined ? {} : { user: principal.username }),
      };
      if (route.roles === "public" && res.statusCode < 400) logger.debug(line, "api request");
      else logger.info(line, "api request");
    });
    next();
  };
}

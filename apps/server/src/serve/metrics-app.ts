import express, { type Express, type RequestHandler } from "express";

/**
 * The optional `[api].metrics_port` listener: only `GET /metrics`, no session, bound to
 * 127.0.0.1 by startServer, for a scraper on the same host. Everything else is 404.
 */
export function createMetricsApp(metricsHandler: RequestHandler): Express {
  const app = express();
  app.disable("x-powered-by");
  app.get("/metrics", metricsHandler);
  app.use((_req, res) => {
    res.status(404).type("text/plain").send("only /metrics is served on this port\n");
  });
  return app;
}

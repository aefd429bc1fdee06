import express, { type Express } from "express";

/**
 * Health probes only, until the API app (src/api, S-API) is committed and mounted in its
 * place by startServer. Kept so the harness works for the engineers building on it.
 */
export function createInterimApiApp(): Express {
  const app = express();
  app.get("/api/health/live", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/api/health", (_req, res) => {
    res.json({ status: "ok" });
  });
  return app;
}

import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Express, RequestHandler } from "express";
import { listen, urlOf } from "./listen.js";
import { createMetricsApp } from "./metrics-app.js";
import type { ApiListenerPlan } from "./plan-api-listeners.js";

export interface OpenApiListenersOptions {
  app: Express;
  plan: ApiListenerPlan;
  /** `[api].metrics_port`: a loopback-only `/metrics` listener when set. */
  metricsPort: number | undefined;
  metricsHandler: RequestHandler;
  /** Each server is pushed as soon as it exists, so the caller can close it if a later one fails. */
  servers: Server[];
}

export interface ApiListeners {
  url: string;
  httpsUrl?: string;
  metricsUrl?: string;
  /** Where sessions are used, hence the WebSockets: HTTPS when on, else the plain port. */
  sessionServers: Server[];
}

/** The plain port, HTTPS when planned, and the optional metrics port, listening. */
export async function openApiListeners(options: OpenApiListenersOptions): Promise<ApiListeners> {
  const { plan, servers } = options;
  const plain = createHttpServer(options.app);
  servers.push(plain);
  const listeners: ApiListeners = {
    url: urlOf("http", plan.host, await listen(plain, { port: plan.port, host: plan.host })),
    sessionServers: [plain],
  };
  if (plan.https !== undefined) {
    const secure = createHttpsServer(plan.https.tls, options.app);
    servers.push(secure);
    listeners.httpsUrl = urlOf("https", plan.host, await listen(secure, { port: plan.https.port, host: plan.host }));
    // Sessions travel only over TLS: the plain port gets no WebSockets.
    listeners.sessionServers = [secure];
  }
  if (options.metricsPort !== undefined) {
    // Loopback only, whatever api.host says: it has no authentication.
    const metrics = createHttpServer(createMetricsApp(options.metricsHandler));
    servers.push(metrics);
    listeners.metricsUrl = urlOf("http", "127.0.0.1", await listen(metrics, { port: options.metricsPort, host: "127.0.0.1" }));
  }
  return listeners;
}

import express, { type Express, type RequestHandler } from "express";

/** The probes that stay on the plain port when the API itself moved to HTTPS. */
export const PLAIN_PORT_PATHS: ReadonlySet<string> = new Set(["/api/health", "/api/health/live"]);

/** The code of the 421 answer on the wrong door; listed in the README's error table. */
export const HTTPS_REQUIRED_CODE = "ERR_API_HTTPS_REQUIRED";

const HSTS = "max-age=31536000; includeSubDomains";

export interface FrontAppOptions {
  api: RequestHandler | Express;
  /** Addresses/CIDRs whose X-Forwarded-* headers count (express `trust proxy`); none by default. */
  trustedProxies: readonly string[];
  /** In-process HTTPS is on: the plain port answers only the health probes. */
  httpsOn: boolean;
  /** A trusted proxy terminates TLS: the API answers only requests it forwarded as https. */
  tlsTerminatedUpstream: boolean;
  httpsPort?: number;
}

/**
 * The app both listeners share, in front of the API: which requests may reach the API over
 * which transport, HSTS on secure responses, and `trust proxy` limited to the configured
 * proxies, so a client cannot claim https with its own X-Forwarded-Proto.
 */
export function createFrontApp(options: FrontAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", options.trustedProxies.length === 0 ? false : [...options.trustedProxies]);
  app.use((req, res, next) => {
    if (req.secure) res.setHeader("Strict-Transport-Security", HSTS);
    if (req.secure || PLAIN_PORT_PATHS.has(req.path)) return next();
    if (options.httpsOn) {
      return refuse(res, `The API is served over HTTPS only (port ${options.httpsPort ?? "HTTPS_PORT"}); this port answers /api/health and /api/health/live.`);
    }
    if (options.tlsTerminatedUpstream) {
      return refuse(res, "The API is served only through the TLS-terminating proxy (X-Forwarded-Proto: https from a trusted proxy).");
    }
    next();
  });
  // A mounted express app sets its own X-Powered-By; the server advertises nothing.
  if ("disable" in options.api) options.api.disable("x-powered-by");
  app.use(options.api);
  return app;
}

function refuse(res: express.Response, message: string): void {
  // 421 Misdirected Request: right server, wrong door; no body was read.
  res.status(421).json({ code: HTTPS_REQUIRED_CODE, message });
}

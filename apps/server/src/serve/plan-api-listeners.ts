import { createServerTlsOptions } from "@node-mirth/certs";
import { assertBindAllowed, type BindDecision } from "@node-mirth/core";
import type { TlsOptions } from "node:tls";
import type { ServerConfig } from "../config/server-config.js";

/** What the API will listen on, decided (and refused) before anything is opened. */
export interface ApiListenerPlan {
  host: string;
  port: number;
  /** Present when the API has a certificate: HTTPS on `https.port`, health only on `port`. */
  https?: { port: number; tls: TlsOptions };
  bind: BindDecision;
}

export interface PlanApiListenersOptions {
  config: ServerConfig;
  allowInsecureBind: boolean;
  env: Readonly<Record<string, string | undefined>>;
  /** Receives the bind-escape and certificate warnings (both carry code, message, details). */
  onWarning: (warning: { code: string; message: string; details: Record<string, unknown> }) => void;
}

/**
 * Applies the bind guard to the API and reads its key material. Off loopback the API starts
 * only with its own TLS, or behind a TLS terminator listed in trusted_proxies, or with the
 * loud --allow-insecure-bind; otherwise ERR_POLICY_INSECURE_BIND (exit 2).
 */
export function planApiListeners(options: PlanApiListenersOptions): ApiListenerPlan {
  const { api } = options.config;
  const https = api.tls_cert_file !== undefined && api.tls_key_file !== undefined;
  const upstream = api.tls_terminated_upstream && api.trusted_proxies.length > 0;
  const bind = assertBindAllowed({
    host: api.host,
    kind: "The API",
    tls: https ? true : upstream ? "upstream" : false,
    allowInsecureBind: options.allowInsecureBind,
    onWarning: options.onWarning,
  });
  if (!https) return { host: api.host, port: api.port, bind };
  const tls = createServerTlsOptions(
    {
      enabled: true,
      keyStorePath: api.tls_key_file,
      certStorePath: api.tls_cert_file,
      minVersion: api.tls_min_version,
      ...(api.tls_client_ca_file === undefined
        ? {}
        : { trustStorePath: api.tls_client_ca_file, requireClientCert: true }),
    },
    { env: options.env, onWarning: options.onWarning },
  );
  return { host: api.host, port: api.port, https: { port: api.https_port, tls }, bind };
}

import { Agent as HttpAgent, type AgentOptions, type ClientRequestArgs } from "node:http";
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from "node:https";
import type { Duplex } from "node:stream";
import type { EgressPolicy } from "@node-mirth/core";

type Created = (err: Error | null, stream: Duplex) => void;

/**
 * Vets one new connection: `checkConnect` resolves the host and checks every address against
 * `[egress].allowed_http` (link-local and metadata refused by default); the socket then goes to
 * the vetted address, never to a second lookup of the name. The name stays the TLS servername
 * (set by the agent from the Host header), so the certificate is still checked against it.
 */
function vetThenConnect(
  egress: EgressPolicy,
  options: ClientRequestArgs,
  then: { connect: (options: ClientRequestArgs) => Duplex | null | undefined; callback: Created },
): void {
  const { connect, callback } = then;
  const host = options.hostname ?? options.host ?? "localhost";
  const port = options.port === undefined || options.port === null ? undefined : Number(options.port);
  egress.checkConnect("http", host, port).then(
    (vetted) => {
      let socket: Duplex | null | undefined;
      try {
        socket = connect({ ...options, host: vetted.address, hostname: vetted.address, family: vetted.family });
      } catch (error) {
        callback(error as Error, undefined as unknown as Duplex);
        return;
      }
      if (socket === null || socket === undefined) callback(new Error("no socket was created"), undefined as unknown as Duplex);
      else callback(null, socket);
    },
    (error: unknown) => callback(error as Error, undefined as unknown as Duplex),
  );
}

/** A keep-alive `http.Agent` whose every new connection passes the egress policy first. */
export class EgressHttpAgent extends HttpAgent {
  readonly #egress: EgressPolicy;

  constructor(options: AgentOptions & { egress: EgressPolicy }) {
    const { egress, ...agentOptions } = options;
    super(agentOptions);
    this.#egress = egress;
  }

  override createConnection(options: ClientRequestArgs, callback?: Created): Duplex | null | undefined {
    vetThenConnect(this.#egress, options, { connect: (o) => super.createConnection(o), callback: callback ?? (() => {}) });
    return undefined;
  }
}

/** The same for HTTPS: egress first, then the TLS handshake against the vetted address. */
export class EgressHttpsAgent extends HttpsAgent {
  readonly #egress: EgressPolicy;

  constructor(options: HttpsAgentOptions & { egress: EgressPolicy }) {
    const { egress, ...agentOptions } = options;
    super(agentOptions);
    this.#egress = egress;
  }

  override createConnection(options: ClientRequestArgs, callback?: Created): Duplex | null | undefined {
    vetThenConnect(this.#egress, options, { connect: (o) => super.createConnection(o), callback: callback ?? (() => {}) });
    return undefined;
  }
}

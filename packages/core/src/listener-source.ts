import type { SourceConnector, SourceContext } from "./define-connector.js";

/** What a listening source runs: a server bound at start and closed at stop. */
export interface StartableListener {
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * A source connector around a listener built afresh at every start, so key material is read
 * from disk again (certificate rotation by stop/start). The listener replaces the previous
 * one only once it is listening; stop closes the current one.
 */
export function listenerSource(build: (ctx: SourceContext) => StartableListener): SourceConnector {
  let listener: StartableListener | undefined;
  return {
    async start(ctx) {
      const next = build(ctx);
      await next.start();
      listener = next;
    },
    async stop() {
      const current = listener;
      listener = undefined;
      await current?.stop();
    },
  };
}

import type { Engine } from "@node-mirth/core";
import type { Logger } from "pino";

/**
 * Writes the engine's operator events to the server log: channel state changes and the
 * engine's own log lines. Per-message events are left out (volume; the API and
 * /ws/dashboardstatus carry them), and engine events never hold message content.
 */
export function logEngineEvents(engine: Engine, logger: Logger): () => void {
  return engine.subscribe((event) => {
    switch (event.type) {
      case "channelState":
        if (event.error === undefined) logger.info({ channelId: event.channelId, state: event.state }, "channel state");
        else logger.error({ channelId: event.channelId, state: event.state, code: event.error.code }, event.error.message);
        return;
      case "log":
        logger[event.level]({ channelId: event.channelId }, event.text);
        return;
      default:
        return;
    }
  });
}

import { z } from "zod";
import { defineConnector, type DispatchResult } from "./define-connector.js";
import { NodeMirthError } from "./errors.js";

export interface MessageRouter {
  /** Dispatches `content` into a started channel (by id, or else by name) and returns its answer. */
  routeMessage(channel: string, content: string): Promise<DispatchResult>;
}

export const channelConnectorPropertiesSchema = z.object({
  /** Channel Writer: the target channel's id or name. Unused by the Channel Reader. */
  channelId: z.string().min(1).optional(),
});

/**
 * The built-in `channel` connector. As a source (Channel Reader) it listens to nothing: other
 * channels reach it through the router. As a destination (Channel Writer) it dispatches the
 * encoded message into the target channel in process, and reports that channel's answer as
 * its response; a target that is not started is a retryable failure, so queues hold the message.
 */
export function channelConnector(router: MessageRouter) {
  return defineConnector({
    type: "channel",
    propertiesSchema: channelConnectorPropertiesSchema,
    createSource: () => ({
      start: () => Promise.resolve(),
      stop: () => Promise.resolve(),
    }),
    createDestination: (properties) => {
      const target = properties.channelId;
      if (target === undefined) {
        throw new NodeMirthError(
          "ERR_CHANNEL_INVALID",
          "A Channel Writer needs properties.channelId.",
        );
      }
      return {
        async send(message) {
          try {
            const result = await router.routeMessage(target, message.content);
            const content = result.response?.content;
            return content === undefined || content === ""
              ? { status: "SENT" }
              : { status: "SENT", content };
          } catch (error) {
            return {
              status: "ERROR",
              retryable: true,
              message: `Channel ${target} did not take the message: ${error instanceof Error ? error.message : String(error)}`,
            };
          }
        },
      };
    },
  });
}

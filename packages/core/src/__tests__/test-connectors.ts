import { z } from "zod";
import {
  defineConnector,
  type ConnectorResponse,
  type OutboundMessage,
  type SourceContext,
} from "../define-connector.js";

export interface RecordedSend {
  destination: string;
  messageId: number;
  content: string;
  attempt: number;
}

/** How a recording destination answers its next sends. */
export interface DestinationBehaviour {
  /** Fail this many sends before succeeding; Infinity = always. */
  failTimes?: number;
  retryable?: boolean;
  /** The response content of a successful send. */
  response?: string;
  /** Resolve each send only when this returns a settled promise (to hold a send in flight). */
  gate?: (message: OutboundMessage) => Promise<void>;
}

/**
 * In-process connectors for pipeline tests: a source whose context the test drives, and a
 * recording destination that can be told to fail N times. Shared state lives on the kit.
 */
export function createTestConnectors() {
  const sources = new Map<string, SourceContext>();
  const sent: RecordedSend[] = [];
  const attempts = new Map<string, number>();
  const behaviour = new Map<string, DestinationBehaviour>();

  const source = defineConnector({
    type: "test",
    propertiesSchema: z.object({}),
    createSource: (_properties, env) => ({
      start(ctx) {
        sources.set(env.channelId, ctx);
        return Promise.resolve();
      },
      stop() {
        sources.delete(env.channelId);
        return Promise.resolve();
      },
    }),
  });

  const destination = defineConnector({
    type: "record",
    propertiesSchema: z.object({ name: z.string().min(1) }),
    createDestination: (properties) => ({
      async send(message: OutboundMessage): Promise<ConnectorResponse> {
        const name = properties.name;
        const attempt = (attempts.get(`${name}:${message.messageId}`) ?? 0) + 1;
        attempts.set(`${name}:${message.messageId}`, attempt);
        const how = behaviour.get(name) ?? {};
        await how.gate?.(message);
        if ((how.failTimes ?? 0) > 0) {
          how.failTimes = (how.failTimes ?? 0) - 1;
          return {
            status: "ERROR",
            retryable: how.retryable ?? true,
            message: "peer said no",
            content: "NAK",
          };
        }
        sent.push({
          destination: name,
          messageId: message.messageId,
          content: message.content,
          attempt,
        });
        return how.response === undefined
          ? { status: "SENT" }
          : { status: "SENT", content: how.response };
      },
    }),
  });

  return {
    plugins: [source, destination],
    sent,
    behaviour,
    /** The started source of a channel, to dispatch through. */
    source(channelId: string): SourceContext {
      const ctx = sources.get(channelId);
      if (ctx === undefined) throw new Error(`test source of ${channelId} is not started`);
      return ctx;
    },
    sentTo(name: string): RecordedSend[] {
      return sent.filter((send) => send.destination === name);
    },
  };
}

/** A small ADT^A01 (or the given type) with a patient id, as HL7 v2 with CR separators. */
export function hl7(
  options: { controlId?: string; type?: string; mrn?: string; name?: string } = {},
): string {
  return [
    `MSH|^~\\&|SEND|FAC|RECV|FAC|20240101120000||${options.type ?? "ADT^A01"}|${options.controlId ?? "MSG1"}|P|2.5`,
    `PID|1||${options.mrn ?? "12345"}^^^MRN||${options.name ?? "DOE^JOHN"}`,
  ].join("\r");
}

/** Polls a condition until it holds, within a bounded time; for effects that have no event. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

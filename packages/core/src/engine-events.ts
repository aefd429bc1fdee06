import type { LogLevel } from "./define-connector.js";
import type { MessageStatus, StatisticsCounts } from "./message-store.js";

export type ChannelState = "starting" | "started" | "paused" | "stopping" | "stopped" | "failed";

/** What the server publishes on its WebSockets. Never message content. */
export type EngineEvent =
  | {
      type: "channelState";
      channelId: string;
      state: ChannelState | "deployed" | "undeployed";
      /** Set when a channel failed (recovery, source start): code and operator text. */
      error?: { code: string; message: string };
      at: number;
    }
  | {
      type: "message";
      channelId: string;
      messageId: number;
      connectorId: string;
      status: MessageStatus;
      at: number;
    }
  | { type: "log"; level: LogLevel; channelId?: string; text: string; at: number }
  /** A channel's statistics per connector after a commit that changed them (totals, not deltas). */
  | {
      type: "statistics";
      channelId: string;
      statistics: Record<string, StatisticsCounts>;
      at: number;
    };

export type EngineEventListener = (event: EngineEvent) => void;

/** A typed fan-out; a throwing listener cannot break the pipeline or other listeners. */
export class EngineEvents {
  readonly #listeners = new Set<EngineEventListener>();

  /** Cheap check so the pipeline builds message events only when someone listens. */
  get active(): boolean {
    return this.#listeners.size > 0;
  }

  subscribe(listener: EngineEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: EngineEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the engine keeps going.
      }
    }
  }
}

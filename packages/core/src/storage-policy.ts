import type { StorageMode } from "./channel-schema.js";
import type { ContentKind } from "./message-store.js";

const KEPT: Record<StorageMode, ReadonlySet<ContentKind>> = {
  development: new Set([
    "raw",
    "processedRaw",
    "transformed",
    "encoded",
    "sent",
    "response",
    "processedResponse",
    "sourceMap",
    "maps",
    "error",
  ]),
  production: new Set(["raw", "encoded", "sent", "response", "sourceMap", "error"]),
  raw: new Set(["raw"]),
  metadata: new Set(),
  disabled: new Set(),
};

/**
 * What a storage mode keeps. Recovery needs raw (to process a RECEIVED message again) and
 * encoded (to send a QUEUED one again): modes that drop them trade crash safety for space.
 */
export interface StoragePolicy {
  /** False only for "disabled": no message rows at all, so nothing is recovered. */
  storesMessages: boolean;
  keeps(kind: ContentKind): boolean;
  /**
   * The encoded content is kept while a message waits in a queue even when the mode would
   * drop it ("raw"), and removed once the destination is done with it.
   */
  keepsEncodedWhileQueued: boolean;
}

export function storagePolicy(mode: StorageMode): StoragePolicy {
  const kept = KEPT[mode];
  return {
    storesMessages: mode !== "disabled",
    keeps: (kind) => kept.has(kind),
    keepsEncodedWhileQueued: mode === "development" || mode === "production" || mode === "raw",
  };
}

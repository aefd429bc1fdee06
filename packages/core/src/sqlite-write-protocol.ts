import type { StoreWrite } from "./message-store.ts";

/** What SqliteStore posts to its write worker. */
export type WriteRequest =
  | { kind: "write"; id: number; batch: readonly StoreWrite[] }
  | { kind: "close" };

/** The worker's answer to one write, after COMMIT returned or the batch rolled back. */
export type WriteReply = { id: number; ok: true } | { id: number; ok: false; error: string };

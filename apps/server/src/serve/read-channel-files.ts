import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface ChannelFile {
  file: string;
  /** The parsed JSON; the engine validates it at deploy. */
  document?: unknown;
  /** Set when the file is not JSON; the other channels still deploy. */
  error?: string;
}

/** The channel documents the API persisted in `<data>/channels/*.json`, in name order. */
export function readChannelFiles(channelsDir: string): ChannelFile[] {
  return readdirSync(channelsDir)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => {
      const file = join(channelsDir, name);
      try {
        return { file, document: JSON.parse(readFileSync(file, "utf8")) as unknown };
      } catch (error) {
        return { file, error: error instanceof Error ? error.message : String(error) };
      }
    });
}

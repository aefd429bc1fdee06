import { open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** A saved channel document: validated by core's channel schema before it is saved. */
export interface ChannelDocument {
  id: string;
  name: string;
  [key: string]: unknown;
}

/** Where the API keeps channel documents; startServer deploys them at start. */
export interface ChannelRepository {
  list(): Promise<ChannelDocument[]>;
  get(channelId: string): Promise<ChannelDocument | undefined>;
  save(channel: ChannelDocument): Promise<void>;
  /** False when there was nothing to remove. */
  remove(channelId: string): Promise<boolean>;
}

// Core's channel id rule; checked again here because the id becomes a file name.
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `<data>/channels/<id>.json`, one file per channel. Writes go to a temp file that is
 * fsynced and renamed over the old one, so a crash leaves the old or the new document,
 * never half of one.
 */
export function createFileChannelRepository(channelsDir: string): ChannelRepository {
  const fileOf = (channelId: string): string | undefined =>
    SAFE_ID.test(channelId) ? join(channelsDir, `${channelId}.json`) : undefined;

  const get = async (channelId: string): Promise<ChannelDocument | undefined> => {
    const file = fileOf(channelId);
    if (file === undefined) return undefined;
    try {
      return JSON.parse(await readFile(file, "utf8")) as ChannelDocument;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  };

  return {
    async list() {
      const names = (await readdir(channelsDir)).filter((name) => name.endsWith(".json")).sort();
      const documents = await Promise.all(names.map((name) => get(name.slice(0, -".json".length)).catch(() => undefined)));
      // A file that is not JSON is reported by startServer at deploy; the list shows the rest.
      return documents.filter((document): document is ChannelDocument => typeof document?.id === "string");
    },
    get,
    async save(channel) {
      const file = fileOf(channel.id);
      if (file === undefined) throw new TypeError(`unsafe channel id ${JSON.stringify(channel.id)}`);
      const temp = `${file}.${process.pid}.tmp`;
      const handle = await open(temp, "w", 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(channel, undefined, 2)}\n`, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
    },
    async remove(channelId) {
      const file = fileOf(channelId);
      if (file === undefined || (await get(channelId)) === undefined) return false;
      await rm(file, { force: true });
      return true;
    },
  };
}

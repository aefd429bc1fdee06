import type { ApiClient } from "./api-client.js";
import { channelSummarySchema } from "../api/api-schemas.js";
import { CliError } from "./cli-error.js";
import { z } from "zod";

type ChannelSummary = z.infer<typeof channelSummarySchema>;

/**
 * A channel named on the command line by id or by name (`"MLLPS Receiver"`): an exact id
 * wins, then an exact name, then a name differing only in case. Several channels with that
 * name is an error naming their ids, never a guess.
 */
export async function resolveChannel(client: ApiClient, idOrName: string): Promise<ChannelSummary> {
  const channels = await client.call({
    method: "GET",
    path: "/api/channels",
    schema: z.array(channelSummarySchema),
  });
  return pickChannel(channels, idOrName);
}

export function pickChannel<Channel extends { id: string; name: string }>(
  channels: readonly Channel[],
  idOrName: string,
): Channel {
  const byId = channels.find((channel) => channel.id === idOrName);
  if (byId !== undefined) return byId;
  let matches = channels.filter((channel) => channel.name === idOrName);
  if (matches.length === 0) {
    const folded = idOrName.toLowerCase();
    matches = channels.filter((channel) => channel.name.toLowerCase() === folded);
  }
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new CliError("ERR_CLI_CHANNEL_NOT_FOUND", `no channel has the id or name ${JSON.stringify(idOrName)}; see \`mirth-cli channels list\`.`, {
      details: { channel: idOrName },
    });
  }
  throw new CliError(
    "ERR_CLI_CHANNEL_AMBIGUOUS",
    `${matches.length} channels are named ${JSON.stringify(idOrName)} (ids ${matches.map((channel) => channel.id).join(", ")}); name one by its id.`,
    { details: { channel: idOrName, ids: matches.map((channel) => channel.id) } },
  );
}

import type { Command } from "commander";
import type { ApiClient } from "../api-client.js";
import type { z } from "zod";
import { queueListResponseSchema, type connectorMessageSchema, requeueResponseSchema } from "../../api/api-schemas.js";
import { CliError } from "../cli-error.js";
import type { CliContext } from "../cli-context.js";
import { formatTable, formatTime } from "../format-table.js";
import { resolveChannel } from "../resolve-channel.js";
import { positiveInteger } from "./message-commands.js";

type QueueEntry = z.infer<typeof connectorMessageSchema>;

/** The most the API returns per page; a retry looks at this many dead letters. */
const PAGE_LIMIT = 1_000;

interface RetryFlags {
  destination?: string;
  all?: boolean;
}

export function registerQueueCommands(program: Command, context: CliContext): void {
  const queue = program.command("queue").description("destination queues: what waits, what gave up, retry");

  queue
    .command("list")
    .description("messages waiting on a channel's destination queues, oldest first (or its dead letters)")
    .argument("<channel>", "id or name")
    .option("--dead-letter", "the dead letters instead (messages that used up their retries)")
    .option("-d, --destination <id>", "only this destination")
    .option("-n, --limit <n>", "at most this many per destination (default 100)", positiveInteger)
    .action(async (idOrName: string, flags: { deadLetter?: boolean; destination?: string; limit?: number }) => {
      const client = await context.sessionClient();
      const channel = await resolveChannel(client, idOrName);
      const entries = await listQueue(client, {
        channelId: channel.id,
        deadLetterOnly: flags.deadLetter === true,
        destination: flags.destination,
        limit: flags.limit,
      });
      context.print(entries, () =>
        formatTable(
          [
            { header: "message", value: (row: QueueEntry) => String(row.messageId) },
            { header: "destination", value: (row: QueueEntry) => row.connectorId },
            { header: "status", value: (row: QueueEntry) => (row.deadLetter ? "DEAD-LETTER" : row.status) },
            { header: "attempts", value: (row: QueueEntry) => String(row.sendAttempts) },
            { header: "updated", value: (row: QueueEntry) => formatTime(row.updatedAt) },
            { header: "error", value: (row: QueueEntry) => row.error ?? "" },
          ],
          entries,
        ),
      );
    });

  queue
    .command("retry")
    .description("put dead letters back on their destination queue")
    .argument("<channel>", "id or name")
    .argument("[messageIds...]", "retry these messages' dead letters", (value: string, previous: number[] | undefined) => [
      ...(previous ?? []),
      positiveInteger(value),
    ])
    .option("-d, --destination <id>", "only this destination")
    .option("--all", "every dead letter of the channel")
    .action(async (idOrName: string, messageIds: number[] | undefined, flags: RetryFlags) => {
      if ((messageIds === undefined || messageIds.length === 0) && flags.all !== true) {
        throw new CliError("ERR_CLI_INVALID_INPUT", "name the message ids to retry, or pass --all.");
      }
      const client = await context.sessionClient();
      const channel = await resolveChannel(client, idOrName);
      const deadLetters = await listQueue(client, {
        channelId: channel.id,
        deadLetterOnly: true,
        destination: flags.destination,
        limit: PAGE_LIMIT,
      });
      const wanted = new Set(messageIds ?? []);
      const entries = deadLetters
        .filter((entry) => flags.all === true || wanted.has(entry.messageId))
        .map((entry) => ({ messageId: entry.messageId, destinationId: entry.connectorId }));
      if (entries.length === 0) {
        throw new CliError("ERR_CLI_INVALID_INPUT", `no dead letter of ${channel.name} matches; see \`mirth-cli queue list ${JSON.stringify(channel.name)} --dead-letter\`.`);
      }
      const result = await client.call({
        method: "POST",
        path: `/api/channels/${encodeURIComponent(channel.id)}/queue/_retry`,
        body: { entries },
        schema: requeueResponseSchema,
      });
      context.print({ channelId: channel.id, entries, requeued: result.requeued }, () =>
        `re-queued ${result.requeued} of ${entries.length} dead letter(s) of ${channel.name} (${channel.id})\n`,
      );
    });
}

interface QueueQuery {
  channelId: string;
  deadLetterOnly: boolean;
  destination: string | undefined;
  limit: number | undefined;
}

function listQueue(client: ApiClient, what: QueueQuery): Promise<QueueEntry[]> {
  return client.call({
    method: "GET",
    path: `/api/channels/${encodeURIComponent(what.channelId)}/queue`,
    query: { deadLetter: what.deadLetterOnly ? "true" : undefined, destination: what.destination, limit: what.limit },
    schema: queueListResponseSchema,
  });
}

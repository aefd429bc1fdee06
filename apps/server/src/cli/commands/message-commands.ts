import { CONTENT_KINDS, MESSAGE_STATUSES, type ContentKind, type MessageStatus } from "@node-mirth/core";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { z } from "zod";
import {
  messageDetailSchema,
  messageSearchResponseSchema,
  reprocessResponseSchema,
  type messageSummarySchema,
} from "../../api/api-schemas.js";
import { CliError } from "../cli-error.js";
import type { CliContext } from "../cli-context.js";
import { formatFields, formatTable, formatTime, printable } from "../format-table.js";
import { resolveChannel } from "../resolve-channel.js";

type MessageSummaryRow = z.infer<typeof messageSummarySchema>;

interface SearchFlags {
  channel?: string;
  status?: MessageStatus[];
  from?: number;
  to?: number;
  text?: string;
  meta?: string[];
  limit?: number;
  before?: number;
}

export function registerMessageCommands(program: Command, context: CliContext): void {
  const messages = program.command("messages").description("search, show and reprocess stored messages");

  messages
    .command("search")
    .description("messages of a channel, newest first; --before pages back")
    .argument("[channel]", "id or name (or --channel)")
    .option("--channel <channel>", "the channel, when not given as the argument")
    .addOption(new Option("-s, --status <status...>", "only these statuses").choices(MESSAGE_STATUSES))
    .option("--from <time>", "received at or after (ISO 8601, e.g. 2026-11-24T08:00:00Z)", parseTime)
    .option("--to <time>", "received before (ISO 8601)", parseTime)
    .option("--text <text>", "raw content contains this text")
    .option("-m, --meta <key=value...>", "metadata column equals value", collectPair)
    .option("-n, --limit <n>", "at most this many (default 100)", positiveInteger)
    .option("--before <messageId>", "page: messages older than this id (the previous page's next cursor)", positiveInteger)
    .action(async (argument: string | undefined, flags: SearchFlags) => {
      const idOrName = argument ?? flags.channel;
      if (idOrName === undefined || (argument !== undefined && flags.channel !== undefined)) {
        throw new CliError("ERR_CLI_INVALID_INPUT", "name the channel once: as the argument or with --channel.");
      }
      const client = await context.sessionClient();
      const channel = await resolveChannel(client, idOrName);
      const page = await client.call({
        method: "GET",
        path: `/api/channels/${encodeURIComponent(channel.id)}/messages`,
        query: {
          status: flags.status,
          from: flags.from,
          to: flags.to,
          text: flags.text,
          metadata: flags.meta,
          limit: flags.limit,
          before: flags.before,
        },
        schema: messageSearchResponseSchema,
      });
      context.print(page, () => {
        const table = formatTable(
          [
            { header: "id", value: (row: MessageSummaryRow) => String(row.messageId) },
            { header: "received", value: (row: MessageSummaryRow) => formatTime(row.receivedAt) },
            { header: "statuses", value: (row: MessageSummaryRow) => Object.entries(row.statuses).map(([connector, status]) => `${connector}=${status}`).join(" ") },
            { header: "metadata", value: (row: MessageSummaryRow) => Object.entries(row.metadata).map(([key, value]) => `${key}=${value}`).join(" ") },
          ],
          page.messages,
        );
        const more = page.nextCursor === undefined ? "" : `more: --before ${page.nextCursor}\n`;
        return `${table}${more}`;
      });
    });

  messages
    .command("show")
    .description("one message: statuses per connector, errors and (with --content) its content")
    .argument("<channel>", "id or name")
    .argument("<messageId>", "the message id", positiveInteger)
    .addOption(new Option("-c, --content <kind...>", "print these contents (raw, encoded, sent, response, ...)").choices(CONTENT_KINDS))
    .action(async (idOrName: string, messageId: number, flags: { content?: string[] }) => {
      const client = await context.sessionClient();
      const channel = await resolveChannel(client, idOrName);
      const detail = await client.call({
        method: "GET",
        path: `/api/channels/${encodeURIComponent(channel.id)}/messages/${messageId}`,
        schema: messageDetailSchema,
      });
      context.print(detail, () => {
        const lines = [
          formatFields([
            ["channel", `${channel.name} (${channel.id})`],
            ["message", String(detail.messageId)],
            ["received", formatTime(detail.receivedAt)],
            ...Object.entries(detail.metadata).map(([key, value]) => [`meta ${key}`, value] as const),
          ]),
          formatTable(
            [
              { header: "connector", value: (row) => row.connectorId },
              { header: "status", value: (row) => row.status },
              { header: "attempts", value: (row) => String(row.sendAttempts) },
              { header: "error", value: (row) => row.error ?? "" },
            ],
            detail.connectors,
          ),
        ];
        for (const connector of detail.connectors) {
          for (const kind of flags.content ?? []) {
            const content = connector.content[kind as ContentKind];
            // Segments end in CR: shown one per line, other control characters masked.
            if (content !== undefined) lines.push(`--- ${connector.connectorId} ${kind}\n${content.split(/\r\n?|\n/).map(printable).join("\n")}\n`);
          }
        }
        return lines.join("\n");
      });
    });

  messages
    .command("reprocess")
    .description("process stored messages again, as new messages (or in place with --overwrite)")
    .argument("<channel>", "id or name")
    .argument("<messageIds...>", "message ids", collectIds)
    .option("--overwrite", "reprocess in place instead of as new messages")
    .action(async (idOrName: string, messageIds: number[], flags: { overwrite?: boolean }) => {
      const client = await context.sessionClient();
      const channel = await resolveChannel(client, idOrName);
      const result = await client.call({
        method: "POST",
        path: `/api/channels/${encodeURIComponent(channel.id)}/messages/_reprocess`,
        body: { messageIds, overwrite: flags.overwrite === true },
        schema: reprocessResponseSchema,
      });
      context.print({ channelId: channel.id, ...result }, () =>
        `reprocessed ${messageIds.length} message(s) of ${channel.name} (${channel.id})${flags.overwrite === true ? " in place" : ""}\n${formatTable(
          [
            { header: "message", value: (row: (typeof result.results)[number]) => String(row.messageId) },
            { header: "status", value: (row: (typeof result.results)[number]) => row.status },
          ],
          result.results,
        )}`,
      );
    });
}

export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("a whole number from 1 up");
  }
  return Number(value);
}

function collectIds(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), positiveInteger(value)];
}

/** ISO 8601 with a zone (or a date, taken as UTC midnight) → epoch ms. */
export function parseTime(value: string): number {
  const zoned = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
  const epoch = Date.parse(value);
  if (!zoned.test(value) || Number.isNaN(epoch)) {
    throw new InvalidArgumentError("an ISO 8601 time with its zone, e.g. 2026-11-24T08:00:00Z, or a date 2026-11-24");
  }
  return epoch;
}

function collectPair(value: string, previous: string[] | undefined): string[] {
  if (!/^[^=]+=/.test(value)) throw new InvalidArgumentError("key=value");
  return [...(previous ?? []), value];
}

import { readFile, writeFile } from "node:fs/promises";
import { channelSchema } from "@node-mirth/core";
import type { Command } from "commander";
import { z } from "zod";
import type { ApiClient } from "../api-client.js";
import {
  channelActionResponseSchema,
  channelStatusSchema,
  channelSummarySchema,
  statisticsResponseSchema,
} from "../../api/api-schemas.js";
import { CliError } from "../cli-error.js";
import type { CliContext } from "../cli-context.js";
import { formatTable } from "../format-table.js";
import { pickChannel, resolveChannel } from "../resolve-channel.js";

/** The channel actions of the API, `POST /api/channels/:id/_<action>`, with their past tense. */
const ACTIONS = {
  deploy: "deployed",
  undeploy: "undeployed",
  start: "started",
  stop: "stopped",
  pause: "paused",
  resume: "resumed",
  /** Stops at once, without waiting for messages in flight (a stuck channel). */
  halt: "halted",
} as const;

type ChannelStatusRow = z.infer<typeof channelStatusSchema>;
type StatisticsTotals = Record<"received" | "filtered" | "queued" | "sent" | "errored", number>;

export function registerChannelCommands(program: Command, context: CliContext): void {
  const channels = program.command("channels").description("list, control, import and export channels");

  channels
    .command("list")
    .description("every saved channel with its state (undeployed when not running)")
    .action(async () => {
      const client = await context.sessionClient();
      const rows = await client.call({ method: "GET", path: "/api/channels", schema: z.array(channelSummarySchema) });
      context.print(rows, () =>
        formatTable(
          [
            { header: "id", value: (row) => row.id },
            { header: "name", value: (row) => row.name },
            { header: "enabled", value: (row) => (row.enabled ? "yes" : "no") },
            { header: "state", value: (row) => row.state },
          ],
          rows,
        ),
      );
    });

  channels
    .command("status")
    .description("state and message counts of every channel, or per connector of one channel")
    .argument("[channel]", "id or name of one channel")
    .action(async (idOrName: string | undefined) => {
      const client = await context.sessionClient();
      const statuses = await listStatuses(client);
      if (idOrName === undefined) {
        const rows = await Promise.all(
          statuses.map(async (status) => ({ ...status, statistics: totals(await statisticsOf(client, status.id)) })),
        );
        context.print(rows, () => formatTable(statusColumns(), rows));
        return;
      }
      const channel = pickChannel(statuses, idOrName);
      const statistics = await statisticsOf(client, channel.id);
      const rows = Object.entries(statistics).map(([connectorId, counts]) => ({
        connectorId,
        counts: Object.fromEntries(COUNT_NAMES.map((name) => [name, counts[name]])) as StatisticsTotals,
      }));
      context.print({ ...channel, statistics }, () => {
        type Row = (typeof rows)[number];
        const table = formatTable(
          [
            { header: "connector", value: (row: Row) => row.connectorId },
            ...COUNT_NAMES.map((name) => ({ header: name, value: (row: Row) => String(row.counts[name]) })),
          ],
          rows,
        );
        return `${channel.name} (${channel.id}): ${channel.state}\n${table}`;
      });
    });

  for (const [action, done] of Object.entries(ACTIONS)) {
    channels
      .command(action)
      .description(`${action} a channel`)
      .argument("<channel>", "id or name, e.g. \"MLLPS Receiver\"")
      .action(async (idOrName: string) => {
        const client = await context.sessionClient();
        const channel = await resolveChannel(client, idOrName);
        const result = await client.call({
          method: "POST",
          path: `/api/channels/${encodeURIComponent(channel.id)}/_${action}`,
          schema: channelActionResponseSchema,
        });
        context.print({ id: channel.id, name: channel.name, action, state: result.state }, () =>
          `${done} ${channel.name} (${channel.id}): now ${result.state}\n`,
        );
      });
  }

  channels
    .command("import")
    .description("create or replace a channel from its JSON document (as `channels export` writes it)")
    .argument("<file>", "the channel JSON file")
    .option("--deploy", "deploy it once saved")
    .action(async (file: string, flags: { deploy?: boolean }) => {
      const document = await readChannelFile(file);
      const client = await context.sessionClient();
      const path = `/api/channels/${encodeURIComponent(document.id)}`;
      const saved = await client.call({ method: "GET", path: "/api/channels", schema: z.array(channelSummarySchema) });
      const exists = saved.some((channel) => channel.id === document.id);
      await client.call({
        method: exists ? "PUT" : "POST",
        path: exists ? path : "/api/channels",
        body: document,
        schema: channelSummarySchema,
      });
      if (flags.deploy === true) await client.call({ method: "POST", path: `${path}/_deploy`, schema: channelActionResponseSchema });
      const outcome = exists ? "replaced" : "created";
      context.print({ id: document.id, name: document.name, outcome, deployed: flags.deploy === true }, () =>
        `${outcome} ${document.name} (${document.id})${flags.deploy === true ? " and deployed it" : ""}\n`,
      );
    });

  channels
    .command("export")
    .description("write a channel's JSON document to standard output or a file")
    .argument("<channel>", "id or name")
    .option("-o, --output <file>", "write here instead of standard output")
    .action(async (idOrName: string, flags: { output?: string }) => {
      const client = await context.sessionClient();
      const channel = await resolveChannel(client, idOrName);
      const document = await client.call({
        method: "GET",
        path: `/api/channels/${encodeURIComponent(channel.id)}`,
        schema: channelSchema,
      });
      const text = `${JSON.stringify(document, null, 2)}\n`;
      if (flags.output === undefined) {
        context.io.stdout(text);
        return;
      }
      await writeFile(flags.output, text);
      context.print({ id: channel.id, name: channel.name, file: flags.output }, () => `wrote ${channel.name} (${channel.id}) to ${flags.output}\n`);
    });
}

const COUNT_NAMES = ["received", "filtered", "queued", "sent", "errored"] as const;

function statusColumns() {
  type Row = ChannelStatusRow & { statistics: StatisticsTotals };
  return [
    { header: "id", value: (row: Row) => row.id },
    { header: "name", value: (row: Row) => row.name },
    { header: "state", value: (row: Row) => row.state },
    ...COUNT_NAMES.map((name) => ({ header: name, value: (row: Row) => String(row.statistics[name]) })),
  ];
}

/** Dashboard totals: received at the source, the rest summed over every connector. */
function totals(statistics: z.infer<typeof statisticsResponseSchema>): StatisticsTotals {
  const sum = { received: statistics.source?.received ?? 0, filtered: 0, queued: 0, sent: 0, errored: 0 };
  for (const counts of Object.values(statistics)) {
    sum.filtered += counts.filtered;
    sum.queued += counts.queued;
    sum.sent += counts.sent;
    sum.errored += counts.errored;
  }
  return sum;
}

function listStatuses(client: ApiClient): Promise<ChannelStatusRow[]> {
  return client.call({ method: "GET", path: "/api/channels/statuses", schema: z.array(channelStatusSchema) });
}

function statisticsOf(client: ApiClient, channelId: string) {
  return client.call({
    method: "GET",
    path: `/api/channels/${encodeURIComponent(channelId)}/statistics`,
    schema: statisticsResponseSchema,
  });
}

/**
 * The file's document, checked against core's channel schema first so every problem is
 * listed before anything is sent; what is sent is the file as written (defaults are the
 * server's to apply).
 */
async function readChannelFile(file: string): Promise<{ id: string; name: string } & Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CliError("ERR_CLI_INVALID_INPUT", `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"}).`, { cause: error });
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new CliError("ERR_CLI_INVALID_INPUT", `${file} is not JSON (${(error as Error).message}).`, { cause: error });
  }
  const checked = channelSchema.safeParse(document);
  if (!checked.success) {
    const issues = checked.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
    throw new CliError(
      "ERR_CLI_INVALID_INPUT",
      `${file} is not a valid channel: ${issues.map((issue) => `${issue.path || "(document)"}: ${issue.message}`).join("; ")}`,
      { details: { issues } },
    );
  }
  return document as { id: string; name: string } & Record<string, unknown>;
}

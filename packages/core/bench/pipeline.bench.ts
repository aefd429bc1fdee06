/**
 * dispatch → store → one-line JavaScript transformer → null destination, on one core:
 * messages/s with durable commits (SqliteStore, WAL, synchronous=FULL) and the average
 * messages per fsync, side by side with the same run on MemoryStore. Run after `pnpm build`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as Core from "../src/index.js";

import { latencyPercentiles, writeBenchReport } from "@node-mirth/bench-harness";
// Types from source; the code under test is the built package.
const core = (await import("../dist/index.js")) as unknown as typeof Core;

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 40_000);
const WARMUP = 4_000;
/** Dispatches in flight at once: a few busy MLLP connections' worth. */
const CONCURRENCY = 256;
const TARGET = 5_000;

/** A ~1 KB ADT^A01. */
function message(n: number): string {
  const segments = [
    `MSH|^~\\&|HIS|GENERAL|ENGINE|GENERAL|20240101120000||ADT^A01^ADT_A01|MSG${n}|P|2.5.1|||AL|NE`,
    "EVN|A01|20240101120000|||OPERATOR^JANE",
    `PID|1||${100000 + (n % 5000)}^^^GENERAL^MR||DOE^JOHN^Q^^^^L||19700101|M|||123 MAIN ST^^SPRINGFIELD^IL^62701^USA^H||(217)555-0100^PRN^PH|||S||ACC${n}|123-45-6789`,
    "PV1|1|I|WEST^101^A^GENERAL||||1234^SMITH^ANNA^^^DR|||MED||||ADM|A0||||||||||||||||||||||||||20240101120000",
    "NK1|1|DOE^JANE^^^^^L|SPO^SPOUSE|123 MAIN ST^^SPRINGFIELD^IL^62701^USA|(217)555-0101",
    "AL1|1|DA|PEN^PENICILLIN^L|SV|HIVES",
    "DG1|1|I10|J18.9^PNEUMONIA, UNSPECIFIED ORGANISM^I10||20240101120000|A",
  ];
  let text = segments.join("\r");
  text += `\rNTE|1||${"X".repeat(Math.max(0, 1024 - text.length - 10))}`;
  return text;
}

/**
 * `delivery`: the destination answers on a later turn of the event loop (like a network
 * round trip) and its queue is "always", so the cost of persisting each SENT shows.
 */
async function run(name: string, store: Core.MessageStore, delivery = false) {
  let context: Core.SourceContext | undefined;
  const plugins = [
    core.defineConnector({
      type: "bench",
      propertiesSchema: (await import("zod")).z.object({}),
      createSource: () => ({
        start(ctx) {
          context = ctx;
          return Promise.resolve();
        },
        stop: () => Promise.resolve(),
      }),
      createDestination: () => ({
        send: delivery
          ? () =>
              new Promise<{ status: "SENT" }>((resolve) =>
                setImmediate(() => resolve({ status: "SENT" })),
              )
          : () => Promise.resolve({ status: "SENT" as const }),
      }),
    }),
  ];
  const engine = core.createEngine({ store, plugins });
  await engine.deploy({
    id: "bench",
    name: "Bench",
    storage: "production",
    source: { type: "bench", properties: {} },
    transformer: { steps: [{ type: "javascript", script: 'msg.set("PID.5.1", "BENCH");' }] },
    destinations: [
      {
        id: "null",
        name: "Null",
        connector: { type: "bench", properties: {} },
        ...(delivery ? { queue: { mode: "always" as const } } : {}),
      },
    ],
  });
  const source = context;
  if (source === undefined) throw new Error("bench source did not start");
  const payloads = Array.from({ length: 64 }, (_, i) => message(i));

  // Dispatch latency: from the call to the durable commit that lets a source acknowledge.
  const dispatchMs: number[] = [];
  const pump = async (count: number, offset: number): Promise<void> => {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const n = offset + next++;
        const sent = performance.now();
        await source.dispatch({ content: payloads[n % payloads.length] ?? "" });
        dispatchMs.push(performance.now() - sent);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await engine.idle("bench");
  };

  await pump(WARMUP, 0);
  dispatchMs.length = 0;
  const commitsBefore = store.metrics().commits;
  const started = performance.now();
  await pump(MESSAGES, WARMUP);
  const seconds = (performance.now() - started) / 1000;
  const commits = store.metrics().commits - commitsBefore;
  const stats = await engine.statistics("bench");
  await engine.close();
  await store.close();
  if (stats.null?.sent !== MESSAGES + WARMUP)
    throw new Error(`${name}: ${stats.null?.sent} sent, expected ${MESSAGES + WARMUP}`);
  return {
    name,
    messages: MESSAGES,
    messageBytes: payloads[0]?.length ?? 0,
    seconds: Math.round(seconds * 1000) / 1000,
    messagesPerSecond: Math.round(MESSAGES / seconds),
    dispatchLatencyMicros: latencyPercentiles(dispatchMs),
    commits,
    // Each message is committed three times (received; transformed + queued; sent), so a
    // commit per message and stage would be 1/3 here.
    messagesPerCommit: Math.round((MESSAGES / commits) * 10) / 10,
  };
}

const dir = mkdtempSync(join(tmpdir(), "node-mirth-bench-"));
try {
  const durable = await run(
    "SqliteStore (WAL, synchronous=FULL)",
    new core.SqliteStore({ dataDir: dir }),
  );
  const memory = await run("MemoryStore (not durable)", new core.MemoryStore());
  const delivered = await run(
    "SqliteStore, async destination, queue always",
    new core.SqliteStore({ dataDir: join(dir, "delivery") }),
    true,
  );
  writeBenchReport(join(import.meta.dirname, ".."), {
    bench: "pipeline",
    results: [durable, memory, delivered],
    ratios: {
      durableVsMemory:
        Math.round((durable.messagesPerSecond / memory.messagesPerSecond) * 100) / 100,
    },
    targets: {
      durableMessagesPerSecond: {
        target: TARGET,
        actual: durable.messagesPerSecond,
        met: durable.messagesPerSecond >= TARGET,
      },
    },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

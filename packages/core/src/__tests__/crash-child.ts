/**
 * The engine process of the crash-safety test. Reads message numbers on stdin, dispatches
 * each as an HL7 message, and writes `ack <n>` on stdout once its dispatch resolved (the
 * raw message is committed). The recording destination appends each delivered number to
 * a file with fsync. stdin closing means: deliver what is left, close, exit 0.
 * Usage: node --import <TS_SOURCE_HOOK from @node-mirth/test-peers> crash-child.ts <dataDir> <deliveredFile>
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { createInterface } from "node:readline";
import { z } from "zod";
import { createEngine } from "../create-engine.js";
import { defineConnector, type SourceContext } from "../define-connector.js";
import { SqliteStore } from "../sqlite-store.js";

const [dataDir, deliveredFile] = process.argv.slice(2);
if (dataDir === undefined || deliveredFile === undefined)
  throw new Error("usage: crash-child <dataDir> <deliveredFile>");

const delivered = openSync(deliveredFile, "a");
let context: SourceContext | undefined;

const plugins = [
  defineConnector({
    type: "lines",
    propertiesSchema: z.object({}),
    createSource: () => ({
      start(ctx) {
        context = ctx;
        return Promise.resolve();
      },
      stop: () => Promise.resolve(),
    }),
  }),
  defineConnector({
    type: "fsync-file",
    propertiesSchema: z.object({}),
    createDestination: () => ({
      send(message) {
        const id = /^MSH(?:\|[^|\r]*){8}\|([^|\r]*)/.exec(message.content)?.[1] ?? "?";
        writeSync(delivered, `${id}\n`);
        fsyncSync(delivered);
        return Promise.resolve({ status: "SENT" as const });
      },
    }),
  }),
];

const store = new SqliteStore({ dataDir });
const engine = createEngine({ store, plugins });
await engine.deploy({
  id: "crash",
  name: "Crash safety",
  source: { type: "lines", properties: {} },
  destinations: [
    {
      id: "out",
      name: "Out",
      connector: { type: "fsync-file", properties: {} },
      // Three workers, ordered per patient (the test checks the order per key), and a small
      // buffer so the queue overflows to the store and is read back between the kills.
      queue: {
        mode: "always",
        retryCount: 1_000,
        retryIntervalMs: 1,
        threads: 3,
        groupBy: "PID.3.1",
        bufferSize: 20,
      },
    },
  ],
});
process.stdout.write("ready\n");

const source = context;
if (source === undefined) throw new Error("the source did not start");
const lines = createInterface({ input: process.stdin });
const pending: Promise<void>[] = [];
lines.on("line", (line) => {
  const n = line.trim();
  const hl7 = `MSH|^~\\&|CRASH|T|RECV|T|20240101000000||ADT^A01|${n}|P|2.5\rPID|1||K${Number(n) % 5}^^^MRN||DOE^JOHN`;
  pending.push(
    source.dispatch({ content: hl7 }).then(() => {
      process.stdout.write(`ack ${n}\n`);
    }),
  );
});
lines.on("close", () => {
  void Promise.all(pending)
    .then(() => engine.idle("crash"))
    .then(() => engine.close())
    .then(() => store.close())
    .then(() => {
      closeSync(delivered);
      process.stdout.write("done\n");
    });
});

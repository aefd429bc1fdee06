import type { ChannelInput } from "@node-mirth/core";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The MLLP port of the demo receiver (Mirth's customary first listener port). */
export const DEMO_MLLP_PORT = 6661;

/**
 * Configuration-map entries the demo channels read: `${DEMO_MLLP_PORT}` is 6661 unless the
 * environment variable DEMO_MLLP_PORT says otherwise (a machine where 6661 is taken, the
 * smoke test).
 */
export function demoConfigurationMap(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return { DEMO_MLLP_PORT: env.DEMO_MLLP_PORT ?? String(DEMO_MLLP_PORT) };
}

/**
 * "Demo Receiver": MLLP on ${INBOUND_BIND_HOST}:6661 (127.0.0.1 by default), a JavaScript
 * transformer that tags the message and records who sent it, then a Channel Writer to
 * "Demo Archive". The source ACKs once the raw message is committed.
 */
export const demoReceiver: ChannelInput = {
  id: "demo-receiver",
  name: "Demo Receiver",
  description: "MLLP listener on 127.0.0.1:6661 -> JavaScript transformer -> Channel Writer to Demo Archive",
  source: { type: "mllp", properties: { host: "${INBOUND_BIND_HOST}", port: "${DEMO_MLLP_PORT}" } },
  transformer: {
    steps: [
      {
        type: "javascript",
        name: "Tag the message",
        script: [
          "// Record the sending application and mark the message as seen by node-mirth.",
          'channelMap.put("sendingApplication", msg.get("MSH.3.1"));',
          'msg.set("MSH.8", "NODE-MIRTH-DEMO");',
        ].join("\n"),
      },
    ],
  },
  destinations: [
    {
      id: "to-archive",
      name: "To Demo Archive",
      connector: { type: "channel", properties: { channelId: "demo-archive" } },
    },
  ],
  metadataColumns: [{ name: "patientId", expression: "PID.3.1" }],
};

/**
 * "Demo Archive": a Channel Reader that keeps every message it gets (development storage
 * keeps all content) and writes each one to `<data>/out/<message id>.hl7` with the file
 * connector (@node-mirth/remotefile).
 */
export const demoArchive: ChannelInput = {
  id: "demo-archive",
  name: "Demo Archive",
  description: "Channel Reader that keeps the messages Demo Receiver forwards and writes them to <data>/out",
  source: { type: "channel", properties: {} },
  destinations: [
    {
      id: "file-out",
      name: "Write to data/out",
      connector: { type: "file", properties: { directory: "${DATA_DIR}/out", fileName: "${message.messageId}.hl7" } },
    },
  ],
};

/**
 * Saves the demo channels into `<data>/channels` when they are not there yet: a channel the
 * operator edited or deleted through the API is never written back over.
 */
export function installDemoChannels(dataDir: string): string[] {
  const written: string[] = [];
  for (const channel of [demoArchive, demoReceiver]) {
    const file = join(dataDir, "channels", `${channel.id}.json`);
    if (existsSync(file)) continue;
    writeFileSync(file, `${JSON.stringify(channel, null, 2)}\n`, { mode: 0o600 });
    written.push(file);
  }
  return written;
}

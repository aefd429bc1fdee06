import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { buildAck, buildAckForUnparseable, parseHl7 } from "@node-mirth/hl7";
import { FrameDecoder } from "../frame-decoder.js";
import type { MllpLog } from "../transport.js";

/** Answers AA, or AR for bytes that are not HL7 (never dropped). */
export function ackHandler(message: Buffer): Promise<string> {
  try {
    return Promise.resolve(buildAck(parseHl7(message), { outcome: "accept" })?.toString() ?? "");
  } catch {
    return Promise.resolve(buildAckForUnparseable(message).toString());
  }
}

/** A log that keeps every line, for assertions on codes. */
export function collectingLog(): { log: MllpLog; lines: string[]; waitFor: (pattern: RegExp) => Promise<string> } {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const log: MllpLog = (level, text) => {
    const line = `${level}: ${text}`;
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  const waitFor = (pattern: RegExp) => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve) => waiters.push({ pattern, resolve }));
  };
  return { log, lines, waitFor };
}

/** A bare TCP peer that reads MLLP frames: our stand-in for a misbehaving client. */
export interface FrameClient extends AsyncDisposable {
  socket: Socket;
  next(): Promise<Buffer>;
  closed: Promise<void>;
}

export async function frameClient(port: number): Promise<FrameClient> {
  const socket = connect({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  await once(socket, "connect");
  const decoder = new FrameDecoder();
  const frames: Buffer[] = [];
  const waiting: ((frame: Buffer) => void)[] = [];
  socket.on("data", (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      const waiter = waiting.shift();
      if (waiter === undefined) frames.push(frame);
      else waiter(frame);
    }
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return {
    socket,
    next: () => {
      const frame = frames.shift();
      return frame === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(frame);
    },
    closed,
    [Symbol.asyncDispose]: async () => {
      socket.destroy();
      await closed;
    },
  };
}

export const mllpFrame = (text: string): Buffer =>
  Buffer.concat([Buffer.from([0x0b]), Buffer.from(text, "latin1"), Buffer.from([0x1c, 0x0d])]);

export const msa = (ack: Buffer | string): string[] => {
  const message = parseHl7(ack);
  return [message.get("MSA.1") ?? "", message.get("MSA.2") ?? ""];
};

/**
 * The load client: N connections, each lock-step (send one message, wait for its ACK, check
 * MSA-1 is AA/CA and MSA-2 is the MSH-10 sent), for a fixed time after a warm-up, either as
 * fast as the server answers or paced to a total rate. Optionally one connection per message.
 */
import { connect, type Socket } from "node:net";
import { adtA01, Deframer, field, frame, serveCommands, wallNow } from "./bench-shared.ts";

interface Run {
  port: number;
  prefix: string;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Total messages/s over all connections; 0 = as fast as the ACKs come back. */
  rate: number;
  perMessageConnection: boolean;
  /** Upper bound on messages per connection (a safety stop). */
  maxPerConnection: number;
}

const ACK_TIMEOUT_MS = 10_000;

/** One socket; `next()` resolves with the next complete frame from the server. */
function open(port: number): Promise<{ socket: Socket; next: () => Promise<string>; unsolicited: () => number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", noDelay: true });
    const deframer = new Deframer();
    const frames: string[] = [];
    let waiter: ((frame: string) => void) | undefined;
    let failer: ((error: Error) => void) | undefined;
    let extra = 0;
    socket.on("data", (chunk) => {
      for (const f of deframer.push(chunk)) {
        if (waiter !== undefined) {
          const w = waiter;
          waiter = undefined;
          w(f);
        } else {
          frames.push(f);
          extra++;
        }
      }
    });
    socket.on("error", (error) => (failer ?? reject)(error));
    socket.on("close", () => failer?.(new Error("closed")));
    socket.once("connect", () =>
      resolve({
        socket,
        unsolicited: () => extra,
        next: () => {
          const queued = frames.shift();
          if (queued !== undefined) return Promise.resolve(queued);
          return new Promise<string>((res, rej) => {
            const timer = setTimeout(() => rej(new Error("ACK timeout")), ACK_TIMEOUT_MS);
            waiter = (f) => {
              clearTimeout(timer);
              failer = undefined;
              res(f);
            };
            failer = (error) => {
              clearTimeout(timer);
              waiter = undefined;
              failer = undefined;
              rej(error);
            };
          });
        },
      }),
    );
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(options: Run) {
  const ids: string[] = [];
  const sentAt: number[] = [];
  const ackMs: number[] = [];
  const counts = { sent: 0, warmup: 0, mismatches: 0, negative: 0, timeouts: 0, errors: 0, unsolicited: 0 };
  const startedAt = performance.now();
  const measureFrom = startedAt + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;
  const interval = options.rate > 0 ? (options.connections / options.rate) * 1000 : 0;

  await Promise.all(
    Array.from({ length: options.connections }, async (_, c) => {
      let conn = options.perMessageConnection ? undefined : await open(options.port);
      // Stagger paced connections so they do not all fire together.
      let due = startedAt + (interval * c) / options.connections;
      try {
        for (let i = 0; i < options.maxPerConnection; i++) {
          if (interval > 0) {
            const wait = due - performance.now();
            if (wait > 0) await sleep(wait);
            due += interval;
          }
          const now = performance.now();
          if (now >= stopAt) break;
          const id = `${options.prefix}-${c}-${i}`;
          const before = performance.now();
          const wallBefore = wallNow();
          conn ??= await open(options.port);
          conn.socket.write(frame(adtA01(id)));
          counts.sent++;
          let ack: string;
          try {
            ack = await conn.next();
          } catch (error) {
            if ((error as Error).message === "ACK timeout") counts.timeouts++;
            else counts.errors++;
            conn.socket.destroy();
            conn = undefined;
            if (!options.perMessageConnection) break;
            continue;
          }
          const elapsed = performance.now() - before;
          const code = field(ack, "MSA", 1);
          if (field(ack, "MSA", 2) !== id) counts.mismatches++;
          else if (code !== "AA" && code !== "CA") counts.negative++;
          else if (before >= measureFrom) {
            ids.push(id);
            sentAt.push(wallBefore);
            ackMs.push(elapsed);
          } else counts.warmup++;
          if (options.perMessageConnection) {
            conn.socket.end();
            conn = undefined;
          }
        }
      } finally {
        if (conn !== undefined) {
          counts.unsolicited += conn.unsolicited();
          conn.socket.end();
          conn.socket.destroy();
        }
      }
    }),
  );
  const measuredMs = Math.min(performance.now(), stopAt) - measureFrom;
  return { kind: "result", ids, sentAt, ackMs, measuredMs, ...counts };
}

serveCommands(async (command) => {
  if (command.kind !== "run") throw new Error(`unknown command ${command.kind}`);
  return run(command as unknown as Run);
});

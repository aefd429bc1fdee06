/** What the bench processes share: the test message, MLLP framing by hand, wall time, IPC. */
import { fork, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";

export const START = 0x0b;
export const END = 0x1c;

/** Epoch milliseconds with sub-ms precision, comparable across processes on one machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** A ~1 KB ADT^A01 whose MSH-10 is `id`; PID-5.1 is lower case so the transformer's upper-casing shows at the sink. */
export function adtA01(id: string): string {
  return [
    `MSH|^~\\&|HIS|GENERAL|ENGINE|GENERAL|20240101120000||ADT^A01^ADT_A01|${id}|P|2.5.1`,
    "EVN|A01|20240101120000|||OPERATOR^JANE",
    `PID|1||${id}^^^HOSP^MR~987654^^^SSA^SS||doe^john^Q^JR^^^L||19700101|M|||123 MAIN ST^^SPRINGFIELD^IL^62701^USA^H||(217)555-0100^PRN^PH|||M|CHR|ACC${id}`,
    "NK1|1|DOE^JANE^^^^^L|SPO^Spouse^HL70063|123 MAIN ST^^SPRINGFIELD^IL^62701^USA^H|(217)555-0101",
    "PV1|1|I|4N^401^A^GENERAL^^^^^4 NORTH|E|||1234^SMITH^ALICE^^^DR^MD|5678^JONES^BOB^^^DR^MD||MED|||1|A0||1234^SMITH^ALICE^^^DR^MD|IN||SELF|||||||||||||||||||GENERAL||ADM|||20240101115500",
    "AL1|1|DA|70618^PENICILLIN^RXNORM|SV|HIVES",
    "DG1|1||I10^Essential hypertension^I10||20240101|A",
  ].join("\r") + "\r";
}

export function frame(text: string): Buffer {
  const body = Buffer.from(text, "latin1");
  const out = Buffer.allocUnsafe(body.length + 3);
  out[0] = START;
  body.copy(out, 1);
  out[body.length + 1] = END;
  out[body.length + 2] = 0x0d;
  return out;
}

/** Splits a byte stream into MLLP frame bodies (latin1 strings), joining frames split across reads. */
export class Deframer {
  #pending: Buffer | undefined;
  push(chunk: Buffer): string[] {
    let buf = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: string[] = [];
    for (;;) {
      const end = buf.indexOf(END);
      if (end < 0) break;
      const start = buf.lastIndexOf(START, end);
      frames.push(buf.toString("latin1", start + 1, end));
      buf = buf.subarray(end + (buf[end + 1] === 0x0d ? 2 : 1));
    }
    this.#pending = buf.length === 0 ? undefined : buf;
    return frames;
  }
}

/** Field `n` (1-based, MSH counted as in HL7: MSH-10 is field 10) of the first segment named `name`. */
export function field(message: string, name: string, n: number): string | undefined {
  let at = 0;
  if (!message.startsWith(name + "|")) {
    at = message.indexOf("\r" + name + "|") + 1;
    if (at === 0) return undefined;
  }
  const stop = message.indexOf("\r", at);
  const fields = message.slice(at, stop < 0 ? undefined : stop).split("|");
  return fields[name === "MSH" ? n - 1 : n];
}

/** A minimal AA by string operations. */
export function bareAck(message: string): string {
  const id = field(message, "MSH", 10) ?? "";
  return `MSH|^~\\&|SINK|SINK|HIS|GENERAL|20240101120000||ACK^A01^ACK|A${id}|P|2.5.1\rMSA|AA|${id}\r`;
}

export type Reply = Record<string, unknown> & { kind: string };

/** Starts a bench process (Node strips the types) with an IPC channel; it exits when we do. */
export function spawnRole(file: string, execArgv: string[] = []): ChildProcess {
  return fork(new URL(file, import.meta.url), [], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

/** Sends one command and waits for the child's next message, at most `timeoutMs`. */
export function ask<T extends Reply>(child: ChildProcess, command: Reply, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("message", onMessage);
      reject(new Error(`no answer to ${command.kind} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: unknown) => {
      clearTimeout(timer);
      resolve(message as T);
    };
    child.once("message", onMessage);
    if (command.kind !== "none") child.send(command);
  });
}

/** In a child: answer commands one at a time; exit when the parent goes away. */
export function serveCommands(handle: (command: Reply) => Promise<Reply>): void {
  process.on("disconnect", () => process.exit(0));
  process.on("message", (command: Reply) => {
    handle(command).then(
      (reply) => process.send?.(reply),
      (error: unknown) => process.send?.({ kind: "error", message: String(error) }),
    );
  });
}

/** VmRSS and VmHWM of a process, in MiB, from /proc. */
export async function rssOf(pid: number): Promise<{ rssMiB: number; peakMiB: number }> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round((kib("VmRSS") / 1024) * 10) / 10, peakMiB: Math.round((kib("VmHWM") / 1024) * 10) / 10 };
}

/** A port free right now on 127.0.0.1 (for servers that cannot listen on port 0 and tell us). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

import { MllpSender } from "@node-mirth/mllp-tls";
import { readFileSync } from "node:fs";
import { EXIT } from "./exit-status.js";

export interface SendCommandOptions {
  host: string;
  port: number;
  /** Use TLS; the server certificate is verified against `ca` (or the system store). */
  tls?: boolean;
  ca?: string;
  /** Client certificate and key, for mTLS listeners. */
  cert?: string;
  key?: string;
  timeoutMs?: number;
}

/**
 * HL7 files are usually saved with LF or CRLF line ends; MLLP peers expect CR between
 * segments, so every line end becomes CR and trailing blank lines go.
 */
export function toHl7Segments(text: string): string {
  return text.replace(/\r\n|\n|\r/g, "\r").replace(/\r+$/, "") + "\r";
}

/**
 * `node-mirth send FILE`: one HL7 message over MLLP (optionally TLS), prints the ACK code
 * and text. Exit 0 for AA/CA, 1 for anything else or a failure to deliver.
 */
export async function runSend(file: string, options: SendCommandOptions): Promise<number> {
  const message = toHl7Segments(readFileSync(file === "-" ? 0 : file, "utf8"));
  const sender = new MllpSender({
    host: options.host,
    port: options.port,
    keepConnectionOpen: false,
    responseTimeoutMs: options.timeoutMs ?? 10_000,
    ...(options.tls === true
      ? {
          tls: {
            enabled: true,
            ...(options.ca === undefined ? {} : { trustStorePath: options.ca }),
            ...(options.cert === undefined ? {} : { certStorePath: options.cert }),
            ...(options.key === undefined ? {} : { keyStorePath: options.key }),
          },
        }
      : {}),
  });
  try {
    const result = await sender.send(message);
    const text = result.ackText === undefined ? "" : ` ${result.ackText}`;
    process.stdout.write(`${result.ackCode ?? result.outcome}${text}\n`);
    return result.outcome === "accepted" ? EXIT.ok : EXIT.failed;
  } catch (error) {
    process.stderr.write(`node-mirth send: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  } finally {
    await sender.close();
  }
}

import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";

/**
 * Asks on the terminal without echoing the answer: readline writes to a stream that drops
 * everything after the question, so typed characters never reach the screen.
 */
export async function promptSecret(question: string): Promise<string> {
  process.stderr.write(question);
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const reader = createInterface({ input: process.stdin, output, terminal: true });
  muted = true;
  try {
    return await reader.question("");
  } finally {
    reader.close();
    process.stderr.write("\n");
  }
}

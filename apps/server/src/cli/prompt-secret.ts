import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";

/**
 * Asks on the terminal without echoing the answer. The readline interface is created
 * first, because that puts the terminal in raw mode (the tty driver stops echoing); only
 * then is the question shown, so keys typed or pasted the moment it appears are never
 * echoed. readline writes its own echo to a stream that drops it.
 */
export async function promptSecret(question: string): Promise<string> {
  const silent = new Writable({
    write(_chunk: Buffer, _encoding, callback) {
      callback();
    },
  });
  const reader = createInterface({ input: process.stdin, output: silent, terminal: true });
  // Raw mode turns Ctrl-C into a key: without this it would only pause the prompt.
  reader.on("SIGINT", () => {
    reader.close();
    process.stderr.write("\n");
    process.exit(130);
  });
  process.stderr.write(question);
  try {
    return await reader.question("");
  } finally {
    reader.close();
    process.stderr.write("\n");
  }
}

/**
 * Reads a line from the terminal without echoing it. Raw mode is restored however the
 * read ends; Ctrl-C aborts the process as it would at any other prompt.
 */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // Echo goes off before the question shows: keys typed the moment it appears stay hidden.
  stdin.setRawMode(true);
  process.stderr.write(question);
  return new Promise((resolve) => {
    let answer = "";
    const finish = () => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") {
          finish();
          resolve(answer);
          return;
        }
        if (char === "\u0003") {
          finish();
          process.exit(130);
        }
        answer = char === "\u007f" || char === "\b" ? answer.slice(0, -1) : answer + char;
      }
    };
    stdin.resume();
    stdin.on("data", onData);
  });
}

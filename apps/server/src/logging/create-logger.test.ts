import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createServerLogger } from "./create-logger.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      callback();
    },
  });
  return { lines, destination };
}

describe("createServerLogger", () => {
  it("redacts content, credentials and session ids at the top level and one level down", () => {
    const { lines, destination } = capture();
    const { logger } = createServerLogger({ level: "info", destination });
    logger.info(
      {
        content: "PID|1||123^^^HOSP||Doe^Jane",
        password: "correct horse battery",
        message: { content: "MSH|PHI" },
        req: { headers: { cookie: "JSESSIONID=abc", authorization: "Bearer t", "x-session-id": "s1", host: "ok" } },
        user: { password: "hunter2hunter2", totpSecret: "JBSWY3DP", username: "alice" },
      },
      "request",
    );
    const line = lines.join("\n");
    for (const secret of ["Doe^Jane", "correct horse", "MSH|PHI", "JSESSIONID=abc", "Bearer t", '"s1"', "hunter2", "JBSWY3DP"]) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain("alice");
    expect(line).toContain('"host":"ok"');
    expect(line).toContain("[redacted]");
  });

  it("tees every formatted line to subscribers (for /ws/serverlog) until they unsubscribe", () => {
    const { lines, destination } = capture();
    const logging = createServerLogger({ level: "info", destination });
    const seen: string[] = [];
    const unsubscribe = logging.lines.subscribe((line) => seen.push(line));
    logging.lines.subscribe(() => {
      throw new Error("a broken subscriber");
    });
    logging.logger.info({ password: "secret-password" }, "first");
    unsubscribe();
    logging.logger.info("second");
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0]!)).toMatchObject({ msg: "first", password: "[redacted]" });
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(["first", "second"]);
  });

  it("drops lines below the configured level from both outputs", () => {
    const { lines, destination } = capture();
    const logging = createServerLogger({ level: "warn", destination });
    const seen: string[] = [];
    logging.lines.subscribe((line) => seen.push(line));
    logging.logger.info("quiet");
    logging.logger.warn("loud");
    expect(seen).toHaveLength(1);
    expect(lines).toHaveLength(1);
  });
});

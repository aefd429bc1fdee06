/**
 * A bare Node MLLP server: frames by hand, answers a string-built AA, stores nothing. Two
 * uses: baseline (a), the physical ceiling of this machine, and the sink at the end of the
 * engine path, where it also records when each MSH-10 first arrived (for end-to-end latency)
 * and whether the engine's transformer upper-cased PID-5.1.
 */
import { createServer, type AddressInfo } from "node:net";
import { bareAck, Deframer, field, frame, serveCommands, wallNow } from "./bench-shared.ts";

const arrivals = new Map<string, number>();
let untransformed = 0;
let record = false;

const server = createServer({ noDelay: true }, (socket) => {
  const deframer = new Deframer();
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk) => {
    for (const message of deframer.push(chunk)) {
      if (record) {
        const id = field(message, "MSH", 10) ?? "";
        if (!arrivals.has(id)) arrivals.set(id, wallNow());
        const family = field(message, "PID", 5)?.split("^")[0] ?? "";
        if (family !== family.toUpperCase()) untransformed++;
      }
      socket.write(frame(bareAck(message)));
    }
  });
});

serveCommands(async (command) => {
  switch (command.kind) {
    case "start":
      record = command.record === true;
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return { kind: "ready", port: (server.address() as AddressInfo).port };
    case "count":
      return { kind: "count", distinct: arrivals.size };
    case "take": {
      // Arrival times of this round, then forget them.
      const ids = [...arrivals.keys()];
      const at = [...arrivals.values()];
      const reply = { kind: "arrivals", ids, at, untransformed };
      arrivals.clear();
      untransformed = 0;
      return reply;
    }
    default:
      throw new Error(`unknown command ${command.kind}`);
  }
});

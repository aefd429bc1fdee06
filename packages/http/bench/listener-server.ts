/** HttpListener alone (from dist), answering 200 with no storage: its own cost against the bare server. Prints its port. */
import type * as Http from "../src/index.js";

const { HttpListener } = (await import("../dist/index.js")) as unknown as typeof Http;
const listener = new HttpListener({
  basePath: "/in",
  onRequest: () => Promise.resolve({ statusCode: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: "ok" }),
});
const { port } = await listener.start();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on("SIGTERM", () => void listener.stop().then(() => process.exit(0)));

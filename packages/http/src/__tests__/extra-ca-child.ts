/**
 * Child of the NODE_EXTRA_CA_CERTS test: one HTTPS send with no trust store configured, so
 * only Node's roots (plus NODE_EXTRA_CA_CERTS, read at process start) can verify the server.
 * Prints the status code or the error code.
 * Usage: node --import <TS_SOURCE_HOOK> extra-ca-child.ts <url>
 */
import { HttpSender } from "../http-sender.js";

const sender = new HttpSender({ connectTimeoutMs: 5_000, responseTimeoutMs: 5_000 });
try {
  const response = await sender.send({ url: process.argv[2] ?? "", body: "x" });
  process.stdout.write(String(response.statusCode));
} catch (error) {
  process.stdout.write(String((error as { code?: unknown }).code));
} finally {
  await sender.close();
}

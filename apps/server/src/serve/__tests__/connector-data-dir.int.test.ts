import { createTempDir } from "@node-mirth/test-peers";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { startTestServer } from "../../__tests__/start-test-server.js";

it("gives connectors the server's data directory for state of their own (the file reader's ledger)", async () => {
  await using dir = await createTempDir();
  await using server = await startTestServer({ dataDir: join(dir.path, "data") });
  const inbox = join(dir.path, "inbox");
  mkdirSync(inbox);
  const adt = "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20260101120000||ADT^A01|F-1|P|2.5\rPID|1||123^^^HOSP||DOE^JANE\r";
  writeFileSync(join(inbox, "a.hl7"), adt);
  await server.engine.deploy(
    {
      id: "file-in",
      name: "File in",
      source: { type: "file", properties: { directory: inbox, pollIntervalMs: 50, stableMs: 0, afterProcessing: "delete" } },
      destinations: [{ id: "out", name: "Out", connector: { type: "file", properties: { directory: join(dir.path, "out"), fileName: "${originalFilename}" } } }],
    },
    { start: true },
  );
  await expect.poll(() => existsSync(join(inbox, "a.hl7")), { timeout: 10_000 }).toBe(false);
  expect(existsSync(join(dir.path, "data", "remotefile", "file-in.ledger.sqlite"))).toBe(true);
  await server.engine.idle("file-in");
  expect(readFileSync(join(dir.path, "out", "a.hl7"), "utf8")).toBe(adt);
});

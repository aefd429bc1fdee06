import { createTempDir, describeWithPeers, freePort, runCommand } from "@node-mirth/test-peers";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { startTestServer } from "../__tests__/start-test-server.js";
import { installDemoChannels } from "./demo-channels.js";

const ADT = "MSH|^~\\&|PYLAB|HOSP|EHR|HOSP|20260101120000||ADT^A01|PY-0001|P|2.5\r\nPID|1||PY123^^^HOSP||Doe^John\r\n";

describeWithPeers("the demo channels, fed by python-hl7's mllp_send", ["mllp_send"], (peers) => {
  it("ACK AA, transform, forward to Demo Archive, keep it there and write it to <data>/out", async () => {
    await using dir = await createTempDir();
    mkdirSync(join(dir.path, "channels"));
    expect(installDemoChannels(dir.path)).toHaveLength(2);
    const port = await freePort();
    await using server = await startTestServer({ dataDir: dir.path, env: { DEMO_MLLP_PORT: String(port) } });
    const file = join(dir.path, "adt.hl7");
    writeFileSync(file, ADT);
    const sent = await runCommand(peers.bin.mllp_send!, ["--loose", "-p", String(port), "-f", file, "127.0.0.1"], { timeoutMs: 20_000 });
    expect(sent.stdout.toString()).toMatch(/MSA\|AA\|PY-0001/);

    await server.engine.idle("demo-receiver");
    await server.engine.idle("demo-archive");
    const [kept] = await server.engine.messages.search({ channelId: "demo-archive" });
    const detail = await server.engine.messages.get("demo-archive", kept!.messageId);
    const raw = detail!.connectors.find((connector) => connector.connectorId === "source")!.content.raw!;
    // The receiver's JavaScript transformer set MSH-8 before the Channel Writer forwarded it.
    expect(raw.split("\r")[0]!.split("|")[7]).toBe("NODE-MIRTH-DEMO");
    expect(raw).toContain("PY123");
    const [received] = await server.engine.messages.search({ channelId: "demo-receiver" });
    expect(received!.metadata).toEqual({ patientId: "PY123" });
    const written = readdirSync(join(dir.path, "out"));
    expect(written).toEqual([`${kept!.messageId}.hl7`]);
    expect(readFileSync(join(dir.path, "out", written[0]!), "utf8")).toContain("NODE-MIRTH-DEMO");
  });

  it("never overwrites a demo channel the operator changed", async () => {
    await using dir = await createTempDir();
    mkdirSync(join(dir.path, "channels"));
    installDemoChannels(dir.path);
    const file = join(dir.path, "channels", "demo-receiver.json");
    writeFileSync(file, readFileSync(file, "utf8").replace("Demo Receiver", "ADT in"));
    expect(installDemoChannels(dir.path)).toEqual([]);
    expect(readFileSync(file, "utf8")).toContain("ADT in");
  });
});

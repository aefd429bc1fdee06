/**
 * The baseline: the same demo channels in a bare engine (SqliteStore + mllp and file plugins), no API,
 * no auth, no logging. The bench compares the server against it to show what the server's
 * wiring costs per message. Prints `ready` once the listener is up; stops on SIGTERM.
 */
import { createEngine, SqliteStore } from "@node-mirth/core";
import { mllp } from "@node-mirth/mllp-tls";
import { remotefile } from "@node-mirth/remotefile";
import { demoArchive, demoConfigurationMap, demoReceiver } from "../src/demo/demo-channels.ts";

const dataDir = process.env.MIRTH_DATA_DIR;
if (dataDir === undefined) throw new Error("MIRTH_DATA_DIR is required");
const store = new SqliteStore({ dataDir });
const engine = createEngine({
  store,
  plugins: [mllp(), ...remotefile()],
  configurationMap: { ...demoConfigurationMap(process.env), INBOUND_BIND_HOST: "127.0.0.1", DATA_DIR: dataDir },
});
await engine.deployAll([demoArchive, demoReceiver]);
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void engine
    .close()
    .then(() => store.close())
    .then(() => process.exit(0));
});

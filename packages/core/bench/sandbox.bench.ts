import { measureThroughput, writeBenchReport } from "@node-mirth/bench-harness";
import { join } from "node:path";
import type * as SandboxModule from "../src/script-sandbox.js";

// Types from source; the code under test is the built package.
const { createScriptSandbox } = (await import("../dist/index.js")) as typeof SandboxModule;

/** A ~1 KB ADT^A01, the message size the engine's throughput target is stated for. */
const adt = [
  "MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL|GHH LAB, INC.|GOOD HEALTH HOSPITAL|198808181126|SECURITY|ADT^A01^ADT_A01|MSG00001|P|2.8||",
  "EVN|A01|200708181123||",
  "PID|1||PATID1234^^^GOOD HEALTH HOSPITAL^MR^GOOD HEALTH HOSPITAL^^^USSSA^SS||EVERYMAN^ADAM^A^III||19610615|M||C|2222 HOME STREET^^GREENSBORO^NC^27401-1020|GL|(555) 555-2004|(555)555-2004||S||PATID12345001^2^M10^ADT1^AN^A|444333333|987654^NC|",
  "NK1|1|NUCLEAR^NELDA^W|SPO^SPOUSE||||NK^NEXT OF KIN",
  "PV1|1|I|2000^2012^01||||004777^ATTEND^AARON^A|||SUR||||ADM|A0|",
  "OBX|1|NM|^Body Height||1.80|m^Meter^ISO+|||||F",
  "OBX|2|NM|^Body Weight||79|kg^Kilogram^ISO+|||||F",
  "AL1|1||^ASPIRIN",
  "DG1|1||786.50^CHEST PAIN, UNSPECIFIED^I9|||A",
  "IN1|1|0|UA1|UNITED HEALTHCARE|PO BOX 1234^^ATLANTA^GA^30301||(555)555-1212|GROUP123|||||||||EVERYMAN^ADAM^A|SEL|19610615|2222 HOME STREET^^GREENSBORO^NC^27401-1020",
].join("\r");

const sandbox = await createScriptSandbox();
const scripts = {
  "filter (read one field)": "return msg.get('MSH.9.1') == 'ADT';",
  "transformer (set one field)": "msg.set('PID.5.1', 'SMITH');",
  "transformer (read into channelMap)": "channelMap.put('mrn', msg.get('PID.3.1'));",
  "transformer (JSON)": "msg.seen = true;",
};
for (const [id, code] of Object.entries(scripts))
  sandbox.compile({ id, kind: "transformer", code });

function bindings(content: string, dataType: "HL7V2" | "JSON") {
  return {
    message: { content, dataType },
    channelMap: new Map<string, unknown>(),
    sourceMap: new Map<string, unknown>(),
    connectorMap: new Map<string, unknown>(),
    responseMap: new Map<string, unknown>(),
    globalMap: new Map<string, unknown>(),
    globalChannelMap: new Map<string, unknown>(),
    configurationMap: new Map<string, unknown>(),
    logger: () => undefined,
  };
}

const json = JSON.stringify({
  patient: { id: "PATID1234", name: "EVERYMAN^ADAM" },
  visit: { unit: "2000" },
});
const results = Object.keys(scripts).map((id) => {
  const isJson = id.includes("JSON");
  return measureThroughput({
    name: id,
    run: () => {
      const result = sandbox.run(id, bindings(isJson ? json : adt, isJson ? "JSON" : "HL7V2"));
      if (!result.ok) throw new Error(result.error.message);
    },
  });
});
sandbox.dispose();

const oneLine = results.find((r) => r.name === "transformer (set one field)");
const micros = oneLine === undefined ? 0 : 1_000_000 / oneLine.opsPerSecond;
writeBenchReport(join(import.meta.dirname, ".."), {
  bench: "sandbox",
  results,
  ratios: {},
  targets: {
    microsPerOneLineTransformer: {
      target: 100,
      actual: Math.round(micros * 10) / 10,
      met: micros < 100,
    },
  },
});

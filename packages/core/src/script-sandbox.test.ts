import { describe, expect, it } from "vitest";
import { emptyBindings, useSandboxes } from "./__tests__/script-test-fixtures.js";
import { isNodeMirthError } from "./errors.js";
import { createScriptSandbox } from "./script-sandbox.js";
import type { ScriptBindings, ScriptDataType, ScriptSandbox } from "./script-types.js";

const HL7 = [
  "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240101120000||ADT^A01|MSG00001|P|2.5",
  "PID|1||12345^^^HOSP^MR||DOE^JOHN^Q||19800101|M",
  "OBX|1|TX|NOTE||first",
  "OBX|2|TX|NOTE||second",
].join("\r");

const sandbox = useSandboxes();

interface Logged {
  level: string;
  text: string;
}
function bindings(
  content: string,
  dataType: ScriptDataType = "HL7V2",
  extra: Partial<ScriptBindings> = {},
): ScriptBindings & { logged: Logged[] } {
  const logged: Logged[] = [];
  return {
    ...emptyBindings(content, dataType),
    logger: (level, text) => logged.push({ level, text }),
    logged,
    ...extra,
  };
}

function ok(result: ReturnType<ScriptSandbox["run"]>) {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.error)}`);
  return result;
}
function failed(result: ReturnType<ScriptSandbox["run"]>) {
  if (result.ok) throw new Error("expected a failure");
  return result.error;
}

describe("filters and transformers on HL7 v2", () => {
  it("filters on a field read through the hl7 parser", async () => {
    const s = await sandbox();
    s.compile({ id: "f", kind: "filter", code: "return msg.get('MSH.9.1') == 'ADT';" });
    expect(ok(s.run("f", bindings(HL7))).returnValue).toBe(true);
    expect(ok(s.run("f", bindings(HL7.replace("ADT^A01", "ORU^R01")))).returnValue).toBe(false);
  });

  it("returns the original text untouched when the script only reads", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: "channelMap.put('name', msg.get('PID.5.1'));",
    });
    const b = bindings(HL7);
    const result = ok(s.run("t", b));
    expect(result.message.content).toBe(HL7);
    expect(b.channelMap.get("name")).toBe("DOE");
  });

  it("sets fields, escapes delimiters and serializes the change", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: "msg.set('PID.5.1', 'SMITH'); msg.set('PID.5.2', 'A&B'); msg.set('ZZZ.1', 'new');",
    });
    const out = ok(s.run("t", bindings(HL7))).message.content;
    const segments = out.split("\r");
    expect(segments[1]).toBe("PID|1||12345^^^HOSP^MR||SMITH^A\\T\\B^Q||19800101|M");
    expect(segments.at(-1)).toBe("ZZZ|new");
    expect(segments[0]).toBe(HL7.split("\r")[0]);
  });

  it("offers getRaw, has, segments, repetitions, toString and toXml", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: [
        "var obx = msg.segments('OBX');",
        "return {",
        "  raw: msg.getRaw('PID.3'), has: msg.has('PID.5'), missing: msg.has('PV1.2'), absent: msg.get('PV1.2'),",
        "  obx: obx, second: msg.get('OBX[' + obx[1].occurrence + '].5'),",
        "  all: msg.segments().map(function (s) { return s.name; }).join(','),",
        "  text: String(msg) === msg.toString(), xml: msg.toXml().indexOf('<PID.5.1>DOE</PID.5.1>') >= 0,",
        "};",
      ].join("\n"),
    });
    expect(ok(s.run("t", bindings(HL7))).returnValue).toEqual({
      raw: "12345^^^HOSP^MR",
      has: true,
      missing: false,
      absent: "",
      obx: [
        { name: "OBX", occurrence: 1 },
        { name: "OBX", occurrence: 2 },
      ],
      second: "second",
      all: "MSH,PID,OBX,OBX",
      text: true,
      xml: true,
    });
  });

  it("adds and removes segments and writes raw ER7", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: [
        "msg.removeSegment('OBX', 2);",
        "msg.addSegment('ZPI|1|A^B');",
        "msg.addSegment('NTE|1||note', 2);",
        "msg.setRaw('PID.3', 'A~B');",
        "return [msg.repetitions('PID.3'), msg.removeSegment('ZZZ')];",
      ].join("\n"),
    });
    const result = ok(s.run("t", bindings(HL7)));
    expect(result.returnValue).toEqual([["A", "B"], false]);
    expect(result.message.content.split("\r").map((segment) => segment.slice(0, 3))).toEqual([
      "MSH",
      "PID",
      "NTE",
      "OBX",
      "ZPI",
    ]);
    expect(result.message.content).toContain("PID|1||A~B||");
  });

  it("reports a misuse of the HL7 API with the script's line", async () => {
    const s = await sandbox();
    s.compile({ id: "t", kind: "transformer", code: "\nmsg.addSegment('MSH|^~\\\\&|again');" });
    expect(failed(s.run("t", bindings(HL7)))).toMatchObject({ line: 2, kind: "error" });
  });

  it("lets a script replace msg with new ER7 text", async () => {
    const s = await sandbox();
    s.compile({ id: "t", kind: "transformer", code: "msg = 'MSH|^~\\\\&|X\\rPID|1';" });
    expect(ok(s.run("t", bindings(HL7))).message.content).toBe("MSH|^~\\&|X\rPID|1");
  });

  it("reports a message that is not HL7 as a script error", async () => {
    const s = await sandbox();
    s.compile({ id: "f", kind: "filter", code: "\nreturn msg.get('PID.5.1') == 'X';" });
    const error = failed(s.run("f", bindings("not hl7 at all")));
    expect(error.kind).toBe("error");
    expect(error.message).toMatch(/msg: .*MSH/);
    expect(error.line).toBe(2);
  });

  it("maps tmp in destination transformers", async () => {
    const s = await sandbox();
    s.compile({ id: "t", kind: "transformer", code: "tmp.set('PID.5.1', msg.get('PID.5.2'));" });
    const template = "MSH|^~\\&|A|B\rPID|1||||X^Y";
    const result = ok(
      s.run("t", bindings(HL7, "HL7V2", { tmp: { content: template, dataType: "HL7V2" } })),
    );
    expect(result.tmp?.content).toBe("MSH|^~\\&|A|B\rPID|1||||JOHN^Y");
    expect(result.message.content).toBe(HL7);
  });
});

describe("JSON, XML and RAW messages", () => {
  it("parses JSON into msg and serializes it back", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: "msg.patient.name = msg.patient.name.toUpperCase(); msg.seen = true;",
    });
    const result = ok(s.run("t", bindings('{"patient":{"name":"doe"}}', "JSON")));
    expect(JSON.parse(result.message.content)).toEqual({ patient: { name: "DOE" }, seen: true });
  });

  it("keeps the sender's JSON formatting when nothing changed", async () => {
    const s = await sandbox();
    s.compile({ id: "f", kind: "filter", code: "return msg.a === 1;" });
    const pretty = '{\n  "a": 1\n}';
    const result = ok(s.run("f", bindings(pretty, "JSON")));
    expect(result.returnValue).toBe(true);
    expect(result.message.content).toBe(pretty);
  });

  it("gives XML and RAW as strings a script may reassign", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: "msg = msg.replace('<a>', '<b>').replace('</a>', '</b>');",
    });
    expect(ok(s.run("t", bindings("<a>1</a>", "XML"))).message.content).toBe("<b>1</b>");
    s.compile({ id: "r", kind: "filter", code: "return msg.length;" });
    expect(ok(s.run("r", bindings("raw bytes", "RAW"))).returnValue).toBe(9);
  });

  it("reports invalid JSON input as an error", async () => {
    const s = await sandbox();
    s.compile({ id: "t", kind: "transformer", code: "msg.a = 1;" });
    expect(failed(s.run("t", bindings("{nope", "JSON"))).message).toMatch(/msg is not valid JSON/);
    // The offending token is message content and stays out of the error.
    expect(failed(s.run("t", bindings('{"name": DOE^JOHN}', "JSON"))).message).toBe(
      "SyntaxError: msg is not valid JSON: unexpected token",
    );
  });
});

describe("maps, $(), logger and router", () => {
  it("offers Mirth's Java-style map API with copied JSON-safe values", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: [
        "var obj = { a: [1, 2], b: { c: 'd' } };",
        "channelMap.put('obj', obj); obj.a.push(3);",
        "var prev = channelMap.put('n', 2);",
        "return { prev: prev, n: channelMap.get('n'), missing: channelMap.get('nope'), has: channelMap.containsKey('n'),",
        "  removed: channelMap.remove('gone'), keys: channelMap.keySet(), size: channelMap.size(), obj: channelMap.get('obj') };",
      ].join("\n"),
    });
    const b = bindings(HL7);
    b.channelMap.set("n", 1);
    b.channelMap.set("gone", "x");
    const result = ok(s.run("t", b));
    expect(result.returnValue).toEqual({
      prev: 1,
      n: 2,
      missing: null,
      has: true,
      removed: "x",
      keys: ["n", "obj"],
      size: 2,
      obj: { a: [1, 2], b: { c: "d" } },
    });
    expect(b.channelMap.get("obj")).toEqual({ a: [1, 2], b: { c: "d" } });
    expect(b.channelMap.has("gone")).toBe(false);
  });

  it("answers java.util.Set calls on keySet()", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "filter",
      code: "var ks = globalMap.keySet(); return [ks.toArray().join(','), ks.contains('b'), ks.contains('z'), ks.size(), ks.isEmpty(), ks.length];",
    });
    const b = bindings(HL7);
    b.globalMap.set("a", 1);
    b.globalMap.set("b", 2);
    expect(ok(s.run("t", b)).returnValue).toEqual(["a,b", true, false, 2, false, 2]);
  });

  it("refuses functions as map values", async () => {
    const s = await sandbox();
    s.compile({ id: "t", kind: "transformer", code: "globalMap.put('f', function () {});" });
    expect(failed(s.run("t", bindings(HL7))).message).toMatch(/JSON-safe/);
    s.compile({
      id: "cycle",
      kind: "transformer",
      code: "var a = {}; a.self = a;\nchannelMap.put('a', a);",
    });
    expect(failed(s.run("cycle", bindings(HL7)))).toMatchObject({
      line: 2,
      message: expect.stringMatching(/no cycles/),
    });
  });

  it("keeps sourceMap read-only", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: "var v = sourceMap.get('remote');\nsourceMap.put('x', 1);",
    });
    const b = bindings(HL7);
    b.sourceMap.set("remote", "10.0.0.1");
    const error = failed(s.run("t", b));
    expect(error.message).toBe("TypeError: sourceMap is read-only");
    expect(error.line).toBe(2);
    expect(b.sourceMap.has("x")).toBe(false);
  });

  it("looks $() up in Mirth's order and falls back to ''", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "filter",
      code: "return ['k1','k2','k3','k4','k5','k6','k7','none'].map(function (k) { return $(k); });",
    });
    const b = bindings(HL7);
    const order = [
      "responseMap",
      "connectorMap",
      "channelMap",
      "sourceMap",
      "globalChannelMap",
      "globalMap",
      "configurationMap",
    ] as const;
    // key k<i> is present in map i and every later map; $() must pick map i.
    order.forEach((name, i) => {
      for (let k = 1; k <= i + 1; k++) b[name].set(`k${k}`, `${name}`);
    });
    expect(ok(s.run("t", b)).returnValue).toEqual([...order, ""]);
  });

  it("has $c/$g/$co/$r/$gc/$cfg shortcuts", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: "$c('a', 1); $g('b', 2); $gc('c', 3); $co('d', 4); $r('e', 5); return $cfg('url') + $s('src');",
    });
    const b = bindings(HL7);
    b.configurationMap.set("url", "http://x/");
    b.sourceMap.set("src", "s");
    expect(ok(s.run("t", b)).returnValue).toBe("http://x/s");
    expect([
      b.channelMap.get("a"),
      b.globalMap.get("b"),
      b.globalChannelMap.get("c"),
      b.connectorMap.get("d"),
      b.responseMap.get("e"),
    ]).toEqual([1, 2, 3, 4, 5]);
  });

  it("logs through the bound logger", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: "logger.info('hello ' + 1); logger.warn({a:1}); logger.error('e'); logger.debug('d');",
    });
    const b = bindings(HL7);
    ok(s.run("t", b));
    expect(b.logged).toEqual([
      { level: "info", text: "hello 1" },
      { level: "warn", text: "[object Object]" },
      { level: "error", text: "e" },
      { level: "debug", text: "d" },
    ]);
  });

  it("records router.routeMessage for the engine", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: "router.routeMessage('Lab Out', msg); router.routeMessage('ch-2', 'text');",
    });
    expect(ok(s.run("t", bindings(HL7))).routed).toEqual([
      { channel: "Lab Out", content: HL7 },
      { channel: "ch-2", content: "text" },
    ]);
  });

  it("gives response transformers the response", async () => {
    const s = await sandbox();
    s.compile({
      id: "r",
      kind: "responseTransformer",
      code: "return response.status + ':' + response.getMessage();",
    });
    const b = bindings("AA", "RAW", { response: { status: "SENT", content: "ACK" } });
    expect(ok(s.run("r", b)).returnValue).toBe("SENT:ACK");
  });

  it("returns responseStatus and responseStatusMessage from response transformers only", async () => {
    const s = await sandbox();
    s.compile({
      id: "r",
      kind: "responseTransformer",
      code: 'if (response.getMessage() == "NAK") { responseStatus = ERROR; responseStatusMessage = "rejected"; }',
    });
    s.compile({ id: "t", kind: "transformer", code: 'var responseStatus = "ERROR";' });
    const run = (content: string) =>
      ok(s.run("r", bindings("AA", "RAW", { response: { status: "SENT", content } }))).response;
    expect(run("NAK")).toEqual({ status: "ERROR", statusMessage: "rejected" });
    expect(run("ACK")).toEqual({ status: "SENT" });
    expect(ok(s.run("t", bindings(HL7))).response).toBeUndefined();
  });
});

describe("state between messages", () => {
  it("drops globals a script creates, so one message's data never reaches the next", async () => {
    const s = await sandbox({ codeTemplates: ["var seen = { count: 0 };"] });
    s.compile({
      id: "t",
      kind: "filter",
      code: "var before = typeof leaked;\nleaked = msg.get('PID.5.1'); globalThis.other = 1; seen.count++;\nreturn before + ':' + seen.count;",
    });
    expect(ok(s.run("t", bindings(HL7))).returnValue).toBe("undefined:1");
    // Template state is the channel's own and persists; the script's globals do not.
    expect(ok(s.run("t", bindings(HL7))).returnValue).toBe("undefined:2");
  });

  it("drops them even when the script fails", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "filter",
      code: "var had = typeof leaked; leaked = 1;\nif (had === 'undefined') throw new Error('first');\nreturn had;",
    });
    expect(failed(s.run("t", bindings(HL7))).message).toBe("first");
    expect(failed(s.run("t", bindings(HL7))).message).toBe("first");
  });

  it("refuses a run started from inside another run", async () => {
    const s = await sandbox();
    s.compile({ id: "inner", kind: "filter", code: "return 1;" });
    s.compile({ id: "outer", kind: "transformer", code: "logger.info('x');\nreturn 2;" });
    const b = bindings(HL7);
    b.logger = () => {
      s.run("inner", bindings(HL7));
    };
    expect(failed(s.run("outer", b))).toMatchObject({
      line: 1,
      message: expect.stringMatching(/another one is in progress/),
    });
    expect(ok(s.run("inner", bindings(HL7))).returnValue).toBe(1);
  });

  it("rejects an unknown data type as a caller error", async () => {
    const s = await sandbox();
    s.compile({ id: "t", kind: "filter", code: "return 1;" });
    const b = bindings(HL7, "CSV" as ScriptDataType);
    expect(() => s.run("t", b)).toThrow(/Unknown script data type 'CSV'/);
    expect(ok(s.run("t", bindings(HL7))).returnValue).toBe(1);
  });
});

describe("Mirth helpers", () => {
  it("formats, parses and converts dates like DateUtil", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "filter",
      code: [
        "var d = DateUtil.getDate('yyyyMMddHHmmss', '20240131235958');",
        "return {",
        "  iso: DateUtil.formatDate(\"yyyy-MM-dd'T'HH:mm:ss.SSS\", d),",
        "  converted: DateUtil.convertDate('yyyyMMdd', 'dd/MM/yy', msg.get('PID.7')),",
        "  names: DateUtil.formatDate('EEE d MMM yyyy h a', d),",
        "  zoned: DateUtil.getDate('yyyyMMddHHmmZ', '202401011200+0100').getTime(),",
        "  now: /^\\d{14}$/.test(DateUtil.getCurrentDate('yyyyMMddHHmmss')),",
        "};",
      ].join("\n"),
    });
    expect(ok(s.run("t", bindings(HL7))).returnValue).toEqual({
      iso: "2024-01-31T23:59:58.000",
      converted: "01/01/80",
      names: "Wed 31 Jan 2024 11 PM",
      zoned: Date.UTC(2024, 0, 1, 11, 0),
      now: true,
    });
  });

  it("reports an unparseable date with the script's line", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "filter",
      code: "\nreturn DateUtil.getDate('yyyyMMdd', 'garbage');",
    });
    expect(failed(s.run("t", bindings(HL7)))).toMatchObject({
      line: 2,
      message: expect.stringMatching(/Unparseable date/),
    });
  });

  it("makes random UUIDs", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "filter",
      code: "return [UUIDGenerator.getUUID(), UUIDGenerator.getUUID()];",
    });
    const [a, b] = ok(s.run("t", bindings(HL7))).returnValue as string[];
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });
});

describe("code templates and kinds", () => {
  it("makes code template functions callable from every script", async () => {
    const s = await sandbox({
      codeTemplates: [
        "function upper(s) { return String(s).toUpperCase(); }",
        "const SUFFIX = '!';",
      ],
    });
    s.compile({ id: "a", kind: "filter", code: "return upper(msg.get('PID.5.1')) + SUFFIX;" });
    s.compile({ id: "b", kind: "transformer", code: "msg.set('PID.5.2', upper('jane'));" });
    expect(ok(s.run("a", bindings(HL7))).returnValue).toBe("DOE!");
    expect(ok(s.run("b", bindings(HL7))).message.content).toContain("DOE^JANE^Q");
  });

  it("rejects a code template that does not compile", async () => {
    await expect(
      createScriptSandbox({ codeTemplates: ["function ok() {}", "function (\n{"] }),
    ).rejects.toMatchObject({
      code: "ERR_SCRIPT_COMPILE",
      details: { template: 2, line: 1 },
    });
  });

  it("runs Mirth-style preprocessors on `message`, the raw text", async () => {
    const s = await sandbox();
    s.compile({
      id: "pre",
      kind: "preprocessor",
      code: "// Modify the message variable below to pre process data\nreturn message.replace('EHR', 'EMR');",
    });
    expect(ok(s.run("pre", bindings(HL7))).message.content).toBe(HL7.replace("EHR", "EMR"));
    s.compile({ id: "json", kind: "preprocessor", code: "return message.trim();" });
    expect(ok(s.run("json", bindings(' {"a":1} ', "JSON"))).message.content).toBe('{"a":1}');
    // Without a string returned, the message is what the script left in msg.
    s.compile({ id: "msg", kind: "preprocessor", code: "msg.set('PID.5.1', 'X');" });
    expect(ok(s.run("msg", bindings(HL7))).message.content).toContain(
      "PID|1||12345^^^HOSP^MR||X^JOHN^Q",
    );
  });

  it("evaluates expressions", async () => {
    const s = await sandbox();
    s.compile({ id: "e", kind: "expression", code: "msg.get('PID.3.1') + '-' + 1" });
    expect(ok(s.run("e", bindings(HL7))).returnValue).toBe("12345-1");
    s.compile({ id: "semi", kind: "expression", code: "msg.get('PID.5.1'); // family name\n" });
    expect(ok(s.run("semi", bindings(HL7))).returnValue).toBe("DOE");
  });

  it("replaces a script compiled again under the same id", async () => {
    const s = await sandbox();
    s.compile({ id: "f", kind: "filter", code: "return 1;" });
    s.compile({ id: "f", kind: "filter", code: "return 2;" });
    expect(ok(s.run("f", bindings(HL7))).returnValue).toBe(2);
  });

  it("throws for an unknown id and after dispose", async () => {
    const s = await createScriptSandbox();
    expect(() => s.run("nope", bindings(HL7))).toThrow(
      expect.objectContaining({ code: "ERR_SCRIPT_NOT_COMPILED" }),
    );
    s.dispose();
    expect(() => s.compile({ id: "x", kind: "filter", code: "" })).toThrow(
      expect.objectContaining({ code: "ERR_SCRIPT_SANDBOX_DISPOSED" }),
    );
  });
});

describe("errors carry message and line", () => {
  it("reports syntax errors at compile time with the body's line", async () => {
    const s = await sandbox();
    let caught: unknown;
    try {
      s.compile({ id: "bad", kind: "transformer", code: "var a = 1;\nvar b = 2;\nvar c = ;\n" });
    } catch (error) {
      caught = error;
    }
    expect(isNodeMirthError(caught)).toBe(true);
    expect(caught).toMatchObject({
      code: "ERR_SCRIPT_COMPILE",
      details: { scriptId: "bad", line: 3 },
    });
    expect((caught as Error).message).toMatch(/line 3/);
  });

  it("reports runtime errors with the script's message and line", async () => {
    const s = await sandbox();
    s.compile({
      id: "t",
      kind: "transformer",
      code: "var a = 1;\n\nthrow new Error('no PID in ' + a);",
    });
    expect(failed(s.run("t", bindings(HL7)))).toEqual({
      message: "no PID in 1",
      line: 3,
      kind: "error",
    });
    s.compile({ id: "u", kind: "transformer", code: "var x = null;\nx.y = 1;" });
    expect(failed(s.run("u", bindings(HL7)))).toMatchObject({
      line: 2,
      message: expect.stringMatching(/^TypeError: /),
    });
  });

  it("points at the script's calling line when a code template throws", async () => {
    const s = await sandbox({
      codeTemplates: ["function check(v) {\n  if (!v) throw new Error('empty');\n}"],
    });
    s.compile({ id: "t", kind: "transformer", code: "// first\ncheck(msg.get('PV1.2'));" });
    expect(failed(s.run("t", bindings(HL7)))).toEqual({ message: "empty", line: 2, kind: "error" });
  });

  it("counts lines the same in scripts saved with CRLF", async () => {
    const s = await sandbox();
    s.compile({ id: "t", kind: "transformer", code: "var a = 1;\r\nvar b = 2;\r\nnull.x;\r\n" });
    expect(failed(s.run("t", bindings(HL7))).line).toBe(3);
  });

  it("reports thrown strings", async () => {
    const s = await sandbox();
    s.compile({ id: "t", kind: "transformer", code: "throw 'plain';" });
    expect(failed(s.run("t", bindings(HL7))).message).toBe("plain");
  });
});

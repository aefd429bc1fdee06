import { describe, expect, it, vi } from "vitest";
import { emptyBindings, useSandboxes } from "./__tests__/script-test-fixtures.js";
import { createScriptSandbox } from "./script-sandbox.js";
import type {
  ScriptBindings,
  ScriptRunResult,
  ScriptSandbox,
  ScriptSandboxOptions,
} from "./script-types.js";

const HL7 =
  "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240101120000||ADT^A01|MSG00001|P|2.5\rPID|1||12345||DOE^JOHN";

const sandbox = useSandboxes();

function bindings(): ScriptBindings {
  return emptyBindings(HL7);
}

function value(result: ScriptRunResult): unknown {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.error)}`);
  return result.returnValue;
}
function failed(result: ScriptRunResult) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.returnValue)}`);
  return result.error;
}

/** The sandbox still runs scripts, templates included, after whatever happened before. */
function expectHealthy(s: ScriptSandbox): void {
  expect(value(s.run("healthy", bindings()))).toBe("DOE:ok");
}

const TEMPLATES = ["function suffix() { return ':ok'; }"];
async function withHealthCheck(options: ScriptSandboxOptions = {}): Promise<ScriptSandbox> {
  const s = await sandbox({ codeTemplates: TEMPLATES, ...options });
  s.compile({ id: "healthy", kind: "filter", code: "return msg.get('PID.5.1') + suffix();" });
  return s;
}

describe("no way out to the host", () => {
  it.each([
    ["process", "return typeof process;"],
    ["require", "return typeof require;"],
    ["fetch", "return typeof fetch;"],
    ["setTimeout", "return typeof setTimeout;"],
    ["module", "return typeof module + typeof exports + typeof __dirname;"],
    ["std/os (quickjs-libc)", "return typeof std + typeof os;"],
    ["Buffer", "return typeof Buffer;"],
    ["WebAssembly", "return typeof WebAssembly;"],
  ])("has no %s", async (_name, code) => {
    const s = await sandbox();
    s.compile({ id: "x", kind: "filter", code });
    expect(value(s.run("x", bindings()))).toMatch(/^(undefined)+$/);
  });

  it("reaches only the guest's own Function through constructor chains", async () => {
    const s = await sandbox();
    s.compile({
      id: "x",
      kind: "filter",
      code: [
        "var probes = [",
        "  function () { return this.constructor.constructor('return typeof process')(); },",
        "  function () { return channelMap.get.constructor('return typeof process')(); },",
        "  function () { return logger.info.constructor.constructor('return typeof require')(); },",
        "  function () { return msg.get.constructor('return typeof globalThis.process')(); },",
        "  function () { return Object.getPrototypeOf(router).constructor.constructor('return typeof fetch')(); },",
        "  function () { return (0, eval)('typeof process'); },",
        "  function () { return new Function('return typeof require')(); },",
        "  function () { return typeof (function () { return this; })().process; },",
        "];",
        "return probes.map(function (p) { try { return p.call(this); } catch (e) { return 'threw ' + e; } });",
      ].join("\n"),
    });
    const results = value(s.run("x", bindings())) as string[];
    expect(results).toEqual(Array(8).fill("undefined"));
  });

  it("cannot load modules: import('fs') fails", async () => {
    const s = await sandbox();
    s.compile({
      id: "x",
      kind: "transformer",
      code: "import('fs').then(function () { channelMap.put('fs', 'loaded'); }, function (e) { channelMap.put('fs', String(e)); });",
    });
    const b = bindings();
    value(s.run("x", b));
    expect(b.channelMap.get("fs")).toMatch(/could not load module 'fs'/);
  });

  it("rejects a static import as a syntax error", async () => {
    const s = await sandbox();
    expect(() => s.compile({ id: "x", kind: "transformer", code: "import fs from 'fs';" })).toThrow(
      expect.objectContaining({ code: "ERR_SCRIPT_COMPILE" }),
    );
  });

  it("cannot replace the script API for later messages", async () => {
    const s = await sandbox();
    s.compile({
      id: "x",
      kind: "transformer",
      code: "channelMap = null; try { globalThis.logger = null; } catch (e) {} try { channelMap.put = null; } catch (e) {}",
    });
    s.compile({
      id: "y",
      kind: "filter",
      code: "channelMap.put('a', 1); return typeof logger.info;",
    });
    value(s.run("x", bindings()));
    const b = bindings();
    expect(value(s.run("y", b))).toBe("function");
    expect(b.channelMap.get("a")).toBe(1);
  });

  it("does not see the wrapper's helpers", async () => {
    const s = await sandbox();
    s.compile({ id: "x", kind: "filter", code: "return typeof __nm;" });
    expect(value(s.run("x", bindings()))).toBe("undefined");
  });

  it("keeps channels apart: each sandbox has its own instance, templates and state", async () => {
    const a = await sandbox({
      codeTemplates: ["var shared = { n: 0 }; function who() { return 'A'; }"],
    });
    const b = await sandbox({ codeTemplates: ["function who() { return 'B'; }"] });
    a.compile({
      id: "x",
      kind: "filter",
      code: "shared.n++; Object.prototype.polluted = true; return who() + shared.n;",
    });
    b.compile({ id: "x", kind: "filter", code: "return who() + typeof shared + ({}).polluted;" });
    expect(value(a.run("x", bindings()))).toBe("A1");
    expect(value(b.run("x", bindings()))).toBe("Bundefinedundefined");
    // A timeout in one channel does not disturb the other.
    const slow = await sandbox({ timeLimitMs: 50 });
    slow.compile({ id: "loop", kind: "filter", code: "for (;;) {}" });
    expect(failed(slow.run("loop", bindings())).kind).toBe("timeout");
    expect(value(a.run("x", bindings()))).toBe("A2");
  });

  it("runs promise jobs before the run ends, never later", async () => {
    const s = await sandbox();
    s.compile({
      id: "x",
      kind: "transformer",
      code: "Promise.resolve().then(function () { channelMap.put('later', true); });",
    });
    const b = bindings();
    value(s.run("x", b));
    expect(b.channelMap.get("later")).toBe(true);
  });
});

describe("limits", () => {
  it("stops while(true){} at the time limit and keeps working", async () => {
    const s = await withHealthCheck({ timeLimitMs: 100 });
    s.compile({ id: "loop", kind: "filter", code: "var i = 0;\nwhile (true) { i++; }" });
    const started = performance.now();
    const error = failed(s.run("loop", bindings()));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(error.kind).toBe("timeout");
    expect(error.message).toMatch(/time limit of 100 ms/);
    expectHealthy(s);
    // The deadline is per run: the next loop gets its full budget again.
    expect(failed(s.run("loop", bindings())).kind).toBe("timeout");
    expectHealthy(s);
  });

  it("stops a loop hidden in a promise job", async () => {
    const s = await withHealthCheck({ timeLimitMs: 100 });
    s.compile({
      id: "loop",
      kind: "transformer",
      code: "Promise.resolve().then(function () { for (;;) {} });",
    });
    expect(failed(s.run("loop", bindings())).kind).toBe("timeout");
    expectHealthy(s);
  });

  it("stops an endless chain of promise jobs", async () => {
    const s = await withHealthCheck({ timeLimitMs: 100 });
    s.compile({
      id: "chain",
      kind: "transformer",
      code: "(function next() { Promise.resolve().then(next); })();",
    });
    expect(failed(s.run("chain", bindings())).kind).toBe("timeout");
    expectHealthy(s);
  });

  it("stops a memory bomb at the memory limit and keeps working", async () => {
    const s = await withHealthCheck({ memoryLimitBytes: 16 * 1024 * 1024 });
    s.compile({
      id: "bomb",
      kind: "transformer",
      code: "globalThis.hoard = [];\nfor (;;) hoard.push('x'.repeat(1024) + hoard.length);",
    });
    const error = failed(s.run("bomb", bindings()));
    expect(error.kind).toBe("memory");
    expect(error.message).toMatch(/memory limit of 16777216 bytes/);
    expectHealthy(s);
    // The hoard did not survive: the context was rebuilt.
    s.compile({ id: "peek", kind: "filter", code: "return typeof hoard;" });
    expect(value(s.run("peek", bindings()))).toBe("undefined");
  });

  it("refuses a message too large for the memory limit without touching the instance", async () => {
    const s = await withHealthCheck({ memoryLimitBytes: 16 * 1024 * 1024 });
    s.compile({ id: "len", kind: "filter", code: "return msg.length;" });
    const run = (content: string) =>
      s.run("len", { ...bindings(), message: { content, dataType: "RAW" } });
    expect(failed(run("x".repeat(40 * 1024 * 1024)))).toEqual({
      message: "msg is larger than the script memory limit of 16777216 bytes allows",
      kind: "memory",
    });
    expectHealthy(s);
    expect(value(run("x".repeat(4 * 1024 * 1024)))).toBe(4 * 1024 * 1024);
  });

  it("stops a string-doubling bomb", async () => {
    const s = await withHealthCheck({ memoryLimitBytes: 16 * 1024 * 1024 });
    s.compile({ id: "bomb", kind: "transformer", code: "var s = 'x';\nwhile (true) s = s + s;" });
    expect(failed(s.run("bomb", bindings())).kind).toBe("memory");
    expectHealthy(s);
  });

  it("stops deep recursion and keeps working", async () => {
    const s = await withHealthCheck();
    s.compile({
      id: "deep",
      kind: "transformer",
      code: "function f(n) { return f(n + 1) + 1; }\nf(0);",
    });
    // QuickJS stops plain recursion itself: no instance is lost, so no waiting in between.
    for (let i = 0; i < 3; i++) {
      const error = failed(s.run("deep", bindings()));
      expect(error.kind).toBe("memory");
      expect(error.message).toMatch(/stack overflow/);
      expect(error.line).toBe(1);
      expectHealthy(s);
    }
  });

  it.each([
    [
      "JSON.stringify of a deep object",
      "var o = {}, c = o; for (var i = 0; i < 200000; i++) { c.a = {}; c = c.a; }\nJSON.stringify(o);",
    ],
    ["JSON.parse of deep arrays", "JSON.parse('['.repeat(200000));"],
    ["a deep array toString", "var a = []; for (var i = 0; i < 200000; i++) a = [a];\nString(a);"],
    ["a getter recursing", "var o = { get x() { return this.x; } };\no.x;"],
    [
      "a proxy recursing",
      "var p = new Proxy({}, { get: function (t, k) { return p[k]; } });\np.x;",
    ],
  ])("survives exhausting the stack through %s", async (_name, code) => {
    const s = await withHealthCheck();
    s.compile({ id: "deep", kind: "transformer", code });
    const error = failed(s.run("deep", bindings()));
    expect(error.kind).toBe("memory");
    expect(error.message).toMatch(/stack/);
    expectHealthy(s);
  });

  it("survives recursion that re-enters the host API near the stack's end", async () => {
    const s = await withHealthCheck();
    s.compile({
      id: "deep",
      kind: "transformer",
      code: "function f(n) { channelMap.put('n', { n: n }); $('n'); msg.get('PID.5.1'); return f(n + 1) + 1; }\nf(0);",
    });
    for (let i = 0; i < 3; i++) {
      const result = s.run("deep", bindings());
      expect(result.ok).toBe(false);
      // A lost instance is replaced by the spare at once; the next spare loads in the background.
      await vi.waitFor(() => expectHealthy(s));
    }
  });

  it("refuses source nested deeply enough to exhaust the parser's stack", async () => {
    const s = await withHealthCheck();
    const deep = "return " + "(".repeat(100_000) + "1" + ")".repeat(100_000) + ";";
    expect(() => s.compile({ id: "deep", kind: "filter", code: deep })).toThrow(
      expect.objectContaining({ code: "ERR_SCRIPT_COMPILE" }),
    );
    await vi.waitFor(() => expectHealthy(s));
  });

  it("rejects a code template nested too deeply", async () => {
    const deep = "var x = " + "[".repeat(100_000) + "]".repeat(100_000) + ";";
    await expect(createScriptSandbox({ codeTemplates: [deep] })).rejects.toMatchObject({
      code: "ERR_SCRIPT_COMPILE",
    });
  });

  it("refuses JSON nested deep enough to exhaust the stack, before parsing it", async () => {
    const s = await withHealthCheck();
    s.compile({ id: "json", kind: "filter", code: "return Array.isArray(msg);" });
    const run = (content: string) =>
      s.run("json", { ...bindings(), message: { content, dataType: "JSON" } });
    for (let i = 0; i < 3; i++) {
      expect(failed(run("[".repeat(50_000) + "]".repeat(50_000)))).toEqual({
        message: "SyntaxError: msg is not valid JSON: nested more than 1000 levels deep",
        kind: "error",
      });
      expectHealthy(s);
    }
    // Brackets inside strings do not count, and ordinary nesting is fine.
    expect(value(run(JSON.stringify(["[".repeat(5000), [[[{ a: "{{{" }]]]])))).toBe(true);
    expect(value(run("[".repeat(900) + "]".repeat(900)))).toBe(true);
  });

  it("survives many failures in a row", async () => {
    const s = await withHealthCheck({ timeLimitMs: 200, memoryLimitBytes: 8 * 1024 * 1024 });
    s.compile({ id: "loop", kind: "filter", code: "for (;;) {}" });
    s.compile({
      id: "bomb",
      kind: "filter",
      code: "var a = []; for (;;) a.push('x'.repeat(1000000) + a.length);",
    });
    s.compile({ id: "deep", kind: "filter", code: "JSON.parse('['.repeat(200000));" });
    for (let i = 0; i < 5; i++) {
      expect(failed(s.run("loop", bindings())).kind).toBe("timeout");
      expect(failed(s.run("bomb", bindings())).kind).toBe("memory");
      expect(failed(s.run("deep", bindings())).kind).toBe("memory");
      await vi.waitFor(() => expectHealthy(s));
    }
  });
});

import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten";
import { randomUUID } from "node:crypto";
import { NodeMirthError } from "./errors.js";
import { ScriptHl7Document } from "./script-hl7.js";
import type { ScriptModule } from "./script-module.js";
import {
  BODY_FIRST_LINE,
  DATA_TYPE_CODES,
  HL7_OP,
  LOG_LEVELS,
  MAP_NAMES,
  MAP_OP,
  NO_TMP,
  SCRIPT_PRELUDE,
  wrapScriptBody,
} from "./script-prelude.js";
import type { ScriptBindings, ScriptRunFailure, ScriptRunResult } from "./script-types.js";

export interface ScriptContextLimits {
  timeLimitMs: number;
  memoryLimitBytes: number;
  stackLimitBytes: number;
}

interface CompiledScript {
  fn: QuickJSHandle;
  file: string;
  bodyLines: number;
}

/** Longest error text handed back; a stack overflow's stack alone runs to kilobytes. */
const MESSAGE_LIMIT = 2000;

/** Everything one run writes on the host side, reachable from the host functions. */
class RunState {
  readonly bindings: ScriptBindings;
  readonly routed: { channel: string; content: string }[] = [];
  readonly docs: [ScriptHl7Document | undefined, ScriptHl7Document | undefined] = [
    undefined,
    undefined,
  ];
  returnValue: unknown = undefined;
  messageOut: string | number | undefined = undefined;
  tmpOut: string | number | undefined = undefined;
  responseStatus: string | undefined = undefined;
  responseStatusMessage: string | undefined = undefined;

  constructor(bindings: ScriptBindings) {
    this.bindings = bindings;
  }

  doc(which: number): ScriptHl7Document {
    const index = which === 1 ? 1 : 0;
    const existing = this.docs[index];
    if (existing !== undefined) return existing;
    const source = index === 0 ? this.bindings.message : this.bindings.tmp;
    const name = index === 0 ? "msg" : "tmp";
    if (source?.dataType !== "HL7V2") throw new TypeError(`${name} is not an HL7 v2 message`);
    const doc = new ScriptHl7Document(source.content);
    this.docs[index] = doc;
    return doc;
  }

  /** The content the script left in `msg` (0) or `tmp` (1). */
  content(out: string | number | undefined, fallback: string): string {
    if (typeof out === "string") return out;
    if (out === undefined) return fallback;
    const doc = this.docs[out === 1 ? 1 : 0];
    if (doc !== undefined) return doc.toString();
    return (out === 1 ? this.bindings.tmp?.content : this.bindings.message.content) ?? fallback;
  }
}

/**
 * One QuickJS runtime and context with the script API installed, the channel's code
 * templates loaded and its scripts compiled. Host functions are created once here; a run
 * only points the "current run" slot at its bindings.
 */
export class ScriptContext {
  readonly #limits: ScriptContextLimits;
  readonly #module: ScriptModule;
  readonly #runtime: QuickJSRuntime;
  readonly #vm: QuickJSContext;
  readonly #handles: QuickJSHandle[] = [];
  readonly #scripts = new Map<string, CompiledScript>();
  readonly #helpers: QuickJSHandle;
  /** The prelude's reused `{ m, t }` object holding what msg and tmp became. */
  readonly #outputs: QuickJSHandle;
  readonly #jsonParse: QuickJSHandle;
  /** Data-type codes -1..3 as reusable number handles (index = code + 1). */
  readonly #typeHandles: QuickJSHandle[];
  #deadline = Number.POSITIVE_INFINITY;
  #interrupted = false;
  #run: RunState | undefined;
  #fileSeq = 0;
  /** Set when a host call failed in a way that may have left the WebAssembly heap inconsistent. */
  #faulted: Error | undefined = undefined;
  #entered = false;

  constructor(module: ScriptModule, limits: ScriptContextLimits) {
    this.#limits = limits;
    this.#module = module;
    this.#runtime = module.quickjs.newRuntime();
    this.#runtime.setMemoryLimit(limits.memoryLimitBytes);
    this.#runtime.setMaxStackSize(limits.stackLimitBytes);
    this.#runtime.setInterruptHandler(() => this.#shouldInterrupt());
    this.#vm = this.#runtime.newContext();
    try {
      this.#jsonParse = this.#keep(this.#evalOrThrow("JSON.parse", "nm-json"));
      this.#typeHandles = [NO_TMP, 0, 1, 2, 3].map((code) => this.#keep(this.#vm.newNumber(code)));
      this.#helpers = this.#keep(this.#installPrelude());
      this.#outputs = this.#keep(this.#vm.getProp(this.#helpers, "outputs"));
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** Evaluates a code template as global code, so its functions are visible to every script. */
  loadTemplate(index: number, code: string): void {
    const file = `nm-template-${index + 1}`;
    this.#startDeadline();
    try {
      let result: ReturnType<QuickJSContext["evalCode"]>;
      try {
        result = this.#guard(() => this.#vm.evalCode(code, file));
      } catch (error) {
        throw new NodeMirthError(
          "ERR_SCRIPT_COMPILE",
          `Code template ${index + 1} does not load: it is nested too deeply`,
          { cause: error, details: { template: index + 1 } },
        );
      }
      if (result.error !== undefined) {
        const failure = this.#failure(result.error, {
          file,
          lineOffset: 0,
          bodyLines: Number.MAX_SAFE_INTEGER,
        });
        throw new NodeMirthError(
          "ERR_SCRIPT_COMPILE",
          `Code template ${index + 1} does not load: ${failure.message}${lineSuffix(failure.line)}`,
          { details: { template: index + 1, line: failure.line, kind: failure.kind } },
        );
      }
      result.value.dispose();
    } finally {
      this.#stopDeadline();
    }
  }

  /** Marks the globals that exist now (API, templates) as the ones every run starts with. */
  seal(): void {
    const vm = this.#vm;
    const seal = vm.getProp(this.#helpers, "seal");
    const result = vm.callFunction(seal, vm.undefined);
    seal.dispose();
    if (result.error !== undefined) {
      const failure = this.#dumpError(result.error);
      throw new NodeMirthError(
        "ERR_SCRIPT_SANDBOX_FAILED",
        `The script sandbox could not start: ${failure.message}`,
      );
    }
    result.value.dispose();
  }

  /** Wraps the body in a function once; a later run only calls it. Replaces a script of the same id. */
  compile(id: string, body: string, preamble = ""): void {
    const file = `nm-script-${++this.#fileSeq}`;
    const where = { file, lineOffset: BODY_FIRST_LINE - 1, bodyLines: countLines(body) };
    this.#startDeadline();
    try {
      const factory = this.#guard(() => this.#vm.evalCode(wrapScriptBody(body, preamble), file));
      if (factory.error !== undefined) throw compileError(id, this.#failure(factory.error, where));
      const made = this.#guard(() =>
        this.#vm.callFunction(factory.value, this.#vm.undefined, this.#helpers),
      );
      factory.value.dispose();
      if (made.error !== undefined) throw compileError(id, this.#failure(made.error, where));
      if (this.#vm.typeof(made.value) !== "function") {
        made.value.dispose();
        throw compileError(id, {
          message: "the script body closes the wrapper function",
          kind: "error",
        });
      }
      this.#scripts.get(id)?.fn.dispose();
      this.#scripts.set(id, { fn: made.value, file, bodyLines: where.bodyLines });
    } finally {
      this.#stopDeadline();
    }
  }

  /**
   * Runs a compiled script. Guest failures come back as results; an exception from here
   * means the WebAssembly side itself failed (host stack exhausted, abort) and the
   * module must not be used again.
   */
  run(id: string, bindings: ScriptBindings): ScriptRunResult {
    const script = this.#scripts.get(id);
    if (script === undefined) {
      throw new NodeMirthError(
        "ERR_SCRIPT_NOT_COMPILED",
        `No script '${id}' was compiled in this sandbox`,
        {
          details: { scriptId: id },
        },
      );
    }
    if (this.#run !== undefined) {
      // The host functions serve one run at a time (a logger must not run scripts).
      throw new Error("A script sandbox cannot start a run while another one is in progress");
    }
    this.#entered = false;
    const refused = this.#refuseInput(bindings);
    if (refused !== undefined) return { ok: false, error: refused };
    this.#entered = true;
    const vm = this.#vm;
    const state = new RunState(bindings);
    const owned: QuickJSHandle[] = [];
    const str = (text: string): QuickJSHandle => {
      const handle = vm.newString(text);
      owned.push(handle);
      return handle;
    };
    const messageType = dataTypeCode(bindings.message.dataType);
    const tmpType = bindings.tmp === undefined ? NO_TMP : dataTypeCode(bindings.tmp.dataType);
    this.#run = state;
    this.#startDeadline();
    try {
      // Copying the inputs in allocates in linear memory, so it may fail like the script.
      const args = this.#guard(() => [
        this.#typeHandle(messageType),
        messageType === DATA_TYPE_CODES.HL7V2 ? vm.undefined : str(bindings.message.content),
        this.#typeHandle(tmpType),
        bindings.tmp === undefined || tmpType === DATA_TYPE_CODES.HL7V2
          ? vm.undefined
          : str(bindings.tmp.content),
        bindings.response === undefined ? vm.undefined : str(bindings.response.status),
        bindings.response === undefined ? vm.undefined : str(bindings.response.content),
      ]);
      const result = this.#guard(() => vm.callFunction(script.fn, vm.undefined, ...args));
      if (result.error !== undefined)
        return { ok: false, error: this.#failure(result.error, runSite(script)) };
      this.#readOutputs(state, result.value);
      const jobsFailure = this.#guard(() => this.#drainJobs(script));
      if (jobsFailure !== undefined) return { ok: false, error: jobsFailure };
      return this.#success(state);
    } finally {
      this.#stopDeadline();
      this.#run = undefined;
      // After a fault the module is abandoned as it is: freeing into it could abort.
      if (this.#faulted === undefined) for (const handle of owned) handle.dispose();
    }
  }

  /**
   * Inputs refused before they reach the guest: text too large for the memory limit, and
   * JSON nested deep enough that QuickJS's recursive parser would exhaust the host stack.
   */
  #refuseInput(bindings: ScriptBindings): ScriptRunFailure | undefined {
    const inputs: [string, string | undefined][] = [
      ["msg", bindings.message.content],
      ["tmp", bindings.tmp?.content],
      ["response", bindings.response?.content],
    ];
    // Half the limit: the script needs room of its own besides a copy of the text.
    const budget = this.#limits.memoryLimitBytes / 2;
    for (const [name, text] of inputs) {
      if (text !== undefined && text.length * 3 > budget && Buffer.byteLength(text) > budget) {
        return {
          message: `${name} is larger than the script memory limit of ${this.#limits.memoryLimitBytes} bytes allows`,
          kind: "memory",
        };
      }
    }
    const tooDeep = jsonTooDeep(bindings);
    if (tooDeep === undefined) return undefined;
    return {
      message: `SyntaxError: ${tooDeep} is not valid JSON: nested more than ${JSON_DEPTH_LIMIT} levels deep`,
      kind: "error",
    };
  }

  /** False when the last run was refused before any guest code ran (nothing to clean up). */
  get entered(): boolean {
    return this.#entered;
  }

  /** True once the WebAssembly side failed; the owner must drop this context's module. */
  get faulted(): boolean {
    return this.#faulted !== undefined;
  }

  /** Runs a call into the guest, rethrowing any fault seen there or in a nested host call. */
  #guard<T>(call: () => T): T {
    let value: T;
    try {
      value = call();
    } catch (error) {
      this.#faulted ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    }
    if (this.#faulted !== undefined) throw this.#faulted;
    return value;
  }

  dispose(): void {
    for (const script of this.#scripts.values()) script.fn.dispose();
    this.#scripts.clear();
    for (const handle of this.#handles.splice(0)) handle.dispose();
    this.#vm.dispose();
    this.#runtime.dispose();
  }

  #success(state: RunState): ScriptRunResult {
    const { bindings } = state;
    const result: ScriptRunResult = {
      ok: true,
      returnValue: state.returnValue,
      message: { content: state.content(state.messageOut, bindings.message.content) },
      routed: state.routed,
    };
    if (bindings.tmp !== undefined)
      result.tmp = { content: state.content(state.tmpOut, bindings.tmp.content) };
    if (bindings.response !== undefined && state.responseStatus !== undefined) {
      result.response = { status: state.responseStatus };
      if (state.responseStatusMessage !== undefined)
        result.response.statusMessage = state.responseStatusMessage;
    }
    return result;
  }

  /** Promise jobs never outlive their run: they run now, under the same deadline. */
  #drainJobs(script: CompiledScript): ScriptRunFailure | undefined {
    while (this.#runtime.hasPendingJob()) {
      const jobs = this.#runtime.executePendingJobs();
      if (jobs.error !== undefined) {
        const failure = this.#failure(jobs.error, runSite(script));
        // A rejected promise nobody awaited is the script's business; limits are ours.
        if (failure.kind !== "error") return failure;
      }
      // A job's failure usually just rejects its promise, even when a limit stopped it; and a
      // chain of tiny jobs may never run long enough for QuickJS to ask us.
      if (this.#interrupted || performance.now() > this.#deadline) {
        return { message: this.#timeoutMessage(), kind: "timeout" };
      }
      if (this.nearMemoryCap()) {
        return { message: this.#memoryMessage(), kind: "memory" };
      }
    }
    return undefined;
  }

  #timeoutMessage(): string {
    return `The script exceeded its time limit of ${this.#limits.timeLimitMs} ms`;
  }

  #memoryMessage(): string {
    return `The script exceeded its memory limit of ${this.#limits.memoryLimitBytes} bytes`;
  }

  #installPrelude(): QuickJSHandle {
    const vm = this.#vm;
    const factory = this.#evalOrThrow(SCRIPT_PRELUDE, "nm-prelude");
    const host = vm.newObject();
    const functions: [string, (...args: QuickJSHandle[]) => QuickJSHandle | undefined][] = [
      ["map", (...args) => this.#mapCall(...args)],
      ["log", (...args) => this.#logCall(...args)],
      ["route", (...args) => this.#routeCall(...args)],
      ["hl7", (...args) => this.#hl7Call(...args)],
      ["uuid", () => vm.newString(randomUUID())],
    ];
    for (const [name, impl] of functions) {
      const fn = vm.newFunction(name, (...args) => {
        try {
          return impl(...args);
        } catch (error) {
          // The guest gets the error, but WebAssembly frames may have been torn below us.
          if (isHostFault(error)) this.#faulted = error;
          throw error;
        }
      });
      vm.setProp(host, name, fn);
      fn.dispose();
    }
    const helpers = vm.callFunction(factory, vm.undefined, host);
    factory.dispose();
    host.dispose();
    if (helpers.error !== undefined) {
      const failure = this.#dumpError(helpers.error);
      throw new NodeMirthError(
        "ERR_SCRIPT_SANDBOX_FAILED",
        `The script API could not be installed: ${failure.message}`,
      );
    }
    return helpers.value;
  }

  #current(): RunState {
    if (this.#run === undefined)
      throw new Error("The script API is only available while a script runs");
    return this.#run;
  }

  #mapCall(
    ...[opH, indexH, keyH, valueH]: (QuickJSHandle | undefined)[]
  ): QuickJSHandle | undefined {
    const vm = this.#vm;
    const run = this.#current();
    const op = numberArg(vm, opH);
    const index = numberArg(vm, indexH);
    const name = MAP_NAMES[index];
    if (name === undefined) throw new TypeError("Unknown map");
    const map = run.bindings[name];
    const key = keyH === undefined ? "" : vm.getString(keyH);
    const readOnly = name === "sourceMap";
    switch (op) {
      case MAP_OP.get:
        return this.#toGuest(map.get(key) ?? null);
      case MAP_OP.put: {
        if (readOnly) throw new TypeError("sourceMap is read-only");
        const previous = map.get(key) ?? null;
        map.set(key, this.#toHost(valueH, `${name} values`));
        return this.#toGuest(previous);
      }
      case MAP_OP.containsKey:
        return map.has(key) ? vm.true : vm.false;
      case MAP_OP.remove: {
        if (readOnly) throw new TypeError("sourceMap is read-only");
        const previous = map.get(key) ?? null;
        map.delete(key);
        return this.#toGuest(previous);
      }
      case MAP_OP.keySet:
        return this.#toGuest([...map.keys()]);
      case MAP_OP.size:
        return vm.newNumber(map.size);
      case MAP_OP.clear:
        if (readOnly) throw new TypeError("sourceMap is read-only");
        map.clear();
        return undefined;
      case MAP_OP.lookup:
        for (const mapName of MAP_NAMES) {
          const candidate = run.bindings[mapName];
          if (candidate.has(key)) return this.#toGuest(candidate.get(key) ?? null);
        }
        return vm.newString("");
      default:
        throw new TypeError("Unknown map operation");
    }
  }

  #logCall(...[levelH, textH]: (QuickJSHandle | undefined)[]): undefined {
    const level = LOG_LEVELS[numberArg(this.#vm, levelH)] ?? "info";
    this.#current().bindings.logger(level, textH === undefined ? "" : this.#vm.getString(textH));
    return undefined;
  }

  #routeCall(...[channelH, contentH]: (QuickJSHandle | undefined)[]): undefined {
    const vm = this.#vm;
    const channel = channelH === undefined ? "" : vm.getString(channelH);
    const content = contentH === undefined ? "" : vm.getString(contentH);
    this.#current().routed.push({ channel, content });
    return undefined;
  }

  #hl7Call(...[opH, docH, aH, bH]: (QuickJSHandle | undefined)[]): QuickJSHandle | undefined {
    const vm = this.#vm;
    const op = numberArg(vm, opH);
    const which = numberArg(vm, docH);
    const doc = this.#current().doc(which);
    // The guest passes a string as `a` always, and as `b` a string or a number as the op needs.
    const text = aH === undefined ? "" : vm.getString(aH);
    const bText = (): string => (bH === undefined ? "" : vm.getString(bH));
    const bNumber = (): number | undefined => {
      const n = bH === undefined ? Number.NaN : vm.getNumber(bH);
      return Number.isInteger(n) && n >= 0 ? n : undefined;
    };
    try {
      switch (op) {
        case HL7_OP.get:
          return vm.newString(doc.get(text));
        case HL7_OP.set:
          doc.set(text, bText());
          return undefined;
        case HL7_OP.getRaw:
          return vm.newString(doc.getRaw(text));
        case HL7_OP.setRaw:
          doc.setRaw(text, bText());
          return undefined;
        case HL7_OP.has:
          return doc.has(text) ? vm.true : vm.false;
        case HL7_OP.segments:
          return this.#toGuest(doc.segments(text === "" ? undefined : text));
        case HL7_OP.repetitions:
          return this.#toGuest(doc.repetitions(text));
        case HL7_OP.addSegment:
          doc.addSegment(text, bNumber());
          return undefined;
        case HL7_OP.removeSegment:
          return doc.removeSegment(text, bNumber()) ? vm.true : vm.false;
        case HL7_OP.toString:
          return vm.newString(doc.toString());
        case HL7_OP.toXml:
          return vm.newString(doc.toXml());
        default:
          throw new TypeError("Unknown HL7 operation");
      }
    } catch (error) {
      if (isHostFault(error)) throw error;
      // Only name and message cross into the guest: never a host stack.
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${which === 1 ? "tmp" : "msg"}: ${message}`, { cause: error });
    }
  }

  /** The script's return value, and what it left in msg and tmp (see `done` in the prelude). */
  #readOutputs(state: RunState, returned: QuickJSHandle): void {
    const vm = this.#vm;
    try {
      state.returnValue = this.#toHost(returned, "the return value", true);
    } finally {
      returned.dispose();
    }
    const outputs = this.#outputs;
    const m = vm.getProp(outputs, "m");
    state.messageOut = this.#outArg(m);
    m.dispose();
    if (state.bindings.tmp !== undefined) {
      const t = vm.getProp(outputs, "t");
      state.tmpOut = this.#outArg(t);
      t.dispose();
    }
    if (state.bindings.response !== undefined) {
      for (const [key, field] of [
        ["rs", "responseStatus"],
        ["rsm", "responseStatusMessage"],
      ] as const) {
        const handle = vm.getProp(outputs, key);
        const value = this.#outArg(handle);
        handle.dispose();
        if (typeof value === "string") state[field] = value;
      }
    }
  }

  #outArg(handle: QuickJSHandle | undefined): string | number | undefined {
    if (handle === undefined) return undefined;
    const type = this.#vm.typeof(handle);
    if (type === "string") return this.#vm.getString(handle);
    if (type === "number") return this.#vm.getNumber(handle);
    return undefined;
  }

  /** A guest value copied to the host: primitives as they are, objects through JSON. */
  #toHost(handle: QuickJSHandle | undefined, what: string, lenient = false): unknown {
    if (handle === undefined) return undefined;
    const vm = this.#vm;
    const type = vm.typeof(handle);
    switch (type) {
      case "undefined":
        return undefined;
      case "string":
        return vm.getString(handle);
      case "number":
        return vm.getNumber(handle);
      case "boolean":
        return vm.dump(handle) as boolean;
      case "bigint":
        return vm.getBigInt(handle);
      case "object": {
        const dumped = vm.dump(handle) as unknown;
        // dump() falls back to String(value) when JSON.stringify fails (a cycle, a BigInt).
        if (typeof dumped === "string" && !lenient) throw new TypeError(notJsonSafe(what));
        return dumped;
      }
      default:
        if (lenient) return undefined;
        throw new TypeError(notJsonSafe(what));
    }
  }

  /** A host value copied into the guest: primitives directly, anything else as parsed JSON. */
  #toGuest(value: unknown): QuickJSHandle {
    const vm = this.#vm;
    switch (typeof value) {
      case "string":
        return vm.newString(value);
      case "number":
        return vm.newNumber(value);
      case "boolean":
        return value ? vm.true : vm.false;
      case "bigint":
        return vm.newBigInt(value);
      case "undefined":
      case "function":
      case "symbol":
        return vm.undefined;
      case "object": {
        if (value === null) return vm.null;
        let json: string | undefined;
        try {
          json = JSON.stringify(value);
        } catch {
          json = undefined;
        }
        if (json === undefined) return vm.undefined;
        const text = vm.newString(json);
        const parsed = vm.callFunction(this.#jsonParse, vm.undefined, text);
        text.dispose();
        if (parsed.error !== undefined) return { error: parsed.error } as never;
        return parsed.value;
      }
    }
  }

  #typeHandle(code: number): QuickJSHandle {
    const handle = this.#typeHandles[code + 1];
    if (handle === undefined) throw new TypeError(`Unknown data type code ${code}`);
    return handle;
  }

  #keep(handle: QuickJSHandle): QuickJSHandle {
    this.#handles.push(handle);
    return handle;
  }

  #evalOrThrow(code: string, file: string): QuickJSHandle {
    const result = this.#vm.evalCode(code, file);
    if (result.error !== undefined) {
      const failure = this.#dumpError(result.error);
      throw new NodeMirthError(
        "ERR_SCRIPT_SANDBOX_FAILED",
        `The script sandbox could not start: ${failure.message}`,
      );
    }
    return result.value;
  }

  #startDeadline(): void {
    this.#interrupted = false;
    this.#deadline = performance.now() + this.#limits.timeLimitMs;
  }

  #stopDeadline(): void {
    this.#deadline = Number.POSITIVE_INFINITY;
  }

  #shouldInterrupt(): boolean {
    if (performance.now() <= this.#deadline) return false;
    this.#interrupted = true;
    return true;
  }

  /** Linear memory within 1 MiB of its cap: whatever failed, memory is why. */
  nearMemoryCap(): boolean {
    return this.#module.memoryBytes() + 1024 * 1024 >= this.#module.maxMemoryBytes;
  }

  #dumpError(handle: QuickJSHandle): {
    name: string;
    message: string;
    stack: string;
    lineNumber?: number;
    fileName?: string;
  } {
    let dumped: unknown;
    try {
      dumped = this.#vm.dump(handle);
    } catch {
      dumped = undefined;
    } finally {
      handle.dispose();
    }
    if (typeof dumped === "object" && dumped !== null) {
      const error = dumped as Record<string, unknown>;
      return {
        name: typeof error.name === "string" ? error.name : "Error",
        message: typeof error.message === "string" ? error.message : safeString(dumped),
        stack: typeof error.stack === "string" ? error.stack : "",
        lineNumber: typeof error.lineNumber === "number" ? error.lineNumber : undefined,
        fileName: typeof error.fileName === "string" ? error.fileName : undefined,
      };
    }
    return {
      name: "",
      message: dumped === undefined ? "unknown error" : safeString(dumped),
      stack: "",
    };
  }

  /** Turns a guest exception into a result error: kind, message, and line in the user's body. */
  #failure(
    handle: QuickJSHandle,
    where: { file: string; lineOffset: number; bodyLines: number },
  ): ScriptRunFailure {
    const error = this.#dumpError(handle);
    const fileLine =
      error.fileName === where.file && error.lineNumber !== undefined
        ? error.lineNumber
        : lineIn(error.stack, where.file);
    const bodyLine = fileLine === undefined ? undefined : fileLine - where.lineOffset;
    const line =
      bodyLine !== undefined && bodyLine >= 1 && bodyLine <= where.bodyLines ? bodyLine : undefined;
    const withLine = <T extends ScriptRunFailure>(failure: T): T =>
      line === undefined ? failure : { ...failure, line };
    if (this.#interrupted) {
      return withLine({
        message: this.#timeoutMessage(),
        kind: "timeout",
      });
    }
    if (isOutOfMemory(error) || this.nearMemoryCap()) {
      return withLine({
        message: this.#memoryMessage(),
        kind: "memory",
      });
    }
    if (error.name === "InternalError" && error.message === "string too long") {
      return withLine({ message: "The script exceeded the maximum string length", kind: "memory" });
    }
    if (error.message === "stack overflow") {
      return withLine({
        message: "The script exceeded its stack limit (stack overflow)",
        kind: "memory",
      });
    }
    const prefix = error.name !== "" && error.name !== "Error" ? `${error.name}: ` : "";
    return withLine({
      message: `${prefix}${error.message}`.slice(0, MESSAGE_LIMIT),
      kind: "error",
    });
  }
}

function isOutOfMemory(error: { name: string; message: string }): boolean {
  return error.name === "InternalError" && error.message === "out of memory";
}

/**
 * JSON nesting a message may have. QuickJS parses JSON recursively, and a document nested
 * some thousands deep (easy for a sender to craft) exhausts the host stack inside
 * WebAssembly, which costs the instance; real documents stay far below this.
 */
const JSON_DEPTH_LIMIT = 1000;

function jsonTooDeep(bindings: ScriptBindings): "msg" | "tmp" | undefined {
  if (bindings.message.dataType === "JSON" && nestedDeeper(bindings.message.content)) return "msg";
  if (bindings.tmp?.dataType === "JSON" && nestedDeeper(bindings.tmp.content)) return "tmp";
  return undefined;
}

function nestedDeeper(text: string): boolean {
  if (text.length <= JSON_DEPTH_LIMIT * 2) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > JSON_DEPTH_LIMIT) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

function dataTypeCode(dataType: string): number {
  const code = (DATA_TYPE_CODES as Record<string, number | undefined>)[dataType];
  if (code === undefined) throw new TypeError(`Unknown script data type '${dataType}'`);
  return code;
}

/** Failures of the host itself (native stack exhausted, WebAssembly trap or abort). */
function isHostFault(error: unknown): error is Error {
  // WebAssembly.RuntimeError (trap, abort) is named "RuntimeError".
  return error instanceof RangeError || (error instanceof Error && error.name === "RuntimeError");
}

function runSite(script: CompiledScript): { file: string; lineOffset: number; bodyLines: number } {
  return { file: script.file, lineOffset: BODY_FIRST_LINE - 1, bodyLines: script.bodyLines };
}

function compileError(id: string, failure: ScriptRunFailure): NodeMirthError {
  return new NodeMirthError(
    "ERR_SCRIPT_COMPILE",
    `Script '${id}' does not compile: ${failure.message}${lineSuffix(failure.line)}`,
    { details: { scriptId: id, line: failure.line, kind: failure.kind } },
  );
}

function lineSuffix(line: number | undefined): string {
  return line === undefined ? "" : ` (line ${line})`;
}

function countLines(text: string): number {
  let lines = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
  return lines;
}

/** The line of the first stack frame in `file` ("at f (file:3:7)" or "at file:3:7"). */
function lineIn(stack: string, file: string): number | undefined {
  const at = stack.indexOf(`${file}:`);
  if (at === -1) return undefined;
  const match = /^:(\d+)/.exec(stack.slice(at + file.length, at + file.length + 12));
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function notJsonSafe(what: string): string {
  return `${what} must be JSON-safe (strings, numbers, booleans, plain objects and arrays, no cycles)`;
}

function numberArg(vm: QuickJSContext, handle: QuickJSHandle | undefined): number {
  return handle === undefined ? -1 : vm.getNumber(handle);
}

function safeString(value: unknown): string {
  try {
    return typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return "unprintable value";
  }
}

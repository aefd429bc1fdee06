import { NodeMirthError } from "./errors.js";
import { ScriptContext, type ScriptContextLimits } from "./script-context.js";
import { ScriptModuleSlot, type ScriptModule } from "./script-module.js";
import { scriptPreamble } from "./script-prelude.js";
import {
  SCRIPT_KINDS,
  type ScriptBindings,
  type ScriptKind,
  type ScriptRunResult,
  type ScriptSandbox,
  type ScriptSandboxOptions,
  type ScriptSource,
} from "./script-types.js";

export {
  SCRIPT_KINDS,
  type ScriptBindings,
  type ScriptDataType,
  type ScriptKind,
  type ScriptLogLevel,
  type ScriptMessage,
  type ScriptRoute,
  type ScriptRunFailure,
  type ScriptRunResult,
  type ScriptSandbox,
  type ScriptSandboxOptions,
  type ScriptSource,
} from "./script-types.js";

const DEFAULTS: ScriptContextLimits = {
  timeLimitMs: 2000,
  memoryLimitBytes: 64 * 1024 * 1024,
  // QuickJS counts its own (shadow) stack, but its frames also use the host's native stack;
  // at 512 KiB plain recursion exhausts Node's ~1 MB stack first, which costs the instance.
  // At 256 KiB QuickJS stops ordinary recursion itself (~1,300 frames) with a clean error.
  stackLimitBytes: 256 * 1024,
};

/**
 * Creates the script sandbox of one deployed channel: a QuickJS context, in a WebAssembly
 * instance of its own, reused for every message, with the code templates loaded.
 * Rejects with ERR_SCRIPT_COMPILE when a code template does not load.
 */
export async function createScriptSandbox(
  options: ScriptSandboxOptions = {},
): Promise<ScriptSandbox> {
  const limits: ScriptContextLimits = {
    timeLimitMs: positive(options.timeLimitMs, DEFAULTS.timeLimitMs, "timeLimitMs"),
    memoryLimitBytes: positive(
      options.memoryLimitBytes,
      DEFAULTS.memoryLimitBytes,
      "memoryLimitBytes",
    ),
    stackLimitBytes: positive(options.stackLimitBytes, DEFAULTS.stackLimitBytes, "stackLimitBytes"),
  };
  let opened: Awaited<ReturnType<typeof ScriptModuleSlot.open>>;
  try {
    opened = await ScriptModuleSlot.open(limits.memoryLimitBytes);
  } catch (error) {
    throw new NodeMirthError(
      "ERR_SCRIPT_SANDBOX_FAILED",
      "The QuickJS WebAssembly module could not be loaded",
      {
        cause: error,
      },
    );
  }
  try {
    return new QuickJsScriptSandbox(opened, {
      limits,
      templates: [...(options.codeTemplates ?? [])],
    });
  } catch (error) {
    opened.slot.close();
    throw error;
  }
}

interface SandboxSetup {
  limits: ScriptContextLimits;
  templates: string[];
}

class QuickJsScriptSandbox implements ScriptSandbox {
  readonly #setup: SandboxSetup;
  readonly #slot: ScriptModuleSlot;
  /** Script bodies by id, kept to compile them again into a rebuilt context. */
  readonly #sources = new Map<string, { body: string; kind: ScriptKind; preamble: string }>();
  #module: ScriptModule | undefined;
  #context: ScriptContext | undefined;
  #disposed = false;

  constructor(opened: { slot: ScriptModuleSlot; first: ScriptModule }, setup: SandboxSetup) {
    this.#setup = setup;
    this.#slot = opened.slot;
    this.#module = opened.first;
    this.#context = this.#build(opened.first);
  }

  compile(script: ScriptSource): void {
    this.#assertOpen();
    if (!SCRIPT_KINDS.includes(script.kind)) {
      throw new NodeMirthError("ERR_SCRIPT_COMPILE", `Script '${script.id}' has an unknown kind`, {
        details: { scriptId: script.id },
      });
    }
    // An expression may end with a semicolon (and a line comment), which `return (...)` cannot hold.
    const body =
      script.kind === "expression"
        ? `return (${script.code.replace(/;[\s;]*(\/\/[^\n]*)?\s*$/, " $1")}\n);`
        : script.code;
    const preamble = scriptPreamble(script.kind);
    // Compiled now, so errors surface at deploy, and again whenever the context is rebuilt.
    const context = this.#context ?? this.#revive();
    try {
      context?.compile(script.id, body, preamble);
    } catch (error) {
      if (context === undefined || !context.faulted) throw error;
      // Source nested deeply enough to exhaust the host stack in the parser.
      this.#replaceModule();
      throw new NodeMirthError(
        "ERR_SCRIPT_COMPILE",
        `Script '${script.id}' does not compile: it is nested too deeply`,
        { cause: error, details: { scriptId: script.id } },
      );
    }
    this.#sources.set(script.id, { body, kind: script.kind, preamble });
  }

  run(id: string, bindings: ScriptBindings): ScriptRunResult {
    this.#assertOpen();
    if (!this.#sources.has(id)) {
      throw new NodeMirthError(
        "ERR_SCRIPT_NOT_COMPILED",
        `No script '${id}' was compiled in this sandbox`,
        {
          details: { scriptId: id },
        },
      );
    }
    const context = this.#context ?? this.#revive();
    if (context === undefined) {
      return failure(
        "The script sandbox is restarting after a failure; the message can be retried",
        "memory",
      );
    }
    let result: ScriptRunResult;
    try {
      result = context.run(id, bindings);
      // Mirth's preprocessor returns the text to process (`return message;`).
      if (
        result.ok &&
        typeof result.returnValue === "string" &&
        this.#sources.get(id)?.kind === "preprocessor"
      ) {
        result.message = { content: result.returnValue };
      }
    } catch (error) {
      // Only a failure of the WebAssembly side costs the instance; anything else is a caller's bug.
      if (!context.faulted) throw error;
      this.#replaceModule();
      return failure(hostFailureMessage(error), "memory");
    }
    if (!result.ok && context.entered) {
      // A script stopped mid-way may have left globals half-built: start from a clean context.
      if (result.error.kind === "timeout") this.#rebuild();
      if (result.error.kind === "memory") {
        // Linear memory never shrinks: an instance at its cap goes back, the spare takes over.
        if (context.nearMemoryCap()) this.#replaceModule();
        else this.#rebuild();
      }
    }
    return result;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#disposeContext();
    this.#module = undefined;
    this.#slot.close();
    this.#sources.clear();
  }

  #build(module: ScriptModule): ScriptContext {
    const context = new ScriptContext(module, this.#setup.limits);
    try {
      this.#setup.templates.forEach((code, index) => context.loadTemplate(index, code));
      context.seal();
      for (const [id, { body, preamble }] of this.#sources) context.compile(id, body, preamble);
    } catch (error) {
      try {
        context.dispose();
      } catch {
        // The instance is in trouble too; the caller drops it.
      }
      throw error;
    }
    return context;
  }

  #rebuild(): void {
    if (!this.#disposeContext()) {
      this.#replaceModule();
      return;
    }
    this.#revive();
  }

  /** Disposes the current context; false when that failed (the instance is then suspect). */
  #disposeContext(): boolean {
    const context = this.#context;
    this.#context = undefined;
    if (context === undefined) return true;
    try {
      context.dispose();
      return true;
    } catch {
      return false;
    }
  }

  /** Drops the WebAssembly instance without touching it again and moves to the spare. */
  #replaceModule(): void {
    this.#context = undefined;
    this.#module = undefined;
    this.#revive();
  }

  /** Builds a context, on the spare instance if the last one was dropped. */
  #revive(): ScriptContext | undefined {
    this.#module ??= this.#slot.take();
    const module = this.#module;
    if (module === undefined) return undefined;
    try {
      this.#context = this.#build(module);
    } catch {
      this.#context = undefined;
      this.#module = undefined;
    }
    return this.#context;
  }

  #assertOpen(): void {
    if (this.#disposed) {
      throw new NodeMirthError("ERR_SCRIPT_SANDBOX_DISPOSED", "The script sandbox was disposed");
    }
  }
}

function failure(message: string, kind: "error" | "timeout" | "memory"): ScriptRunResult {
  return { ok: false, error: { message, kind } };
}

function hostFailureMessage(error: unknown): string {
  if (error instanceof RangeError) return "The script exhausted the host stack (stack overflow)";
  return `The script sandbox failed: ${error instanceof Error ? error.message : String(error)}`.slice(
    0,
    500,
  );
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new NodeMirthError(
      "ERR_SCRIPT_SANDBOX_FAILED",
      `Script sandbox option ${name} must be a positive number`,
      {
        details: { option: name },
      },
    );
  }
  return value;
}

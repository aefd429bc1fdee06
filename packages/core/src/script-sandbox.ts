import { newQuickJSWASMModule, RELEASE_SYNC, type QuickJSWASMModule } from "quickjs-emscripten";
import { NodeMirthError } from "./errors.js";
import { ScriptContext, type ScriptContextLimits } from "./script-context.js";
import {
  SCRIPT_KINDS,
  type ScriptBindings,
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
  stackLimitBytes: 512 * 1024,
};

/**
 * One WebAssembly instance of QuickJS kept ready for whichever sandbox next loses its own.
 * QuickJS checks its stack limit against its own shadow stack, but its frames also use the
 * host's native stack, and some recursions (deep JSON, toString chains) exhaust the latter
 * first. V8 then unwinds through the WebAssembly frames, which leaves that instance's
 * heap half-updated: it must be abandoned, and `run` is synchronous, so the replacement
 * has to exist already.
 */
let spareModule: QuickJSWASMModule | undefined;
let spareLoading: Promise<void> | undefined;

function refillSpare(): Promise<void> {
  spareLoading ??= newQuickJSWASMModule(RELEASE_SYNC).then(
    (module) => {
      spareModule = module;
      spareLoading = undefined;
    },
    () => {
      spareLoading = undefined;
    },
  );
  return spareLoading;
}

function takeSpareModule(): QuickJSWASMModule | undefined {
  const module = spareModule;
  spareModule = undefined;
  void refillSpare();
  return module;
}

/**
 * Creates the script sandbox of one deployed channel: a QuickJS context (in its own
 * WebAssembly instance) reused for every message, with the code templates loaded.
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
  let module: QuickJSWASMModule;
  try {
    [module] = await Promise.all([
      newQuickJSWASMModule(RELEASE_SYNC),
      spareModule ? undefined : refillSpare(),
    ]);
  } catch (error) {
    throw new NodeMirthError(
      "ERR_SCRIPT_SANDBOX_FAILED",
      "The QuickJS WebAssembly module could not be loaded",
      {
        cause: error,
      },
    );
  }
  return new QuickJsScriptSandbox(module, {
    limits,
    templates: [...(options.codeTemplates ?? [])],
  });
}

interface SandboxSetup {
  limits: ScriptContextLimits;
  templates: string[];
}

class QuickJsScriptSandbox implements ScriptSandbox {
  readonly #setup: SandboxSetup;
  readonly #sources = new Map<string, string>();
  #module: QuickJSWASMModule | undefined;
  #context: ScriptContext | undefined;
  #restarting: Promise<void> | undefined;
  #disposed = false;

  constructor(module: QuickJSWASMModule, setup: SandboxSetup) {
    this.#setup = setup;
    this.#module = module;
    this.#context = this.#build(module);
  }

  compile(script: ScriptSource): void {
    this.#assertOpen();
    if (!SCRIPT_KINDS.includes(script.kind)) {
      throw new NodeMirthError("ERR_SCRIPT_COMPILE", `Script '${script.id}' has an unknown kind`, {
        details: { scriptId: script.id },
      });
    }
    const body = script.kind === "expression" ? `return (${script.code}\n);` : script.code;
    // Compiled now (errors surface at deploy) and again whenever the context is rebuilt.
    this.#context?.compile(script.id, body);
    this.#sources.set(script.id, body);
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
    } catch (error) {
      if (error instanceof NodeMirthError) throw error;
      this.#abandonModule();
      return failure(hostFailureMessage(error), "memory");
    }
    // A script stopped mid-way may have left globals half-built or the heap full: start clean.
    if (!result.ok && result.error.kind !== "error") this.#rebuild();
    return result;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#disposeContext();
    this.#module = undefined;
    this.#sources.clear();
  }

  #build(module: QuickJSWASMModule): ScriptContext {
    const context = new ScriptContext(module, this.#setup.limits);
    try {
      this.#setup.templates.forEach((code, index) => context.loadTemplate(index, code));
      for (const [id, body] of this.#sources) context.compile(id, body);
    } catch (error) {
      try {
        context.dispose();
      } catch {
        // The module is in trouble too; the caller abandons it.
      }
      throw error;
    }
    return context;
  }

  #rebuild(): void {
    if (!this.#disposeContext()) {
      this.#abandonModule();
      return;
    }
    try {
      this.#context = this.#module === undefined ? undefined : this.#build(this.#module);
    } catch {
      this.#abandonModule();
    }
  }

  /** Disposes the current context; false when that failed (the module is then suspect). */
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

  /** Drops the WebAssembly instance without touching it again, and moves to a fresh one. */
  #abandonModule(): void {
    this.#context = undefined;
    this.#module = takeSpareModule();
    this.#revive();
  }

  /** Builds a context on the current module, or starts loading a module when there is none. */
  #revive(): ScriptContext | undefined {
    const module = this.#module;
    if (module === undefined) {
      if (this.#restarting !== undefined) return undefined;
      this.#restarting = newQuickJSWASMModule(RELEASE_SYNC).then(
        (loaded) => {
          this.#restarting = undefined;
          if (!this.#disposed && this.#module === undefined) this.#module = loaded;
        },
        () => {
          this.#restarting = undefined;
        },
      );
      return undefined;
    }
    try {
      this.#context = this.#build(module);
    } catch {
      this.#context = undefined;
      this.#module = undefined;
    }
    return this.#context;
  }

  #assertOpen(): void {
    if (this.#disposed)
      throw new NodeMirthError("ERR_SCRIPT_SANDBOX_DISPOSED", "The script sandbox was disposed");
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

import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  RELEASE_SYNC,
  type QuickJSWASMModule,
} from "quickjs-emscripten";

/** What we use of a WebAssembly.Memory (the global is not in our TypeScript lib). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum: number }): WasmMemory;
}

const PAGE = 64 * 1024;
/** The wasm build's own minimum: static data, shadow stack and the first heap. */
const BASE_PAGES = 256;
/** wasm32 ceiling the prebuilt module declares. */
const MAX_PAGES = 32768;

/**
 * One QuickJS WebAssembly instance whose linear memory cannot grow past the sandbox's
 * memory limit. QuickJS's own limit (`setMemoryLimit`) counts allocations, not bytes, in
 * the emscripten build (quickjs-emscripten#271), so a script could otherwise grow it to
 * 2 GiB; with a capped Memory, malloc fails at the cap and QuickJS throws "out of memory".
 * Linear memory never shrinks, so an instance that hit its cap is replaced, not reused.
 */
export interface ScriptModule {
  readonly quickjs: QuickJSWASMModule;
  /** Bytes of linear memory in use by the instance (its high-water mark). */
  memoryBytes(): number;
  readonly maxMemoryBytes: number;
}

export async function loadScriptModule(memoryLimitBytes: number): Promise<ScriptModule> {
  const maximum = Math.min(MAX_PAGES, BASE_PAGES + Math.ceil(memoryLimitBytes / PAGE));
  const { WebAssembly } = globalThis as unknown as {
    WebAssembly: { Memory: WasmMemoryConstructor };
  };
  const memory = new WebAssembly.Memory({ initial: BASE_PAGES, maximum });
  const quickjs = await newQuickJSWASMModuleFromVariant(
    newVariant(RELEASE_SYNC, { wasmMemory: memory as never }),
  );
  return {
    quickjs,
    memoryBytes: () => memory.buffer.byteLength,
    maxMemoryBytes: maximum * PAGE,
  };
}

/**
 * The instance in use plus one loaded in advance. `run` is synchronous, so when an
 * instance must be dropped (memory cap reached, or the host stack ran out inside it and
 * left its heap half-updated) the replacement has to exist already.
 */
export class ScriptModuleSlot {
  readonly #memoryLimitBytes: number;
  #spare: ScriptModule | undefined;
  #loading: Promise<void> | undefined;
  #closed = false;

  private constructor(memoryLimitBytes: number) {
    this.#memoryLimitBytes = memoryLimitBytes;
  }

  /** Loads the first instance and its spare. */
  static async open(
    memoryLimitBytes: number,
  ): Promise<{ slot: ScriptModuleSlot; first: ScriptModule }> {
    const slot = new ScriptModuleSlot(memoryLimitBytes);
    const [first] = await Promise.all([loadScriptModule(memoryLimitBytes), slot.#refill()]);
    return { slot, first };
  }

  /** The spare, if loaded; loading the next one starts at once. */
  take(): ScriptModule | undefined {
    const spare = this.#spare;
    this.#spare = undefined;
    void this.#refill();
    return spare;
  }

  /** Resolves once a spare is loaded (or loading failed). */
  async ready(): Promise<void> {
    await this.#refill();
  }

  close(): void {
    this.#closed = true;
    this.#spare = undefined;
  }

  #refill(): Promise<void> {
    if (this.#spare !== undefined || this.#closed) return Promise.resolve();
    this.#loading ??= loadScriptModule(this.#memoryLimitBytes).then(
      (module) => {
        this.#loading = undefined;
        if (!this.#closed) this.#spare = module;
      },
      () => {
        this.#loading = undefined;
      },
    );
    return this.#loading;
  }
}

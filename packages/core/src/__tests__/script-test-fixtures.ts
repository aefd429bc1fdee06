import { afterEach } from "vitest";
import { createScriptSandbox } from "../script-sandbox.js";
import type {
  ScriptBindings,
  ScriptDataType,
  ScriptSandbox,
  ScriptSandboxOptions,
} from "../script-types.js";

/**
 * Returns a sandbox factory whose sandboxes are all disposed after each test, so a failing
 * assertion never leaks a WebAssembly instance into the next test.
 */
export function useSandboxes(): (options?: ScriptSandboxOptions) => Promise<ScriptSandbox> {
  const sandboxes: ScriptSandbox[] = [];
  afterEach(() => {
    for (const sandbox of sandboxes.splice(0)) sandbox.dispose();
  });
  return async (options) => {
    const created = await createScriptSandbox(options);
    sandboxes.push(created);
    return created;
  };
}

/** Bindings with empty maps and a silent logger, for one message. */
export function emptyBindings(content: string, dataType: ScriptDataType = "HL7V2"): ScriptBindings {
  return {
    message: { content, dataType },
    channelMap: new Map(),
    sourceMap: new Map(),
    connectorMap: new Map(),
    responseMap: new Map(),
    globalMap: new Map(),
    globalChannelMap: new Map(),
    configurationMap: new Map(),
    logger: () => undefined,
  };
}

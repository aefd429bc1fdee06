import { createTsupConfig } from "@node-mirth/tsup-config";
import type { Options } from "tsup";

// `node:sqlite` exists only with its prefix: tsup's default of stripping `node:` would
// leave an import of a package named "sqlite".
export default { ...(createTsupConfig() as Options), removeNodeProtocol: false } satisfies Options;

import type { Options } from "tsup";
export declare function createTsupConfig(options?: { entry?: string[] }): Options | Options[];

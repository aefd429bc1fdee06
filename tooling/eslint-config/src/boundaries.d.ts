import type { Linter } from "eslint";

export declare const ALLOWED_IMPORTS: Record<string, string[]>;
export declare function forbiddenScopedImports(allowed: string[]): string[];
export declare function boundaryConfigs(): Linter.Config[];

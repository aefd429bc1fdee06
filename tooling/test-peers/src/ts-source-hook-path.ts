/** Absolute path of a `node --import` hook that runs workspace TypeScript from source. */
export const TS_SOURCE_HOOK: string = new URL("./ts-source-hook.ts", import.meta.url).pathname;

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TempDir extends AsyncDisposable {
  path: string;
  remove(): Promise<void>;
}

/** A fresh private directory, removed on dispose (`await using dir = await createTempDir()`). */
export async function createTempDir(prefix = "node-mirth-test-"): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  const remove = () => rm(path, { recursive: true, force: true });
  return { path, remove, [Symbol.asyncDispose]: remove };
}

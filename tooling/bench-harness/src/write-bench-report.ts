import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { arch, cpus, platform } from "node:os";

export interface BenchReport {
  bench: string;
  results: unknown[];
  /** Named ratios against the baselines of the bench's issue, e.g. { vsMedplum: 3.1 }. */
  ratios: Record<string, number>;
  targets?: Record<string, { target: number; actual: number; met: boolean }>;
}

/** Writes `bench-results/<bench>.json` in `dir` with the machine it ran on, and prints it. */
export function writeBenchReport(dir: string, report: BenchReport): string {
  const full = {
    ...report,
    machine: {
      node: process.version,
      platform: platform(),
      arch: arch(),
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
    },
    at: new Date().toISOString(),
  };
  const outDir = join(dir, "bench-results");
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${report.bench}.json`);
  writeFileSync(path, JSON.stringify(full, null, 2) + "\n");
  process.stdout.write(JSON.stringify(full, null, 2) + "\n");
  return path;
}

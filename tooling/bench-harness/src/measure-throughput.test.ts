import { describe, expect, it } from "vitest";
import { latencyPercentiles, measureThroughput } from "./measure-throughput.ts";

describe("latencyPercentiles", () => {
  it("takes nearest-rank percentiles and converts ms to µs", () => {
    const samples = Array.from({ length: 1000 }, (_, i) => (i + 1) / 1000);
    expect(latencyPercentiles(samples)).toEqual({ p50: 500, p99: 990, p999: 999, max: 1000 });
  });

  it("is all zeros for no samples", () => {
    expect(latencyPercentiles([])).toEqual({ p50: 0, p99: 0, p999: 0, max: 0 });
  });
});

describe("measureThroughput", () => {
  it("counts every operation it ran", () => {
    let calls = 0;
    const result = measureThroughput({ name: "count", run: () => calls++, warmupMs: 0, durationMs: 20 });
    expect(result.operations).toBe(calls);
    expect(result.opsPerSecond).toBeGreaterThan(0);
  });
});

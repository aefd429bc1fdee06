export interface ThroughputOptions {
  name: string;
  /** One operation; its duration is one latency sample. */
  run: () => void;
  /** Untimed runs first, so the JIT has settled before samples are taken. */
  warmupMs?: number;
  durationMs?: number;
}

export interface ThroughputResult {
  name: string;
  operations: number;
  opsPerSecond: number;
  latencyMicros: { p50: number; p99: number; p999: number; max: number };
}

/** Runs a synchronous operation back to back for a fixed time on this core. */
export function measureThroughput(options: ThroughputOptions): ThroughputResult {
  const warmupEnd = performance.now() + (options.warmupMs ?? 500);
  while (performance.now() < warmupEnd) options.run();

  const samples: number[] = [];
  const start = performance.now();
  const end = start + (options.durationMs ?? 2_000);
  let now = start;
  while (now < end) {
    const before = now;
    options.run();
    now = performance.now();
    samples.push(now - before);
  }
  const elapsedMs = now - start;
  return {
    name: options.name,
    operations: samples.length,
    opsPerSecond: Math.round((samples.length / elapsedMs) * 1000),
    latencyMicros: latencyPercentiles(samples),
  };
}

/** Percentiles in microseconds from millisecond samples. */
export function latencyPercentiles(samplesMs: number[]): ThroughputResult["latencyMicros"] {
  const sorted = Float64Array.from(samplesMs).sort();
  const at = (q: number) => {
    if (sorted.length === 0) return 0;
    const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
    return Math.round((sorted[Math.max(0, index)] ?? 0) * 1000 * 100) / 100;
  };
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: at(1) };
}

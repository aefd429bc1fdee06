export {
  latencyPercentiles,
  measureThroughput,
  type ThroughputOptions,
  type ThroughputResult,
} from "./measure-throughput.ts";
export { writeBenchReport, type BenchReport } from "./write-bench-report.ts";

export {
  latencyPercentiles,
  measureThroughput,
  type ThroughputOptions,
  type ThroughputResult,
} from "./measure-throughput.js";
export { writeBenchReport, type BenchReport } from "./write-bench-report.js";

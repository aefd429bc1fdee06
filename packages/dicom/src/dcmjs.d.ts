// dcmjs ships no types; this package uses only its logger (dcmjs-dimse does the rest).
declare module "dcmjs" {
  const dcmjs: { log: { setLevel(level: "trace" | "debug" | "info" | "warn" | "error" | "silent"): void } };
  export default dcmjs;
}

import type { FramingMode } from "./frame-decoder.js";

/** How a connection is named in logs, source maps and the dashboard. */
export type MllpTransport = "MLLP" | "MLLPS" | "TCP" | "TCP+TLS";

/** MLLP + TLS is MLLPS; RAW and FRAME streams are plain TCP, with or without TLS. */
export function transportName(mode: FramingMode, tls: boolean): MllpTransport {
  if (mode === "MLLP") return tls ? "MLLPS" : "MLLP";
  return tls ? "TCP+TLS" : "TCP";
}

export type MllpLogLevel = "debug" | "info" | "warn" | "error";

/** Receives operator log lines (the same shape as core's `SourceContext.log`); never message content. */
export type MllpLog = (level: MllpLogLevel, text: string) => void;

export const silentLog: MllpLog = () => {};

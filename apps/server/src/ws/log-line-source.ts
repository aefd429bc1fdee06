/** Formatted, already-redacted server log lines (S-BOOT's LogLineTee implements it). */
export interface LogLineSource {
  subscribe(listener: (line: string) => void): () => void;
}

/**
 * Milliseconds to wait from `now`, read from a Retry-After header (RFC 9110 §10.2.3): either
 * whole seconds or an HTTP date. Undefined when absent or unreadable (the engine's own
 * backoff then applies); a date in the past is 0. Never more than `capMs`, so a server cannot
 * park a destination for a day.
 */
export function parseRetryAfter(value: string | undefined, options: { now: number; capMs: number }): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    const at = Date.parse(text);
    // Only the IMF-fixdate shape: "Wed, 21 Oct 2015 07:28:00 GMT". Date.parse accepts far more.
    if (Number.isNaN(at) || !/GMT$/.test(text)) return undefined;
    ms = at - options.now;
  }
  return Math.min(Math.max(0, ms), options.capMs);
}

import { Hl7UsageError } from "./errors.js";

/** A parsed location such as `OBX[3].5`, `PID.3[2].4.2`; every index is 1-based. */
export interface Hl7Path {
  /** Absent for a path relative to a segment, such as `5.1`. */
  readonly segment?: string;
  readonly occurrence: number;
  readonly field?: number;
  /** Absent means the whole field (every repetition) unless a component is named. */
  readonly repetition?: number;
  readonly component?: number;
  readonly subcomponent?: number;
}

const ABSOLUTE =
  /^([A-Za-z0-9]{3})(?:\[(\d+)\])?(?:[.-](\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?)?$/;
const RELATIVE = /^(\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?$/;
const CACHE_LIMIT = 4096;
const cache = new Map<string, Hl7Path>();

/**
 * Parses `SEG[occurrence].field[repetition].component.subcomponent` (a `-` may stand
 * for the first dot, as in `PID-5.1`). Paths are cached: scripts read the same few
 * paths from every message.
 */
export function parseHl7Path(path: string): Hl7Path {
  const cached = cache.get(path);
  if (cached !== undefined) return cached;
  const parsed = parseUncached(path);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(path, parsed);
  return parsed;
}

function parseUncached(path: string): Hl7Path {
  const absolute = ABSOLUTE.exec(path);
  const relative = absolute === null ? RELATIVE.exec(path) : null;
  if (absolute === null && relative === null) throw invalidPath(path);
  const [segment, occurrence, field, repetition, component, subcomponent] =
    absolute === null ? [undefined, undefined, ...(relative ?? []).slice(1)] : absolute.slice(1);
  const parsed: Hl7Path = {
    occurrence: index(occurrence, path) ?? 1,
    ...(segment === undefined ? {} : { segment }),
    ...optional("field", index(field, path)),
    ...optional("repetition", index(repetition, path)),
    ...optional("component", index(component, path)),
    ...optional("subcomponent", index(subcomponent, path)),
  };
  return Object.freeze(parsed);
}

function index(text: string | undefined, path: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (value < 1 || !Number.isSafeInteger(value)) throw invalidPath(path);
  return value;
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

function invalidPath(path: string): Hl7UsageError {
  return new Hl7UsageError(
    "ERR_HL7_INVALID_PATH",
    `Invalid HL7 path '${path.slice(0, 40)}': expected e.g. PID.5.1, PID.3[2].1 or OBX[3].5 (1-based)`,
  );
}

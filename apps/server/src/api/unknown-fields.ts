/**
 * Paths of object keys present in `input` but missing from `parsed`: the fields a zod schema
 * stripped because it does not know them. Lets one rule ("unknown fields are rejected") hold
 * for schemas the API does not own, such as core's channel schema, at every depth.
 */
export function unknownFields(input: unknown, parsed: unknown, path: (string | number)[] = []): string[] {
  if (Array.isArray(input) && Array.isArray(parsed)) {
    return input.flatMap((item, index) => unknownFields(item, parsed[index], [...path, index]));
  }
  if (!isPlainObject(input) || !isPlainObject(parsed)) return [];
  return Object.keys(input).flatMap((key) =>
    Object.hasOwn(parsed, key) ? unknownFields(input[key], parsed[key], [...path, key]) : [[...path, key].join(".")],
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

import { z } from "zod";

/*
 * Connector properties arrive as JSON from the API, as strings after `${VAR}` substitution,
 * and as strings in channels exported from Mirth. These accept both spellings, so every
 * connector reads "true" and "8080" the same way.
 */

/** A boolean property: `true`/`false`, or a string such as "true", "false", "1", "0", "yes", "no". */
export const flagProperty = z.union([z.boolean(), z.stringbool()]);

/** A whole-number property within [min, max]: a number, or a string of digits. */
export function wholeNumberProperty(
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): z.ZodType<number, number | string> {
  return z
    .union([
      z.number(),
      z.string().trim().regex(/^\d+$/, "expected a whole number").transform(Number),
    ])
    .pipe(z.number().int().min(min).max(max));
}

import { z } from "zod";
import { ROLES } from "./auth-types.js";

/** Printable, no spaces or colons (the colon separates issuer and account in otpauth:// URIs). */
export const usernameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, "1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit");

/** Length is checked against `[auth] password_min_length` by the service; this caps abuse (argon2 cost). */
export const passwordSchema = z.string().min(1).max(1024);

export const roleSchema = z.enum(ROLES);

export const loginBodySchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  totp: z.string().regex(/^\d{6}$/, "six digits").optional(),
});

export const createUserBodySchema = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  role: roleSchema,
});

export const updateUserBodySchema = z
  .strictObject({ role: roleSchema.optional(), password: passwordSchema.optional(), currentPassword: passwordSchema.optional() })
  .refine((body) => body.role !== undefined || body.password !== undefined, "give role or password");

/** No code: start a new enrollment. With a code from the new secret: confirm it now instead of at the next login. */
export const enrollMfaBodySchema = z.strictObject({ totp: z.string().regex(/^\d{6}$/, "six digits").optional() });

export const userResponseSchema = z.strictObject({
  id: z.int(),
  username: z.string(),
  role: roleSchema,
  mfaEnrolled: z.boolean(),
  mfaPending: z.boolean(),
  createdAt: z.int(),
  lastLoginAt: z.int().optional(),
  lockedUntil: z.int().optional(),
});

export const loginResponseSchema = z.strictObject({ sessionId: z.string(), user: userResponseSchema });
export const createUserResponseSchema = z.strictObject({ user: userResponseSchema, otpauthUri: z.string().optional() });
export const enrollMfaResponseSchema = z.strictObject({ otpauthUri: z.string() });
export const confirmMfaResponseSchema = z.strictObject({ user: userResponseSchema });

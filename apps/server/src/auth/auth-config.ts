import { z } from "zod";

/** The floor for password length: the minimum, which configuration can only raise. */
export const PASSWORD_MIN_LENGTH_FLOOR = 12;

const seconds = z.int().min(1);

/** The `[auth]` section of node-mirth.toml. Strict: an unknown key is an error. */
export const authConfigSchema = z.strictObject({
  session_idle_timeout_seconds: seconds
    .default(30 * 60)
    .describe("A session unused this long ends (its WebSockets close)."),
  session_absolute_timeout_seconds: seconds
    .default(8 * 60 * 60)
    .describe("A session ends this long after login, however busy."),
  lockout_threshold: z
    .int()
    .min(1)
    .max(100)
    .default(5)
    .describe("Consecutive failed logins (password or TOTP) that lock the account."),
  lockout_duration_seconds: seconds.default(15 * 60).describe("How long a locked account refuses every login."),
  mfa_required: z
    .boolean()
    .default(true)
    .describe("Local accounts get a TOTP secret at creation and every login needs a code."),
  password_min_length: z
    .int()
    .min(PASSWORD_MIN_LENGTH_FLOOR, `passwords shorter than ${PASSWORD_MIN_LENGTH_FLOOR} are never allowed`)
    .max(1024)
    .default(PASSWORD_MIN_LENGTH_FLOOR)
    .describe("Shortest password accepted; never below 12."),
  totp_issuer: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .refine((value) => !value.includes(":"), "the issuer may not contain ':' (it separates issuer and account in the URI)")
    .default("node-mirth")
    .describe("Issuer shown by the authenticator app for the otpauth:// URI."),
});

export type AuthConfig = z.output<typeof authConfigSchema>;
export type AuthConfigInput = z.input<typeof authConfigSchema>;

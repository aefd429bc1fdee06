import { describe, expect, it } from "vitest";
import { authConfigSchema } from "./auth-config.js";

describe("[auth] config", () => {
  it("defaults to MFA required, 12-character passwords, lockout after 5 failures", () => {
    expect(authConfigSchema.parse({})).toEqual({
      session_idle_timeout_seconds: 1800,
      session_absolute_timeout_seconds: 28_800,
      lockout_threshold: 5,
      lockout_duration_seconds: 900,
      mfa_required: true,
      password_min_length: 12,
      totp_issuer: "node-mirth",
    });
  });

  it("never allows a minimum password length below 12", () => {
    const result = authConfigSchema.safeParse({ password_min_length: 8 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["password_min_length"]);
    expect(authConfigSchema.parse({ password_min_length: 16 }).password_min_length).toBe(16);
  });

  it("rejects unknown keys and zero timeouts", () => {
    expect(authConfigSchema.safeParse({ disable_auth: true }).success).toBe(false);
    expect(authConfigSchema.safeParse({ session_idle_timeout_seconds: 0 }).success).toBe(false);
    expect(authConfigSchema.safeParse({ totp_issuer: "a:b" }).success).toBe(false);
  });
});

import { afterEach, describe, expect, it, vi } from "vitest";
import { isNodeMirthError } from "./errors.js";
import {
  assertSecureOrAllowed,
  InsecureTlsError,
  insecureTlsAllowed,
  resetInsecureTlsForTests,
  warnInsecureUse,
  type PolicyWarning,
} from "./insecure-tls.js";

const setting = "HTTP sender 'lab results': rejectUnauthorized=false";

describe("insecureTlsAllowed", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    resetInsecureTlsForTests();
  });

  it.each([
    ["1", true],
    ["true", true],
    [" TRUE ", true],
    ["0", false],
    ["false", false],
    ["yes", false],
    ["", false],
    [undefined, false],
  ])("reads MIRTH_ALLOW_INSECURE_TLS=%j from an explicit env as %s", (value, expected) => {
    expect(insecureTlsAllowed(value === undefined ? {} : { MIRTH_ALLOW_INSECURE_TLS: value })).toBe(
      expected,
    );
  });

  it("reads process.env once per process until reset", () => {
    vi.stubEnv("MIRTH_ALLOW_INSECURE_TLS", "");
    resetInsecureTlsForTests();
    expect(insecureTlsAllowed()).toBe(false);
    vi.stubEnv("MIRTH_ALLOW_INSECURE_TLS", "1");
    expect(insecureTlsAllowed()).toBe(false);
    resetInsecureTlsForTests();
    expect(insecureTlsAllowed()).toBe(true);
    vi.stubEnv("MIRTH_ALLOW_INSECURE_TLS", "0");
    expect(insecureTlsAllowed()).toBe(true);
  });
});

describe("assertSecureOrAllowed", () => {
  it("throws ERR_POLICY_INSECURE_TLS naming the setting and the escape when not allowed", () => {
    const onWarning = vi.fn();
    let caught: unknown;
    try {
      assertSecureOrAllowed(setting, { env: {}, onWarning });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InsecureTlsError);
    expect(isNodeMirthError(caught)).toBe(true);
    const error = caught as InsecureTlsError;
    expect(error.code).toBe("ERR_POLICY_INSECURE_TLS");
    expect(error.message).toContain(setting);
    expect(error.message).toContain("MIRTH_ALLOW_INSECURE_TLS=1");
    expect(error.details).toEqual({ setting, env: "MIRTH_ALLOW_INSECURE_TLS" });
    expect(onWarning).not.toHaveBeenCalled();
  });

  it("warns on every use when allowed", () => {
    const warnings: PolicyWarning[] = [];
    const env = { MIRTH_ALLOW_INSECURE_TLS: "1" };
    assertSecureOrAllowed(setting, { env, onWarning: (w) => warnings.push(w) });
    assertSecureOrAllowed("SFTP reader 'drop': unknown host key accepted", {
      env,
      onWarning: (w) => warnings.push(w),
    });
    expect(warnings.map((w) => w.code)).toEqual([
      "WARN_POLICY_INSECURE_TLS",
      "WARN_POLICY_INSECURE_TLS",
    ]);
    expect(warnings[0]?.message).toContain(`SECURITY WARNING: insecure setting in use: ${setting}`);
    expect(warnings[1]?.details).toEqual({
      setting: "SFTP reader 'drop': unknown host key accepted",
      env: "MIRTH_ALLOW_INSECURE_TLS",
    });
  });
});

describe("warnInsecureUse", () => {
  it("defaults to process.emitWarning with the warning code", () => {
    const spy = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      warnInsecureUse(setting);
      expect(spy).toHaveBeenCalledOnce();
      expect(String(spy.mock.calls[0]?.[0])).toContain(setting);
      expect(spy.mock.calls[0]?.[1]).toMatchObject({ code: "WARN_POLICY_INSECURE_TLS" });
    } finally {
      spy.mockRestore();
    }
  });
});

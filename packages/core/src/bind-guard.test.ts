import { describe, expect, it, vi } from "vitest";
import { assertBindAllowed, InsecureBindError } from "./bind-guard.js";
import { isNodeMirthError } from "./errors.js";
import type { PolicyWarning } from "./insecure-tls.js";

const kind = "MLLP listener 'ADT in'";

function refusal(host: string | undefined): InsecureBindError {
  try {
    assertBindAllowed({ host, kind, tls: false });
  } catch (error) {
    if (error instanceof InsecureBindError) return error;
    throw error;
  }
  throw new Error(`expected ${String(host)} to be refused`);
}

describe("assertBindAllowed", () => {
  it.each([
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "[::1]",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",
    "localhost",
    "LocalHost",
  ])("allows loopback %s without TLS", (host) => {
    expect(assertBindAllowed({ host, kind, tls: false })).toEqual({ host, reason: "loopback" });
  });

  it.each([
    "0.0.0.0",
    "::",
    "192.168.1.20",
    "10.0.0.5",
    "fd00::1",
    "mirth.example.org",
    "foo.localhost",
    "127.1",
    "",
    undefined,
  ])("refuses %j without TLS, naming the listener, the host and the fixes", (host) => {
    const error = refusal(host);
    expect(error.code).toBe("ERR_POLICY_INSECURE_BIND");
    expect(isNodeMirthError(error)).toBe(true);
    expect(error.message).toContain(kind);
    expect(error.message).toContain("Enable TLS");
    expect(error.message).toContain("127.0.0.1");
    expect(error.message).toContain("--allow-insecure-bind");
    expect(error.details).toEqual({ kind, host: host ?? "" });
    if (host) expect(error.message).toContain(`"${host}"`);
    else expect(error.message).toContain("every interface");
  });

  it.each(["0.0.0.0", "::", "192.168.1.20"])(
    "allows %s with TLS, or behind a trusted upstream terminator",
    (host) => {
      expect(assertBindAllowed({ host, kind, tls: true }).reason).toBe("tls");
      expect(assertBindAllowed({ host, kind: "API", tls: "upstream" }).reason).toBe("upstream-tls");
    },
  );

  it("allows the escape with a loud warning to onWarning, also returned", () => {
    const warnings: PolicyWarning[] = [];
    const decision = assertBindAllowed({
      host: "0.0.0.0",
      kind,
      tls: false,
      allowInsecureBind: true,
      onWarning: (w) => warnings.push(w),
    });
    expect(decision.reason).toBe("insecure-allowed");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toBe(decision.warning);
    expect(warnings[0]?.code).toBe("WARN_POLICY_INSECURE_BIND");
    expect(warnings[0]?.message).toMatch(
      /SECURITY WARNING: MLLP listener 'ADT in' listens on "0.0.0.0" WITHOUT TLS/,
    );
    expect(warnings[0]?.details).toEqual({ kind, host: "0.0.0.0" });
  });

  it("warns through process.emitWarning when no handler is given", () => {
    const spy = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      assertBindAllowed({ host: "::", kind, tls: false, allowInsecureBind: true });
      expect(spy).toHaveBeenCalledOnce();
      expect(String(spy.mock.calls[0]?.[0])).toContain("WITHOUT TLS");
    } finally {
      spy.mockRestore();
    }
  });

  it("does not warn when the escape is set but not needed", () => {
    const onWarning = vi.fn();
    expect(
      assertBindAllowed({ host: "127.0.0.1", kind, tls: false, allowInsecureBind: true, onWarning })
        .warning,
    ).toBeUndefined();
    expect(
      assertBindAllowed({ host: "0.0.0.0", kind, tls: true, allowInsecureBind: true, onWarning })
        .reason,
    ).toBe("tls");
    expect(onWarning).not.toHaveBeenCalled();
  });

  it("keeps allowInsecureBind strict: only true opens the escape", () => {
    expect(() =>
      assertBindAllowed({
        host: "0.0.0.0",
        kind,
        tls: false,
        allowInsecureBind: "true" as unknown as boolean,
      }),
    ).toThrow(InsecureBindError);
  });
});

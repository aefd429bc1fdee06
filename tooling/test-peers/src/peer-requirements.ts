import { spawnSync } from "node:child_process";
import { describe, it } from "vitest";
import { findBinary } from "./find-binary.js";

/** A binary on PATH, or a Python module importable by some python3 on this machine. */
export type PeerRequirement = string | { pythonModule: string };

export interface ResolvedPeers {
  /** Absolute paths of the required binaries, by the name they were asked for. */
  bin: Record<string, string>;
  /** For each required Python module, a python3 that can import it. */
  python: Record<string, string>;
}

/** CI sets REQUIRE_PEERS=1: there a missing peer is a failure, never a silent skip. */
export function peersRequired(): boolean {
  return process.env.REQUIRE_PEERS === "1";
}

/**
 * Debian's python3-* packages install for /usr/bin/python3, which need not be the
 * python3 first on PATH (pyenv, venvs), so both are tried.
 */
export function findPythonWithModule(module: string): string | undefined {
  const candidates = [findBinary("python3"), "/usr/bin/python3"].filter(
    (path): path is string => path !== undefined,
  );
  for (const python of new Set(candidates)) {
    const probe = spawnSync(python, ["-c", `import ${module}`], { stdio: "ignore", timeout: 10_000 });
    if (probe.status === 0) return python;
  }
  return undefined;
}

/** Resolves requirements; `missing` names each one that is not on this machine. */
export function resolvePeers(requirements: readonly PeerRequirement[]): {
  peers: ResolvedPeers;
  missing: string[];
} {
  const peers: ResolvedPeers = { bin: {}, python: {} };
  const missing: string[] = [];
  for (const requirement of requirements) {
    if (typeof requirement === "string") {
      const path = findBinary(requirement);
      if (path === undefined) missing.push(`binary '${requirement}'`);
      else peers.bin[requirement] = path;
    } else {
      const python = findPythonWithModule(requirement.pythonModule);
      if (python === undefined) missing.push(`python3 module '${requirement.pythonModule}'`);
      else peers.python[requirement.pythonModule] = python;
    }
  }
  return { peers, missing };
}

/**
 * A describe block for tests against real peers. When a peer is missing the block is
 * skipped with the reason, or, under REQUIRE_PEERS=1, replaced by one failing test that
 * names what is missing.
 */
export function describeWithPeers(
  title: string,
  requirements: readonly PeerRequirement[],
  body: (peers: ResolvedPeers) => void,
): void {
  const { peers, missing } = resolvePeers(requirements);
  if (missing.length === 0) {
    describe(title, () => body(peers));
    return;
  }
  const reason = `missing peer: ${missing.join(", ")}`;
  if (peersRequired()) {
    describe(title, () => {
      it("has its real peers installed (REQUIRE_PEERS=1)", () => {
        throw new Error(`${reason}; install it (see .ci/run) or unset REQUIRE_PEERS`);
      });
    });
    return;
  }
  describe.skip(`${title} (${reason})`, () => body(peers));
}

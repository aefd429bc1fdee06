export { findBinary } from "./find-binary.js";
export { freePort } from "./free-port.js";
export { runCommand, type CommandResult, type RunCommandOptions } from "./run-command.js";
export { createTempDir, type TempDir } from "./temp-dir.js";
export { makeTestPki, type TestPki } from "./test-pki.js";
export {
  startPeer,
  type PeerLaunchContext,
  type PeerReadiness,
  type RunningPeer,
  type StartPeerOptions,
} from "./start-peer.js";
export {
  describeWithPeers,
  findPythonWithModule,
  peersRequired,
  resolvePeers,
  type PeerRequirement,
  type ResolvedPeers,
} from "./peer-requirements.js";
export { startSourceChild, type SourceChild } from "./start-source-child.js";
export { TS_SOURCE_HOOK } from "./ts-source-hook-path.js";
export { startSshd, type RunningSshd } from "./start-sshd.js";
export { startVsftpd, type RunningVsftpd, type StartVsftpdOptions } from "./start-vsftpd.js";

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import { runCommand } from "./run-command.js";
import { startPeer, type RunningPeer } from "./start-peer.js";

export interface RunningSshd extends RunningPeer {
  /** The user the tests log in as: the one running them (sshd can only switch to it unprivileged). */
  username: string;
  /** Private key (ed25519, no passphrase) authorized for `username`. */
  userKeyPath: string;
  /** The same kind of key, encrypted with `userKeyPassphrase`, also authorized. */
  encryptedUserKeyPath: string;
  userKeyPassphrase: string;
  /** The server's public host key line (`ssh-ed25519 AAAA...`). */
  hostPublicKey: string;
  /** A known_hosts file naming this server as `[127.0.0.1]:port`. */
  knownHostsPath: string;
}

async function keygen(path: string, passphrase = ""): Promise<void> {
  const result = await runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", "node-mirth-test", "-f", path], { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`ssh-keygen failed: ${result.stderr.toString()}`);
}

/**
 * OpenSSH sshd on an ephemeral loopback port with a fresh host key and a temp config: public
 * key authentication only, the internal SFTP subsystem, no PAM. It logs in the user running
 * the tests (sshd cannot switch to another user without root).
 */
export async function startSshd(): Promise<RunningSshd> {
  const username = userInfo().username;
  // The privilege-separation directory sshd wants when it runs as root (made by the service unit normally).
  if (process.getuid?.() === 0) await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const peer = await startPeer({
    command: "sshd",
    args: (ctx) => ["-D", "-e", "-f", join(ctx.dir, "sshd_config")],
    prepare: async (ctx) => {
      await keygen(join(ctx.dir, "host_key"));
      await keygen(join(ctx.dir, "user_key"));
      await keygen(join(ctx.dir, "user_key_encrypted"), "test passphrase");
      const authorized = [await readFile(join(ctx.dir, "user_key.pub"), "utf8"), await readFile(join(ctx.dir, "user_key_encrypted.pub"), "utf8")].join("");
      await writeFile(join(ctx.dir, "authorized_keys"), authorized, { mode: 0o600 });
      await writeFile(
        join(ctx.dir, "sshd_config"),
        [
          `Port ${ctx.port}`,
          `ListenAddress ${ctx.host}`,
          `HostKey ${join(ctx.dir, "host_key")}`,
          `PidFile ${join(ctx.dir, "sshd.pid")}`,
          `AuthorizedKeysFile ${join(ctx.dir, "authorized_keys")}`,
          "StrictModes no",
          "UsePAM no",
          "PasswordAuthentication no",
          "KbdInteractiveAuthentication no",
          "PubkeyAuthentication yes",
          "PermitRootLogin prohibit-password",
          "Subsystem sftp internal-sftp",
          `AllowUsers ${username}`,
          "MaxStartups 100",
          "MaxSessions 100",
          "",
        ].join("\n"),
      );
    },
    ready: { kind: "output", pattern: /Server listening on/ },
  });
  const hostPublicKey = (await readFile(join(peer.dir, "host_key.pub"), "utf8")).trim().split(/\s+/).slice(0, 2).join(" ");
  const knownHostsPath = join(peer.dir, "known_hosts");
  await writeFile(knownHostsPath, `[${peer.host}]:${peer.port} ${hostPublicKey}\n`);
  return {
    ...peer,
    username,
    userKeyPath: join(peer.dir, "user_key"),
    encryptedUserKeyPath: join(peer.dir, "user_key_encrypted"),
    userKeyPassphrase: "test passphrase",
    hostPublicKey,
    knownHostsPath,
  };
}

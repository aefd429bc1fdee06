import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startPeer, type RunningPeer } from "./start-peer.js";

export interface StartVsftpdOptions {
  /** PEM certificate and key: FTPS is then required (explicit AUTH TLS, or implicit with `implicit`). */
  tls?: { certPath: string; keyPath: string; implicit?: boolean };
}

export interface RunningVsftpd extends RunningPeer {
  /** A directory anonymous clients may read, write, rename and delete in (an absolute path, as clients name it). */
  filesDir: string;
}

/**
 * vsftpd on an ephemeral loopback port, passive mode, anonymous login with write access.
 * `run_as_launching_user=YES` lets it run without root: it then cannot chroot or switch
 * users, so clients log in as `anonymous` and see the real file system with the rights of
 * the user running the tests; use absolute paths under `filesDir`.
 */
export async function startVsftpd(options: StartVsftpdOptions = {}): Promise<RunningVsftpd> {
  const tls = options.tls;
  const peer = await startPeer({
    command: "vsftpd",
    args: (ctx) => [join(ctx.dir, "vsftpd.conf")],
    prepare: async (ctx) => {
      await mkdir(join(ctx.dir, "root", "files"), { recursive: true });
      await mkdir(join(ctx.dir, "empty"));
      await chmod(join(ctx.dir, "root", "files"), 0o777);
      const lines = [
        "listen=YES",
        `listen_address=${ctx.host}`,
        `listen_port=${ctx.port}`,
        "background=NO",
        "run_as_launching_user=YES",
        "anonymous_enable=YES",
        "local_enable=NO",
        `anon_root=${join(ctx.dir, "root")}`,
        "no_anon_password=YES",
        "write_enable=YES",
        "anon_upload_enable=YES",
        "anon_mkdir_write_enable=YES",
        "anon_other_write_enable=YES",
        "anon_umask=022",
        `secure_chroot_dir=${join(ctx.dir, "empty")}`,
        "pasv_enable=YES",
        `pasv_address=${ctx.host}`,
        "seccomp_sandbox=NO",
        "xferlog_enable=NO",
        "dirlist_enable=YES",
        "mdtm_write=NO",
      ];
      if (tls !== undefined) {
        lines.push(
          "ssl_enable=YES",
          `implicit_ssl=${tls.implicit === true ? "YES" : "NO"}`,
          "allow_anon_ssl=YES",
          "force_anon_logins_ssl=YES",
          "force_anon_data_ssl=YES",
          "ssl_tlsv1=NO",
          "ssl_sslv2=NO",
          "ssl_sslv3=NO",
          "ssl_ciphers=HIGH",
          // Node's TLS 1.3 data connections do not resume the control session the way vsftpd checks.
          "require_ssl_reuse=NO",
          `rsa_cert_file=${tls.certPath}`,
          `rsa_private_key_file=${tls.keyPath}`,
        );
      }
      await writeFile(join(ctx.dir, "vsftpd.conf"), lines.join("\n") + "\n");
    },
  });
  return { ...peer, filesDir: join(peer.dir, "root", "files") };
}

import { chmod, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";
import { CliError } from "./cli-error.js";

const storedSessionSchema = z.strictObject({
  sessionId: z.string().min(1),
  username: z.string(),
  role: z.string().optional(),
  createdAt: z.string(),
});

export type StoredSession = z.infer<typeof storedSessionSchema>;

/** One session per server origin, so a session id is only ever sent to the server that issued it. */
const sessionFileSchema = z.strictObject({
  version: z.literal(1),
  sessions: z.record(z.string(), storedSessionSchema),
});

type SessionFileContents = z.infer<typeof sessionFileSchema>;

/** `$XDG_CONFIG_HOME/node-mirth/session.json`, else `~/.config/node-mirth/session.json`. */
export function sessionFilePath(env: NodeJS.ProcessEnv): string {
  const configHome =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== ""
      ? env.XDG_CONFIG_HOME
      : join(env.HOME ?? homedir(), ".config");
  return join(configHome, "node-mirth", "session.json");
}

/**
 * The session file: readable and writable by its owner only (0600, directory 0700), written
 * atomically (temp file then rename) so a crash never leaves half a file.
 */
export class SessionFile {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async get(origin: string): Promise<StoredSession | undefined> {
    return (await this.read()).sessions[origin];
  }

  async put(origin: string, session: StoredSession): Promise<void> {
    const contents = await this.read();
    contents.sessions[origin] = session;
    await this.write(contents);
  }

  /** Forgets the origin's session; removes the file when no session is left. */
  async remove(origin: string): Promise<boolean> {
    const contents = await this.read();
    if (contents.sessions[origin] === undefined) return false;
    delete contents.sessions[origin];
    if (Object.keys(contents.sessions).length === 0) await rm(this.path, { force: true });
    else await this.write(contents);
    return true;
  }

  private async read(): Promise<SessionFileContents> {
    let text: string;
    try {
      const info = await stat(this.path);
      // Like ssh with a private key: a session id others can read is not used.
      if ((info.mode & 0o077) !== 0) {
        throw new CliError(
          "ERR_CLI_SESSION_FILE_UNSAFE",
          `${this.path} has mode ${(info.mode & 0o777).toString(8)}; run \`chmod 600 ${this.path}\` or \`mirth-cli login\` again after deleting it.`,
          { details: { path: this.path } },
        );
      }
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, sessions: {} };
      throw error;
    }
    const parsed = sessionFileSchema.safeParse(safeJson(text));
    // A file of another shape is replaced at the next login rather than blocking the user.
    return parsed.success ? parsed.data : { version: 1, sessions: {} };
  }

  private async write(contents: SessionFileContents): Promise<void> {
    const directory = dirname(this.path);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    const handle = await open(temporary, "w", 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(contents, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The umask cannot widen 0600, but an existing temp file could have another mode.
    await chmod(temporary, 0o600);
    await rename(temporary, this.path);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

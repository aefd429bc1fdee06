import { tlsPropertiesSchema } from "@node-mirth/certs";
import { flagProperty as flag, wholeNumberProperty as count } from "@node-mirth/core";
import { z } from "zod";

const text = z.string().trim().min(1);

/**
 * Properties of the `file`, `sftp`, `ftp` and `ftps` connectors, for both roles. Connection
 * keys are ignored by `file`; reader keys by a destination, writer keys by a source.
 */
export const remoteFilePropertiesSchema = z.strictObject({
  /** Remote host (sftp, ftp, ftps). */
  host: text.optional(),
  /** Default 22 (sftp), 21 (ftp, ftps explicit), 990 (ftps implicit). */
  port: count(1, 65535).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  /** SFTP private key file; `passphrase` when it is encrypted. */
  privateKeyPath: text.optional(),
  passphrase: z.string().optional(),
  /** SFTP: OpenSSH known_hosts file holding the server's key. */
  knownHostsPath: text.optional(),
  /** SFTP: pinned host key fingerprint, `SHA256:...`. */
  hostKeySha256: text.optional(),
  keepaliveIntervalMs: count(0).default(15_000),
  connectTimeoutMs: count(1).default(20_000),
  /** ftps: explicit (AUTH TLS) or implicit TLS. */
  ftpsMode: z.enum(["explicit", "implicit"]).default("explicit"),
  /** ftps: trust store, client certificate, TLS floor (@node-mirth/certs). */
  tls: tlsPropertiesSchema.optional(),
  /** Reader: the directory polled. Writer: the directory template. */
  directory: text,
  // Reader.
  fileFilter: z.string().default("*"),
  filterIsRegex: flag.default(false),
  recursive: flag.default(false),
  sortBy: z.enum(["name", "date", "size"]).default("name"),
  pollIntervalMs: count(1).default(5_000),
  stableMs: count(0).default(1_000),
  maxFilesPerPoll: count(1).default(1_000),
  content: z.enum(["text", "binary"]).default("text"),
  charset: z.enum(["utf8", "latin1", "ascii", "utf16le"]).default("utf8"),
  split: z.enum(["file", "lines", "hl7-batch"]).default("file"),
  maxFileBytes: count(1).default(256 * 1024 * 1024),
  afterProcessing: z.enum(["delete", "move", "leave"]).default("delete"),
  moveToDirectory: text.optional(),
  onError: z.enum(["move", "leave"]).default("leave"),
  errorDirectory: text.optional(),
  /** The processed-file ledger (SQLite); default `<engine dataDir>/remotefile/<channel id>.ledger.sqlite`. */
  ledgerPath: text.optional(),
  // Writer.
  fileName: text.default("${originalFilename}"),
  fileExists: z.enum(["append", "overwrite", "error"]).default("overwrite"),
  tempFile: flag.default(true),
  createDirectories: flag.default(true),
});

export type RemoteFileProperties = z.output<typeof remoteFilePropertiesSchema>;
export type RemoteFilePropertiesInput = z.input<typeof remoteFilePropertiesSchema>;

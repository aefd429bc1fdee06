export {
  isRemoteFileError,
  REMOTEFILE_ERROR_CODES,
  RemoteFileError,
  type RemoteFileErrorCode,
} from "./errors.js";
export type { FileEntry, FileSystemClient, FileSystemConnector, WriteStreamOptions } from "./file-system-client.js";
export { LocalFileClient } from "./local-file-client.js";
export { connectSftp, SftpFileClient, type SftpConnectOptions } from "./sftp-file-client.js";
export { connectFtp, FtpFileClient, type FtpConnectOptions, type FtpSecurity } from "./ftp-file-client.js";
export { parseKnownHosts, sha256Fingerprint, checkKnownHost, knownHostName, type KnownHostEntry, type HostKeyDecision } from "./known-hosts.js";
export { createFileNameMatcher, type FileNameMatcher } from "./file-filter.js";
export { MessageSplitter, type SplitMode, type TextCharset } from "./message-splitter.js";
export { FileLedger, type LedgerKey, type LedgerState } from "./file-ledger.js";
export { FileReader, type AfterProcessing, type FileReaderOptions, type PollReport, type SortBy } from "./file-reader.js";
export { FileWriter, type FileExistsPolicy, type FileWriterOptions, type WriteResult } from "./file-writer.js";
export { remoteFilePropertiesSchema, type RemoteFileProperties, type RemoteFilePropertiesInput } from "./remotefile-properties.js";
export { remotefile, REMOTEFILE_SCHEMES, type RemoteFileScheme } from "./remotefile-connector.js";

import { CertsError } from "./certs-error.js";
import type { KeystoreContents, KeystoreKeyEntry } from "./keystore-contents.js";

/** The private-key entry named `alias` (case-insensitive, as keytool), or the only one. */
export function selectKeyEntry(
  contents: KeystoreContents,
  file: string,
  alias?: string,
): KeystoreKeyEntry {
  const entries = contents.keyEntries;
  const names = entries.map((entry) => entry.alias).join(", ");
  if (alias !== undefined) {
    const wanted = alias.toLowerCase();
    const entry = entries.find((candidate) => candidate.alias.toLowerCase() === wanted);
    if (entry !== undefined) return entry;
    throw new CertsError(
      "ERR_CERTS_ALIAS_NOT_FOUND",
      `${file} has no private-key entry "${alias}"; its private-key entries are: ${names || "none"}.`,
      { details: { file, alias } },
    );
  }
  const [only, ...others] = entries;
  if (only === undefined) {
    throw new CertsError(
      "ERR_CERTS_NO_KEY_ENTRY",
      `${file} holds no private-key entry (only trusted certificates); use it as a trust store, or point at the keystore that holds the key.`,
      { details: { file } },
    );
  }
  if (others.length > 0) {
    throw new CertsError(
      "ERR_CERTS_ALIAS_REQUIRED",
      `${file} holds several private-key entries (${names}); choose one with keyAlias / --alias.`,
      { details: { file, aliases: entries.map((entry) => entry.alias) } },
    );
  }
  return only;
}

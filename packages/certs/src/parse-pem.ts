export interface PemBlock {
  /** The word(s) after BEGIN, e.g. `CERTIFICATE`, `RSA PRIVATE KEY`. */
  label: string;
  /** The whole block, BEGIN to END line, with any RFC 1421 headers (Proc-Type, DEK-Info). */
  pem: string;
  /** The base64 body decoded; for RFC 1421 encrypted keys this is still ciphertext. */
  der: Buffer;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/**
 * Splits text into its PEM blocks in file order. Text between blocks (openssl's
 * "Bag Attributes", "subject=" lines, comments) is ignored, as OpenSSL does.
 */
export function parsePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const label = match[1] ?? "";
    const body = (match[2] ?? "")
      .split(/\r?\n/)
      .filter((line) => !line.includes(":"))
      .join("");
    blocks.push({ label, pem: `${match[0]}\n`, der: Buffer.from(body, "base64") });
  }
  return blocks;
}

/** True when `bytes` look like PEM text rather than a binary keystore. */
export function looksLikePem(bytes: Buffer): boolean {
  return bytes
    .subarray(0, 64 * 1024)
    .toString("latin1")
    .includes("-----BEGIN ");
}

import { argon2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const argon2Raw = promisify(argon2);

/**
 * argon2 runs on libuv's thread pool (4 threads by default), which file and DNS work share.
 * A flood of logins may use at most two of them; the rest wait their turn here.
 */
const MAX_CONCURRENT = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function argon2Async(...args: Parameters<typeof argon2Raw>): Promise<Buffer> {
  // A finishing call hands its slot straight to the next waiter, so the count never overshoots.
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
  else running += 1;
  try {
    return await argon2Raw(...args);
  } finally {
    const next = waiting.shift();
    if (next === undefined) running -= 1;
    else next();
  }
}

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. Stored per hash, so raising them later keeps old hashes valid. */
const PARAMETERS = { memory: 19_456, passes: 2, parallelism: 1, tagLength: 32 } as const;
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** argon2id of the password, as a PHC string `$argon2id$v=19$m=...,t=...,p=...$salt$hash`. */
export async function hashPassword(password: string): Promise<string> {
  const nonce = randomBytes(16);
  const tag = await argon2Async("argon2id", { message: password, nonce, ...PARAMETERS });
  return `$argon2id$v=19$m=${PARAMETERS.memory},t=${PARAMETERS.passes},p=${PARAMETERS.parallelism}$${b64(nonce)}$${b64(tag)}`;
}

/** Constant-time check of a password against a stored PHC string; false for a malformed one. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = PHC.exec(stored);
  if (match === null) return false;
  const expected = Buffer.from(match[5]!, "base64");
  const tag = await argon2Async("argon2id", {
    message: password,
    nonce: Buffer.from(match[4]!, "base64"),
    memory: Number(match[1]),
    passes: Number(match[2]),
    parallelism: Number(match[3]),
    tagLength: expected.length,
  });
  return tag.length === expected.length && timingSafeEqual(tag, expected);
}

/** A hash of a random password: verifying against it costs what a real check costs, for unknown usernames. */
export async function decoyPasswordHash(): Promise<string> {
  return hashPassword(randomBytes(24).toString("base64"));
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/=+$/, "");
}

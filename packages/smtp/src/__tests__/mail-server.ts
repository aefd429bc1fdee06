import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

/** What the server saw, in order: `connect`, `auth:<user>`, `mail:<from>:<secure>`, `rcpt:<to>`, `data`. */
export type ServerEvent = string;

export interface MailServerOptions {
  /** Implicit TLS (SMTPS) from the first byte. */
  secure?: boolean;
  /** Key and certificate PEM; without them STARTTLS is not offered. */
  tls?: { key: Buffer; cert: Buffer };
  /** Require a client certificate issued by this CA (mTLS). */
  clientCa?: Buffer;
  /** Neither advertise nor accept STARTTLS (what a stripping middlebox leaves). */
  noStartTls?: boolean;
  /** Accepted logins; without it AUTH is optional and any login is refused. */
  users?: Record<string, string>;
  /** Accept AUTH over a plaintext connection (smtp-server refuses it by default). */
  allowInsecureAuth?: boolean;
  /** An SMTP error for a recipient, e.g. `{ code: 451, text: "try later" }`; undefined accepts. */
  rcptReply?: (address: string) => { code: number; text: string } | undefined;
  port?: number;
}

export interface ReceivedMail {
  parsed: ParsedMail;
  envelope: { from: string; to: string[] };
  secure: boolean;
}

export interface MailServer extends AsyncDisposable {
  port: number;
  events: ServerEvent[];
  mails: ReceivedMail[];
  /** Resolves with the next mail received (or one already waiting). */
  nextMail(): Promise<ReceivedMail>;
  close(): Promise<void>;
}

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/** A real SMTP server (smtp-server) on a loopback port, parsing each mail with mailparser. */
export async function startMailServer(options: MailServerOptions = {}): Promise<MailServer> {
  const events: ServerEvent[] = [];
  const mails: ReceivedMail[] = [];
  const waiting: ((mail: ReceivedMail) => void)[] = [];
  const settings: SMTPServerOptions = {
    secure: options.secure === true,
    ...(options.tls === undefined ? {} : { key: options.tls.key, cert: options.tls.cert }),
    ...(options.clientCa === undefined ? {} : { ca: options.clientCa, requestCert: true, rejectUnauthorized: true }),
    disabledCommands: options.tls === undefined || options.noStartTls === true ? ["STARTTLS"] : [],
    authOptional: true,
    allowInsecureAuth: options.allowInsecureAuth === true,
    logger: false,
    // No reverse DNS of 127.0.0.1 per connection: that wait would dominate every figure.
    disableReverseLookup: true,
    closeTimeout: 1_000,
    onConnect(_session, callback) {
      events.push("connect");
      callback();
    },
    onAuth(auth, _session, callback) {
      events.push(`auth:${auth.username ?? ""}`);
      const expected = options.users?.[auth.username ?? ""];
      if (expected === undefined || expected !== auth.password) {
        callback(smtpError(535, "5.7.8 Authentication credentials invalid"));
        return;
      }
      callback(null, { user: auth.username });
    },
    onMailFrom(address, session, callback) {
      events.push(`mail:${address.address}:${session.secure}`);
      callback();
    },
    onRcptTo(address, _session, callback) {
      events.push(`rcpt:${address.address}`);
      const reply = options.rcptReply?.(address.address);
      callback(reply === undefined ? undefined : smtpError(reply.code, reply.text));
    },
    onData(stream, session, callback) {
      events.push("data");
      simpleParser(stream).then(
        (parsed) => {
          const mail: ReceivedMail = {
            parsed,
            envelope: {
              from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            secure: session.secure,
          };
          const waiter = waiting.shift();
          if (waiter === undefined) mails.push(mail);
          else waiter(mail);
          callback();
        },
        (error: unknown) => callback(error as Error),
      );
    },
  };
  const server = new SMTPServer(settings);
  server.on("error", () => {});
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server.server, "listening");
  const { port } = server.server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
    return closed;
  };
  return {
    port,
    events,
    mails,
    nextMail: () => {
      const mail = mails.shift();
      return mail === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(mail);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

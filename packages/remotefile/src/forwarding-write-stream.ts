import { Writable } from "node:stream";

/**
 * A Writable in front of a transfer whose completion is confirmed separately (an SFTP handle
 * close, an FTP 226): `finish` waits for `done`, so "written" means the server has it.
 */
export function forwardingWriteStream(target: Writable, done: Promise<void>): Writable {
  // Observed early so a failure before `end()` is never an unhandled rejection.
  let failure: unknown;
  done.catch((error: unknown) => {
    failure = error;
  });
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (failure !== undefined) return callback(failure as Error);
      if (target.write(chunk)) return callback();
      const onDrain = () => {
        target.off("close", onClose);
        callback();
      };
      const onClose = () => {
        target.off("drain", onDrain);
        callback(failure === undefined ? new Error("the transfer closed before the write finished") : (failure as Error));
      };
      target.once("drain", onDrain);
      target.once("close", onClose);
    },
    final(callback) {
      target.end();
      done.then(
        () => callback(),
        (error: unknown) => callback(error as Error),
      );
    },
    destroy(error, callback) {
      if (error !== null) target.destroy(error);
      callback(error);
    },
  });
}

import type { IncomingMessage } from "node:http";
import { ApiError } from "./api-errors.js";

/**
 * Reads a JSON body of at most `limit` bytes. Unlike body-parser, which drains an oversized
 * body to its end before answering, this stops at the limit (or at once when Content-Length
 * already says too much): the caller answers 413 with `Connection: close`, and the rest of
 * the body is never read.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding !== "identity") {
    return Promise.reject(new ApiError("ERR_API_UNSUPPORTED_MEDIA_TYPE", "Send the request body without Content-Encoding."));
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        finish();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      finish();
      try {
        resolve(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks))));
      } catch {
        reject(new ApiError("ERR_API_MALFORMED_JSON", "The request body is not valid UTF-8 JSON."));
      }
    };
    const onError = (error: Error) => {
      finish();
      reject(error);
    };
    const finish = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

function tooLarge(limit: number): ApiError {
  return new ApiError("ERR_API_BODY_TOO_LARGE", `The request body is larger than this route accepts (${limit} bytes).`, { details: { limitBytes: limit } });
}

import { isNodeMirthError } from "@node-mirth/core";
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";
import { ApiError } from "./api-errors.js";
import { httpStatusOf } from "./error-status.js";

interface ApiFailure {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Any thrown value as `{ status, code, message }`; unknown errors say nothing about themselves. */
export function toApiFailure(error: unknown): ApiFailure {
  const typed = isNodeMirthError(error) ? error : undefined;
  if (typed === undefined) {
    return { status: 500, code: "ERR_API_INTERNAL", message: "An unexpected error; the server log has the details." };
  }
  const details = (typed as { details?: Record<string, unknown> }).details;
  return {
    status: httpStatusOf(typed.code),
    code: typed.code,
    message: typed.message,
    ...(details === undefined || Object.keys(details).length === 0 ? {} : { details }),
  };
}

/** The API's last handler: every failure answers `{ code, message }` with its mapped status. */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  // eslint-disable-next-line max-params -- express knows an error handler by its four parameters
  return (error: unknown, req, res, _next) => {
    const failure = toApiFailure(error);
    if (failure.status >= 500) logger.error({ err: error, method: req.method, path: req.path }, "API request failed");
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A body we refused to read stays on the socket: close it instead of reading it.
    if (!req.complete) res.setHeader("Connection", "close");
    res.status(failure.status).json({
      code: failure.code,
      message: failure.message,
      ...(failure.details === undefined ? {} : { details: failure.details }),
    });
  };
}

/** Any method and path no route matches. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError("ERR_API_NOT_FOUND", `No API route answers ${req.method} ${req.path}.`));
};

import { isNodeMirthError, NodeMirthError } from "@node-mirth/core";
import { describe, expect, it } from "vitest";
import { HttpError, HttpStatusError, isHttpError } from "./errors.js";

describe("error catalogue", () => {
  it("errors are NodeMirthErrors recognized by code, and carry no body in their message", () => {
    const error = new HttpStatusError({ statusCode: 503, retryable: true, retryAfterMs: 2000, body: Buffer.from("PID|secret"), headers: {} });
    expect(error).toBeInstanceOf(NodeMirthError);
    expect(error).toBeInstanceOf(HttpError);
    expect(error.name).toBe("HttpStatusError");
    expect(isNodeMirthError(error) && isHttpError(error)).toBe(true);
    expect(error.message).toBe("the server answered HTTP 503 (will be retried); the server asked to wait 2 s");
    expect(error.details).toEqual({ statusCode: 503, retryable: true });
    expect(isHttpError(Object.assign(new Error("x"), { code: "ERR_OTHER" }))).toBe(false);
  });
});

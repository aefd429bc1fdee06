import type { ChannelInput } from "@node-mirth/core";

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when the answer is not JSON. */
  body: unknown;
}

/** One request to the API with an X-Session-ID, as mirth-cli sends it. */
export async function callApi(
  baseUrl: string,
  request: { method: string; path: string; sessionId?: string; body?: unknown; headers?: Record<string, string> },
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.sessionId !== undefined) headers["x-session-id"] = request.sessionId;
  let body: string | undefined;
  if (request.body !== undefined) {
    body = typeof request.body === "string" ? request.body : JSON.stringify(request.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get("content-type") ?? "").includes("application/json")) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed };
}

/**
 * A channel that reads from the router and writes to `targetChannelId` through a Channel
 * Writer, queueing on failure: with the target not deployed, every message waits in the
 * queue (or, past its retry budget, in dead-letter).
 */
export function writerChannel(options: { id: string; targetChannelId: string; retryCount?: number }): ChannelInput {
  return {
    id: options.id,
    name: `Writer ${options.id}`,
    description: "test channel",
    source: { type: "channel", properties: {} },
    destinations: [
      {
        id: "to-target",
        name: "To target",
        connector: { type: "channel", properties: { channelId: options.targetChannelId } },
        queue: { mode: "onFailure", retryCount: options.retryCount ?? 0, retryIntervalMs: 60_000 },
      },
    ],
    metadataColumns: [{ name: "patientId", expression: "PID.3.1" }],
  };
}

/** A channel that keeps what it receives (its one destination is disabled). */
export function sinkChannel(id: string): ChannelInput {
  return {
    id,
    name: `Sink ${id}`,
    source: { type: "channel", properties: {} },
    destinations: [{ id: "keep", name: "Keep", enabled: false, connector: { type: "channel", properties: { channelId: id } } }],
  };
}

export function hl7Message(options: { controlId: string; patientId: string }): string {
  return [
    `MSH|^~\\&|LAB|HOSP|EHR|HOSP|20260101120000||ADT^A01|${options.controlId}|P|2.5`,
    `PID|1||${options.patientId}^^^HOSP^MR||DOE^JANE`,
  ].join("\r");
}

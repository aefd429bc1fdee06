import type { Engine, EngineEvent } from "@node-mirth/core";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { AuthService, Principal } from "../auth/auth-types.js";
import type { LogLineSource } from "./log-line-source.js";

export const DASHBOARD_STATUS_PATH = "/ws/dashboardstatus";
export const SERVER_LOG_PATH = "/ws/serverlog";

/** Close codes a client can act on: log in again, or reconnect later. */
export const WS_CLOSE_SESSION_ENDED = 4001;
export const WS_CLOSE_TOO_SLOW = 4002;
const WS_CLOSE_GOING_AWAY = 1001;

/** A client this far behind is cut off rather than letting the server buffer without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 30_000;

export interface AttachWebSocketsOptions {
  servers: Server[];
  auth: AuthService;
  engine: Engine;
  logLines: LogLineSource;
  heartbeatMs?: number;
}

export interface AttachedWebSockets {
  /** Closes every socket (1001) and detaches from the servers; call before closing them. */
  close(): Promise<void>;
}

type Feed = (socket: WebSocket) => () => void;

/**
 * `/ws/dashboardstatus` (channel state and statistics changes, as JSON) and `/ws/serverlog`
 * (server log lines, already redacted by the logger, never message content). The upgrade is
 * refused (401) without a live session (cookie or X-Session-ID) and (403) from another origin;
 * every socket closes with 4001 when its session ends (logout, expiry, user removed).
 */
export function attachWebSockets(options: AttachWebSocketsOptions): AttachedWebSockets {
  const { auth, engine, logLines } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024, clientTracking: true });
  const bySession = new Map<string, Set<WebSocket>>();
  const alive = new WeakSet<WebSocket>();

  const feeds: Record<string, Feed> = {
    [DASHBOARD_STATUS_PATH]: (socket) => {
      deliver(socket, JSON.stringify({ type: "snapshot", channels: engine.channels(), at: Date.now() }));
      return engine.subscribe((event) => {
        const forwarded = dashboardEvent(event);
        if (forwarded !== undefined) deliver(socket, JSON.stringify(forwarded));
      });
    },
    [SERVER_LOG_PATH]: (socket) =>
      logLines.subscribe((line) => deliver(socket, line)),
  };

  const stopSessionWatch = auth.onSessionEnd((sessionId) => {
    const sockets = bySession.get(sessionId);
    bySession.delete(sessionId);
    for (const socket of sockets ?? []) socket.close(WS_CLOSE_SESSION_ENDED, "session ended");
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const feed = feeds[path];
    if (feed === undefined) return refuse(socket, 404, "Not Found");
    if (!sameOrigin(req)) return refuse(socket, 403, "Forbidden");
    const principal = auth.principalFromRequest(req);
    if (principal === undefined) return refuse(socket, 401, "Unauthorized");
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, { principal, feed }));
  };

  const accept = (ws: WebSocket, context: { principal: Principal; feed: Feed }) => {
    const { sessionId } = context.principal;
    const sockets = bySession.get(sessionId) ?? new Set<WebSocket>();
    sockets.add(ws);
    bySession.set(sessionId, sockets);
    alive.add(ws);
    const stopFeed = context.feed(ws);
    ws.on("pong", () => alive.add(ws));
    // Clients have nothing to say on these feeds; what they send is dropped unread.
    ws.on("message", () => undefined);
    ws.on("error", () => ws.terminate());
    ws.on("close", () => {
      stopFeed();
      sockets.delete(ws);
      if (sockets.size === 0 && bySession.get(sessionId) === sockets) bySession.delete(sessionId);
    });
  };

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  for (const server of options.servers) server.on("upgrade", onUpgrade);

  let closing: Promise<void> | undefined;
  const closeAll = async () => {
    clearInterval(heartbeat);
    stopSessionWatch();
    for (const server of options.servers) server.off("upgrade", onUpgrade);
    const closed = [...wss.clients].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once("close", () => resolve());
          ws.close(WS_CLOSE_GOING_AWAY, "server stopping");
          // A peer that never answers the close handshake is cut after a second.
          setTimeout(() => ws.terminate(), 1_000).unref();
        }),
    );
    await Promise.all(closed);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  return {
    close() {
      closing ??= closeAll();
      return closing;
    },
  };
}

/** What the dashboard needs; message events (ids and statuses per message) and engine logs stay out. */
function dashboardEvent(event: EngineEvent): EngineEvent | undefined {
  return event.type === "channelState" || event.type === "statistics" ? event : undefined;
}

/** Sends to an open socket; one that has fallen too far behind is closed instead. */
function deliver(socket: WebSocket, text: string): void {
  if (socket.readyState !== WebSocket.OPEN) return;
  if (socket.bufferedAmount > MAX_BUFFERED_BYTES) socket.close(WS_CLOSE_TOO_SLOW, "client too slow");
  else socket.send(text);
}

/**
 * Browsers send Origin on every WebSocket handshake and do not apply CORS to it; a page on
 * another site must not ride the user's cookie. Clients that are not browsers send none.
 */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

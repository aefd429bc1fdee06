import type { Engine, EngineEvent, MessageStore } from "@node-mirth/core";
import type { RequestHandler } from "express";

/** Upper bounds (seconds) of the latency histogram buckets. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;
/** Receive times remembered for latency; the oldest is forgotten beyond this. */
const MAX_TRACKED_MESSAGES = 10_000;
const COUNTERS = ["received", "filtered", "sent", "errored"] as const;

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

export interface ApiMetrics {
  /** Counts one answered API request. */
  observeRequest(labels: { method: string; route: string; status: number }): void;
  /** Prometheus text exposition format 0.0.4. */
  render(): Promise<string>;
  /** Stops listening to the engine. */
  close(): void;
}

/**
 * Prometheus metrics of the server: message counters per channel, connector and status and
 * queue depths (the engine's statistics), receive-to-send latency per destination (from the
 * engine's events), store commits, and API requests. Labels carry ids and names, never content.
 */
export function createApiMetrics(deps: { engine: Engine; store: MessageStore }): ApiMetrics {
  const { engine, store } = deps;
  const receivedAt = new Map<string, number>();
  const latencies = new Map<string, { channelId: string; connectorId: string; status: string; histogram: Histogram }>();
  const requests = new Map<string, { method: string; route: string; status: number; count: number }>();

  const onEvent = (event: EngineEvent) => {
    if (event.type !== "message") return;
    const key = `${event.channelId}\u0000${event.messageId}`;
    if (event.connectorId === "source") {
      if (event.status === "RECEIVED") {
        receivedAt.set(key, event.at);
        if (receivedAt.size > MAX_TRACKED_MESSAGES) receivedAt.delete(receivedAt.keys().next().value as string);
      }
      return;
    }
    const start = receivedAt.get(key);
    if (start === undefined || (event.status !== "SENT" && event.status !== "ERROR")) return;
    const seriesKey = `${event.channelId}\u0000${event.connectorId}\u0000${event.status}`;
    let series = latencies.get(seriesKey);
    if (series === undefined) {
      series = { channelId: event.channelId, connectorId: event.connectorId, status: event.status, histogram: { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 } };
      latencies.set(seriesKey, series);
    }
    observe(series.histogram, Math.max(0, event.at - start) / 1000);
  };
  const unsubscribe = engine.subscribe(onEvent);

  return {
    observeRequest({ method, route, status }) {
      const key = `${method} ${route} ${status}`;
      const entry = requests.get(key) ?? { method, route, status, count: 0 };
      entry.count += 1;
      requests.set(key, entry);
    },
    async render() {
      const lines: string[] = [];
      const channels = engine.channels();
      const names = new Map(channels.map((channel) => [channel.id, channel.name]));
      family(lines, { name: "node_mirth_channel_state", type: "gauge", help: "1 for the state each deployed channel is in." });
      for (const channel of channels) lines.push(sample("node_mirth_channel_state", { channel_id: channel.id, channel: channel.name, state: channel.state }, 1));

      const statistics = await Promise.all(channels.map(async (channel) => ({ channel, counts: await engine.statistics(channel.id) })));
      family(lines, { name: "node_mirth_messages_total", type: "counter", help: "Messages per channel, connector and status since the store was created." });
      for (const { channel, counts } of statistics) {
        for (const [connectorId, values] of Object.entries(counts)) {
          for (const status of COUNTERS) {
            lines.push(sample("node_mirth_messages_total", { channel_id: channel.id, channel: channel.name, connector: connectorId, status }, values[status]));
          }
        }
      }
      family(lines, { name: "node_mirth_queue_depth", type: "gauge", help: "Messages waiting in each destination queue." });
      for (const { channel, counts } of statistics) {
        for (const [connectorId, values] of Object.entries(counts)) {
          if (connectorId !== "source") lines.push(sample("node_mirth_queue_depth", { channel_id: channel.id, channel: channel.name, connector: connectorId }, values.queued));
        }
      }
      family(lines, { name: "node_mirth_message_latency_seconds", type: "histogram", help: "Time from receiving a message to its destination's SENT or ERROR." });
      for (const series of latencies.values()) {
        const labels = { channel_id: series.channelId, channel: names.get(series.channelId) ?? "", connector: series.connectorId, status: series.status };
        series.histogram.buckets.forEach((count, index) => lines.push(sample("node_mirth_message_latency_seconds_bucket", { ...labels, le: String(LATENCY_BUCKETS[index]) }, count)));
        lines.push(sample("node_mirth_message_latency_seconds_bucket", { ...labels, le: "+Inf" }, series.histogram.count));
        lines.push(sample("node_mirth_message_latency_seconds_sum", labels, series.histogram.sum));
        lines.push(sample("node_mirth_message_latency_seconds_count", labels, series.histogram.count));
      }
      const storeMetrics = store.metrics();
      family(lines, { name: "node_mirth_store_commits_total", type: "counter", help: "Store transactions committed (group commit: far fewer than messages)." });
      lines.push(sample("node_mirth_store_commits_total", {}, storeMetrics.commits));
      family(lines, { name: "node_mirth_store_writes_total", type: "counter", help: "Store writes committed." });
      lines.push(sample("node_mirth_store_writes_total", {}, storeMetrics.writes));
      family(lines, { name: "node_mirth_api_requests_total", type: "counter", help: "API requests answered, per route and status." });
      for (const entry of requests.values()) {
        lines.push(sample("node_mirth_api_requests_total", { method: entry.method, route: entry.route, status: String(entry.status) }, entry.count));
      }
      return `${lines.join("\n")}\n`;
    },
    close: unsubscribe,
  };
}

/** `/metrics`; exported so startServer can serve it on the loopback metrics port too. */
export function createMetricsHandler(metrics: ApiMetrics): RequestHandler {
  return async (_req, res) => {
    res.setHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    res.send(await metrics.render());
  };
}

function observe(histogram: Histogram, seconds: number): void {
  LATENCY_BUCKETS.forEach((bound, index) => {
    if (seconds <= bound) histogram.buckets[index] = (histogram.buckets[index] ?? 0) + 1;
  });
  histogram.sum += seconds;
  histogram.count += 1;
}

function family(lines: string[], what: { name: string; type: string; help: string }): void {
  lines.push(`# HELP ${what.name} ${what.help}`, `# TYPE ${what.name} ${what.type}`);
}

function sample(name: string, labels: Record<string, string>, value: number): string {
  const rendered = Object.entries(labels).map(([key, text]) => `${key}="${escapeLabel(text)}"`).join(",");
  return `${name}${rendered === "" ? "" : `{${rendered}}`} ${value}`;
}

/** Prometheus label escaping: backslash, double quote and newline. */
export function escapeLabel(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** The channel of the kill -9 test: a Channel Reader source (fed by engine.dispatch), nothing downstream. */
export const CRASH_CHANNEL = {
  id: "crash",
  name: "Crash test",
  dataType: "RAW",
  source: { type: "channel", properties: {} },
  destinations: [{ id: "none", name: "None", connector: { type: "channel", properties: {} }, enabled: false }],
} as const;

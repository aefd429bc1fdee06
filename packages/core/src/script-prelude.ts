/**
 * What runs inside the QuickJS context: the script API (`channelMap`, `$()`, `logger`,
 * `router`, the HL7 `msg` accessor) written in guest JavaScript over five host functions,
 * and the wrapper that turns a user's script body into a function once, at compile time.
 *
 * Everything per message lives on the host (the "current run" slot of the sandbox), so a
 * run creates no host functions and no guest objects beyond what the script itself makes.
 */

/** Data types as the small integers passed to the guest (index = code). */
export const DATA_TYPE_CODES = { HL7V2: 0, XML: 1, JSON: 2, RAW: 3 } as const;
/** Passed instead of a data type when there is no `tmp`. */
export const NO_TMP = -1;

/** The maps in the order `$()` searches them; the index is the map's id in host calls. */
export const MAP_NAMES = [
  "responseMap",
  "connectorMap",
  "channelMap",
  "sourceMap",
  "globalChannelMap",
  "globalMap",
  "configurationMap",
] as const;
export type ScriptMapName = (typeof MAP_NAMES)[number];

export const MAP_OP = {
  get: 0,
  put: 1,
  containsKey: 2,
  remove: 3,
  keySet: 4,
  size: 5,
  clear: 6,
  lookup: 7,
} as const;
export const HL7_OP = {
  get: 0,
  set: 1,
  getRaw: 2,
  setRaw: 3,
  has: 4,
  segments: 5,
  repetitions: 6,
  addSegment: 7,
  removeSegment: 8,
  toString: 9,
  toXml: 10,
} as const;
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/**
 * Evaluates to a function taking the host object `{ map, log, route, hl7, done }` and
 * returning the helpers the script wrappers close over. It defines the globals as
 * read-only, non-configurable properties so a script cannot replace them for later messages.
 */
export const SCRIPT_PRELUDE = String.raw`(function (host) {
  "use strict";
  var hMap = host.map, hLog = host.log, hRoute = host.route, hHl7 = host.hl7, hDone = host.done;
  var stringify = JSON.stringify, parse = JSON.parse, freeze = Object.freeze;
  var defineProperty = Object.defineProperty, toStr = String, G = globalThis;
  var NAMES = ${JSON.stringify(MAP_NAMES)};
  var M = ${JSON.stringify(MAP_OP)};
  var H = ${JSON.stringify(HL7_OP)};
  var SOURCE = 3;

  function def(name, value) {
    defineProperty(G, name, { value: value, writable: false, enumerable: false, configurable: false });
  }
  function key(k) { return toStr(k); }

  function makeMap(index) {
    var name = NAMES[index];
    function readOnly() { throw new TypeError(name + " is read-only"); }
    var writable = index !== SOURCE;
    return freeze({
      get: function (k) { return hMap(M.get, index, key(k)); },
      put: writable ? function (k, v) { return hMap(M.put, index, key(k), v); } : readOnly,
      containsKey: function (k) { return hMap(M.containsKey, index, key(k)); },
      remove: writable ? function (k) { return hMap(M.remove, index, key(k)); } : readOnly,
      keySet: function () { return hMap(M.keySet, index); },
      size: function () { return hMap(M.size, index); },
      isEmpty: function () { return hMap(M.size, index) === 0; },
      clear: writable ? function () { hMap(M.clear, index); } : readOnly,
      toString: function () { return "[" + name + "]"; }
    });
  }
  var maps = [];
  for (var i = 0; i < NAMES.length; i++) { maps.push(makeMap(i)); def(NAMES[i], maps[i]); }

  function shortcut(map) {
    return function (k, v) { return arguments.length > 1 ? map.put(k, v) : map.get(k); };
  }
  def("$", function (k) { return hMap(M.lookup, 0, key(k)); });
  def("$r", shortcut(maps[0]));
  def("$co", shortcut(maps[1]));
  def("$c", shortcut(maps[2]));
  def("$s", shortcut(maps[3]));
  def("$gc", shortcut(maps[4]));
  def("$g", shortcut(maps[5]));
  def("$cfg", shortcut(maps[6]));

  function text(v) { return v === undefined || v === null ? "" : toStr(v); }
  def("logger", freeze({
    debug: function (t) { hLog(0, text(t)); },
    info: function (t) { hLog(1, text(t)); },
    warn: function (t) { hLog(2, text(t)); },
    error: function (t) { hLog(3, text(t)); }
  }));
  def("router", freeze({
    routeMessage: function (channel, content) { hRoute(text(channel), text(content)); }
  }));

  function hl7(doc) {
    return freeze({
      get: function (p) { return hHl7(H.get, doc, toStr(p)); },
      set: function (p, v) { hHl7(H.set, doc, toStr(p), text(v)); },
      getRaw: function (p) { return hHl7(H.getRaw, doc, toStr(p)); },
      setRaw: function (p, v) { hHl7(H.setRaw, doc, toStr(p), text(v)); },
      has: function (p) { return hHl7(H.has, doc, toStr(p)); },
      segments: function (name) { return hHl7(H.segments, doc, name === undefined ? undefined : toStr(name)); },
      repetitions: function (p) { return hHl7(H.repetitions, doc, toStr(p)); },
      addSegment: function (t, at) { hHl7(H.addSegment, doc, toStr(t), at); },
      removeSegment: function (name, occurrence) { return hHl7(H.removeSegment, doc, toStr(name), occurrence); },
      toString: function () { return hHl7(H.toString, doc); },
      toXml: function () { return hHl7(H.toXml, doc); },
      toJSON: function () { return hHl7(H.toString, doc); }
    });
  }
  var MSG = hl7(0), TMP = hl7(1);

  // Per-run guest state: the data types and inputs of the current message.
  var types = [0, -1], inputs = [undefined, undefined];

  function input(which, type, content) {
    types[which] = type;
    inputs[which] = content;
    if (type === 0) return which === 0 ? MSG : TMP;
    if (type === 2) {
      try { return parse(content); }
      catch (e) { throw new SyntaxError((which === 0 ? "msg" : "tmp") + " is not valid JSON: " + e.message); }
    }
    return content;
  }

  function output(which, value) {
    if (value === MSG) return 0;
    if (value === TMP) return 1;
    if (typeof value === "string") return value;
    if (value === undefined || value === null) return "";
    if (types[which] === 2) {
      var out = stringify(value), original = inputs[which];
      if (out === undefined) return "";
      // Keep the sender's formatting when the script did not change the document.
      if (out !== original) {
        try { if (stringify(parse(original)) === out) return original; } catch (e) { /* keep out */ }
      }
      return out;
    }
    return toStr(value);
  }

  function done(returned, msg, tmp) {
    hDone(returned, output(0, msg), types[1] < 0 ? undefined : output(1, tmp));
  }

  // Globals a script creates (a sloppy-mode assignment to an undeclared name) would carry
  // one message's data into the next; they are deleted after every run.
  var getNames = Object.getOwnPropertyNames, baseline = null, baseCount = 0;
  function seal() {
    baseline = Object.create(null);
    var names = getNames(G);
    for (var i = 0; i < names.length; i++) baseline[names[i]] = true;
    baseCount = names.length;
  }
  function clean() {
    if (baseline === null) return;
    var names = getNames(G);
    if (names.length === baseCount) return;
    for (var i = 0; i < names.length; i++) {
      if (baseline[names[i]] !== true) { try { delete G[names[i]]; } catch (e) { /* non-configurable */ } }
    }
  }

  function response(status, content) {
    if (status === undefined) return undefined;
    return freeze({
      status: status,
      content: content,
      getStatus: function () { return status; },
      getMessage: function () { return content; }
    });
  }

  return freeze({ input: input, done: done, response: response, seal: seal, clean: clean });
})`;

/** Source text before the user's body: kept on ONE line so body line N is file line N + 1. */
const WRAPPER_HEAD =
  "(function (__nm) { return function (__nm_mt, __nm_m, __nm_tt, __nm_t, __nm_rs, __nm_rc) { " +
  "var msg = __nm.input(0, __nm_mt, __nm_m), tmp = __nm.input(1, __nm_tt, __nm_t), " +
  "response = __nm.response(__nm_rs, __nm_rc); try { __nm.done((function (__nm) {";
const WRAPPER_TAIL = "\n}).call(this), msg, tmp); } finally { __nm.clean(); } }; })";

/** Line of the wrapper file on which the user's body starts. */
export const BODY_FIRST_LINE = 2;

/**
 * The user's body inside a function whose scope holds `msg`, `tmp` and `response`, so a
 * script may reassign `msg` and the wrapper still sees the new value. The result is a
 * factory called once with the prelude's helpers.
 */
export function wrapScriptBody(body: string): string {
  return `${WRAPPER_HEAD}\n${body}${WRAPPER_TAIL}`;
}

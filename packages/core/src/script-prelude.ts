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
 * Evaluates to a function taking the host object `{ map, log, route, hl7, uuid }` and
 * returning the helpers the script wrappers close over. It defines the globals as
 * read-only, non-configurable properties so a script cannot replace them for later messages.
 */
export const SCRIPT_PRELUDE = String.raw`(function (host) {
  "use strict";
  var hMap = host.map, hLog = host.log, hRoute = host.route, hHl7 = host.hl7;
  var hUuid = host.uuid;
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

  // An array that also answers the java.util.Set calls Mirth scripts make on keySet().
  function javaSet(items) {
    function hidden(name, fn) { defineProperty(items, name, { value: fn, enumerable: false }); }
    hidden("toArray", function () { return items.slice(); });
    hidden("contains", function (k) { return items.indexOf(toStr(k)) !== -1; });
    hidden("size", function () { return items.length; });
    hidden("isEmpty", function () { return items.length === 0; });
    return items;
  }

  function makeMap(index) {
    var name = NAMES[index];
    function readOnly() { throw new TypeError(name + " is read-only"); }
    var writable = index !== SOURCE;
    return freeze({
      get: function (k) { return hMap(M.get, index, key(k)); },
      put: writable ? function (k, v) { return hMap(M.put, index, key(k), v); } : readOnly,
      containsKey: function (k) { return hMap(M.containsKey, index, key(k)); },
      remove: writable ? function (k) { return hMap(M.remove, index, key(k)); } : readOnly,
      keySet: function () { return javaSet(hMap(M.keySet, index)); },
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

  def("UUIDGenerator", freeze({ getUUID: function () { return hUuid(); } }));

  // DateUtil: the SimpleDateFormat patterns Mirth scripts use for HL7 timestamps.
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  var DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  var TOKENS = /'([^']*)'|y+|M+|d+|H+|h+|m+|s+|S+|E+|a|Z|X+/g;
  function pad(n, width) { var t = toStr(n); while (t.length < width) t = "0" + t; return t; }
  function zone(date, colon) {
    var off = -date.getTimezoneOffset(), sign = off < 0 ? "-" : "+";
    off = Math.abs(off);
    return sign + pad(Math.floor(off / 60), 2) + (colon ? ":" : "") + pad(off % 60, 2);
  }
  function formatDate(pattern, date) {
    if (!(date instanceof Date)) date = new Date(date);
    return toStr(pattern).replace(TOKENS, function (t, quoted) {
      if (quoted !== undefined) return quoted === "" ? "'" : quoted;
      var c = t.charAt(0), n = t.length;
      switch (c) {
        case "y": return n === 2 ? pad(date.getFullYear() % 100, 2) : pad(date.getFullYear(), n);
        case "M": return n >= 4 ? MONTHS[date.getMonth()] : n === 3 ? MONTHS[date.getMonth()].slice(0, 3) : pad(date.getMonth() + 1, n);
        case "d": return pad(date.getDate(), n);
        case "H": return pad(date.getHours(), n);
        case "h": return pad(date.getHours() % 12 || 12, n);
        case "m": return pad(date.getMinutes(), n);
        case "s": return pad(date.getSeconds(), n);
        case "S": return pad(date.getMilliseconds(), 3).slice(0, Math.max(n, 3));
        case "E": return n >= 4 ? DAYS[date.getDay()] : DAYS[date.getDay()].slice(0, 3);
        case "a": return date.getHours() < 12 ? "AM" : "PM";
        case "Z": return zone(date, false);
        default: return date.getTimezoneOffset() === 0 ? "Z" : zone(date, n >= 3);
      }
    });
  }
  function parseDate(pattern, input) {
    var fields = [], source = "", last = 0, m;
    pattern = toStr(pattern);
    TOKENS.lastIndex = 0;
    while ((m = TOKENS.exec(pattern)) !== null) {
      source += pattern.slice(last, m.index).replace(/[.*+?^\${}()|[\]\\]/g, "\\$&");
      last = TOKENS.lastIndex;
      var t = m[0], c = t.charAt(0), n = t.length;
      if (m[1] !== undefined) { source += (m[1] === "" ? "'" : m[1]).replace(/[.*+?^\${}()|[\]\\]/g, "\\$&"); continue; }
      fields.push(c === "M" && n >= 3 ? "MMM" : c);
      if (c === "M" && n >= 3) source += "([A-Za-z]+)";
      else if (c === "E") source += "[A-Za-z]+", fields.pop();
      else if (c === "a") source += "(AM|PM|am|pm)";
      else if (c === "Z" || c === "X") source += "(Z|[+-]\\d{2}:?\\d{2}|[+-]\\d{2})";
      else source += n >= 2 ? "(\\d{" + n + "})" : "(\\d{1,2})";
    }
    source += pattern.slice(last).replace(/[.*+?^\${}()|[\]\\]/g, "\\$&");
    var found = new RegExp("^" + source + "$").exec(toStr(input));
    if (found === null) throw new Error("Unparseable date: \"" + toStr(input).slice(0, 40) + "\" does not match " + pattern);
    var y = 1970, mo = 0, d = 1, h = 0, mi = 0, sec = 0, ms = 0, pm = null, offset = null;
    for (var i = 0; i < fields.length; i++) {
      var v = found[i + 1], num = Number(v);
      switch (fields[i]) {
        case "y": y = v.length === 2 ? 2000 + num - (num > 50 ? 100 : 0) : num; break;
        case "M": mo = num - 1; break;
        case "MMM": mo = -1; for (var k = 0; k < 12; k++) if (MONTHS[k].slice(0, 3).toLowerCase() === v.slice(0, 3).toLowerCase()) mo = k; break;
        case "d": d = num; break;
        case "H": case "h": h = num; break;
        case "m": mi = num; break;
        case "s": sec = num; break;
        case "S": ms = num; break;
        case "a": pm = v.toUpperCase() === "PM"; break;
        default:
          if (v === "Z") offset = 0;
          else { var digits = v.replace(":", ""); offset = (v.charAt(0) === "-" ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || 0)); }
      }
    }
    if (pm !== null) h = (h % 12) + (pm ? 12 : 0);
    if (offset === null) return new Date(y, mo, d, h, mi, sec, ms);
    return new Date(Date.UTC(y, mo, d, h, mi, sec, ms) - offset * 60000);
  }
  def("DateUtil", freeze({
    getCurrentDate: function (pattern) { return formatDate(pattern, new Date()); },
    formatDate: function (pattern, date) { return formatDate(pattern, date); },
    getDate: function (pattern, text) { return parseDate(pattern, text); },
    convertDate: function (inPattern, outPattern, text) { return formatDate(outPattern, parseDate(inPattern, text)); }
  }));

  function hl7(doc) {
    return freeze({
      get: function (p) { return hHl7(H.get, doc, toStr(p)); },
      set: function (p, v) { hHl7(H.set, doc, toStr(p), text(v)); },
      getRaw: function (p) { return hHl7(H.getRaw, doc, toStr(p)); },
      setRaw: function (p, v) { hHl7(H.setRaw, doc, toStr(p), text(v)); },
      has: function (p) { return hHl7(H.has, doc, toStr(p)); },
      segments: function (name) { return hHl7(H.segments, doc, name === undefined || name === null ? "" : toStr(name)); },
      repetitions: function (p) { return hHl7(H.repetitions, doc, toStr(p)); },
      addSegment: function (t, at) { hHl7(H.addSegment, doc, toStr(t), at === undefined ? -1 : Number(at)); },
      removeSegment: function (name, occurrence) { return hHl7(H.removeSegment, doc, toStr(name), occurrence === undefined ? 1 : Number(occurrence)); },
      toString: function () { return hHl7(H.toString, doc, ""); },
      toXml: function () { return hHl7(H.toXml, doc, ""); },
      toJSON: function () { return hHl7(H.toString, doc, ""); }
    });
  }
  var MSG = hl7(0), TMP = hl7(1);

  // Per-run guest state: the data types and inputs of the current message.
  var types = [0, -1], inputs = [undefined, undefined];

  function input(which, type, content) {
    if (which === 0) { outputs.m = undefined; outputs.t = undefined; }
    types[which] = type;
    inputs[which] = content;
    if (type === 0) return which === 0 ? MSG : TMP;
    if (type === 2) {
      try { return parse(content); }
      catch (e) {
        // QuickJS quotes the offending token, which is message content: keep only the kind of problem.
        var why = toStr(e && e.message).replace(/:\s*'[\s\S]*$/, "");
        throw new SyntaxError((which === 0 ? "msg" : "tmp") + " is not valid JSON: " + why);
      }
    }
    return content;
  }

  var WHITESPACE = /[ \t\r\n]/;
  function output(which, value) {
    if (value === MSG) return 0;
    if (value === TMP) return 1;
    if (typeof value === "string") return value;
    if (value === undefined || value === null) return "";
    if (types[which] === 2) {
      var out = stringify(value), original = inputs[which];
      if (out === undefined) return "";
      // Keep the sender's formatting when the script did not change the document (text
      // without whitespace is already compact, so a difference there is a change).
      if (out !== original && WHITESPACE.test(original)) {
        try { if (stringify(parse(original)) === out) return original; } catch (e) { /* keep out */ }
      }
      return out;
    }
    return toStr(value);
  }

  // What msg and tmp hold after the run, read by the host from this one reused object.
  var outputs = { m: undefined, t: undefined, rs: undefined, rsm: undefined };
  function done(returned, msg, tmp, rs, rsm) {
    outputs.m = output(0, msg);
    outputs.t = types[1] < 0 ? undefined : output(1, tmp);
    // A response transformer's responseStatus / responseStatusMessage, as text.
    outputs.rs = rs === undefined || rs === null ? undefined : toStr(rs);
    outputs.rsm = rsm === undefined || rsm === null ? undefined : toStr(rsm);
    return returned;
  }

  // Globals a script creates (a sloppy-mode assignment to an undeclared name) would carry
  // one message's data into the next; they are deleted after every run. Such globals are
  // enumerable while the built-ins and the API are not, so Object.keys stays short.
  var keys = Object.keys, baseline = null, baseCount = 0;
  function seal() {
    baseline = Object.create(null);
    var names = keys(G);
    for (var i = 0; i < names.length; i++) baseline[names[i]] = true;
    baseCount = names.length;
  }
  function clean() {
    if (baseline === null) return;
    var names = keys(G);
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

  return freeze({ input: input, done: done, response: response, seal: seal, clean: clean, outputs: outputs });
})`;

/** Source text before the user's body: kept on ONE line so body line N is file line N + 1. */
const WRAPPER_HEAD =
  "(function (__nm) { return function (__nm_mt, __nm_m, __nm_tt, __nm_t, __nm_rs, __nm_rc) { " +
  "var msg = __nm.input(0, __nm_mt, __nm_m), tmp = __nm.input(1, __nm_tt, __nm_t), " +
  "response = __nm.response(__nm_rs, __nm_rc), responseStatus = __nm_rs, responseStatusMessage; " +
  "try { return __nm.done((function (__nm) {";
const WRAPPER_TAIL =
  "\n}).call(this), msg, tmp, responseStatus, responseStatusMessage); } finally { __nm.clean(); } }; })";

/** Line of the wrapper file on which the user's body starts. */
export const BODY_FIRST_LINE = 2;

/**
 * The user's body inside a function whose scope holds `msg`, `tmp` and `response`, so a
 * script may reassign `msg` and the wrapper still sees the new value. The result is a
 * factory called once with the prelude's helpers.
 */
export function wrapScriptBody(body: string, preamble = ""): string {
  return `${WRAPPER_HEAD}${preamble}\n${body}${WRAPPER_TAIL}`;
}

/**
 * Declarations a kind adds on the wrapper's line, inside the user's function. Mirth's
 * preprocessor works on `message`, the raw text, and returns the text to process.
 */
export function scriptPreamble(kind: string): string {
  if (kind === "preprocessor") return " var message = __nm_m === undefined ? String(msg) : __nm_m;";
  // Mirth's response transformer sees the statuses as names: `responseStatus = ERROR;`.
  if (kind === "responseTransformer")
    return ' var SENT = "SENT", QUEUED = "QUEUED", ERROR = "ERROR";';
  return "";
}

/* Times, durations and numbers as people read them, in the browser's own locale.
 *
 * The API answers RFC 3339 UTC times and, for metrics, epoch seconds; both show in
 * the time zone of the person's preferences (setTimeZone(), called when a page
 * starts), else the browser's. The formatters are live bindings: modules that
 * imported them see the ones made for the zone.
 */

let zone;
export let dateFmt;
let shortFmt;
export let hmFmt;
export let hmsFmt;
export let dayFmt;
export let monthFmt;
let partsFmt;

function makeFormatters() {
  const opts = (o) => (zone ? Object.assign({ timeZone: zone }, o) : o);
  dateFmt = new Intl.DateTimeFormat(undefined, opts({
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }));
  shortFmt = new Intl.DateTimeFormat(undefined, opts({
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }));
  hmFmt = new Intl.DateTimeFormat(undefined, opts({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" }));
  hmsFmt = new Intl.DateTimeFormat(undefined, opts({ hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }));
  dayFmt = new Intl.DateTimeFormat(undefined, opts({ month: "short", day: "numeric" }));
  monthFmt = new Intl.DateTimeFormat(undefined, opts({ month: "short", year: "numeric" }));
  partsFmt = zone ? new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
    hour: "numeric", minute: "numeric", second: "numeric",
  }) : null;
}
makeFormatters();

/** Show every time in `name` (an IANA zone); an unknown or empty one: the browser's. */
export function setTimeZone(name) {
  try {
    // Validated by the browser, kept as given (it may spell the zone its own way).
    if (name) new Intl.DateTimeFormat(undefined, { timeZone: name });
    zone = name || undefined;
  } catch (err) {
    zone = undefined;
  }
  makeFormatters();
}

/** Seconds the zone times are shown in is ahead of UTC at `epoch` (s), for charts
 * whose ticks fall on round times there. */
export function zoneOffset(epoch) {
  const d = new Date(Math.floor(epoch) * 1000);
  if (!partsFmt) return -d.getTimezoneOffset() * 60;
  const p = {};
  partsFmt.formatToParts(d).forEach((x) => { p[x.type] = Number(x.value); });
  return (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - d.getTime()) / 1000;
}

/** The zone times are shown in (the preference, else the browser's). */
export function timeZone() {
  return zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function parseTime(iso) {
  if (!iso) return null;
  // The API answers RFC 3339 UTC; a naive timestamp is UTC too.
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
  return isNaN(d) ? null : d;
}

export function fmtTime(iso) {
  const d = parseTime(iso);
  if (!d) return "–";
  return (d.getFullYear() === new Date().getFullYear() ? shortFmt : dateFmt).format(d);
}

export function fmtAgo(iso) {
  const d = parseTime(iso);
  if (!d) return "never";
  const s = (Date.now() - d.getTime()) / 1000;
  if (s < -60) return "in " + fmtSpan(-s);
  if (s < 45) return "just now";
  return fmtSpan(s) + " ago";
}

export function fmtSpan(s) {
  if (s < 90) return Math.round(s) + " s";
  if (s < 5400) return Math.round(s / 60) + " min";
  if (s < 129600) return Math.round(s / 3600) + " h";
  return Math.round(s / 86400) + " d";
}

export function fmtNum(x, digits) {
  if (x === null || x === undefined) return "–";
  return Number(x).toLocaleString(undefined, {
    minimumFractionDigits: digits === undefined ? 1 : digits,
    maximumFractionDigits: digits === undefined ? 1 : digits,
  });
}

export function initials(text) {
  const parts = String(text || "?").replace(/@.*/, "").split(/[\s._-]+/).filter(Boolean);
  return ((parts[0] || "?")[0] + (parts.length > 1 ? parts[1][0] : "")).toUpperCase();
}

/** Epoch seconds (as the metrics API answers them) as RFC 3339, for timeEl(). */
export function isoOf(epoch) {
  return epoch === null || epoch === undefined ? null : new Date(epoch * 1000).toISOString();
}

export function fmtCount(x) {
  return x === null || x === undefined ? "–" : Number(x).toLocaleString();
}

/** A rate: 2 decimals under 10, 1 under 100, none above. */
export function fmtRate(x) {
  const v = Number(x) || 0;
  return fmtNum(v, v >= 100 ? 0 : v >= 10 ? 1 : 2);
}

export const compactFmt = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 2 });

/** A value of a series, exact enough to read off a tooltip. */
export function fmtValue(v) {
  if (v === null || v === undefined) return "–";
  const a = Math.abs(v);
  if (a >= 1e6) return compactFmt.format(v);
  return Number(v).toLocaleString(undefined, { maximumFractionDigits: a >= 100 ? 2 : a >= 1 ? 3 : 6 });
}

export const known = (v) => v !== null && v !== undefined && isFinite(v);

/** A duration as people say it: "45 s", "5 min", "2 h", "3 d". */
export function fmtDuration(s) {
  if (s === null || s === undefined) return "–";
  if (s < 60) return Math.round(s) + " s";
  if (s < 5400) return Math.round(s / 60) + " min";
  if (s < 172800) return Math.round(s / 3600) + " h";
  return Math.round(s / 86400) + " d";
}

export function fmtSigned(v) {
  if (v === null || v === undefined) return "–";
  return (v > 0 ? "+" : v < 0 ? "−" : "") + fmtValue(Math.abs(v));
}

export function fmtPct(p) {
  if (p === null || p === undefined) return null;
  const a = Math.abs(p);
  return (p > 0 ? "+" : p < 0 ? "−" : "") + fmtNum(a, a >= 100 ? 0 : 1) + " %";
}

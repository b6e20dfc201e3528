/* Tags of a segment as the annotator view changes them: toggling a class, a label or a
 * (class, label) pair by the project type's rules, words for keyboard span selection,
 * and a segment's text cut at its spans' edges for drawing them.
 *
 * A tag here is {class, label, start, end}: names (the tags PUT takes names) and a
 * segment-relative half-open span, null for the whole segment. No DOM, no API.
 */

export const spanOf = (t) => (t.start === null || t.start === undefined ? null : { start: t.start, end: t.end });

function sameSpan(a, b) {
  const x = spanOf(a);
  const y = spanOf(b);
  return x === null || y === null ? x === y : x.start === y.start && x.end === y.end;
}

/** A tag the API answered ({class_id, label_id} or names) as names, through `names`. */
export function normalizeTag(t, names) {
  const cls = t.class ?? t.class_name ?? (t.class_id !== null && t.class_id !== undefined ? names.classes.get(t.class_id) : null) ?? null;
  const label = t.label ?? t.label_name ?? (t.label_id !== null && t.label_id !== undefined ? names.labels.get(t.label_id) : null) ?? null;
  return { class: cls, label, start: t.start ?? null, end: t.end ?? null };
}

/** What the tags PUT takes: names, a span only when there is one. */
export function tagBody(t) {
  const out = {};
  if (t.class) out.class = t.class;
  if (t.label) out.label = t.label;
  if (spanOf(t)) {
    out.start = t.start;
    out.end = t.end;
  }
  return out;
}

/** Whether two tags' spans overlap; a tag without a span covers the whole segment. */
function overlaps(a, b, length) {
  const x = spanOf(a) || { start: 0, end: length };
  const y = spanOf(b) || { start: 0, end: length };
  return x.start < y.end && y.start < x.end;
}

/**
 * The tags of a segment (`length` characters) of a project of `type` after toggling
 * `tag`: a tag already there (same class, label and span) goes; otherwise it comes, and
 * what the API would refuse beside it goes: the same tag on an overlapping span, another
 * class in a CLASS segment (one class each), another sentiment of the aspect in ABSA.
 */
export function toggleTag(tags, tag, type, length) {
  const same = (t) => t.class === tag.class && t.label === tag.label && sameSpan(t, tag);
  if (tags.some(same)) return tags.filter((t) => !same(t));
  const clashes = (t) => (t.class === tag.class && t.label === tag.label && overlaps(t, tag, length))
    || (type === "CLASS" && t.class !== tag.class)
    || (type === "ABSA" && t.class === tag.class);
  return tags.filter((t) => !clashes(t)).concat([tag]);
}

/** The words of a text as spans: letters and digits, with inner apostrophes and hyphens. */
export function words(text) {
  const out = [];
  const re = /[\p{L}\p{N}][\p{L}\p{N}\p{M}'’_-]*/gu;
  let m;
  while ((m = re.exec(text)) !== null) out.push({ start: m.index, end: m.index + m[0].length });
  return out;
}

/**
 * Move or grow a keyboard selection over `ws` (the segment's words). "next"/"prev" move
 * a one-word selection; "grow"/"shrink" move its end by a word. Answers a span or null.
 */
export function stepSelection(ws, span, how) {
  if (!ws.length) return null;
  const first = span ? ws.findIndex((w) => w.end > span.start) : -1;
  const last = span ? ws.length - 1 - [...ws].reverse().findIndex((w) => w.start < span.end) : -1;
  if (!span || first < 0 || last < first || last >= ws.length) {
    const w = how === "prev" ? ws[ws.length - 1] : ws[0];
    return { start: w.start, end: w.end };
  }
  if (how === "next") {
    const w = ws[Math.min(ws.length - 1, last + 1)];
    return { start: w.start, end: w.end };
  }
  if (how === "prev") {
    const w = ws[Math.max(0, first - 1)];
    return { start: w.start, end: w.end };
  }
  if (how === "grow") return { start: ws[first].start, end: ws[Math.min(ws.length - 1, last + 1)].end };
  return { start: ws[first].start, end: ws[Math.max(first, last - 1)].end };
}

/**
 * `text` cut at every edge of `spans` ([{start, end}]): pieces {start, end, cover} where
 * cover holds the indexes of the spans over the piece, to draw overlapping spans.
 */
export function pieces(text, spans) {
  const edges = new Set([0, text.length]);
  spans.forEach((s) => {
    edges.add(Math.max(0, Math.min(text.length, s.start)));
    edges.add(Math.max(0, Math.min(text.length, s.end)));
  });
  const cuts = [...edges].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const start = cuts[i];
    const end = cuts[i + 1];
    const cover = [];
    spans.forEach((s, j) => { if (s.start <= start && s.end >= end) cover.push(j); });
    out.push({ start, end, cover });
  }
  return out;
}

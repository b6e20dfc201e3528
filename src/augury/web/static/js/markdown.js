/* A note's Markdown as elements: headings, paragraphs, bullet and numbered lists,
 * **bold**, *italic*, `code` and [links](https://…). Built with h() from text nodes,
 * never from HTML, so a note can hold no markup or script; a link opens only http(s)
 * or a path on this site.
 */

import { h } from "./dom.js";

const INLINE = /(\*\*[^*]+\*\*|`[^`]+`|\[[^\]]+\]\([^)\s]+\)|\*[^*]+\*|_[^_]+_)/;

function safeHref(url) {
  return /^https?:\/\//i.test(url) || (url.startsWith("/") && !url.startsWith("//")) ? url : null;
}

/** The inline marks of one line as nodes. */
function inline(text) {
  return text.split(INLINE).filter((part) => part !== "").map((part) => {
    if (part.startsWith("**") && part.endsWith("**") && part.length > 4) return h("strong", {}, part.slice(2, -2));
    if (part.startsWith("`") && part.endsWith("`") && part.length > 2) return h("code", {}, part.slice(1, -1));
    const link = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(part);
    if (link) {
      const href = safeHref(link[2]);
      return href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, link[1]) : link[1];
    }
    if (/^(\*[^*]+\*|_[^_]+_)$/.test(part)) return h("em", {}, part.slice(1, -1));
    return part;
  });
}

/** `text` as a list of block elements. */
export function markdown(text) {
  const out = [];
  let list = null;
  let para = [];
  const flush = () => {
    if (para.length) out.push(h("p", {}, inline(para.join(" "))));
    para = [];
  };
  text.split(/\r?\n/).forEach((raw) => {
    const line = raw.trim();
    const heading = /^(#{1,3})\s+(.*)$/.exec(line);
    const bullet = /^[-*]\s+(.*)$/.exec(line);
    const numbered = /^\d+[.)]\s+(.*)$/.exec(line);
    if (bullet || numbered) {
      flush();
      const tag = bullet ? "ul" : "ol";
      if (!list || list.tagName.toLowerCase() !== tag) {
        list = h(tag, {});
        out.push(list);
      }
      list.append(h("li", {}, inline((bullet || numbered)[1])));
      return;
    }
    list = null;
    if (!line) flush();
    else if (heading) {
      flush();
      out.push(h("h" + (heading[1].length + 2), {}, inline(heading[2])));
    } else para.push(line);
  });
  flush();
  return out;
}

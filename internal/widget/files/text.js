// Everything a bot or an agent wrote goes through DOMPurify before it
// reaches the page, and only safe links survive: https everywhere, http
// only on localhost (a developer's machine), and each opens in a new tab
// without a handle on this window.

import DOMPurify from "dompurify";

export function safeURL(u) {
  // Only absolute URLs: a relative one would quietly point into this
  // widget's own origin.
  if (typeof u !== "string" || !/^[a-z][a-z0-9+.-]*:/i.test(u.trim())) return "";
  let url;
  try {
    url = new URL(u, location.href);
  } catch (e) {
    return "";
  }
  if (url.protocol === "https:") return url.href;
  if (url.protocol === "http:" && (url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]")) return url.href;
  // Signed file links of this server (attachments) are the one exception.
  if (url.origin === location.origin && url.pathname.startsWith("/files/")) return url.href;
  return "";
}

// Images may also be inline data or object URLs (previews of uploads).
export function safeImage(u) {
  if (typeof u === "string" && /^(data:image\/(png|jpeg|gif|webp);base64,|blob:)/.test(u)) return u;
  return safeURL(u);
}

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = safeURL(node.getAttribute("href") || "");
    if (href) {
      node.setAttribute("href", href);
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    } else node.removeAttribute("href");
  }
  if (node.tagName === "IMG") {
    const src = safeImage(node.getAttribute("src") || "");
    if (src) node.setAttribute("src", src); else node.removeAttribute("src");
  }
});

const TEXT = { ALLOWED_TAGS: ["a", "br", "b", "strong", "i", "em", "code"], ALLOWED_ATTR: ["href", "target", "rel"] };
const HTML = {
  ALLOWED_TAGS: ["a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul"],
  ALLOWED_ATTR: ["href", "target", "rel", "src", "alt", "title", "colspan", "rowspan"],
};

const inert = new DOMParser();

function escape(s) {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// textHTML turns plain text into sanitised markup: escaped, with safe URLs
// made links and line breaks kept.
export function textHTML(s) {
  const linked = escape(String(s || "")).replace(/\bhttps?:\/\/[^\s<>"']+/g, (u) => {
    const raw = u.replace(/&amp;/g, "&");
    return safeURL(raw) ? '<a href="' + escape(raw) + '">' + u + "</a>" : u;
  });
  return DOMPurify.sanitize(linked.replace(/\n/g, "<br>"), TEXT);
}

// richHTML sanitises an HTML message (content type 3).
export function richHTML(s) {
  return DOMPurify.sanitize(String(s || ""), HTML);
}

// plain is a label: text only, whatever markup it held.
const plainCache = new Map();

export function plain(s) {
  const key = String(s == null ? "" : s);
  let out = plainCache.get(key);
  if (out === undefined) {
    out = plainText(key);
    if (plainCache.size > 2000) plainCache.clear();
    plainCache.set(key, out);
  }
  return out;
}

function plainText(s) {
  const clean = DOMPurify.sanitize(String(s == null ? "" : s), { ALLOWED_TAGS: [], KEEP_CONTENT: true });
  // The sanitised string still has entities; an inert parser (no scripts,
  // no loads) turns them back into the characters they stand for.
  return inert.parseFromString(clean, "text/html").documentElement.textContent;
}

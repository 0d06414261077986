// Rich messages (SPEC §5) drawn the way the widget shows them to the
// contact, as a read-only preview: buttons are shown, not pressed. Text
// from bots and contacts is only ever put in the page as text, and HTML
// messages go through DOMPurify first.
import DOMPurify from "dompurify";
import { html } from "dash/ui.js";

// safeURL follows SPEC §5: https everywhere, http only on localhost.
export function safeURL(u) {
  try {
    const url = new URL(String(u), location.href);
    if (url.protocol === "https:") return url.href;
    if (url.protocol === "http:" && (url.hostname === "localhost" || url.hostname === "127.0.0.1")) return url.href;
  } catch { /* not a URL */ }
  return "";
}

function parse(payload) {
  if (typeof payload !== "string") return payload;
  try { return JSON.parse(payload); } catch { return null; }
}

function Buttons({ items }) {
  if (!Array.isArray(items) || items.length === 0) return null;
  return html`<div class="rich-buttons">${items.slice(0, 10).map((b) => {
    const label = b.name || b.title || b.label || b.message || "Button";
    const href = safeURL(b.url || (b.action && b.action.url) || "");
    return href
      ? html`<a class="chip" href=${href} target="_blank" rel="noopener noreferrer">${label}</a>`
      : html`<span class="chip">${label}</span>`;
  })}</div>`;
}

function Img({ src, alt }) {
  const u = safeURL(src);
  return u ? html`<img class="rich-img" src=${u} alt=${alt || ""} loading="lazy" referrerpolicy="no-referrer" />` : null;
}

function Card({ c }) {
  const header = c.header || {};
  return html`<div class="rich-card">
    <${Img} src=${header.imgSrc || c.imageUrl || c.imgSrc} alt=${c.title} />
    ${c.title && html`<strong>${c.title}</strong>`}
    ${c.subtitle && html`<div class="muted">${c.subtitle}</div>`}
    ${c.description && html`<div>${c.description}</div>`}
    <${Buttons} items=${c.buttons} />
  </div>`;
}

function videoEmbed(url) {
  const u = safeURL(url);
  if (!u) return "";
  const yt = u.match(/^https:\/\/(?:www\.)?(?:youtube\.com\/watch\?v=|youtu\.be\/)([\w-]{6,})/);
  if (yt) return "https://www.youtube-nocookie.com/embed/" + yt[1];
  const vm = u.match(/^https:\/\/vimeo\.com\/(\d+)/);
  if (vm) return "https://player.vimeo.com/video/" + vm[1];
  return "";
}

export function RichBody({ m }) {
  const meta = m.metadata || {};
  if (m.contentType === 3) {
    const clean = DOMPurify.sanitize(m.text || "", { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "form", "input"] });
    return html`<div class="html-msg" dangerouslySetInnerHTML=${{ __html: clean }}></div>`;
  }
  const text = m.text ? html`<div class="text">${m.text}</div>` : null;
  if (!meta.templateId) return text;
  const p = parse(meta.payload);
  if (p === null) return text;
  const items = Array.isArray(p) ? p : [p];
  let body = null;
  switch (String(meta.templateId)) {
    case "3": case "6": case "11": case "13":
      body = html`<${Buttons} items=${items} />`;
      break;
    case "7": {
      const l = items[0] || {};
      body = html`<div class="rich-card">
        ${l.headerText && html`<strong>${l.headerText}</strong>`}
        <${Img} src=${l.headerImgSrc} alt="" />
        <ul>${(l.elements || []).map((e) => html`<li><strong>${e.title}</strong> ${e.description}</li>`)}</ul>
        <${Buttons} items=${l.buttons} />
      </div>`;
      break;
    }
    case "8":
      body = html`<div class="rich-card">${items.map((d) => html`<div><strong>${d.title}</strong><p>${d.description}</p></div>`)}</div>`;
      break;
    case "9":
      body = html`<div class="rich-images">${items.map((i) => html`<figure><${Img} src=${i.url} alt=${i.caption} /><figcaption>${i.caption}</figcaption></figure>`)}</div>`;
      break;
    case "10":
      body = html`<div class="rich-carousel">${items.map((c) => html`<${Card} c=${c} />`)}</div>`;
      break;
    case "12":
      body = html`<div class="rich-card"><strong>Form</strong><ul>${items.map((f) => html`<li>${(f.data && (f.data.label || f.data.title || f.data.name)) || f.type}</li>`)}</ul></div>`;
      break;
    case "14": {
      const v = items[0] || {};
      const src = videoEmbed(v.url || v.source);
      body = src
        ? html`<iframe class="rich-video" src=${src} title=${v.caption || "video"} sandbox="allow-scripts allow-same-origin allow-presentation" allow="fullscreen"></iframe>`
        : (safeURL(v.url) ? html`<video class="rich-video" controls src=${safeURL(v.url)}></video>` : null);
      break;
    }
  }
  return html`<div class="rich">${text}${body}</div>`;
}

// Rich messages, in the canonical shapes internal/richmsg stores: one
// renderer per templateId. A press reports only where it happened (a JSON
// Pointer into the payload); the server turns it into the contact's message
// from what the stored message offers. Links open here, and only safe ones.

import { h } from "preact";
import { useState } from "preact/hooks";
import htm from "htm";
import { safeURL, safeImage, plain, richHTML } from "sb/text.js";
import { fmt } from "sb/i18n.js";

const html = htm.bind(h);

export function parsePayload(meta) {
  if (!meta || !meta.templateId) return null;
  try {
    return JSON.parse(meta.payload || "null");
  } catch (e) {
    return null;
  }
}

function actionOf(a) {
  if (!a) return { type: "quickReply" };
  const p = a.payload || a;
  const t = String(a.type || "").toLowerCase();
  const type = t === "link" || t === "url" || t === "web_url" ? "link" : t === "submit" ? "submit" : "quickReply";
  return { type, url: p.url || a.url };
}

function Button({ label, action, path, press, cls }) {
  const a = actionOf(action);
  if (a.type === "link") {
    const href = safeURL(a.url);
    if (!href) return html`<span class="sb-btn sb-btn-dead">${plain(label)}</span>`;
    return html`<a class=${"sb-btn " + (cls || "")} href=${href} target="_blank" rel="noopener noreferrer"
      onClick=${() => press(path, label, "link")}>${plain(label)} ↗</a>`;
  }
  return html`<button type="button" class=${"sb-btn " + (cls || "")} onClick=${() => press(path, label, a.type)}>${plain(label)}</button>`;
}

function arr(v) { return Array.isArray(v) ? v : []; }

function QuickReplies({ p, press }) {
  return html`<div class="sb-chips" role="group">${arr(p).map((q, i) => html`
    <button type="button" class="sb-chip" onClick=${() => press("/" + i, q.title || q.message, "quickReply")}>${plain(q.title || q.message)}</button>`)}</div>`;
}

function Buttons({ p, press }) {
  return html`<div class="sb-buttons" role="group">${arr(p).map((b, i) => html`
    <${Button} label=${b.name} action=${b.action || { type: b.type, url: b.url }} path=${"/" + i} press=${press} />`)}</div>`;
}

function List({ p, press }) {
  return html`<div class="sb-list">
    ${p.headerImgSrc && safeImage(p.headerImgSrc) ? html`<img class="sb-list-img" src=${safeImage(p.headerImgSrc)} alt="" />` : null}
    ${p.headerText ? html`<div class="sb-list-head">${plain(p.headerText)}</div>` : null}
    <ul role="list">${arr(p.elements).map((e, i) => html`<li>
      <button type="button" class="sb-list-item" onClick=${() => {
        const a = actionOf(e.action);
        if (a.type === "link") { const u = safeURL(a.url); if (u) window.open(u, "_blank", "noopener"); }
        press("/elements/" + i, e.title, a.type);
      }}>
        ${e.imgSrc && safeImage(e.imgSrc) ? html`<img src=${safeImage(e.imgSrc)} alt="" />` : null}
        <span><strong>${plain(e.title)}</strong>${e.description ? html`<br /><small>${plain(e.description)}</small>` : null}</span>
      </button></li>`)}</ul>
    <div class="sb-buttons">${arr(p.buttons).map((b, i) => html`<${Button} label=${b.name} action=${b.action} path=${"/buttons/" + i} press=${press} />`)}</div>
  </div>`;
}

function Dialog({ p, press }) {
  return html`<div class="sb-dialog">
    ${p.title ? html`<div class="sb-dialog-title">${plain(p.title)}</div>` : null}
    ${p.description ? html`<div class="sb-dialog-body">${plain(p.description)}</div>` : null}
    ${p.buttonLabel ? html`<div class="sb-dialog-q">${plain(p.buttonLabel)}</div>` : null}
    <div class="sb-buttons">${arr(p.buttons).map((b, i) => html`
      <button type="button" class="sb-btn" onClick=${() => press("/buttons/" + i, b.name, "quickReply")}>${plain(b.name)}</button>`)}</div>
  </div>`;
}

function Images({ p }) {
  return html`<div class="sb-images">${arr(p).map((im) => safeImage(im.url) ? html`<figure>
    <img src=${safeImage(im.url)} alt=${plain(im.caption || "")} loading="lazy" />
    ${im.caption ? html`<figcaption>${plain(im.caption)}</figcaption>` : null}</figure>` : null)}</div>`;
}

function Cards({ p, press }) {
  return html`<div class="sb-cards" role="list">${arr(p).map((c, ci) => html`<div class="sb-card" role="listitem">
    ${c.header && safeImage(c.header.imgSrc) ? html`<div class="sb-card-img"><img src=${safeImage(c.header.imgSrc)} alt="" />
      ${c.header.overlayText ? html`<span class="sb-card-overlay">${plain(c.header.overlayText)}</span>` : null}</div>` : null}
    <div class="sb-card-body">
      <div class="sb-card-title">${plain(c.title)}${c.titleExt ? html` <span class="sb-card-ext">${plain(c.titleExt)}</span>` : null}</div>
      ${c.subtitle ? html`<div class="sb-card-sub">${plain(c.subtitle)}</div>` : null}
      ${c.description ? html`<div class="sb-card-desc">${plain(c.description)}</div>` : null}
    </div>
    <div class="sb-card-buttons">${arr(c.buttons).map((b, bi) => html`
      <${Button} label=${b.name} action=${b.action} path=${"/" + ci + "/buttons/" + bi} press=${press} cls="sb-card-btn" />`)}</div>
  </div>`)}</div>`;
}

function Form({ p, press, t }) {
  const fields = arr(p);
  const [values, setValues] = useState(() => {
    const v = {};
    for (const f of fields) {
      const d = f.data || {};
      if (f.type === "hidden") v[d.name] = [d.value || ""];
      for (const o of arr(d.options)) if (o.selected) v[d.name] = (v[d.name] || []).concat(o.value);
    }
    return v;
  });
  const [errors, setErrors] = useState({});
  const set = (name, val, multi) => setValues((old) => {
    const next = Object.assign({}, old);
    if (multi) {
      const cur = new Set(old[name] || []);
      if (cur.has(val)) cur.delete(val); else cur.add(val);
      next[name] = [...cur];
    } else next[name] = [val];
    return next;
  });
  const submit = (i, label) => {
    const errs = {};
    for (const f of fields) {
      const d = f.data || {};
      if (!d.name || f.type === "hidden" || f.type === "submit") continue;
      const v = (values[d.name] || []).join("");
      const re = d.validation && d.validation.regex;
      if (re) {
        let ok = false;
        try { ok = new RegExp(re).test(v); } catch (e) { ok = true; }
        if (!ok) errs[d.name] = d.validation.errorText || fmt(t.invalid, { label: d.label || d.name });
      }
    }
    setErrors(errs);
    if (Object.keys(errs).length === 0) press("/" + i, label, "submit", values);
  };
  return html`<form class="sb-form" onSubmit=${(e) => e.preventDefault()} novalidate>
    ${fields.map((f, i) => {
      const d = f.data || {};
      const id = "f" + Math.random().toString(36).slice(2) + i;
      const err = errors[d.name];
      const label = d.label || d.title || d.name;
      switch (f.type) {
        case "hidden": return null;
        case "submit": return html`<button type="button" class="sb-btn sb-primary" onClick=${() => submit(i, d.name || label || t.submit)}>${plain(d.name || label || t.submit)}</button>`;
        case "textarea": return html`<label for=${id}>${plain(label)}</label>
          <textarea id=${id} name=${d.name} rows=${d.rows || 3} placeholder=${plain(d.placeholder || "")} aria-invalid=${err ? "true" : "false"}
            onInput=${(e) => set(d.name, e.target.value)}></textarea>${err ? html`<div class="sb-err" role="alert">${plain(err)}</div>` : null}`;
        case "radio":
        case "checkbox": return html`<fieldset><legend>${plain(label)}</legend>${arr(d.options).map((o) => html`<label class="sb-opt">
          <input type=${f.type} name=${d.name} value=${o.value} disabled=${o.disabled} checked=${(values[d.name] || []).includes(o.value)}
            onChange=${() => set(d.name, o.value, f.type === "checkbox")} /> ${plain(o.label)}</label>`)}</fieldset>`;
        case "dropdown":
        case "select": return html`<label for=${id}>${plain(label)}</label><select id=${id} name=${d.name} onChange=${(e) => set(d.name, e.target.value)}>
          <option value="">—</option>${arr(d.options).map((o) => html`<option value=${o.value} disabled=${o.disabled} selected=${(values[d.name] || []).includes(o.value)}>${plain(o.label)}</option>`)}</select>`;
        default: return html`<label for=${id}>${plain(label)}</label>
          <input id=${id} name=${d.name} type=${["email", "number", "date", "password", "tel"].includes(f.type) ? f.type : "text"}
            placeholder=${plain(d.placeholder || "")} aria-invalid=${err ? "true" : "false"} onInput=${(e) => set(d.name, e.target.value)} />
          ${err ? html`<div class="sb-err" role="alert">${plain(err)}</div>` : null}`;
      }
    })}
  </form>`;
}

function embedURL(v) {
  const u = safeURL(v.url);
  if (!u) return "";
  const url = new URL(u);
  const yt = url.hostname.replace(/^www\./, "");
  if (yt === "youtube.com" || yt === "youtu.be" || yt === "youtube-nocookie.com") {
    const id = yt === "youtu.be" ? url.pathname.slice(1) : url.searchParams.get("v") || url.pathname.split("/").pop();
    return /^[\w-]{6,20}$/.test(id || "") ? "https://www.youtube-nocookie.com/embed/" + id : "";
  }
  if (yt === "vimeo.com" || yt === "player.vimeo.com") {
    const id = url.pathname.split("/").filter(Boolean).pop();
    return /^\d{3,15}$/.test(id || "") ? "https://player.vimeo.com/video/" + id : "";
  }
  return "";
}

function Videos({ p }) {
  return html`<div class="sb-videos">${arr(p).map((v) => {
    const embed = embedURL(v);
    const src = safeURL(v.url);
    return html`<figure>
      ${embed ? html`<iframe src=${embed} title=${plain(v.caption || "Video")} allow="fullscreen; picture-in-picture" sandbox="allow-scripts allow-same-origin allow-presentation" loading="lazy"></iframe>`
        : src ? html`<video src=${src} controls preload="metadata"></video>` : null}
      ${v.caption ? html`<figcaption>${plain(v.caption)}</figcaption>` : null}</figure>`;
  })}</div>`;
}

// Rich renders the template of m, or nothing for a plain message.
export function Rich({ m, press, t }) {
  const p = parsePayload(m.metadata);
  if (p == null) return null;
  switch (String(m.metadata.templateId)) {
    case "3": return html`<${Buttons} p=${p} press=${press} />`;
    case "6": return html`<${QuickReplies} p=${p} press=${press} />`;
    case "7": return html`<${List} p=${p} press=${press} />`;
    case "8": return html`<${Dialog} p=${p} press=${press} />`;
    case "9": return html`<${Images} p=${p} />`;
    case "10": return html`<${Cards} p=${p} press=${press} />`;
    case "11":
    case "13": return html`<${Buttons} p=${p} press=${press} />`;
    case "12": return html`<${Form} p=${p} press=${press} t=${t} />`;
    case "14": return html`<${Videos} p=${p} />`;
  }
  return null;
}

export { richHTML };

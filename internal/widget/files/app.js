// The widget application inside the iframe: it becomes a contact of the
// app, lists and opens conversations, and keeps them live over one
// WebSocket. The host page talks to it only through postMessage, and only
// the page that framed it (the origin of its first "init") is listened to.

import { h, render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import { Conn, APIError, randomID } from "sb/conn.js";
import { Rich } from "sb/rich.js";
import { textHTML, richHTML, safeURL, safeImage, plain } from "sb/text.js";
import { labels, fmt } from "sb/i18n.js";

const html = htm.bind(h);

const clip = html`<svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z"/></svg>`;
const pin = html`<svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M12 2a7 7 0 0 0-7 7c0 5.2 7 13 7 13s7-7.8 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z"/></svg>`;

const MAX_UPLOAD = 20 << 20;
const UPLOAD_TYPES = /^(image\/(png|jpeg|gif|webp)|application\/pdf|text\/plain|text\/csv|audio\/.+|video\/.+|application\/(msword|vnd\.openxmlformats-officedocument\..+|vnd\.ms-excel|vnd\.oasis\.opendocument\..+|zip))$/;
const STATUS_RESOLVED = 2;
const PAGE = 30; // messages loaded at a time when a conversation opens or scrolls up
const CONTENT_ATTACHMENT = 1, CONTENT_LOCATION = 2, CONTENT_HTML = 3, CONTENT_SYSTEM = 10;

// ---- state ----

const S = {
  settings: {}, // the host page's settings
  app: { themeColor: "#2457d6", position: "right", talkToHuman: false },
  t: labels("en"),
  me: null,
  people: new Map(), // "bot:id" → {name, avatarUrl}
  convs: [],
  msgs: new Map(), // conversationId → [message] by seq: a window that ends at the latest
  from: new Map(), // conversationId → seq of the earliest message loaded (1: all of it)
  loading: new Set(), // conversationIds with a page of earlier messages on its way
  typing: new Map(), // conversationId → {name, until}
  previews: new Map(), // clientKey → {url, name, progress}
  uploads: [], // in-progress uploads: {key, conversationId, name, url, progress, error}
  view: "loading",
  current: null,
  online: false,
  agentsOnline: false,
  open: false,
  notice: "",
  rated: {},
  error: "",
};
const conn = { c: null };
let parentOrigin = null;
let rerender = () => {};
// Renders are coalesced: a replay of many messages draws once.
let pendingRender = false;
const update = () => {
  if (pendingRender) return;
  pendingRender = true;
  queueMicrotask(() => { pendingRender = false; rerender(); });
};
const bootSeq = new Map();

function toParent(msg) {
  if (!parentOrigin) return;
  msg.sb = 1;
  window.parent.postMessage(msg, parentOrigin);
}

function emit(name, data) {
  toParent({ type: "event", name, data: data === undefined ? null : JSON.parse(JSON.stringify(data)) });
}

function readKey() { return "sb:read:" + (S.me ? S.me.id : ""); }
function readMap() { try { return JSON.parse(localStorage.getItem(readKey()) || "{}"); } catch (e) { return {}; } }
// reported is, per conversation, the read position the server has taken
// or is being told; a report that fails is forgotten, so the next read
// sends it again.
const reported = new Map();
function markRead(id) {
  const list = S.msgs.get(id) || [];
  const last = list.length ? list[list.length - 1].seq : 0;
  const r = readMap();
  if ((r[id] || 0) < last) {
    r[id] = last;
    try { localStorage.setItem(readKey(), JSON.stringify(r)); } catch (e) { /* storage off */ }
    reportUnread();
  }
  // The server keeps the read position too: it holds back the email of an
  // agent's unread reply, so a report it missed must not be taken as made.
  if (!conn.c || last === 0 || (reported.get(id) || 0) >= last) return;
  reported.set(id, last);
  conn.c.post("/widget/conversations/" + encodeURIComponent(id) + "/read", { seq: last }).catch(() => {
    if (reported.get(id) === last) reported.delete(id);
  });
}

function unreadCount() {
  const r = readMap();
  let n = 0;
  for (const [id, list] of S.msgs) {
    if (S.open && S.view === "conversation" && S.current === id) continue;
    for (const m of list) if (m.seq > (r[id] || 0) && m.sender.type !== "contact" && m.contentType !== CONTENT_SYSTEM) n++;
  }
  return n;
}
function reportUnread() { toParent({ type: "unread", count: unreadCount() }); }

function conv(id) { return S.convs.find((c) => c.id === id); }

// pageBefore reads the at most limit messages just before the earliest one
// held. The socket delivers everything after the boot point and pages
// everything before it; a page ends where the window began (or inside it,
// when another page raced it), so the window stays without gaps, and
// addMessage keeps one message per seq, so none is shown twice.
async function pageBefore(id, limit) {
  const before = S.from.get(id);
  if (!before || before <= 1) return;
  const c = conn.c;
  const out = await c.get("/widget/conversations/" + encodeURIComponent(id) + "/messages?beforeSeq=" + before + "&limit=" + limit);
  // A logout meanwhile made another contact: this page is not theirs.
  if (conn.c !== c || !S.from.has(id)) return;
  for (const m of out.messages) addMessage(m);
  S.from.set(id, Math.min(S.from.get(id), out.messages.length ? out.messages[0].seq : 1));
  update();
}

// loadEarlier brings the page before what the conversation shows.
async function loadEarlier(id) {
  if ((S.from.get(id) || 1) <= 1 || S.loading.has(id)) return;
  S.loading.add(id);
  update();
  try {
    await pageBefore(id, PAGE);
  } catch (e) {
    S.notice = e.message;
  }
  S.loading.delete(id);
  update();
}

function addMessage(m) {
  let list = S.msgs.get(m.conversationId);
  if (!list) S.msgs.set(m.conversationId, (list = []));
  if (list.length && list[list.length - 1].seq >= m.seq) {
    if (list.some((x) => x.seq === m.seq)) return false;
    list.push(m);
    list.sort((a, b) => a.seq - b.seq);
  } else list.push(m);
  return true;
}

let refreshTimer = 0;
function refreshConvs() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    const c = conn.c;
    if (!c || !c.token) return;
    try {
      const out = await c.get("/widget/conversations");
      // A logout meanwhile made another contact: this answer is not theirs.
      if (conn.c !== c) return;
      S.convs = out.conversations;
      update();
    } catch (e) { /* the next change retries */ }
  }, 150);
}

let audio = null;
function ding() {
  if (S.settings.notificationSound === false || S.settings.soundOff) return;
  try {
    audio = audio || new AudioContext();
    const o = audio.createOscillator(), g = audio.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.08, audio.currentTime);
    g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.25);
  } catch (e) { /* no audio: silent */ }
}

const handlers = {
  onMessage(m) {
    if (!addMessage(m)) return;
    const live = m.seq > (bootSeq.get(m.conversationId) || 0);
    const c = conv(m.conversationId);
    if (!c) refreshConvs();
    else if (m.seq > c.lastSeq) c.lastSeq = m.seq;
    if (m.contentType === CONTENT_SYSTEM || (c && c.status === STATUS_RESOLVED) || m.sender.type === "bot" || m.sender.type === "agent") refreshConvs();
    if (m.sender.type !== "contact") {
      S.typing.delete(m.conversationId);
      if (live) {
        emit("onMessageReceived", { message: m });
        if (m.contentType !== CONTENT_SYSTEM && !(S.open && S.current === m.conversationId)) ding();
      }
    }
    if (S.open && S.view === "conversation" && S.current === m.conversationId && document.visibilityState !== "hidden") markRead(m.conversationId);
    reportUnread();
    update();
  },
  onAck(f) {
    emit("onMessageSent", { clientKey: f.clientKey, messageId: f.messageId, seq: f.seq });
    update();
  },
  onTyping(f) {
    if (f.sender && f.sender.type === "contact") return;
    const p = S.people.get(f.sender.type + ":" + f.sender.id);
    if (f.typing) S.typing.set(f.conversationId, { name: p ? p.name : S.t[f.sender.type] || "", until: Date.now() + 6000 });
    else S.typing.delete(f.conversationId);
    update();
  },
  onAgentsOnline(on) { S.agentsOnline = on; update(); },
  // A conversation resolved, reopened or handed off: the server pushes its
  // new state to the contact, so the banner and buttons follow at once.
  onStatus(st) {
    const c = conv(st.id);
    if (!c) return refreshConvs();
    c.status = st.status;
    c.statusName = st.statusName;
    c.assignee = st.assignee;
    update();
  },
  onState(on) {
    S.online = on;
    // Status changes are not replayed on resume: whatever happened while
    // the socket was down is read again.
    if (on) refreshConvs();
    update();
  },
  onError(f) {
    S.notice = (f.error && f.error.message) || "";
    update();
  },
};

// ---- actions ----

async function start() {
  const c = new Conn(S.settings.appId, handlers);
  conn.c = c;
  const sess = await c.session(S.settings);
  S.me = sess.contact;
  S.app = sess.settings;
  S.people = new Map(sess.participants.map((p) => [p.type + ":" + p.id, p]));
  S.t = labels(S.settings.language || S.me.language, S.settings.labels);
  const out = await c.get("/widget/conversations");
  S.convs = out.conversations;
  // Live from now on, with no replay: what came before is read a page at a
  // time when it is shown (the list's last message; a conversation when it
  // opens).
  const recent = S.convs.slice(0, 20);
  for (const cv of recent) {
    bootSeq.set(cv.id, cv.lastSeq);
    S.from.set(cv.id, cv.lastSeq + 1);
    c.subscribe(cv.id, cv.lastSeq);
  }
  c.connect();
  S.view = "list";
  update();
  // The list shows each conversation's last message; without it, "…".
  await Promise.all(recent.map((cv) => pageBefore(cv.id, 1).catch(() => {})));
}

async function startConversation(params) {
  const p = Object.assign({}, params || {});
  const body = {};
  const botIds = p.botIds || S.settings.botIds;
  if (Array.isArray(botIds) && botIds.length) body.botIds = botIds.map(String);
  const team = p.teamId || S.settings.teamId;
  if (team) body.teamId = String(team);
  for (const k of ["skipRouting", "skipBotEvent"]) if ((p[k] ?? S.settings[k]) === true) body[k] = true;
  const ev = p.customWelcomeEvent || S.settings.customWelcomeEvent;
  if (ev) body.customWelcomeEvent = String(ev);
  if (p.metadata && typeof p.metadata === "object") {
    body.metadata = {};
    for (const k of Object.keys(p.metadata)) body.metadata[k] = String(p.metadata[k]);
  }
  const c = await conn.c.post("/widget/conversations", body);
  S.convs = [c].concat(S.convs.filter((x) => x.id !== c.id));
  bootSeq.set(c.id, 0);
  S.from.set(c.id, 1);
  conn.c.subscribe(c.id, 0);
  openConversation(c.id);
  return c.id;
}

function openConversation(id) {
  if (!conv(id)) return false;
  S.current = id;
  S.view = "conversation";
  S.notice = "";
  if (!S.from.has(id)) {
    // Beyond the 20 followed since boot: follow it from its latest seq.
    const c = conv(id);
    bootSeq.set(id, c.lastSeq);
    S.from.set(id, c.lastSeq + 1);
    conn.c.subscribe(id, c.lastSeq);
  }
  if ((S.msgs.get(id) || []).length < PAGE) loadEarlier(id);
  markRead(id);
  update();
  return true;
}

async function launchConversation() {
  const recent = S.convs.find((c) => c.status !== STATUS_RESOLVED) || null;
  if (recent) return openConversation(recent.id) && recent.id;
  return startConversation({});
}

async function updateMe(patch) {
  const me = await conn.c.patch("/widget/me", patch);
  S.me = me;
  if (patch.language) S.t = labels(patch.language, S.settings.labels);
  update();
  return me;
}

function send(text) {
  const id = S.current;
  if (!id || !text.trim()) return;
  conn.c.send(id, { text });
  conn.c.typing(id, false);
  update();
}

async function press(m, path, label, kind, values) {
  emit("onRichMessageButtonClick", { conversationId: m.conversationId, seq: m.seq, path, label: String(label || ""), kind });
  if (kind === "link") return;
  try {
    await conn.c.post("/widget/conversations/" + encodeURIComponent(m.conversationId) + "/click",
      { seq: m.seq, path, values: values || undefined, clientKey: "c-" + randomID() });
  } catch (e) {
    S.notice = e.message;
    update();
  }
}

function human(n) {
  return n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MB" : Math.ceil(n / 1024) + " KB";
}

async function attach(file) {
  const id = S.current;
  if (!file || !id) return;
  if (file.size > MAX_UPLOAD) {
    S.notice = fmt(S.t.tooLarge, { name: file.name, limit: human(MAX_UPLOAD) });
    return update();
  }
  if (!UPLOAD_TYPES.test(file.type || "")) {
    S.notice = fmt(S.t.badType, { name: file.name });
    return update();
  }
  const up = { key: Math.random().toString(36).slice(2), conversationId: id, name: file.name, progress: 0,
    url: file.type.startsWith("image/") ? URL.createObjectURL(file) : "" };
  S.uploads.push(up);
  S.notice = "";
  update();
  try {
    const u = await conn.c.upload(file, (p) => { up.progress = p; update(); });
    const key = conn.c.send(id, { contentType: CONTENT_ATTACHMENT, attachments: [{ uploadId: u.id }] });
    if (up.url) S.previews.set(key, up.url);
  } catch (e) {
    S.notice = fmt(S.t.uploadFailed, { reason: e.message });
  }
  S.uploads = S.uploads.filter((x) => x !== up);
  update();
}

function shareLocation() {
  const id = S.current;
  if (!id || !navigator.geolocation) {
    S.notice = S.t.locationFailed;
    return update();
  }
  navigator.geolocation.getCurrentPosition(
    (pos) => { conn.c.send(id, { location: { lat: pos.coords.latitude, lon: pos.coords.longitude } }); update(); },
    () => { S.notice = S.t.locationFailed; update(); },
    { timeout: 10000 });
}

async function talkToHuman() {
  try {
    await conn.c.post("/conversations/" + encodeURIComponent(S.current) + "/talk-to-human");
    refreshConvs();
  } catch (e) {
    S.notice = e.message;
    update();
  }
}

async function rate(rating) {
  const id = S.current;
  try {
    await conn.c.post("/conversations/" + encodeURIComponent(id) + "/csat", { rating });
    S.rated[id] = true;
  } catch (e) {
    S.notice = e.message;
  }
  update();
}

async function logout() {
  clearTimeout(refreshTimer);
  conn.c.close();
  conn.c.forget();
  S.msgs.clear();
  S.from.clear();
  S.loading.clear();
  S.convs = [];
  S.current = null;
  S.view = "loading";
  update();
  delete S.settings.userId;
  delete S.settings.userHash;
  await start();
}

const api = {
  launchConversation,
  openConversationList() { S.view = "list"; update(); return true; },
  openConversation,
  startConversation,
  updateChatContext: (obj) => updateMe({ chatContext: obj }),
  updateUserLanguage: (tag) => updateMe({ language: String(tag) }),
  updateUser: (o) => {
    const p = {};
    const name = o && (o.displayName || o.userName || o.name);
    if (name) p.name = String(name);
    if (o && o.email) p.email = String(o.email);
    if (o && o.languageCode) p.language = String(o.languageCode);
    return updateMe(p);
  },
  updateSettings(o) {
    Object.assign(S.settings, o || {});
    if (o && o.labels) S.t = labels(S.me && S.me.language, S.settings.labels);
    update();
    return true;
  },
  logout,
};

window.addEventListener("message", async (e) => {
  if (e.source !== window.parent || !e.data || e.data.sb !== 1) return;
  const m = e.data;
  if (m.type === "init") {
    if (parentOrigin) return;
    parentOrigin = e.origin;
    S.settings = Object.assign({}, m.settings || {}, S.settings.appId && !(m.settings || {}).appId ? { appId: S.settings.appId } : {});
    try {
      await start();
      toParent({ type: "ready", theme: S.app });
    } catch (err) {
      S.error = err.message;
      S.view = "error";
      update();
    }
    return;
  }
  if (e.origin !== parentOrigin) return;
  if (m.type === "open") { S.open = true; if (S.view === "conversation") markRead(S.current); reportUnread(); update(); }
  if (m.type === "close") { S.open = false; reportUnread(); update(); }
  if (m.type === "call") {
    const f = api[m.method];
    let value = null, error = null;
    try {
      if (!f) throw new Error("unknown method " + m.method);
      while (S.view === "loading") await new Promise((r) => setTimeout(r, 50));
      value = await f(m.args);
    } catch (err) {
      error = err instanceof APIError ? { code: err.code, message: err.message, field: err.field } : { message: String(err.message || err) };
    }
    toParent({ type: "result", id: m.id, value: value === undefined ? null : JSON.parse(JSON.stringify(value)), error });
  }
});

window.addEventListener("online", () => conn.c && conn.c.reconnectNow());
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") toParent({ type: "close" });
});

// ---- views ----

function Avatar({ p, type }) {
  const src = p && safeImage(p.avatarUrl);
  const letter = plain((p && p.name) || (type === "bot" ? "B" : "A")).slice(0, 1).toUpperCase();
  return src ? html`<img class="sb-avatar" src=${src} alt="" />` : html`<span class="sb-avatar" aria-hidden="true">${letter}</span>`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
function time(s) {
  const d = new Date(s);
  return isNaN(d) ? "" : timeFmt.format(d);
}

function Attachments({ m, preview }) {
  return html`${(m.attachments || []).map((a) => {
    const url = safeURL(a.url);
    if (/^image\//.test(a.mimeType) && (url || preview)) return html`<a href=${url || preview} target="_blank" rel="noopener noreferrer" class="sb-att-img"><img src=${url || preview} alt=${plain(a.name)} /></a>`;
    return url ? html`<a class="sb-att" href=${url} target="_blank" rel="noopener noreferrer">${clip} ${plain(a.name)}</a>` : html`<span class="sb-att">${clip} ${plain(a.name)}</span>`;
  })}`;
}

function Message({ m, prev }) {
  const t = S.t;
  if (m.contentType === CONTENT_SYSTEM) return html`<li class="sb-system" role="note">${plain(m.text)}</li>`;
  const mine = m.sender.type === "contact";
  const p = S.people.get(m.sender.type + ":" + m.sender.id);
  const name = mine ? t.you : (p && p.name) || t[m.sender.type] || "";
  const first = !prev || prev.sender.type !== m.sender.type || prev.sender.id !== m.sender.id || prev.contentType === CONTENT_SYSTEM;
  let body;
  // A message never changes, so it is sanitised once, not on every render.
  if (m.text && m.safeHTML === undefined) m.safeHTML = m.contentType === CONTENT_HTML ? richHTML(m.text) : textHTML(m.text);
  if (m.text) body = html`<div class="sb-text" dangerouslySetInnerHTML=${{ __html: m.safeHTML }}></div>`;
  const loc = m.location && html`<a class="sb-att" target="_blank" rel="noopener noreferrer"
    href=${"https://www.openstreetmap.org/?mlat=" + Number(m.location.lat) + "&mlon=" + Number(m.location.lon)}>${pin} ${Number(m.location.lat).toFixed(5)}, ${Number(m.location.lon).toFixed(5)}</a>`;
  return html`<li class=${"sb-msg " + (mine ? "sb-mine" : "sb-theirs")} data-seq=${m.seq} data-sender=${m.sender.type}>
    ${!mine && first ? html`<div class="sb-who"><${Avatar} p=${p} type=${m.sender.type} /><span class="sb-name">${plain(name)}</span></div>` : null}
    <div class="sb-bubble">${body}<${Attachments} m=${m} preview=${S.previews.get(m.clientKey)} />${loc}</div>
    ${m.metadata && m.metadata.templateId ? html`<div class="sb-rich"><${Rich} m=${m} t=${t} press=${(path, label, kind, values) => press(m, path, label, kind, values)} /></div>` : null}
    <time class="sb-time" datetime=${m.createdAt}>${time(m.createdAt)}</time>
  </li>`;
}

function Pending({ item }) {
  const f = item.frame;
  const preview = S.previews.get(item.clientKey);
  return html`<li class="sb-msg sb-mine sb-pending" data-client-key=${item.clientKey}>
    <div class="sb-bubble">${f.text ? html`<div class="sb-text">${f.text}</div>` : null}
      ${preview ? html`<img class="sb-preview" src=${preview} alt="" />` : null}
      ${f.location ? html`<span class="sb-att">${pin}</span>` : null}</div>
    <span class="sb-time">${S.online ? S.t.sending : S.t.waiting}</span></li>`;
}

function Upload({ u }) {
  return html`<li class="sb-msg sb-mine sb-uploading"><div class="sb-bubble">
    ${u.url ? html`<img class="sb-preview" src=${u.url} alt=${u.name} />` : html`<span class="sb-att">${clip} ${u.name}</span>`}
    <progress max="1" value=${u.progress} aria-label=${u.name}></progress></div></li>`;
}

// CSAT asks for the rating in the app's style, both on the 1–10 scale:
// three faces (1, 5, 10) or five stars (2 to 10); "off" asks nothing.
function CSAT({ id }) {
  const t = S.t;
  const style = S.app.csat || "faces";
  if (style === "off") return null;
  if (S.rated[id]) return html`<div class="sb-csat" role="status">${t.thanks}</div>`;
  const choices = style === "stars"
    ? [1, 2, 3, 4, 5].map((n) => html`<button type="button" class="sb-star" aria-label=${fmt(n === 1 ? t.star : t.stars, { n })} onClick=${() => rate(2 * n)}>★</button>`)
    : [[1, "😞"], [5, "😐"], [10, "😊"]].map(([r, face]) => html`<button type="button" class="sb-face" aria-label=${String(r)} onClick=${() => rate(r)}>${face}</button>`);
  return html`<div class="sb-csat" role="group" aria-label=${t.rate}><div>${t.rate}</div><div class=${"sb-" + style}>${choices}</div></div>`;
}

function Composer() {
  const t = S.t;
  const [text, setText] = useState("");
  const box = useRef(null);
  const file = useRef(null);
  const typingAt = useRef(0);
  useEffect(() => { if (box.current) box.current.focus(); }, [S.current]);
  // The box, not the state, is read: a submit can come before the render
  // that follows the last keystroke.
  const submit = () => {
    const value = box.current ? box.current.value : text;
    if (!value.trim()) return;
    send(value);
    setText("");
    if (box.current) box.current.value = "";
  };
  const onInput = (e) => {
    setText(e.target.value);
    const now = Date.now();
    if (now - typingAt.current > 2000) {
      typingAt.current = now;
      conn.c.typing(S.current, true);
    }
  };
  const allowAttach = S.settings.attachment !== false;
  return html`<form class="sb-composer" onSubmit=${(e) => { e.preventDefault(); submit(); }}>
    ${allowAttach ? html`<button type="button" class="sb-icon" aria-label=${t.attach} title=${t.attach} onClick=${() => file.current.click()}>${clip}</button>
      <input ref=${file} type="file" class="sb-hidden" aria-hidden="true" tabindex="-1" onChange=${(e) => { attach(e.target.files[0]); e.target.value = ""; }} />` : null}
    ${S.settings.locShare ? html`<button type="button" class="sb-icon" aria-label=${t.location} title=${t.location} onClick=${shareLocation}>${pin}</button>` : null}
    <textarea ref=${box} rows="1" id="sb-input" aria-label=${t.placeholder} placeholder=${t.placeholder} value=${text} onInput=${onInput}
      onKeyDown=${(e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); } }}></textarea>
    <button type="submit" class="sb-send" aria-label=${t.send}>➤</button>
  </form>`;
}

function Conversation() {
  const t = S.t;
  const id = S.current;
  const c = conv(id);
  const list = S.msgs.get(id) || [];
  const seen = new Set(list.map((m) => m.clientKey).filter(Boolean));
  const pending = conn.c.outbox.filter((o) => o.conversationId === id && !seen.has(o.clientKey));
  const uploads = S.uploads.filter((u) => u.conversationId === id);
  const typing = S.typing.get(id);
  const end = useRef(null);
  const box = useRef(null);
  const shown = useRef({ last: -1, first: -1, height: 0, top: 0 });
  const last = list.length ? list[list.length - 1].seq : 0;
  const first = list.length ? list[0].seq : 0;
  useEffect(() => {
    const was = shown.current, el = box.current;
    if (el && first < was.first && last === was.last) {
      // Earlier messages went in above: keep the ones being read in place.
      el.scrollTop = el.scrollHeight - was.height + was.top;
    } else if (end.current && (last !== was.last || pending.length + uploads.length > 0 || typing)) {
      end.current.scrollIntoView({ block: "end" });
    }
    shown.current = { last, first, height: el ? el.scrollHeight : 0, top: el ? el.scrollTop : 0 };
  });
  const more = (S.from.get(id) || 1) > 1;
  const onScroll = (e) => {
    shown.current.top = e.target.scrollTop;
    shown.current.height = e.target.scrollHeight;
    if (more && e.target.scrollTop < 40) loadEarlier(id);
  };
  const botHolds = c && c.assignee && c.assignee.type === "bot" && c.status !== STATUS_RESOLVED;
  const showHuman = botHolds && (S.settings.talkToHuman === true || (S.settings.talkToHuman !== false && S.app.talkToHuman));
  return html`<div class="sb-conv">
    <ol ref=${box} class="sb-messages" role="log" aria-live="polite" aria-label=${t.title} onScroll=${onScroll}>
      ${more ? html`<li class="sb-earlier"><button type="button" onClick=${() => loadEarlier(id)} disabled=${S.loading.has(id)}>${t.earlier}</button></li>` : null}
      ${list.map((m, i) => html`<${Message} key=${m.seq} m=${m} prev=${list[i - 1]} />`)}
      ${pending.map((p) => html`<${Pending} key=${p.clientKey} item=${p} />`)}
      ${uploads.map((u) => html`<${Upload} key=${u.key} u=${u} />`)}
      ${typing && typing.until > Date.now() ? html`<li class="sb-typing" role="status">${fmt(t.typing, { name: plain(typing.name) })}</li>` : null}
      <li ref=${end} aria-hidden="true"></li>
    </ol>
    ${c && c.status === STATUS_RESOLVED ? html`<div class="sb-resolved" role="status">${t.resolved}</div><${CSAT} id=${id} />` : null}
    ${showHuman ? html`<button type="button" class="sb-human" onClick=${talkToHuman}>${t.talkToHuman}</button>` : null}
    ${S.notice ? html`<div class="sb-notice" role="alert">${S.notice}</div>` : null}
    ${!S.online ? html`<div class="sb-offline" role="status">${t.offline}</div>` : null}
    <${Composer} key=${id} />
  </div>`;
}

function List() {
  const t = S.t;
  const r = readMap();
  return html`<div class="sb-list-view">
    <button type="button" class="sb-new" onClick=${() => startConversation({}).catch((e) => { S.notice = e.message; update(); })}>${t.newConversation}</button>
    ${S.notice ? html`<div class="sb-notice" role="alert">${S.notice}</div>` : null}
    ${S.convs.length === 0 ? html`<p class="sb-empty">${t.noConversations}</p>` : null}
    <ul class="sb-convs" role="list">${S.convs.map((c) => {
      const list = S.msgs.get(c.id) || [];
      const last = list[list.length - 1];
      const unread = list.filter((m) => m.seq > (r[c.id] || 0) && m.sender.type !== "contact" && m.contentType !== CONTENT_SYSTEM).length;
      return html`<li><button type="button" class="sb-conv-item" data-id=${c.id} onClick=${() => openConversation(c.id)}>
        <span class="sb-conv-text">${last ? plain(last.text || (last.location ? "📍" : "…")) : "…"}</span>
        ${last ? html`<time>${time(last.createdAt)}</time>` : null}
        ${unread ? html`<span class="sb-conv-unread" aria-label=${unread + " unread"}>${unread}</span>` : null}
      </button></li>`;
    })}</ul></div>`;
}

function App() {
  const [, setTick] = useState(0);
  rerender = () => setTick((n) => n + 1);
  useEffect(() => {
    const timer = setInterval(() => {
      for (const [id, ty] of S.typing) if (ty.until < Date.now()) { S.typing.delete(id); update(); }
    }, 1000);
    return () => clearInterval(timer);
  }, []);
  const t = S.t;
  document.documentElement.style.setProperty("--sb-theme", S.app.themeColor || "#2457d6");
  document.documentElement.lang = (S.me && S.me.language) || "en";
  return html`<div class="sb-shell" role="dialog" aria-label=${t.title}>
    <header class="sb-header">
      ${S.view === "conversation" ? html`<button type="button" class="sb-icon sb-back" aria-label=${t.back} onClick=${() => { S.view = "list"; update(); }}>‹</button>` : null}
      <div class="sb-title"><h1>${t.title}</h1><span class="sb-presence" data-online=${String(S.agentsOnline)}>${S.agentsOnline ? t.online : t.away}</span></div>
      <button type="button" class="sb-icon sb-close" aria-label=${t.close} onClick=${() => toParent({ type: "close" })}>×</button>
    </header>
    <main class="sb-main">
      ${S.view === "loading" ? html`<p class="sb-empty">…</p>` : null}
      ${S.view === "error" ? html`<p class="sb-notice" role="alert">${S.error}</p>` : null}
      ${S.view === "list" ? html`<${List} />` : null}
      ${S.view === "conversation" ? html`<${Conversation} />` : null}
    </main>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));

const params = new URLSearchParams(location.search);
S.settings.appId = params.get("appId") || "";
if (window.parent === window) {
  // Opened directly (not framed): run on the URL's settings.
  parentOrigin = null;
  S.open = true;
  start().catch((err) => { S.error = err.message; S.view = "error"; update(); });
} else {
  window.parent.postMessage({ sb: 1, type: "hello" }, "*");
}

// The widget's link to the server: the REST calls it needs, and one
// WebSocket that resumes every subscription by seq after any break, with an
// outbox that resends unacknowledged messages under their clientKey, so a
// message typed offline is delivered exactly once when the network returns.

const API = "/api/v1";

export class APIError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || "request failed (" + status + ")");
    this.status = status;
    this.code = body && body.error && body.error.code;
    this.field = body && body.error && body.error.details && body.error.details.field;
  }
}

async function request(method, path, token, body) {
  const headers = {};
  if (token) headers["X-Contact-Token"] = token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new APIError(res.status, data);
  return data;
}

// randomID is a visitor id: 22 url-safe characters, 132 bits.
export function randomID() {
  const a = new Uint8Array(16);
  crypto.getRandomValues(a);
  return btoa(String.fromCharCode(...a)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "").slice(0, 22);
}

function store(key, value) {
  try {
    if (value === undefined) return JSON.parse(localStorage.getItem(key) || "null");
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch (e) {
    return null; // storage off (private mode, blocked third-party storage)
  }
  return value;
}

export class Conn {
  constructor(appId, handlers) {
    this.appId = appId;
    this.h = handlers; // onMessage, onAck, onTyping, onAgentsOnline, onStatus, onState, onError
    this.token = null;
    this.ws = null;
    this.subs = new Map(); // conversationId → highest seq seen
    this.outbox = store("sb:outbox:" + appId) || []; // {clientKey, conversationId, frame}
    this.online = false;
    this.retry = 0;
    this.closed = false;
  }

  visitorId() {
    const k = "sb:visitor:" + this.appId;
    let v = store(k);
    if (!v) v = store(k, randomID());
    return v || randomID();
  }

  async session(s) {
    const body = { appId: this.appId };
    if (s.userId) {
      body.userId = String(s.userId);
      if (s.userHash) body.userHash = s.userHash;
      if (s.accessToken) body.accessToken = String(s.accessToken);
    } else body.visitorId = this.visitorId();
    if (s.userName) body.userName = s.userName;
    if (s.email) body.email = s.email;
    if (s.language) body.language = s.language;
    if (s.chatContext) body.chatContext = s.chatContext;
    const out = await request("POST", "/widget/session", null, body);
    this.token = out.contactToken;
    return out;
  }

  forget() {
    store("sb:visitor:" + this.appId, null);
    store("sb:outbox:" + this.appId, null);
    this.outbox = [];
  }

  get(path) { return request("GET", path, this.token); }
  post(path, body) { return request("POST", path, this.token, body); }
  patch(path, body) { return request("PATCH", path, this.token, body); }

  // upload sends a file with progress reports; fetch has no upload progress.
  upload(file, onProgress) {
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open("POST", API + "/widget/uploads");
      x.setRequestHeader("X-Contact-Token", this.token);
      x.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      x.onload = () => {
        let data = null;
        try { data = JSON.parse(x.responseText); } catch (e) { data = null; }
        if (x.status === 201) resolve(data); else reject(new APIError(x.status, data));
      };
      x.onerror = () => reject(new APIError(0, null));
      const f = new FormData();
      f.append("file", file, file.name);
      x.send(f);
    });
  }

  connect() {
    if (this.closed || !this.token) return;
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws?token=" + encodeURIComponent(this.token);
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.online = true;
      this.h.onState(true);
      for (const [id, seq] of this.subs) this.raw({ type: "subscribe", conversationId: id, afterSeq: seq });
      for (const item of this.outbox) this.raw(item.frame);
    };
    ws.onmessage = (e) => this.frame(JSON.parse(e.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.online = false;
      this.h.onState(false);
      if (this.closed) return;
      const delay = Math.min(5000, 300 * 2 ** this.retry++) * (0.7 + Math.random() * 0.6);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  // reconnectNow skips the back-off, as when the browser reports the
  // network is back.
  reconnectNow() {
    if (this.ws || this.closed) return;
    clearTimeout(this.timer);
    this.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }

  raw(f) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(f));
  }

  subscribe(id, afterSeq) {
    if (!this.subs.has(id) || this.subs.get(id) < afterSeq) this.subs.set(id, afterSeq || 0);
    this.raw({ type: "subscribe", conversationId: id, afterSeq: this.subs.get(id) });
  }

  // send queues a message until the server acknowledges it. Its clientKey
  // makes every resend the same message.
  send(conversationId, msg) {
    const clientKey = "w-" + randomID();
    const frame = Object.assign({ type: "send", id: clientKey, conversationId, clientKey }, msg);
    this.outbox.push({ clientKey, conversationId, frame });
    store("sb:outbox:" + this.appId, this.outbox);
    this.raw(frame);
    return clientKey;
  }

  typing(conversationId, on) {
    this.raw({ type: "typing", conversationId, typing: on });
  }

  settle(clientKey) {
    const n = this.outbox.length;
    this.outbox = this.outbox.filter((o) => o.clientKey !== clientKey);
    if (this.outbox.length !== n) store("sb:outbox:" + this.appId, this.outbox);
  }

  frame(f) {
    switch (f.type) {
      case "message": {
        const last = this.subs.get(f.conversationId) || 0;
        if (f.seq > last) this.subs.set(f.conversationId, f.seq);
        if (f.message.clientKey) this.settle(f.message.clientKey);
        this.h.onMessage(f.message);
        break;
      }
      case "ack":
        this.settle(f.clientKey);
        this.h.onAck(f);
        break;
      case "typing": this.h.onTyping(f); break;
      case "agents_online": this.h.onAgentsOnline(f.online); break;
      case "conversation.status": this.h.onStatus(f.conversation); break;
      case "error":
        // A message refused for what it is will be refused again: drop it
        // and say why. One refused for the moment (rate_limited,
        // unavailable) stays queued for the next connection.
        if (f.clientKey && ["invalid", "forbidden", "not_found", "too_large", "unsupported_type"].includes(f.error && f.error.code)) {
          this.settle(f.clientKey);
        }
        this.h.onError(f);
        break;
    }
  }
}

// One WebSocket to /ws for the whole dashboard. It keeps the inbox stream and
// the open conversations subscribed across reconnects, resuming each from
// the last seq it saw, so nothing is missed and nothing is shown twice.

const listeners = new Set();
const convs = new Map(); // conversationId -> last seq seen
const holders = new Map(); // conversationId -> how many views want it
let inbox = null;        // last inbox seq seen, or null when not subscribed
let ws = null;
let backoff = 500;
let closed = false;
let status = "connecting";

export function onFrame(fn) { listeners.add(fn); return () => listeners.delete(fn); }
export function liveStatus() { return status; }

function emit(frame) { for (const fn of listeners) fn(frame); }

function send(frame) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}

export function connect() {
  closed = false;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  ws = new WebSocket(url);
  ws.onopen = () => {
    backoff = 500;
    status = "live";
    emit({ type: "_status", status });
    if (inbox !== null) send({ type: "subscribe_inbox", afterSeq: inbox === -1 ? 2 ** 40 : inbox });
    for (const [id, seq] of convs) send({ type: "subscribe", conversationId: id, afterSeq: seq });
  };
  ws.onmessage = (ev) => {
    let f;
    try { f = JSON.parse(ev.data); } catch { return; }
    if (f.type === "inbox_subscribed" && inbox === -1) {
      // The first answer only tells where the stream stands; the list
      // was read from the REST API, so only what follows is wanted.
      inbox = f.seq;
      send({ type: "subscribe_inbox", afterSeq: inbox });
    }
    if (f.type === "conversation.updated" && typeof f.seq === "number") inbox = Math.max(inbox || 0, f.seq);
    if (f.type === "message" && convs.has(f.conversationId)) {
      convs.set(f.conversationId, Math.max(convs.get(f.conversationId), f.seq));
    }
    emit(f);
  };
  ws.onclose = () => {
    status = "reconnecting";
    emit({ type: "_status", status });
    if (closed) return;
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

export function disconnect() {
  closed = true;
  if (ws) ws.close();
  ws = null;
  inbox = null;
  convs.clear();
  holders.clear();
}

// subscribeInbox starts the inbox stream from now: the list itself comes
// from the REST API, and the stream moves it from there.
export function subscribeInbox() {
  if (inbox !== null) return;
  inbox = -1;
  send({ type: "subscribe_inbox", afterSeq: 2 ** 40 });
}

// subscribe is counted per conversation: the inbox and an open
// conversation may both want one, and the stream stays until neither does.
// Each call restarts the stream from afterSeq, so a newcomer gets what it
// has not seen; listeners drop the seqs they already have.
export function subscribe(conversationId, afterSeq) {
  holders.set(conversationId, (holders.get(conversationId) || 0) + 1);
  const known = convs.has(conversationId) ? convs.get(conversationId) : afterSeq;
  convs.set(conversationId, Math.min(known, afterSeq));
  send({ type: "subscribe", conversationId, afterSeq });
}

export function unsubscribe(conversationId) {
  const n = (holders.get(conversationId) || 0) - 1;
  if (n > 0) {
    holders.set(conversationId, n);
    return;
  }
  holders.delete(conversationId);
  if (!convs.delete(conversationId)) return;
  send({ type: "unsubscribe", conversationId });
}

export function typing(conversationId, on) {
  send({ type: "typing", conversationId, typing: on });
}

// The inbox: the lists agents work from, kept current by the realtime
// stream, with handoff notifications that cannot be missed.
import { useState, useEffect, useRef, useMemo } from "preact/hooks";
import { html, ago, statusNames, ErrorText } from "dash/ui.js";
import { get, query } from "dash/api.js";
import * as live from "dash/live.js";
import { Conversation } from "dash/conversation.js";

export const lists = [
  { id: "mine", label: "Mine", key: "1" },
  { id: "unassigned", label: "Unassigned", key: "2" },
  { id: "bot", label: "Bot-handled", key: "3" },
  { id: "all", label: "All", key: "4" },
  { id: "resolved", label: "Resolved", key: "5" },
];

const openStatuses = "open,unresponded,waiting";

// listQuery turns a list and the filters into the inbox API's parameters.
function listQuery(list, me, filters, search) {
  const q = { limit: 50, q: search };
  if (list === "mine" && me.agent) { q.assignee = "agent:" + me.agent.id; q.status = openStatuses; }
  if (list === "unassigned") { q.assignee = "none"; q.status = openStatuses; }
  if (list === "bot") { q.assignee = "bot"; q.status = openStatuses; }
  if (list === "resolved") q.status = "resolved";
  if (filters.status) q.status = filters.status;
  if (filters.teamId) q.teamId = filters.teamId;
  if (filters.botId) q.assignee = "bot:" + filters.botId;
  return q;
}

// belongs says whether a conversation, as an event left it, is in a list.
function belongs(c, list, me, filters) {
  const open = c.status !== 2 && c.status !== 3 && c.status !== 4;
  const a = c.assignee;
  if (filters.status && c.statusName !== filters.status) return false;
  if (filters.teamId && c.teamId !== filters.teamId) return false;
  if (filters.botId && !(a && a.type === "bot" && a.id === filters.botId)) return false;
  switch (list) {
    case "mine": return !!(a && me.agent && a.type === "agent" && a.id === me.agent.id) && (filters.status ? true : open);
    case "unassigned": return !a && (filters.status ? true : open);
    case "bot": return !!(a && a.type === "bot") && (filters.status ? true : open);
    case "resolved": return c.status === 2;
    default: return true;
  }
}

const readKey = (id) => "sb-read-" + id;
export function markRead(c) { localStorage.setItem(readKey(c.id), String(c.lastSeq)); }
function unread(c) {
  const r = Number(localStorage.getItem(readKey(c.id)) || 0);
  return Math.max(0, c.lastSeq - r);
}

// chime is a short two-tone sound made on the spot, so no audio file has
// to ship or load before the first handoff.
function chime() {
  try {
    const ctx = new AudioContext();
    [880, 1320].forEach((f, i) => {
      const o = ctx.createOscillator();
      const g = ctx.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.15, ctx.currentTime + i * 0.15);
      g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + i * 0.15 + 0.3);
      o.connect(g).connect(ctx.destination);
      o.start(ctx.currentTime + i * 0.15);
      o.stop(ctx.currentTime + i * 0.15 + 0.3);
    });
  } catch { /* no audio device: the banner and the notification remain */ }
}

function notify(title, body, onClick) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const n = new Notification(title, { body, tag: title + body });
  n.onclick = () => { window.focus(); onClick(); n.close(); };
}

export function Inbox({ me, list, selected }) {
  const [filters, setFilters] = useState({ status: "", teamId: "", botId: "", q: "" });
  const [items, setItems] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  const [contacts, setContacts] = useState({});
  const [bots, setBots] = useState([]);
  const [teams, setTeams] = useState([]);
  const [agents, setAgents] = useState([]);
  const [handoffs, setHandoffs] = useState({}); // conversationId -> label
  const [, tick] = useState(0);
  const searchRef = useRef(null);
  // botOwned remembers which conversations a bot holds, across lists, so
  // that a handoff is caught whichever list is open.
  const botOwned = useRef(new Map());
  const state = useRef({});
  state.current = { list, filters, items, bots, me, search: filters.q.trim() };

  useEffect(() => {
    get("/bots").then((r) => setBots(r.bots || [])).catch(() => {});
    get("/teams").then((r) => setTeams(r.teams || [])).catch(() => {});
    get("/agents").then((r) => setAgents(r.agents || [])).catch(() => {});
  }, []);

  // The search runs on the server, a moment after typing stops.
  const [search, setSearch] = useState("");
  useEffect(() => {
    const t = setTimeout(() => setSearch(filters.q.trim()), 250);
    return () => clearTimeout(t);
  }, [filters.q]);

  const load = async (cursor) => {
    setLoading(true);
    setError(null);
    try {
      const q = listQuery(list, me, filters, search);
      if (cursor) q.cursor = cursor;
      const page = await get("/inbox" + query(q));
      setContacts((m) => {
        const out = { ...m };
        for (const it of page.items) out[it.contact.id] = it.contact;
        return out;
      });
      const got = page.items.map((it) => it.conversation);
      for (const c of got) if (c.assignee && c.assignee.type === "bot") botOwned.current.set(c.id, c.assignee.id);
      setItems((old) => (cursor ? old.concat(got) : got));
      setNext(page.nextCursor);
    } catch (err) { setError(err); }
    setLoading(false);
  };
  useEffect(() => { load(null); }, [list, filters.status, filters.teamId, filters.botId, search]);

  // A conversation that arrives live may be with a contact not seen yet.
  useEffect(() => {
    for (const c of items) {
      if (contacts[c.contactId] !== undefined) continue;
      contacts[c.contactId] = null;
      get("/contacts/" + c.contactId).then((ct) => setContacts((m) => ({ ...m, [ct.id]: ct }))).catch(() => {});
    }
  }, [items]);

  // New messages in listed conversations move them up: the inbox stream
  // reports ownership and status, the conversations' own streams report
  // messages. At most 60 are watched, the top of the list.
  const watched = useRef(new Set());
  useEffect(() => {
    const top = items.slice(0, 60);
    const next = new Set(top.map((c) => c.id));
    for (const c of top) if (!watched.current.has(c.id)) live.subscribe(c.id, c.lastSeq);
    for (const id of watched.current) if (!next.has(id)) live.unsubscribe(id);
    watched.current = next;
  }, [items.map((c) => c.id).slice(0, 60).join(",")]);
  useEffect(() => () => { for (const id of watched.current) live.unsubscribe(id); }, []);

  useEffect(() => {
    live.subscribeInbox();
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
    const t = setInterval(() => tick((n) => n + 1), 30000);
    const off = live.onFrame((f) => {
      const s = state.current;
      if (f.type === "conversation.updated") {
        const c = f.conversation;
        const before = s.items.find((x) => x.id === c.id);
        const wasBot = botOwned.current.get(c.id) || "";
        const isBot = !!(c.assignee && c.assignee.type === "bot");
        if (isBot) botOwned.current.set(c.id, c.assignee.id); else botOwned.current.delete(c.id);
        const rest = s.items.filter((x) => x.id !== c.id);
        // While searching, only rows already found are moved; a new
        // conversation shows when the search is cleared.
        if (belongs(c, s.list, s.me, s.filters) && (!s.search || before)) {
          setItems([c, ...rest]);
        } else {
          setItems(rest);
        }
        // Any move away from a bot may be a handoff, including for a
        // conversation this list never showed: the server says which.
        if (f.kind === "conversation.assigned" && !isBot) onHandoff(c, wasBot);
      }
      if (f.type === "message") {
        const c = s.items.find((x) => x.id === f.conversationId);
        if (!c || f.seq <= c.lastSeq) return;
        const moved = { ...c, lastSeq: f.seq, updatedAt: f.message.createdAt, lastText: f.message.text };
        setItems([moved, ...s.items.filter((x) => x.id !== c.id)]);
      }
    });
    return () => { off(); clearInterval(t); };
  }, []);

  const onHandoff = async (c, wasBot) => {
    // The handoff's record is written just after the assignment that the
    // stream reported, so it may take a moment to appear. When a bot is
    // known to have held the conversation, that alone is the handoff: the
    // alert goes out at once (with the reason if it is already there) and
    // the mark gains the reason when it comes. Otherwise the record decides.
    const since = Date.parse(c.updatedAt) - 1000;
    const fetchReason = async () => {
      for (let i = 0; i < 15; i++) {
        try {
          const got = (await get("/conversations/" + c.id + "/bot-context")).lastHandoff;
          if (got && Date.parse(got.at) >= since) return got;
        } catch { return null; }
        await new Promise((r) => setTimeout(r, 40));
      }
      return null;
    };
    const record = fetchReason();
    let lh = wasBot ? await Promise.race([record, new Promise((r) => setTimeout(() => r(null), 100))]) : await record;
    if (!lh && !wasBot) return; // an ordinary reassignment
    if (lh && lh.reason === "take_over") return; // a person took it: nobody to alert
    const label = (h) => {
      const bot = state.current.bots.find((b) => b.id === ((h && h.botId) || wasBot));
      const reason = h ? h.reasonText + (h.intent ? " (intent " + h.intent + ")" : "") : "the contact needs a person";
      return `Handed off by ${bot ? bot.name : "the bot"}: ${reason}`;
    };
    setHandoffs((m) => ({ ...m, [c.id]: label(lh) }));
    setItems((old) => [c, ...old.filter((x) => x.id !== c.id)]);
    notify("Conversation handed off", label(lh), () => { location.hash = "#/inbox/" + state.current.list + "/" + c.id; });
    chime();
    if (!lh) {
      lh = await record;
      if (lh && lh.reason !== "take_over") setHandoffs((m) => ({ ...m, [c.id]: label(lh) }));
    }
  };

  // Keyboard: j/k move, Enter opens, / searches, 1-5 switch lists.
  useEffect(() => {
    const onKey = (e) => {
      if (e.target.closest && e.target.closest("input, textarea, select, [contenteditable]")) {
        if (e.key === "Escape") e.target.blur();
        return;
      }
      const s = state.current;
      const i = s.items.findIndex((c) => c.id === selected);
      const open = (c) => { if (c) location.hash = "#/inbox/" + s.list + "/" + c.id; };
      if (e.key === "j") open(s.items[Math.min(s.items.length - 1, i + 1)]);
      else if (e.key === "k") open(s.items[Math.max(0, i - 1)]);
      else if (e.key === "/") { e.preventDefault(); searchRef.current && searchRef.current.focus(); }
      else {
        const l = lists.find((x) => x.key === e.key);
        if (l) location.hash = "#/inbox/" + l.id;
      }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [selected]);

  const shown = items;

  const setF = (k) => (e) => setFilters({ ...filters, [k]: e.target.value });
  const counts = useMemo(() => shown.reduce((n, c) => n + (unread(c) > 0 ? 1 : 0), 0), [shown]);

  return html`<div class="inbox">
    <aside class="lists" aria-label="Inbox lists">
      ${lists.map((l) => html`<a href=${"#/inbox/" + l.id} id=${"list-" + l.id} class=${list === l.id ? "active" : ""} title=${"Shortcut: " + l.key}>${l.label}</a>`)}
      <p class="hint">Keys: j/k move · / search · 1–5 lists</p>
    </aside>
    <section class="convlist" aria-label="Conversations">
      <div class="filters">
        <input ref=${searchRef} id="search" type="search" placeholder="Search name, email, id" value=${filters.q} onInput=${setF("q")} aria-label="Search conversations" />
        <select aria-label="Status" value=${filters.status} onChange=${setF("status")}>
          <option value="">Any status</option>
          ${Object.values(statusNames).map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
        <select aria-label="Team" value=${filters.teamId} onChange=${setF("teamId")}>
          <option value="">Any team</option>
          ${teams.map((t) => html`<option value=${t.id}>${t.name}</option>`)}
        </select>
        <select aria-label="Bot" value=${filters.botId} onChange=${setF("botId")}>
          <option value="">Any bot</option>
          ${bots.map((b) => html`<option value=${b.id}>${b.name}</option>`)}
        </select>
      </div>
      <p class="muted small">${counts} with unread messages</p>
      <${ErrorText} error=${error} />
      <ul class="items">
        ${shown.map((c) => {
          const ct = contacts[c.contactId];
          const n = c.id === selected ? 0 : unread(c);
          const who = c.assignee ? (c.assignee.type === "bot" ? "Bot: " + ((bots.find((b) => b.id === c.assignee.id) || {}).name || "bot")
            : "Agent: " + ((agents.find((a) => a.id === c.assignee.id) || {}).name || "agent")) : "Unassigned";
          return html`<li key=${c.id} class=${"item" + (c.id === selected ? " selected" : "") + (handoffs[c.id] ? " handoff" : "")} data-id=${c.id}>
            <a href=${"#/inbox/" + list + "/" + c.id}>
              <span class="row"><strong>${(ct && (ct.name || ct.email)) || "Visitor " + c.contactId.slice(-4)}</strong><span class="muted small">${ago(c.updatedAt)}</span></span>
              ${handoffs[c.id] && html`<span class="handoff-mark">${handoffs[c.id]}</span>`}
              <span class="row small"><span class=${"badge s" + c.status}>${c.statusName}</span><span class="muted">${who}</span>${n > 0 && html`<span class="unread" aria-label=${n + " unread"}>${n}</span>`}</span>
              ${c.lastText && html`<span class="preview small muted">${c.lastText}</span>`}
            </a>
          </li>`;
        })}
      </ul>
      ${loading && html`<p class="muted">Loading…</p>`}
      ${!loading && shown.length === 0 && html`<p class="muted">No conversations here.</p>`}
      ${next && !loading && html`<button class="ghost" onClick=${() => load(next)}>Load more</button>`}
    </section>
    ${selected ? html`<${Conversation} key=${selected} id=${selected} me=${me} bots=${bots} teams=${teams} agents=${agents}
        onSeen=${(c) => { markRead(c); setHandoffs((m) => { const x = { ...m }; delete x[c.id]; return x; }); }} />`
      : html`<section class="empty muted">Pick a conversation.</section>`}
  </div>`;
}

// One conversation: its history as the contact saw it, the composer, the
// ownership actions (take over, assign, hand back, resolve, reopen, spam)
// and the contact panel.
import { useState, useEffect, useRef } from "preact/hooks";
import { html, clock, ErrorText, newKey } from "dash/ui.js";
import { get, post, api } from "dash/api.js";
import * as live from "dash/live.js";
import { RichBody, safeURL } from "dash/rich.js";

// cannedMatches are the canned replies whose shortcut starts with what the
// agent typed, while the composer holds only "/" and a partial shortcut.
const maxCannedShown = 8;
function cannedMatches(replies, text) {
  if (!/^\/[\w-]*$/.test(text)) return [];
  const typed = text.toLowerCase();
  return replies.filter((c) => c.shortcut.startsWith(typed)).slice(0, maxCannedShown);
}

function senderName(m, bots, agents, contact) {
  const s = m.sender || {};
  if (s.type === "bot") return (bots.find((b) => b.id === s.id) || {}).name || "Bot";
  if (s.type === "agent") return (agents.find((a) => a.id === s.id) || {}).name || "Agent";
  if (s.type === "contact") return (contact && (contact.name || contact.email)) || "Visitor";
  return "";
}

function Attachments({ m }) {
  if (!m.attachments || m.attachments.length === 0) return null;
  return html`<div class="attachments">${m.attachments.map((a) => {
    const url = safeURL(a.url);
    if (a.mimeType && a.mimeType.startsWith("image/") && url) {
      return html`<a href=${url} target="_blank" rel="noopener"><img class="rich-img" src=${url} alt=${a.name} /></a>`;
    }
    return html`<a class="chip" href=${url} target="_blank" rel="noopener">${a.name} (${Math.ceil(a.size / 1024)} KB)</a>`;
  })}</div>`;
}

export function Conversation({ id, me, bots, teams, agents, onSeen }) {
  const [conv, setConv] = useState(null);
  const [msgs, setMsgs] = useState([]);
  const [contact, setContact] = useState(null);
  const [botCtx, setBotCtx] = useState(null);
  const [error, setError] = useState(null);
  const [text, setText] = useState("");
  const [files, setFiles] = useState([]);
  const [typingBy, setTypingBy] = useState(null);
  const [sending, setSending] = useState(false);
  const [noteMode, setNoteMode] = useState(false);
  const [notes, setNotes] = useState([]);
  const [replies, setReplies] = useState([]);
  const [pick, setPick] = useState(0);
  const [menuClosed, setMenuClosed] = useState(false); // Escape, until the next keystroke
  const endRef = useRef(null);
  const composerRef = useRef(null);
  const typingTimer = useRef(null);
  const lastSeq = useRef(0);

  const loadCtx = () => get("/conversations/" + id + "/bot-context").then(setBotCtx).catch(() => setBotCtx(null));
  const loadNotes = () => get("/conversations/" + id + "/notes").then((r) => setNotes(r.notes)).catch(() => {});

  useEffect(() => {
    let stop = false;
    (async () => {
      try {
        const c = await get("/conversations/" + id);
        if (stop) return;
        setConv(c);
        get("/contacts/" + c.contactId).then(setContact).catch(() => {});
        loadCtx();
        loadNotes();
        let all = [];
        let after = 0;
        for (let i = 0; i < 50; i++) {
          const page = await get(`/conversations/${id}/messages?afterSeq=${after}&limit=200`);
          all = all.concat(page.messages);
          if (page.messages.length < 200) break;
          after = page.messages[page.messages.length - 1].seq;
        }
        if (stop) return;
        lastSeq.current = all.length ? all[all.length - 1].seq : 0;
        setMsgs(all);
        live.subscribe(id, lastSeq.current);
        onSeen({ ...c, lastSeq: Math.max(c.lastSeq, lastSeq.current) });
      } catch (err) { if (!stop) setError(err); }
    })();
    const off = live.onFrame((f) => {
      if (f.conversationId !== id && !(f.conversation && f.conversation.id === id)) return;
      if (f.type === "message" && f.seq > lastSeq.current) {
        lastSeq.current = f.seq;
        setMsgs((old) => old.concat([f.message]));
        setTypingBy(null);
        onSeen({ id, lastSeq: f.seq });
      }
      if (f.type === "typing") {
        setTypingBy(f.typing ? f.sender : null);
        clearTimeout(typingTimer.current);
        if (f.typing) typingTimer.current = setTimeout(() => setTypingBy(null), 6000);
      }
      if (f.type === "conversation.updated") {
        setConv(f.conversation);
        loadCtx();
      }
    });
    return () => { stop = true; off(); live.unsubscribe(id); };
  }, [id]);

  useEffect(() => { if (endRef.current) endRef.current.scrollIntoView({ block: "end" }); }, [msgs.length, notes.length]);
  useEffect(() => { get("/canned-replies").then((r) => setReplies(r.cannedReplies || [])).catch(() => {}); }, []);

  const act = async (fn) => {
    setError(null);
    try {
      const c = await fn();
      if (c && c.id) setConv(c);
    } catch (err) { setError(err); }
  };
  const takeOver = () => act(() => post(`/conversations/${id}/takeover`, {}));
  const setStatus = (status) => act(() => post(`/conversations/${id}/status`, { status }));
  const assign = (e) => {
    const v = e.target.value;
    e.target.value = "";
    if (!v) return;
    const [kind, target] = v.split(":");
    const body = kind === "agent" ? { agentId: target } : kind === "team" ? { teamId: target } : { botId: target };
    act(() => post(`/conversations/${id}/assign`, body));
  };

  const send = async (e) => {
    e.preventDefault();
    if (!text.trim() && files.length === 0) return;
    setSending(true);
    setError(null);
    try {
      if (noteMode) {
        // A note goes to agents only, never through the message path.
        await post(`/conversations/${id}/notes`, { text: text.trim() });
        setText("");
        loadNotes();
        setSending(false);
        return;
      }
      const attachments = [];
      for (const f of files) {
        const fd = new FormData();
        fd.append("file", f);
        const up = await api("POST", "/uploads", fd);
        attachments.push({ uploadId: up.id });
      }
      await post(`/conversations/${id}/messages`, {
        text: text.trim(), clientKey: newKey(), attachments,
        contentType: attachments.length && !text.trim() ? 1 : 0,
      });
      setText("");
      setFiles([]);
      live.typing(id, false);
    } catch (err) { setError(err); }
    setSending(false);
  };
  const onType = (e) => {
    setText(e.target.value);
    setPick(0);
    setMenuClosed(false);
    if (!noteMode) live.typing(id, e.target.value !== "");
  };
  const matches = menuClosed ? [] : cannedMatches(replies, text);
  const picked = Math.min(pick, matches.length - 1);
  const insert = (c) => {
    setText(c.text);
    setPick(0);
    if (!noteMode) live.typing(id, true);
    if (composerRef.current) composerRef.current.focus();
  };
  const onKey = (e) => {
    if (matches.length > 0) {
      const moves = { ArrowDown: 1, ArrowUp: matches.length - 1 };
      if (e.key in moves) {
        e.preventDefault();
        setPick((picked + moves[e.key]) % matches.length);
        return;
      }
      if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey) {
        e.preventDefault();
        insert(matches[picked]);
        return;
      }
      if (e.key === "Escape") {
        setMenuClosed(true);
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey) send(e);
  };

  if (!conv) return html`<section class="conversation"><${ErrorText} error=${error} />${!error && html`<p class="muted">Loading…</p>`}</section>`;
  const a = conv.assignee;
  const botOwned = a && a.type === "bot";
  const mine = a && a.type === "agent" && me.agent && a.id === me.agent.id;
  const closed = conv.status === 2 || conv.status === 3 || conv.status === 4;
  const owner = a ? (botOwned ? "Bot " + ((bots.find((b) => b.id === a.id) || {}).name || "")
    : "Agent " + ((agents.find((x) => x.id === a.id) || {}).name || "")) : "nobody";
  return html`<section class="conversation" aria-label="Conversation">
    <div class="conv-head">
      <div>
        <h2>${(contact && (contact.name || contact.email)) || "Visitor"}</h2>
        <span class=${"owner " + (botOwned ? "bot" : "human")} id="owner">Owned by ${owner}</span>
        <span class=${"badge s" + conv.status} id="conv-status">${conv.statusName}</span>
      </div>
      <div class="actions">
        ${botOwned && !closed && html`<button class="primary" id="takeover" onClick=${takeOver}>Take over from bot</button>`}
        ${!botOwned && !mine && !closed && html`<button id="take" onClick=${takeOver}>Assign to me</button>`}
        <select aria-label="Assign" id="assign" onChange=${assign}>
          <option value="">Assign to…</option>
          <optgroup label="Agents">${agents.map((x) => html`<option value=${"agent:" + x.id}>${x.name || x.email}</option>`)}</optgroup>
          <optgroup label="Teams">${teams.map((t) => html`<option value=${"team:" + t.id}>${t.name}</option>`)}</optgroup>
          <optgroup label="Hand back to bot">${bots.filter((b) => b.enabled).map((b) => html`<option value=${"bot:" + b.id}>${b.name}</option>`)}</optgroup>
        </select>
        ${!closed && html`<button id="resolve" onClick=${() => setStatus(2)}>Resolve</button>`}
        ${closed && html`<button id="reopen" onClick=${() => setStatus(0)}>Reopen</button>`}
        ${conv.status !== 3 && html`<button class="ghost" id="spam" onClick=${() => setStatus(3)}>Mark spam</button>`}
      </div>
    </div>
    <${ErrorText} error=${error} />
    <div class="conv-body">
      <ol class="messages" aria-live="polite">
        ${timeline(msgs, notes).map((m) => m.note
          ? html`<li key=${m.id} class="msg note"><span class="meta small muted">Internal note · ${(agents.find((x) => x.id === m.agentId) || {}).name || "Agent"} · ${clock(m.createdAt)}</span><div class="bubble">${m.text}</div></li>`
          : m.contentType === 10
          ? html`<li key=${m.id} class="system">${m.text}</li>`
          : html`<li key=${m.id} class=${"msg " + m.sender.type}>
              <span class="meta small muted">${senderName(m, bots, agents, contact)} · ${clock(m.createdAt)}</span>
              <div class="bubble"><${RichBody} m=${m} /><${Attachments} m=${m} /></div>
            </li>`)}
        <li ref=${endRef} class="end"></li>
      </ol>
      <${ContactPanel} conv=${conv} contact=${contact} botCtx=${botCtx} bots=${bots} />
    </div>
    ${typingBy && html`<p class="typing muted small" id="typing">${typingBy.type === "contact" ? "The contact is typing…" : "Someone is typing…"}</p>`}
    <form class=${"composer" + (noteMode ? " noting" : "")} onSubmit=${send}>
      <div class="row mode" role="group" aria-label="Reply or note">
        <button type="button" id="mode-reply" class=${noteMode ? "ghost" : "active"} aria-pressed=${!noteMode} onClick=${() => setNoteMode(false)}>Reply to contact</button>
        <button type="button" id="mode-note" class=${noteMode ? "active" : "ghost"} aria-pressed=${noteMode} onClick=${() => setNoteMode(true)}>Internal note</button>
        ${noteMode && html`<span class="small muted">Only agents see notes.</span>`}
      </div>
      ${matches.length > 0 && html`<ul class="canned-menu" id="canned-menu" role="listbox" aria-label="Canned replies">
        ${matches.map((c, i) => html`<li id=${"canned-" + i} role="option" aria-selected=${i === picked} class=${i === picked ? "active" : ""}
          onMouseDown=${(e) => e.preventDefault()} onClick=${() => insert(c)}><code>${c.shortcut}</code> <span class="muted">${c.text.length > 80 ? c.text.slice(0, 80) + "…" : c.text}</span></li>`)}
      </ul>`}
      <textarea id="composer" ref=${composerRef} rows="2" placeholder=${noteMode ? "Write a note for your team (the contact never sees it)" : botOwned ? "The bot is answering. Take over to reply, or write anyway." : "Reply… (Enter sends, Shift+Enter for a new line, / for canned replies)"}
        value=${text} onInput=${onType} onKeyDown=${onKey} aria-label="Reply" role="combobox" aria-autocomplete="list"
        aria-expanded=${matches.length > 0} aria-controls="canned-menu" aria-activedescendant=${matches.length > 0 ? "canned-" + picked : undefined}></textarea>
      <div class="row">
        <label class="ghost file">Attach<input type="file" multiple onChange=${(e) => setFiles(Array.from(e.target.files))} /></label>
        ${files.map((f) => html`<span class="chip">${f.name}</span>`)}
        <button class="primary" type="submit" id="send" disabled=${sending}>${sending ? "Sending…" : noteMode ? "Add note" : "Send"}</button>
      </div>
    </form>
  </section>`;
}

// timeline merges messages and notes by time, messages first on a tie.
function timeline(msgs, notes) {
  if (notes.length === 0) return msgs;
  const all = msgs.concat(notes.map((n) => ({ ...n, note: true })));
  return all.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.note ? 1 : 0) - (b.note ? 1 : 0));
}

function KV({ obj }) {
  const entries = Object.entries(obj || {});
  if (entries.length === 0) return html`<p class="muted small">None</p>`;
  return html`<dl class="kv">${entries.map(([k, v]) => html`<dt>${k}</dt><dd>${typeof v === "string" ? v : JSON.stringify(v)}</dd>`)}</dl>`;
}

function ContactPanel({ conv, contact, botCtx, bots }) {
  const ctx = (contact && contact.chatContext) || {};
  const page = (conv.metadata || {}).pageUrl || (conv.metadata || {}).url || ctx.pageUrl || "";
  const lh = botCtx && botCtx.lastHandoff;
  return html`<aside class="contact" aria-label="Contact" id="contact-panel">
    <h3>Contact</h3>
    <dl class="kv">
      <dt>Name</dt><dd>${(contact && contact.name) || "—"}</dd>
      <dt>Email</dt><dd>${(contact && contact.email) || "—"}</dd>
      <dt>Language</dt><dd>${(contact && contact.language) || "—"}</dd>
      <dt>Page</dt><dd>${page ? html`<a href=${safeURL(page)} target="_blank" rel="noopener">${page}</a>` : "—"}</dd>
    </dl>
    <h4>Chat context</h4><${KV} obj=${ctx} />
    <h4>Conversation metadata</h4><${KV} obj=${conv.metadata} />
    <h4>Last bot turn</h4>
    ${botCtx && botCtx.botId ? html`<dl class="kv">
        <dt>Bot</dt><dd>${(bots.find((b) => b.id === botCtx.botId) || {}).name || botCtx.botId}</dd>
        <dt>Intent</dt><dd id="last-intent">${botCtx.lastIntent || "—"}</dd>
      </dl>
      <h4>Session attributes</h4><${KV} obj=${botCtx.sessionAttributes} />`
      : html`<p class="muted small">No bot has answered here.</p>`}
    ${lh && html`<h4>Handoff</h4><p class="small" id="handoff-reason">${lh.reasonText}${lh.intent ? " after intent " + lh.intent : ""}</p>`}
  </aside>`;
}

// Settings, for admins: bots (the Lex V2 form of SPEC §4.1 and the webhook
// form), conversation rules and messages, teams, agents and invitations,
// API keys, the widget's appearance (its CSAT prompt included) and install
// snippet, and the canned replies agents insert in the composer.
import { useState, useEffect } from "preact/hooks";
import { html, ErrorText, Field } from "dash/ui.js";
import { get, post, put, patch, del } from "dash/api.js";

const tabs = [
  ["bots", "Bots"], ["rules", "Rules & messages"], ["teams", "Teams"], ["agents", "Agents"],
  ["apikeys", "API keys"], ["widget", "Widget"], ["canned", "Canned replies"],
];

export function Settings({ me, tab }) {
  const pages = { bots: Bots, rules: Rules, teams: Teams, agents: Agents, apikeys: APIKeys, widget: Widget, canned: CannedReplies };
  const Page = pages[tab] || Bots;
  return html`<main class="page settings">
    <nav class="tabs" aria-label="Settings">
      ${tabs.map(([id, label]) => html`<a id=${"tab-" + id} href=${"#/settings/" + id} class=${tab === id ? "active" : ""}>${label}</a>`)}
    </nav>
    <${Page} me=${me} />
  </main>`;
}

const regions = ["us-east-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-central-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2", "af-south-1"];

const emptyLex = {
  name: "", avatarUrl: "", autoHandoff: true, handleAllNewConversations: false, enabled: true,
  lex: { accessKeyId: "", secretAccessKey: "", region: "us-east-1", botId: "", botAliasId: "", defaultLocale: "", maxConsecutiveFallbacks: 2, endpoint: "" },
};

function Bots() {
  const [bots, setBots] = useState([]);
  const [error, setError] = useState(null);
  const [editing, setEditing] = useState(null); // {kind, bot?}
  const load = () => get("/bots").then((r) => setBots(r.bots || [])).catch(setError);
  useEffect(() => { load(); }, []);
  const toggle = async (b) => {
    setError(null);
    try { await patch("/bots/" + b.id, { enabled: !b.enabled }); load(); } catch (err) { setError(err); }
  };
  const remove = async (b) => {
    if (!confirm(`Delete the bot "${b.name}"? Conversations it holds stay, unassigned from it.`)) return;
    try { await del("/bots/" + b.id); load(); } catch (err) { setError(err); }
  };
  if (editing) {
    const Form = editing.kind === "lex" ? LexForm : WebhookForm;
    return html`<${Form} bot=${editing.bot} onDone=${() => { setEditing(null); load(); }} />`;
  }
  return html`<section>
    <div class="row"><h2>Bots</h2>
      <button class="primary" id="add-lex" onClick=${() => setEditing({ kind: "lex" })}>Add Amazon Lex bot</button>
      <button id="add-webhook" onClick=${() => setEditing({ kind: "webhook" })}>Add webhook bot</button>
    </div>
    <${ErrorText} error=${error} />
    <table class="table" id="bots">
      <thead><tr><th>Name</th><th>Type</th><th>Credentials</th><th>Handles new</th><th>Enabled</th><th></th></tr></thead>
      <tbody>${bots.map((b) => html`<tr>
        <td>${b.name}</td><td>${b.type}</td>
        <td><span class=${"badge " + (b.status === "ok" ? "good" : b.status ? "bad" : "")}>${b.status || "not checked"}</span> <span class="small muted">${b.statusDetail}</span></td>
        <td>${b.handleAllNewConversations ? "Yes" : "No"}</td>
        <td><button class="ghost" onClick=${() => toggle(b)}>${b.enabled ? "Disable" : "Enable"}</button></td>
        <td><button class="ghost" onClick=${() => setEditing({ kind: b.type, bot: b })}>Edit</button> <button class="ghost" onClick=${() => remove(b)}>Delete</button></td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

// LexForm is SPEC §4.1: keys and region first; Discover fills the bot and
// alias lists (typed ids still work); Save validates against the alias and
// shows its languages, or each problem next to its field.
function LexForm({ bot, onDone }) {
  const [f, setF] = useState(() => bot ? {
    name: bot.name, avatarUrl: bot.avatarUrl, autoHandoff: bot.autoHandoff, handleAllNewConversations: bot.handleAllNewConversations,
    enabled: bot.enabled, lex: { ...emptyLex.lex, ...bot.lex },
  } : structuredClone(emptyLex));
  const [saved, setSaved] = useState(bot || null);
  const [found, setFound] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState("");
  const setTop = (k, v) => setF({ ...f, [k]: v });
  const setLex = (k, v) => setF({ ...f, lex: { ...f.lex, [k]: v } });
  const lexField = (label, k, attrs = {}) => html`<${Field} label=${label} name=${"lex." + k} error=${fieldErr(error, k)} hint=${attrs.hint}>
    <input id=${"lex-" + k} type=${attrs.type || "text"} value=${f.lex[k]} autocomplete="off" placeholder=${attrs.placeholder || ""}
      onInput=${(e) => setLex(k, attrs.type === "number" ? Number(e.target.value) : e.target.value)} />
  <//>`;

  const discover = async () => {
    setBusy("discover");
    setError(null);
    try {
      const r = await post("/lex/discover", { region: f.lex.region, accessKeyId: f.lex.accessKeyId, secretAccessKey: f.lex.secretAccessKey, endpoint: f.lex.endpoint || undefined });
      setFound(r.bots || []);
    } catch (err) { setError(err); }
    setBusy("");
  };
  const save = async (e) => {
    e.preventDefault();
    setBusy("save");
    setError(null);
    try {
      const lex = { ...f.lex };
      if (!lex.endpoint) delete lex.endpoint;
      if (!lex.defaultLocale) delete lex.defaultLocale;
      const body = { ...f, lex };
      const b = saved ? await patch("/bots/" + saved.id, body) : await post("/bots", { ...body, type: "lex" });
      // Saving validated against the alias already (its languages and
      // status are in b); the field now holds the masked secret, in the
      // same render as the languages, so the secret is never left on show.
      setSaved(b);
      setF((old) => ({ ...old, lex: { ...old.lex, secretAccessKey: b.lex.secretAccessKey } }));
    } catch (err) { setError(err); }
    setBusy("");
  };
  const validate = async () => {
    setBusy("validate");
    setError(null);
    try { setSaved(await post("/bots/" + saved.id + "/validate", {})); } catch (err) { setError(err); }
    setBusy("");
  };
  const bots = found || [];
  const aliases = (bots.find((b) => b.botId === f.lex.botId) || {}).aliases || [];
  return html`<form class="card wide" id="lex-form" onSubmit=${save} aria-label="Amazon Lex bot">
    <h2>${bot ? "Edit" : "Add"} Amazon Lex V2 bot</h2>
    <p class="muted small">The IAM user needs AmazonLexReadOnly (to validate) and AmazonLexRunBotsOnly (to talk). The secret is stored encrypted and never shown again.</p>
    <fieldset><legend>AWS access</legend>
      ${lexField("Access key id", "accessKeyId", { placeholder: "AKIA…" })}
      ${lexField("Secret access key", "secretAccessKey", { type: "password", hint: saved ? "Shown masked; leave it to keep the stored secret." : "" })}
      <${Field} label="Region" name="lex.region" error=${fieldErr(error, "region")}>
        <input id="lex-region" list="regions" value=${f.lex.region} onInput=${(e) => setLex("region", e.target.value)} />
        <datalist id="regions">${regions.map((r) => html`<option value=${r} />`)}</datalist>
      <//>
      ${lexField("Custom endpoint (optional)", "endpoint", { placeholder: "https://… for VPC endpoints or the local runtime" })}
      <button type="button" id="discover" onClick=${discover} disabled=${busy !== ""}>${busy === "discover" ? "Looking…" : "Find my bots"}</button>
    </fieldset>
    <fieldset><legend>Bot</legend>
      <${Field} label="Bot" name="lex.botId" error=${fieldErr(error, "botId")} hint="Pick from the list, or type a bot id or name.">
        <input id="lex-botId" list="lex-bots" value=${f.lex.botId} onInput=${(e) => setLex("botId", e.target.value)} />
        <datalist id="lex-bots">${bots.map((b) => html`<option value=${b.botId}>${b.botName}</option>`)}</datalist>
      <//>
      <${Field} label="Alias" name="lex.botAliasId" error=${fieldErr(error, "botAliasId")}>
        <input id="lex-botAliasId" list="lex-aliases" value=${f.lex.botAliasId} onInput=${(e) => setLex("botAliasId", e.target.value)} />
        <datalist id="lex-aliases">${aliases.map((a) => html`<option value=${a.botAliasId}>${a.botAliasName || a.botAliasId} ${(a.locales || []).join(", ")}</option>`)}</datalist>
      <//>
      ${found && html`<p class="small muted" id="discovered">${bots.length} bot${bots.length === 1 ? "" : "s"} found in ${f.lex.region}.</p>`}
      ${lexField("Default language (locale id)", "defaultLocale", { placeholder: "en_US" })}
      ${saved && saved.lex && html`<p id="lex-locales" class="ok">Languages on this alias: ${(saved.lex.locales || []).join(", ") || "none yet — press Validate"}</p>`}
    </fieldset>
    <fieldset><legend>How it behaves</legend>
      <${Field} label="Display name" name="name" error=${error}><input id="bot-name" required value=${f.name} onInput=${(e) => setTop("name", e.target.value)} /><//>
      <${Field} label="Avatar URL" name="avatarUrl" error=${error}><input id="bot-avatar" value=${f.avatarUrl} onInput=${(e) => setTop("avatarUrl", e.target.value)} /><//>
      <label class="check"><input type="checkbox" id="auto-handoff" checked=${f.autoHandoff} onChange=${(e) => setTop("autoHandoff", e.target.checked)} /> Hand off to a person when the bot gives up or fails</label>
      ${lexField("Consecutive fallbacks before handoff (0 turns this off)", "maxConsecutiveFallbacks", { type: "number" })}
      <label class="check"><input type="checkbox" id="handle-all" checked=${f.handleAllNewConversations} onChange=${(e) => setTop("handleAllNewConversations", e.target.checked)} /> Handle all new conversations</label>
    </fieldset>
    <${ErrorText} error=${error && !fieldErr(error, error.field.replace(/^lex\./, "")) && !["name", "avatarUrl"].includes(error.field) ? error : null} />
    ${saved && saved.status && html`<p id="lex-status" class=${saved.status === "ok" ? "ok" : "error"}>Credentials: ${saved.status}${saved.statusDetail ? " — " + saved.statusDetail : ""}</p>`}
    <div class="row">
      <button class="primary" type="submit" id="save-lex" disabled=${busy !== ""}>${busy === "save" ? "Saving and validating…" : "Save and validate"}</button>
      ${saved && html`<button type="button" id="validate" onClick=${validate} disabled=${busy !== ""}>Validate</button>`}
      <button type="button" class="ghost" onClick=${onDone}>Back to bots</button>
    </div>
  </form>`;
}

// fieldErr matches an error the server blamed on "lex.<k>" or "<k>".
function fieldErr(error, k) {
  if (!error || !error.field) return null;
  const f = error.field.replace(/^lex\./, "");
  if (f !== k) return null;
  return { field: "lex." + k, message: error.message };
}

function WebhookForm({ bot, onDone }) {
  const [f, setF] = useState(() => bot ? { name: bot.name, avatarUrl: bot.avatarUrl, autoHandoff: bot.autoHandoff, handleAllNewConversations: bot.handleAllNewConversations, webhook: { ...bot.webhook } }
    : { name: "", avatarUrl: "", autoHandoff: true, handleAllNewConversations: false, webhook: { url: "", headerName: "", headerValue: "", timeoutSeconds: 10 } });
  const [error, setError] = useState(null);
  const setW = (k, v) => setF({ ...f, webhook: { ...f.webhook, [k]: v } });
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      if (bot) await patch("/bots/" + bot.id, f); else await post("/bots", { ...f, type: "webhook" });
      onDone();
    } catch (err) { setError(err); }
  };
  const wf = (label, k, type = "text") => html`<${Field} label=${label} name=${"webhook." + k} error=${error && error.field && error.field.replace(/^webhook\./, "") === k ? { field: "webhook." + k, message: error.message } : null}>
    <input type=${type} value=${f.webhook[k]} onInput=${(e) => setW(k, type === "number" ? Number(e.target.value) : e.target.value)} /><//>`;
  return html`<form class="card wide" onSubmit=${save} aria-label="Webhook bot">
    <h2>${bot ? "Edit" : "Add"} webhook bot</h2>
    <${Field} label="Display name" name="name" error=${error}><input required value=${f.name} onInput=${(e) => setF({ ...f, name: e.target.value })} /><//>
    <${Field} label="Avatar URL" name="avatarUrl" error=${error}><input value=${f.avatarUrl} onInput=${(e) => setF({ ...f, avatarUrl: e.target.value })} /><//>
    ${wf("Webhook URL", "url")}
    ${wf("Auth header name (optional)", "headerName")}
    ${wf("Auth header value", "headerValue", "password")}
    ${wf("Timeout (seconds)", "timeoutSeconds", "number")}
    <label class="check"><input type="checkbox" checked=${f.autoHandoff} onChange=${(e) => setF({ ...f, autoHandoff: e.target.checked })} /> Hand off when the bot fails</label>
    <label class="check"><input type="checkbox" checked=${f.handleAllNewConversations} onChange=${(e) => setF({ ...f, handleAllNewConversations: e.target.checked })} /> Handle all new conversations</label>
    <${ErrorText} error=${error} />
    <div class="row"><button class="primary" type="submit">Save</button><button type="button" class="ghost" onClick=${onDone}>Back to bots</button></div>
  </form>`;
}

function Rules() {
  const [r, setR] = useState(null);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  const [lang, setLang] = useState("en");
  useEffect(() => { get("/rules").then(setR).catch(setError); }, []);
  if (!r) return html`<${ErrorText} error=${error} />`;
  const set = (k, v) => { setDone(false); setR({ ...r, [k]: v }); };
  const setMsg = (k, v) => set(k, { ...(r[k] || {}), [lang]: v });
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try { setR(await put("/rules", r)); setDone(true); } catch (err) { setError(err); }
  };
  return html`<form class="card wide" onSubmit=${save} aria-label="Conversation rules">
    <h2>Conversation rules</h2>
    <label class="check"><input type="checkbox" checked=${r.botRouting} onChange=${(e) => set("botRouting", e.target.checked)} /> Bot routing: new conversations go to the bot that handles all new conversations</label>
    <${Field} label="Routing" name="mode" error=${error}>
      <select value=${r.mode} onChange=${(e) => set("mode", e.target.value)}>
        <option value="automatic">Automatic assignment (round robin over online agents)</option>
        <option value="notify_everybody">Notify everybody</option>
      </select>
    <//>
    <label class="check"><input type="checkbox" checked=${r.queueWhenNobody} onChange=${(e) => set("queueWhenNobody", e.target.checked)} /> Queue when nobody is available</label>
    <label class="check"><input type="checkbox" checked=${r.removeBotOnHandoff} onChange=${(e) => set("removeBotOnHandoff", e.target.checked)} /> Remove the bot on handoff</label>
    <${Field} label="Most open chats per agent (0 = no limit)" name="maxConcurrentChats" error=${error}>
      <input type="number" min="0" value=${r.maxConcurrentChats} onInput=${(e) => set("maxConcurrentChats", Number(e.target.value))} />
    <//>
    <h3>Messages per language</h3>
    <${Field} label="Language (BCP-47)" name="lang"><input value=${lang} onInput=${(e) => setLang(e.target.value)} /><//>
    <${Field} label="Welcome message" name="welcome" error=${error}><textarea value=${(r.welcome || {})[lang] || ""} onInput=${(e) => setMsg("welcome", e.target.value)}></textarea><//>
    <${Field} label="Away message (nobody available)" name="away" error=${error}><textarea value=${(r.away || {})[lang] || ""} onInput=${(e) => setMsg("away", e.target.value)}></textarea><//>
    <${ErrorText} error=${error} />
    ${done && html`<p class="ok" role="status">Saved.</p>`}
    <button class="primary" type="submit">Save rules</button>
  </form>`;
}

function Teams() {
  const [teams, setTeams] = useState([]);
  const [name, setName] = useState("");
  const [error, setError] = useState(null);
  const [hoursFor, setHoursFor] = useState(null);
  const load = () => get("/teams").then((r) => setTeams(r.teams || [])).catch(setError);
  useEffect(() => { load(); }, []);
  const add = async (e) => {
    e.preventDefault();
    setError(null);
    try { await post("/teams", { name }); setName(""); load(); } catch (err) { setError(err); }
  };
  return html`<section>
    <h2>Teams</h2>
    <ul id="teams">${teams.map((t) => html`<li>${t.name} <span class="muted small">${t.agentIds.length} agents</span>
      <button class="ghost" onClick=${() => setHoursFor(t)}>Business hours</button></li>`)}</ul>
    <form class="row" onSubmit=${add}><input placeholder="New team name" value=${name} onInput=${(e) => setName(e.target.value)} required /><button type="submit">Add team</button></form>
    <${ErrorText} error=${error} />
    ${hoursFor && html`<${Hours} key=${hoursFor.id} team=${hoursFor} onDone=${() => setHoursFor(null)} />`}
  </section>`;
}

const days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

// Hours edits a team's business hours: one opening period per day, in the
// team's time zone. The rest of the team's rules are sent back unchanged.
function Hours({ team, onDone }) {
  const [rules, setRules] = useState(null);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  useEffect(() => { get("/teams/" + team.id + "/rules").then(setRules).catch(setError); }, [team.id]);
  if (!rules) return html`<${ErrorText} error=${error} />`;
  const bh = rules.businessHours || { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, weekly: {} };
  const setBH = (v) => { setDone(false); setRules({ ...rules, businessHours: v }); };
  const setDay = (d, k, v) => {
    const cur = ((bh.weekly || {})[d] || [{ start: "09:00", end: "17:00" }])[0];
    const next = { ...cur, [k]: v };
    const weekly = { ...(bh.weekly || {}) };
    if (next.start && next.end) weekly[d] = [next]; else delete weekly[d];
    setBH({ ...bh, weekly });
  };
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try { setRules(await put("/teams/" + team.id + "/rules", rules)); setDone(true); } catch (err) { setError(err); }
  };
  return html`<form class="card wide" onSubmit=${save} aria-label="Business hours">
    <h3>Business hours of ${team.name}</h3>
    <p class="small muted">Outside these hours, a handoff tells the contact the away message and the conversation waits in the queue. Leave a day empty to close it.</p>
    <${Field} label="Time zone" name="businessHours.timeZone" error=${error}>
      <input id="hours-zone" value=${bh.timeZone} onInput=${(e) => setBH({ ...bh, timeZone: e.target.value })} />
    <//>
    <table class="table"><tbody>${days.map((d) => {
      const r = ((bh.weekly || {})[d] || [])[0] || { start: "", end: "" };
      return html`<tr><td>${d[0].toUpperCase() + d.slice(1)}</td>
        <td><input type="time" aria-label=${d + " opens"} value=${r.start} onInput=${(e) => setDay(d, "start", e.target.value)} /></td>
        <td><input type="time" aria-label=${d + " closes"} value=${r.end} onInput=${(e) => setDay(d, "end", e.target.value)} /></td></tr>`;
    })}</tbody></table>
    <${ErrorText} error=${error} />
    ${done && html`<p class="ok" role="status">Saved.</p>`}
    <div class="row"><button class="primary" type="submit">Save hours</button><button type="button" class="ghost" onClick=${onDone}>Close</button></div>
  </form>`;
}

function Agents() {
  const [agents, setAgents] = useState([]);
  const [invites, setInvites] = useState([]);
  const [inv, setInv] = useState({ email: "", role: "agent" });
  const [link, setLink] = useState("");
  const [error, setError] = useState(null);
  const load = () => {
    get("/agents").then((r) => setAgents(r.agents || [])).catch(setError);
    get("/invites").then((r) => setInvites(r.invites || [])).catch(setError);
  };
  useEffect(() => { load(); }, []);
  const invite = async (e) => {
    e.preventDefault();
    setError(null);
    setLink("");
    try {
      const r = await post("/invites", inv);
      setLink(location.origin + "/#/invite/" + r.token);
      setInv({ email: "", role: "agent" });
      load();
    } catch (err) { setError(err); }
  };
  const revoke = async (i) => {
    try { await del("/invites/" + i.id); load(); } catch (err) { setError(err); }
  };
  return html`<section>
    <h2>Agents</h2>
    <table class="table" id="agents"><thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Presence</th></tr></thead>
      <tbody>${agents.map((a) => html`<tr><td>${a.name}</td><td>${a.email}</td><td>${a.role}</td><td><span class=${"dot " + a.presence}></span> ${a.presence}</td></tr>`)}</tbody></table>
    <form class="card" onSubmit=${invite} aria-label="Invite an agent">
      <h3>Invite someone</h3>
      <p class="muted small">An invitation is a link you pass on yourself; no email is sent. It works once, for 7 days.</p>
      <${Field} label="Email (optional)" name="email" error=${error}><input id="invite-email" type="email" value=${inv.email} onInput=${(e) => setInv({ ...inv, email: e.target.value })} /><//>
      <${Field} label="Role" name="role" error=${error}>
        <select id="invite-role" value=${inv.role} onChange=${(e) => setInv({ ...inv, role: e.target.value })}><option value="agent">Agent</option><option value="admin">Admin</option></select>
      <//>
      <${ErrorText} error=${error && !error.field ? error : null} />
      <button class="primary" type="submit" id="invite">Create invitation link</button>
      ${link && html`<p class="ok">Send this link to the new agent: <input id="invite-link" readOnly value=${link} onFocus=${(e) => e.target.select()} /></p>`}
    </form>
    <h3>Open invitations</h3>
    <ul id="invites">${invites.map((i) => html`<li>${i.email || "anyone with the link"} · ${i.role} · expires ${new Date(i.expiresAt).toLocaleDateString()} <button class="ghost" onClick=${() => revoke(i)}>Revoke</button></li>`)}</ul>
  </section>`;
}

function APIKeys() {
  const [keys, setKeys] = useState([]);
  const [name, setName] = useState("");
  const [shown, setShown] = useState("");
  const [error, setError] = useState(null);
  const load = () => get("/apikeys").then((r) => setKeys(r.apiKeys || r.keys || [])).catch(setError);
  useEffect(() => { load(); }, []);
  const add = async (e) => {
    e.preventDefault();
    setError(null);
    try { const k = await post("/apikeys", { name }); setShown(k.key); setName(""); load(); } catch (err) { setError(err); }
  };
  const remove = async (k) => { try { await del("/apikeys/" + k.id); load(); } catch (err) { setError(err); } };
  return html`<section>
    <h2>API keys</h2>
    ${shown && html`<p class="ok">Copy this key now; it is shown only once: <input readOnly value=${shown} onFocus=${(e) => e.target.select()} /></p>`}
    <ul>${keys.map((k) => html`<li>${k.name} <code>${k.prefix}…</code> <button class="ghost" onClick=${() => remove(k)}>Delete</button></li>`)}</ul>
    <form class="row" onSubmit=${add}><input placeholder="Key name" value=${name} required onInput=${(e) => setName(e.target.value)} /><button type="submit">Create key</button></form>
    <${ErrorText} error=${error} />
  </section>`;
}

// Widget is the widget's appearance, identity verification with the
// secret the site signs user ids with, and the install snippet.
function Widget({ me }) {
  const [w, setW] = useState(null);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  const [reveal, setReveal] = useState(false);
  useEffect(() => { get("/widget/settings").then(setW).catch(setError); }, []);
  const snippet = `<script src="${location.origin}/widget.js" data-app-id="${me.appId}" async></script>`;
  const set = (k, v) => { setDone(false); setW({ ...w, [k]: v }); };
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const { identitySecret, ...body } = w;
      setW(await put("/widget/settings", body));
      setDone(true);
    } catch (err) { setError(err); }
  };
  return html`<section>
    <h2>Widget</h2>
    <p>Paste this before <code>${"</body>"}</code> on every page of your site:</p>
    <textarea id="snippet" class="snippet" readOnly rows="3" value=${snippet} onFocus=${(e) => e.target.select()}></textarea>
    ${w && html`<form class="card wide" onSubmit=${save} aria-label="Widget settings">
      <h3>Appearance</h3>
      <${Field} label="Colour" name="themeColor" error=${error}>
        <input id="widget-color" type="color" value=${w.themeColor} onInput=${(e) => set("themeColor", e.target.value)} />
      <//>
      <${Field} label="Launcher position" name="position" error=${error}>
        <select value=${w.position} onChange=${(e) => set("position", e.target.value)}><option value="right">Bottom right</option><option value="left">Bottom left</option></select>
      <//>
      <label class="check"><input type="checkbox" checked=${w.talkToHuman} onChange=${(e) => set("talkToHuman", e.target.checked)} /> Show “Talk to a human” while a bot answers</label>
      <${Field} label="Rating after a conversation is resolved (CSAT)" name="csat" error=${error} hint="Off: the contact is never asked for a rating.">
        <select id="widget-csat" value=${w.csat || "faces"} onChange=${(e) => set("csat", e.target.value)}>
          <option value="faces">Three faces</option><option value="stars">Five stars</option><option value="off">Off</option>
        </select>
      <//>
      <h3>Identity verification</h3>
      <label class="check"><input type="checkbox" id="identity" checked=${w.identityVerification} onChange=${(e) => set("identityVerification", e.target.checked)} /> Refuse identified users whose userHash is not the HMAC-SHA256 of their user id</label>
      <p class="small">Your server signs each user id with this secret; keep it off your pages.</p>
      <div class="row"><input id="identity-secret" readOnly type=${reveal ? "text" : "password"} value=${w.identitySecret} size="48" />
        <button type="button" class="ghost" onClick=${() => setReveal(!reveal)}>${reveal ? "Hide" : "Show"}</button></div>
      <${ErrorText} error=${error && !error.field ? error : null} />
      ${done && html`<p class="ok" role="status">Saved.</p>`}
      <button class="primary" type="submit">Save widget settings</button>
    </form>`}
    ${!w && html`<${ErrorText} error=${error} />`}
  </section>`;
}

// CannedReplies is the app's list of saved answers: agents type a
// shortcut ("/hello") in the composer to insert one.
function CannedReplies() {
  const empty = { shortcut: "", text: "" };
  const [list, setList] = useState([]);
  const [f, setF] = useState(empty);
  const [editing, setEditing] = useState(""); // the id being edited
  const [error, setError] = useState(null);
  const load = () => get("/canned-replies").then((r) => setList(r.cannedReplies || [])).catch(setError);
  useEffect(() => { load(); }, []);
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      if (editing) await put("/canned-replies/" + editing, f); else await post("/canned-replies", f);
      setF(empty);
      setEditing("");
      load();
    } catch (err) { setError(err); }
  };
  const edit = (r) => { setError(null); setEditing(r.id); setF({ shortcut: r.shortcut, text: r.text }); };
  const remove = async (r) => {
    if (!confirm(`Delete the canned reply ${r.shortcut}?`)) return;
    try { await del("/canned-replies/" + r.id); load(); } catch (err) { setError(err); }
  };
  return html`<section>
    <h2>Canned replies</h2>
    <p class="muted small">Agents type <code>/</code> and the shortcut in the composer, then press Enter to insert the text.</p>
    <table class="table" id="canned-replies"><thead><tr><th>Shortcut</th><th>Text</th><th></th></tr></thead>
      <tbody>${list.map((r) => html`<tr><td><code>${r.shortcut}</code></td><td class="canned-text">${r.text}</td>
        <td><button class="ghost" onClick=${() => edit(r)}>Edit</button> <button class="ghost" onClick=${() => remove(r)}>Delete</button></td></tr>`)}</tbody></table>
    <form class="card wide" onSubmit=${save} aria-label=${editing ? "Edit canned reply" : "New canned reply"}>
      <h3>${editing ? "Edit canned reply" : "New canned reply"}</h3>
      <${Field} label="Shortcut" name="shortcut" error=${error} hint="A slash, then letters, digits, - or _ (at most 31).">
        <input id="canned-shortcut" value=${f.shortcut} required maxLength="32" placeholder="/hello" onInput=${(e) => setF({ ...f, shortcut: e.target.value })} />
      <//>
      <${Field} label="Text" name="text" error=${error}>
        <textarea id="canned-text" rows="4" required value=${f.text} onInput=${(e) => setF({ ...f, text: e.target.value })}></textarea>
      <//>
      <${ErrorText} error=${error && !error.field ? error : null} />
      <div class="row"><button class="primary" type="submit" id="canned-save">${editing ? "Save" : "Add canned reply"}</button>
        ${editing && html`<button type="button" class="ghost" onClick=${() => { setEditing(""); setF(empty); }}>Cancel</button>`}</div>
    </form>
  </section>`;
}

// The dashboard application: sign-in, the page frame and the router. Pages
// are chosen by the URL fragment, so a reload or a shared link opens the
// same view and the server has only one page to serve.
import { render } from "preact";
import { useState, useEffect, useCallback } from "preact/hooks";
import { html, ErrorText, Field } from "dash/ui.js";
import { get, post, put, setCSRF } from "dash/api.js";
import * as live from "dash/live.js";
import { Inbox } from "dash/inbox.js";
import { Settings } from "dash/settings.js";
import { Analytics } from "dash/analytics.js";

function useRoute() {
  const read = () => (location.hash.replace(/^#\/?/, "") || "inbox").split("/");
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function go(path) { location.hash = "#/" + path; }

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
}

function Login({ onSignedIn }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await post("/auth/login", { email, password });
      setCSRF(r.csrfToken);
      onSignedIn();
    } catch (err) {
      setError(err.status === 401 ? new Error("That email and password do not match an account.") : err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <form class="card" onSubmit=${submit} aria-label="Sign in">
      <h1>Switchboard</h1>
      <p class="muted">Sign in to the support inbox.</p>
      <${Field} label="Email" name="email" error=${error}>
        <input id="email" type="email" autocomplete="username" required value=${email} onInput=${(e) => setEmail(e.target.value)} />
      <//>
      <${Field} label="Password" name="password" error=${error}>
        <input id="password" type="password" autocomplete="current-password" required value=${password} onInput=${(e) => setPassword(e.target.value)} />
      <//>
      <${ErrorText} error=${error && !error.field ? error : null} />
      <button class="primary" type="submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`;
}

function AcceptInvite({ token, onSignedIn }) {
  const [form, setForm] = useState({ name: "", email: "", password: "" });
  const [error, setError] = useState(null);
  const [invite, setInvite] = useState(null);
  useEffect(() => {
    get("/join/" + encodeURIComponent(token)).then((i) => {
      setInvite(i);
      if (i.email) setForm((f) => ({ ...f, email: i.email }));
    }).catch(setError);
  }, [token]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await post("/join/" + encodeURIComponent(token), form);
      setCSRF(r.csrfToken);
      go("inbox");
      onSignedIn();
    } catch (err) { setError(err); }
  };
  return html`<main class="signin">
    <form class="card" onSubmit=${submit} aria-label="Accept invitation">
      <h1>Join Switchboard</h1>
      ${invite && html`<p class="muted">You are invited as <strong>${invite.role}</strong>. Choose your name and password.</p>`}
      <${Field} label="Your name" name="name" error=${error}><input id="name" required value=${form.name} onInput=${set("name")} /><//>
      <${Field} label="Email" name="email" error=${error}>
        <input id="email" type="email" required readOnly=${!!(invite && invite.email)} value=${form.email} onInput=${set("email")} />
      <//>
      <${Field} label="Password" name="password" error=${error} hint="At least 10 characters.">
        <input id="password" type="password" autocomplete="new-password" required value=${form.password} onInput=${set("password")} />
      <//>
      <${ErrorText} error=${error && !error.field ? error : null} />
      <button class="primary" type="submit">Create my account</button>
    </form>
  </main>`;
}

const presenceLabels = { online: "Online", away: "Away", offline: "Offline" };

function Header({ me, route, onSignOut, theme, setTheme, liveState }) {
  const admin = me.role === "admin" || me.role === "owner";
  const [presence, setPresence] = useState(me.agent ? me.agent.presence : "offline");
  const [error, setError] = useState(null);
  const changePresence = async (e) => {
    const status = e.target.value;
    setError(null);
    try {
      const a = await put("/agents/" + me.agent.id + "/presence", { status });
      setPresence(a.presence);
    } catch (err) { setError(err); }
  };
  const tab = (path, label) => html`<a href=${"#/" + path} class=${route[0] === path ? "active" : ""} aria-current=${route[0] === path ? "page" : undefined}>${label}</a>`;
  return html`<header class="top">
    <strong class="brand">Switchboard</strong>
    <nav>
      ${tab("inbox", "Inbox")}
      ${admin && tab("analytics", "Analytics")}
      ${admin && tab("settings", "Settings")}
      ${tab("account", "Account")}
    </nav>
    <span class=${"live " + liveState} title="Realtime connection">${liveState === "live" ? "Live" : "Reconnecting…"}</span>
    ${me.agent && html`<label class="presence">
      <span class=${"dot " + presence} aria-hidden="true"></span>
      <select id="presence" aria-label="Your presence" value=${presence} onChange=${changePresence}>
        ${Object.entries(presenceLabels).map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      </select>
    </label>`}
    <button class="ghost" onClick=${() => setTheme(theme === "dark" ? "light" : "dark")} title="Switch light and dark theme">${theme === "dark" ? "Light" : "Dark"}</button>
    <span class="who">${me.agent ? me.agent.name || me.agent.email : "API key"}</span>
    <button class="ghost" id="signout" onClick=${onSignOut}>Sign out</button>
    <${ErrorText} error=${error} />
  </header>`;
}

function Account({ me }) {
  const [cur, setCur] = useState("");
  const [next, setNext] = useState("");
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setDone(false);
    try {
      await post("/auth/password", { currentPassword: cur, newPassword: next });
      setDone(true);
      setCur("");
      setNext("");
    } catch (err) { setError(err); }
  };
  return html`<main class="page narrow">
    <h2>Your account</h2>
    <p>${me.agent && me.agent.email} · ${me.role}</p>
    <form class="card" onSubmit=${submit} aria-label="Change password">
      <h3>Change password</h3>
      <${Field} label="Current password" name="currentPassword" error=${error}>
        <input id="current-password" type="password" autocomplete="current-password" required value=${cur} onInput=${(e) => setCur(e.target.value)} />
      <//>
      <${Field} label="New password" name="newPassword" error=${error}>
        <input id="new-password" type="password" autocomplete="new-password" required value=${next} onInput=${(e) => setNext(e.target.value)} />
      <//>
      <${ErrorText} error=${error && !error.field ? error : null} />
      ${done && html`<p class="ok" role="status">Your password is changed.</p>`}
      <button class="primary" type="submit">Change password</button>
    </form>
  </main>`;
}

function App() {
  const route = useRoute();
  const [me, setMe] = useState(undefined);
  const [theme, setThemeState] = useState(localStorage.getItem("sb-theme") ||
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
  const [liveState, setLiveState] = useState("connecting");
  const setTheme = (t) => { localStorage.setItem("sb-theme", t); setThemeState(t); };
  useEffect(() => applyTheme(theme), [theme]);

  const load = useCallback(async () => {
    try {
      const m = await get("/auth/me");
      setCSRF(m.csrfToken);
      setMe(m);
      live.connect();
    } catch {
      setMe(null);
    }
  }, []);
  useEffect(() => { load(); }, [load]);
  useEffect(() => live.onFrame((f) => { if (f.type === "_status") setLiveState(f.status); }), []);
  useEffect(() => {
    const out = () => { live.disconnect(); setMe(null); };
    addEventListener("sb-signed-out", out);
    return () => removeEventListener("sb-signed-out", out);
  }, []);

  const signOut = async () => {
    try { await post("/auth/logout"); } catch { /* the session is gone either way */ }
    live.disconnect();
    setCSRF("");
    setMe(null);
    go("inbox");
  };

  if (me === undefined) return html`<p class="boot">Loading…</p>`;
  if (route[0] === "invite" && route[1] && !me) return html`<${AcceptInvite} token=${route[1]} onSignedIn=${load} />`;
  if (!me) return html`<${Login} onSignedIn=${load} />`;
  const admin = me.role === "admin" || me.role === "owner";
  let page;
  switch (route[0]) {
    case "settings":
      page = admin ? html`<${Settings} me=${me} tab=${route[1] || "bots"} />` : html`<${Forbidden} />`;
      break;
    case "analytics":
      page = admin ? html`<${Analytics} />` : html`<${Forbidden} />`;
      break;
    case "account":
      page = html`<${Account} me=${me} />`;
      break;
    default:
      page = html`<${Inbox} me=${me} list=${route[0] === "c" ? "all" : route[1] || "all"} selected=${route[0] === "c" ? route[1] : route[2]} />`;
  }
  return html`<div class="frame">
    <${Header} me=${me} route=${route} onSignOut=${signOut} theme=${theme} setTheme=${setTheme} liveState=${liveState} />
    ${page}
  </div>`;
}

function Forbidden() {
  return html`<main class="page narrow"><h2>Admins only</h2><p id="forbidden" role="alert">Only admins can open this page. Ask an admin of your workspace if you need access.</p></main>`;
}

render(html`<${App} />`, document.getElementById("app"));

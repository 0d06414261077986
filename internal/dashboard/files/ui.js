// Shared pieces of the dashboard's pages: the html tag, small widgets and
// the wording of times, names and statuses.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);

export const statusNames = { 0: "open", 2: "resolved", 3: "spam", 4: "duplicate", 6: "unresponded", 7: "waiting" };

export function ago(iso) {
  const t = new Date(iso).getTime();
  if (!t) return "";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 60) return "now";
  if (s < 3600) return Math.floor(s / 60) + " min";
  if (s < 86400) return Math.floor(s / 3600) + " h";
  return new Date(iso).toLocaleDateString();
}

export function clock(iso) {
  const d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function ErrorText({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${String(error.message || error)}</p>`;
}

// Field is a labelled input whose server-side error, when the server named
// this field, is shown right under it.
export function Field({ label, name, error, hint, children }) {
  const mine = error && error.field === name ? error.message : "";
  return html`<label class="field">
    <span class="label">${label}</span>
    ${children}
    ${hint && html`<span class="hint">${hint}</span>`}
    ${mine && html`<span class="field-error" data-field=${name} role="alert">${mine}</span>`}
  </label>`;
}

export function newKey() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return "d-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

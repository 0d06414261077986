// Analytics: the summary API drawn as plain SVG charts over a date range.
// The per-day charts (conversations, resolution time) are one summary per
// day of the range.
import { useState, useEffect } from "preact/hooks";
import { html, ErrorText } from "dash/ui.js";
import { get, query } from "dash/api.js";

const day = 86400000;
const iso = (t) => new Date(t).toISOString().slice(0, 10);

// Bars draws one bar per item; fmt words a value for its labels.
function Bars({ data, label, id, fmt = String }) {
  const w = 560, hgt = 180, pad = 28;
  const max = Math.max(1, ...data.map((d) => d.value));
  const bw = (w - pad * 2) / Math.max(1, data.length);
  return html`<figure class="chart" id=${id}>
    <figcaption>${label}</figcaption>
    <svg viewBox=${`0 0 ${w} ${hgt + 40}`} role="img" aria-label=${label}>
      <line x1=${pad} y1=${hgt} x2=${w - pad} y2=${hgt} class="axis" />
      <text x="2" y="12" class="tick">${fmt(max)}</text>
      ${data.map((d, i) => {
        const bh = (d.value / max) * (hgt - 20);
        return html`<g>
          <rect class="bar" x=${pad + i * bw + 2} y=${hgt - bh} width=${Math.max(1, bw - 4)} height=${bh}><title>${d.label}: ${fmt(d.value)}</title></rect>
          ${(data.length <= 14 || i % Math.ceil(data.length / 10) === 0) && html`<text class="tick" x=${pad + i * bw + bw / 2} y=${hgt + 14} text-anchor="middle">${d.label}</text>`}
          ${data.length <= 14 && d.value > 0 && html`<text class="tick" x=${pad + i * bw + bw / 2} y=${hgt - bh - 4} text-anchor="middle">${fmt(d.value)}</text>`}
        </g>`;
      })}
    </svg>
  </figure>`;
}

function Share({ a, b, labelA, labelB, id }) {
  const total = a + b;
  const pa = total ? a / total : 0;
  const w = 560;
  return html`<figure class="chart" id=${id}>
    <figcaption>Bot-resolved vs handed off</figcaption>
    <svg viewBox=${`0 0 ${w} 60`} role="img" aria-label="Bot-resolved vs handed off">
      <rect class="bar" x="0" y="10" width=${w * pa} height="24" />
      <rect class="bar alt" x=${w * pa} y="10" width=${w * (1 - pa)} height=${total ? 24 : 0} />
      <text class="tick" x="0" y="52">${labelA}: ${a} (${Math.round(pa * 100)}%)</text>
      <text class="tick" x=${w} y="52" text-anchor="end">${labelB}: ${b} (${total ? 100 - Math.round(pa * 100) : 0}%)</text>
    </svg>
  </figure>`;
}

const secs = (ms) => (ms < 1000 ? ms + " ms" : ms < 60000 ? Math.round(ms / 1000) + " s"
  : ms < 3600000 ? Math.round(ms / 60000) + " min" : (ms / 3600000).toFixed(1) + " h");

// reasons are the handoff triggers as the summary names them.
const reasons = {
  km_assign_to: "bot asked for a person", km_assign_team: "bot asked for a team", bot_gave_up: "bot could not help",
  bot_failed: "bot failed", contact_asked: "contact asked", take_over: "agent took over",
};

export function Analytics() {
  const [from, setFrom] = useState(iso(Date.now() - 6 * day));
  const [to, setTo] = useState(iso(Date.now()));
  const [sum, setSum] = useState(null);
  const [perDay, setPerDay] = useState([]);
  const [error, setError] = useState(null);
  useEffect(() => {
    const start = Date.parse(from + "T00:00:00Z");
    const end = Date.parse(to + "T00:00:00Z") + day;
    if (!(end > start)) { setError(new Error("The start date must be on or before the end date.")); return; }
    const days = Math.round((end - start) / day);
    if (days > 92) { setError(new Error("Choose a range of at most 92 days.")); return; }
    setError(null);
    const range = (a, b) => query({ from: new Date(a).toISOString().replace(".000", ""), to: new Date(b).toISOString().replace(".000", "") });
    get("/analytics/summary" + range(start, end)).then(setSum).catch(setError);
    Promise.all(Array.from({ length: days }, (_, i) => get("/analytics/summary" + range(start + i * day, start + (i + 1) * day))
      .then((s) => ({ label: iso(start + i * day).slice(5), sum: s }))))
      .then(setPerDay).catch(setError);
  }, [from, to]);
  const fr = (sum && sum.firstResponse) || {};
  const res = (sum && sum.resolution) || {};
  const series = (f) => perDay.map((d) => ({ label: d.label, value: f(d.sum) }));
  return html`<main class="page analytics">
    <div class="row"><h2>Analytics</h2>
      <label>From <input type="date" id="from" value=${from} onChange=${(e) => setFrom(e.target.value)} /></label>
      <label>To <input type="date" id="to" value=${to} onChange=${(e) => setTo(e.target.value)} /></label>
    </div>
    <${ErrorText} error=${error} />
    ${sum && html`<div class="stats">
      <div class="stat"><span>${sum.conversations}</span>conversations</div>
      <div class="stat"><span>${sum.handedOff}</span>handed off</div>
      <div class="stat"><span>${(fr.any && fr.any.count) ? secs(fr.any.medianMillis) : "—"}</span>median first response</div>
      <div class="stat"><span>${(fr.human && fr.human.count) ? secs(fr.human.medianMillis) : "—"}</span>median first human response</div>
      <div class="stat" id="stat-resolution-median"><span>${res.count ? secs(res.medianMillis) : "—"}</span>median resolution time</div>
      <div class="stat" id="stat-resolution-average"><span>${res.count ? secs(res.averageMillis) : "—"}</span>average resolution time (${res.count || 0} resolved)</div>
      <div class="stat"><span>${sum.csatCount ? sum.csatAverage.toFixed(1) : "—"}</span>CSAT (${sum.csatCount} ratings)</div>
    </div>
    <div class="charts">
      <${Bars} id="chart-per-day" label="Conversations per day" data=${series((s) => s.conversations)} />
      <${Bars} id="chart-resolution" label="Median resolution time per day" fmt=${(ms) => (ms ? secs(ms) : "0")}
        data=${series((s) => (s.resolution ? s.resolution.medianMillis : 0))} />
      <${Share} id="chart-share" a=${sum.botResolved} b=${sum.handedOff} labelA="Bot-resolved" labelB="Handed off" />
      <${Bars} id="chart-reasons" label="Handoffs by reason" data=${Object.entries(sum.handoffsByReason || {}).map(([k, v]) => ({ label: reasons[k] || k, value: v }))} />
      <${Bars} id="chart-intents" label="Handoffs by the Lex intent before them" data=${(sum.topHandoffIntents || []).map((x) => ({ label: x.intent, value: x.count }))} />
    </div>`}
  </main>`;
}

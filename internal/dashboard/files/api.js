// The REST client. Cookie-authenticated changes must carry the session's
// CSRF token, which sign-in and /auth/me hand out; every failure becomes an
// Error whose message is fit to show an agent as is.

let csrf = "";

export function setCSRF(token) { csrf = token || ""; }

export class APIError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
  // field names the input the server blamed, when it named one.
  get field() { return this.details.field || ""; }
}

const plain = {
  unauthenticated: "Your session has ended. Please sign in again.",
  forbidden: "You do not have permission to do that.",
  not_found: "That item no longer exists.",
  rate_limited: "Too many attempts. Wait a moment and try again.",
  unavailable: "The server is busy or restarting. Try again in a moment.",
  internal: "Something went wrong on the server. Try again; if it keeps happening, tell your administrator.",
};

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") {
    headers["X-CSRF-Token"] = csrf;
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
  }
  let res;
  try {
    res = await fetch("/api/v1" + path, init);
  } catch {
    throw new APIError(0, "network", "Cannot reach the server. Check your connection; the dashboard retries on its own.");
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) {
    const e = (data && data.error) || {};
    // The server's own message is already written for people (it names
    // the field and what is wrong); the generic ones cover the rest.
    const msg = e.code === "invalid" || e.code === "conflict" || e.code === "too_large"
      ? e.message : (e.code === "forbidden" && e.message ? e.message : plain[e.code] || e.message || `Request failed (${res.status}).`);
    const err = new APIError(res.status, e.code || "http_" + res.status, msg, e.details);
    if (res.status === 401) window.dispatchEvent(new CustomEvent("sb-signed-out"));
    throw err;
  }
  return data;
}

export const get = (p) => api("GET", p);
export const post = (p, b) => api("POST", p, b === undefined ? {} : b);
export const put = (p, b) => api("PUT", p, b);
export const patch = (p, b) => api("PATCH", p, b);
export const del = (p) => api("DELETE", p);

// query builds "?a=b&c=d" from an object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

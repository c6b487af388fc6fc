// The HTTP API as the console uses it: JSON in and out, the session cookie, errors as ApiError.

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

const listeners = new Set();
// Called with no arguments whenever the server says the session is gone (401).
export function onLoggedOut(fn) { listeners.add(fn); }

export async function api(method, path, body, { headers = {}, idempotencyKey, quiet401 = false } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (idempotencyKey) init.headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, "network", "network", null);
  }
  const data = response.headers.get("Content-Type")?.includes("json") ? await response.json() : await response.text();
  if (response.ok) return data;
  const error = data?.error || {};
  if (response.status === 401 && !quiet401) listeners.forEach((fn) => fn());
  throw new ApiError(response.status, error.code || `http_${response.status}`, error.message || response.statusText, data);
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body ?? {}, opts);
export const patch = (path, body, opts) => api("PATCH", path, body, opts);
export const put = (path, body, opts) => api("PUT", path, body, opts);
export const del = (path, opts) => api("DELETE", path, undefined, opts);

export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

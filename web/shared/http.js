// http.js - the staff pages' one way to the server (the KB editor and the
// agent console): JSON over fetch with the session cookie, the CSRF token on
// every write, one error type whose message is fit to show, and sign-in
// (docs/api.md).

let csrfToken = null;
let onUnauthorized = null;

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status; // HTTP status, 0 when the server could not be reached
    this.code = code; // the API's error code ("conflict", "invalid_field", …)
    this.body = body; // the whole JSON answer (a 409 carries "current")
  }

  // "title: is required" names its field; returns "title" or null.
  get field() {
    const m = /^([a-z_]+)(\[\d+\])?:/.exec(this.message || '');
    return m ? m[1] : null;
  }
}

export function setCsrfToken(token) {
  csrfToken = token || null;
}

// fn() is called when a request answers 401 (the session ended).
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

// Sends one request; resolves with the parsed JSON answer, rejects with an
// ApiError. opts.quiet401 keeps a 401 from signing the editor out (login).
export async function api(method, path, body, opts = {}) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) init.headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data ?? {};
  const err = data && data.error ? data.error : {};
  const e = new ApiError(res.status, err.code || 'http_' + res.status,
    err.message || `The server answered ${res.status} ${res.statusText}`.trim(), data);
  if (res.status === 429) {
    const after = res.headers.get('Retry-After');
    if (after) e.retryAfter = Number(after);
  }
  if (res.status === 401 && !opts.quiet401 && onUnauthorized) onUnauthorized(e);
  return Promise.reject(e);
}

// Builds "?a=1&b=2" from the keys whose values are not empty.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

export const auth = {
  me: () => api('GET', '/api/v1/auth/me', undefined, { quiet401: true }),
  // remember_device: this browser gets a device cookie, so failed sign-ins
  // by someone else on the same network never lock it out (docs/api.md).
  login: (email, password) => api('POST', '/api/v1/auth/login', { email, password, remember_device: true }, { quiet401: true }),
  logout: () => api('POST', '/api/v1/auth/logout', undefined, { quiet401: true }),
};

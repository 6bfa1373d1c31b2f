// api.js - the console's only way to the server: JSON over fetch with the
// session cookie and the CSRF token on every write (docs/api.md), and the
// Agent API of docs/agents.md.

let csrfToken = null;
let onUnauthorized = null;

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status; // HTTP status, 0 when the server could not be reached
    this.code = code; // the API's error code ("conflict", "invalid_field", …)
    this.body = body;
  }
}

export function setCsrfToken(token) {
  csrfToken = token || null;
}

export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

// Sends one request; resolves with the parsed JSON answer, rejects with an
// ApiError. opts.quiet401 keeps a 401 from signing the console out (login).
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
  if (res.status === 429) e.retryAfter = Number(res.headers.get('Retry-After')) || null;
  if (res.status === 401 && !opts.quiet401 && onUnauthorized) onUnauthorized(e);
  return Promise.reject(e);
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

const enc = encodeURIComponent;
const conv = (id) => `/api/v1/agent/conversations/${enc(id)}`;

export const auth = {
  me: () => api('GET', '/api/v1/auth/me', undefined, { quiet401: true }),
  login: (email, password) => api('POST', '/api/v1/auth/login', { email, password }, { quiet401: true }),
  logout: () => api('POST', '/api/v1/auth/logout', undefined, { quiet401: true }),
};

export const agent = {
  me: () => api('GET', '/api/v1/agent/me'),
  setStatus: (status) => api('PUT', '/api/v1/agent/me/status', { status }),
  queue: () => api('GET', '/api/v1/agent/queue'),
  mine: () => api('GET', '/api/v1/agent/conversations' + query({ mine: 1 })),
  conversation: (id) => api('GET', conv(id)),
  accept: (id) => api('POST', conv(id) + '/accept', {}),
  decline: (id) => api('POST', conv(id) + '/decline', {}),
  claim: (id) => api('POST', conv(id) + '/claim', {}),
  reply: (id, body) => api('POST', conv(id) + '/messages', body),
  note: (id, text) => api('POST', conv(id) + '/notes', { text }),
  transfer: (id, body) => api('POST', conv(id) + '/transfer', body),
  resolve: (id) => api('POST', conv(id) + '/resolve', {}),
  returnToBot: (id) => api('POST', conv(id) + '/return-to-bot', {}),
  typing: (id, typing) => api('POST', conv(id) + '/typing', { typing }),
  read: (id, upTo) => api('POST', conv(id) + '/read', { up_to: upTo }),
  contact: (id) => api('GET', `/api/v1/agent/contacts/${enc(id)}`),
  canned: (locale, q) => api('GET', '/api/v1/agent/canned' + query({ locale, q })),
  renderCanned: (cannedId, conversationId) => api('POST', '/api/v1/agent/canned/render',
    { canned_id: cannedId, conversation_id: conversationId }),
  kbSearch: (q, locale) => api('GET', '/api/v1/agent/kb/search' + query({ q, locale })),
  overview: () => api('GET', '/api/v1/supervisor/overview'),
};

// The first array among an answer's likely keys (lists come wrapped: {"queue": […]}).
export function listOf(r, ...keys) {
  if (Array.isArray(r)) return r;
  for (const k of keys) if (r && Array.isArray(r[k])) return r[k];
  return [];
}

// api.js - the console's calls of the Agent API (docs/agents.md), over the
// staff pages' shared transport (/static/shared/http.js).

import { api, query } from '/static/shared/http.js';

export { ApiError, setCsrfToken, setUnauthorizedHandler, api, query, auth } from '/static/shared/http.js';

const enc = encodeURIComponent;
const conv = (id) => `/api/v1/agent/conversations/${enc(id)}`;

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
  templates: (id) => api('GET', conv(id) + '/templates'),
  retry: (id, mid) => api('POST', conv(id) + `/messages/${enc(mid)}/retry`, {}),
  note: (id, text) => api('POST', conv(id) + '/notes', { text }),
  transfer: (id, body) => api('POST', conv(id) + '/transfer', body),
  resolve: (id, articleId) => api('POST', conv(id) + '/resolve', articleId ? { article_id: articleId } : {}),
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

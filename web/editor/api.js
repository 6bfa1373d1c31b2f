// api.js - the editor's calls of the KB editor API (docs/kb-api.md), over
// the staff pages' shared transport (/static/shared/http.js).

import { api, query } from '/static/shared/http.js';

export { ApiError, setCsrfToken, setUnauthorizedHandler, api, query, auth } from '/static/shared/http.js';

export const kb = {
  locales: () => api('GET', '/api/v1/kb/locales'),
  categories: (locale) => api('GET', '/api/v1/kb/categories' + query({ locale })),
  list: (filters) => api('GET', '/api/v1/kb/articles' + query(filters)),
  get: (id) => api('GET', `/api/v1/kb/articles/${id}`),
  create: (fields) => api('POST', '/api/v1/kb/articles', fields),
  update: (id, revision, fields) => api('PUT', `/api/v1/kb/articles/${id}`, { revision, ...fields }),
  remove: (id) => api('DELETE', `/api/v1/kb/articles/${id}`),
  publish: (id, revision) => api('POST', `/api/v1/kb/articles/${id}/publish`, { revision }),
  unpublish: (id, revision) => api('POST', `/api/v1/kb/articles/${id}/unpublish`, { revision }),
  revisions: (id) => api('GET', `/api/v1/kb/articles/${id}/revisions`),
  revision: (id, n) => api('GET', `/api/v1/kb/articles/${id}/revisions/${n}`),
  diff: (id, from, to) => api('GET', `/api/v1/kb/articles/${id}/diff` + query({ from, to })),
  revert: (id, to, revision) => api('POST', `/api/v1/kb/articles/${id}/revert`, { to, revision }),
  preview: (body) => api('POST', '/api/v1/kb/preview', { body }),
  try: (text, locale) => api('POST', '/api/v1/kb/try', { text, locale }),
  gaps: (locale, days) => api('GET', '/api/v1/kb/gaps' + query({ locale, days })),
  helpfulness: (locale) => api('GET', '/api/v1/kb/helpfulness' + query({ locale })),
  synonyms: (locale) => api('GET', '/api/v1/kb/synonyms' + query({ locale })),
  // An empty list removes the term.
  setSynonyms: (locale, term, synonyms) => api('PUT',
    `/api/v1/kb/synonyms/${encodeURIComponent(locale)}/${encodeURIComponent(term)}`, { synonyms }),
};

// console_host.mjs - what the console tests share: the agent's profile (team
// default, capacity 4, online) through the admin API, customers who ask for
// a person through the public API, the agent's side through the Agent API
// (docs/agents.md), and opening the console.

import { ADMIN, AGENT } from './harness.mjs';

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// The endpoints the console tests use, by name; missingEndpoints() says
// which of them the server does not have yet.
export const ENDPOINTS = {
  me: ['GET', '/api/v1/agent/me'],
  status: ['PUT', '/api/v1/agent/me/status'],
  queue: ['GET', '/api/v1/agent/queue'],
  mine: ['GET', '/api/v1/agent/conversations?mine=1'],
  events: ['GET', '/api/v1/agent/events?last_event_id=x'],
  accept: ['POST', '/api/v1/agent/conversations/none/accept'],
  claim: ['POST', '/api/v1/agent/conversations/none/claim'],
  reply: ['POST', '/api/v1/agent/conversations/none/messages'],
  note: ['POST', '/api/v1/agent/conversations/none/notes'],
  resolve: ['POST', '/api/v1/agent/conversations/none/resolve'],
  read: ['POST', '/api/v1/agent/conversations/none/read'],
  contact: ['GET', '/api/v1/agent/contacts/none'],
  canned: ['GET', '/api/v1/agent/canned'],
  render: ['POST', '/api/v1/agent/canned/render'],
  kb: ['GET', '/api/v1/agent/kb/search'],
  overview: ['GET', '/api/v1/supervisor/overview'],
  adminAgents: ['GET', '/api/v1/admin/agents/0'],
  adminCanned: ['GET', '/api/v1/admin/canned'],
};

// The ENDPOINTS the server does not route yet: a Map name → "METHOD /path".
export async function missingEndpoints(server) {
  const api = await server.api(ADMIN);
  const missing = new Map();
  for (const [name, [m, p]] of Object.entries(ENDPOINTS)) {
    const r = await api.request(m, p, m === 'GET' ? undefined : {});
    // An unknown route answers 404 "no such endpoint" (405 when another method has it);
    // a known one fails on the made-up id or body instead.
    if (r.status === 405 || (r.status === 404 && /no such endpoint/i.test(JSON.stringify(r.body))))
      missing.set(name, `${m} ${p.replace(/\?.*$/, '').replace('/none', '/{id}').replace(/\/0$/, '/{id}')}`);
  }
  return missing;
}

// The agent's profile: team default, capacity 4, STATUS; returns the user id.
export async function agentProfile(server, status = 'online') {
  const admin = await server.api(ADMIN);
  const users = await admin.ok('GET', '/api/v1/admin/users');
  const u = (users.users || users).find((x) => x.email === AGENT.email);
  if (!u) throw new Error('no agent user');
  await admin.ok('PUT', `/api/v1/admin/agents/${u.id}`, { status, capacity: 4, teams: ['default'] });
  return u.id;
}

// A web customer who asks QUESTION and then taps "Talk to a person" (/human).
export async function customerWantsPerson(server, question = 'where is my order', locale = 'en') {
  const r = await fetch(`${server.url}/api/v1/conversations`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ locale }),
  });
  if (r.status !== 201) throw new Error(`POST /api/v1/conversations -> ${r.status} ${await r.text()}`);
  const conv = await r.json();
  await customerSays(server, conv, question);
  const h = await customerSays(server, conv, 'Talk to a person', '/human');
  if (h.status !== 'queued' && h.status !== 'assigned') throw new Error(`/human left the conversation ${h.status}`);
  return conv;
}

let seq = 0;
export async function customerSays(server, conv, text, payload) {
  const body = { text, client_id: `c-${Date.now()}-${++seq}` };
  if (payload) body.payload = payload;
  const m = await fetch(`${server.url}/api/v1/conversations/${conv.id}/messages`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${conv.token}` }, body: JSON.stringify(body),
  });
  if (m.status !== 200) throw new Error(`POST messages -> ${m.status} ${await m.text()}`);
  return m.json();
}

// The agent takes CONV: accepts the offer routing made, or claims it.
export async function takeAsAgent(server, conv, agentId) {
  const api = await server.api(AGENT);
  const deadline = Date.now() + 8000;
  let last = null;
  while (Date.now() < deadline) {
    const q = await api.ok('GET', '/api/v1/agent/queue');
    const item = (q.queue || q.conversations || []).find((x) => x.id === conv.id);
    if (item) {
      const to = item.offered_to && typeof item.offered_to === 'object' ? item.offered_to.id : item.offered_to;
      const r = await api.request('POST', `/api/v1/agent/conversations/${conv.id}/${String(to) === String(agentId) ? 'accept' : 'claim'}`, {});
      if (r.status === 200) return api;
      last = r;
    } else {
      const c = await api.ok('GET', `/api/v1/agent/conversations/${conv.id}`);
      if (c.status === 'assigned') return api;
    }
    await sleep(100);
  }
  throw new Error(`the agent could not take ${conv.id}: ${JSON.stringify(last && last.body)}`);
}

export async function resolveQuietly(api, conv) {
  try {
    await api.request('POST', `/api/v1/agent/conversations/${conv.id}/resolve`, {});
  } catch {
    // best effort: keeps the agent under capacity for the next test
  }
}

export async function openConsole(page, hash = '#/') {
  await page.goto('/console/' + hash);
  await page.locator('#app-tools').waitFor();
}

export function consoleUi(page) {
  return {
    queue: page.locator('#queue-list'),
    mine: page.locator('#mine-list'),
    transcript: page.locator('.transcript'),
    box: page.locator('#reply-box'),
    notes: page.locator('.transcript .msg-note'),
    status: page.locator('#my-status'),
  };
}

// view-supervisor.js - #/supervisor (supervisors and admins): who is online
// with their load and capacity, the queue of each team (waiting, oldest
// wait, offered) and the SLA counts; re-read every 5 s and on events.

import { agent, listOf } from './api.js';
import { duration, h, notice } from './dom.js';
import { on } from './state.js';

export function render(pane) {
  const title = h('h1', { tabindex: '-1' }, 'Supervisor');
  const body = h('div', { class: 'supervisor', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  pane.replaceChildren(h('div', { class: 'pane-inner' }, title, body));
  title.focus();
  let alive = true;
  let seq = 0;

  async function load() {
    const mine = ++seq;
    try {
      const o = await agent.overview();
      if (!alive || mine !== seq) return;
      body.replaceChildren(...view(o));
    } catch (e) {
      if (!alive || mine !== seq) return;
      body.replaceChildren(notice('error', `The overview could not be loaded: ${e.message}`));
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
  }

  let pending = null;
  const off = on('event', (ev) => {
    if (ev.type === 'typing' || pending) return;
    pending = setTimeout(() => {
      pending = null;
      load();
    }, 500);
  });
  const timer = setInterval(load, 5000);
  load();
  return {
    leave() {
      alive = false;
      clearInterval(timer);
      clearTimeout(pending);
      off();
    },
  };
}

function view(o) {
  const agents = listOf(o, 'agents');
  const queues = listOf(o, 'queues', 'teams');
  const sla = o.sla || {};
  const online = agents.filter((a) => a.status === 'online').length;
  return [
    h('section', { class: 'sup-block', 'aria-labelledby': 'sup-sla' },
      h('h2', { id: 'sup-sla' }, 'SLA'),
      h('ul', { class: 'stat-row' },
        stat('On time', sla.ok ?? 0, 'ok'), stat('Warning', sla.warning ?? 0, 'warning'), stat('Breached', sla.breached ?? 0, 'breached'),
        stat('Agents online', `${online} of ${agents.length}`, 'plain'))),
    h('section', { class: 'sup-block', 'aria-labelledby': 'sup-queues' },
      h('h2', { id: 'sup-queues' }, 'Queues'),
      h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Team'), h('th', { scope: 'col', class: 'num' }, 'Waiting'),
          h('th', { scope: 'col', class: 'num' }, 'Offered'), h('th', { scope: 'col', class: 'num' }, 'Oldest wait'))),
        h('tbody', {}, queues.length ? queues.map((q) => h('tr', { dataset: { team: q.team || q.id } },
          h('th', { scope: 'row' }, q.name || q.team || q.id),
          h('td', { class: 'num' }, String(q.waiting ?? 0)), h('td', { class: 'num' }, String(q.offered ?? 0)),
          h('td', { class: 'num' }, q.oldest_wait_s ? duration(q.oldest_wait_s) : '—')))
          : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No team has anyone waiting.'))))),
    h('section', { class: 'sup-block', 'aria-labelledby': 'sup-agents' },
      h('h2', { id: 'sup-agents' }, 'Agents'),
      h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Agent'), h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Load'), h('th', { scope: 'col' }, 'Teams'))),
        h('tbody', {}, agents.length ? agents.map((a) => h('tr', { dataset: { agent: a.id ?? a.user_id, status: a.status } },
          h('th', { scope: 'row' }, a.name || a.email || String(a.id)),
          h('td', {}, h('span', { class: `presence presence-${a.status}` }, a.status || '—')),
          h('td', {}, h('meter', { min: 0, max: a.capacity || 1, high: (a.capacity || 1) * 0.75, value: a.load || 0, 'aria-label': 'load' }),
            ` ${fmt(a.load)} / ${fmt(a.capacity)}`),
          h('td', {}, (a.teams || []).map((t) => (typeof t === 'string' ? t : t.name || t.id)).join(', '))))
          : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No agents yet.'))))),
  ];
}

function fmt(x) {
  return typeof x === 'number' ? String(Math.round(x * 10) / 10) : '—';
}

function stat(label, value, kind) {
  return h('li', { class: `stat stat-${kind}` }, h('span', { class: 'stat-value' }, String(value)), h('span', { class: 'stat-label' }, label));
}

// view-queue.js - the left column: the Queue (conversations of my teams
// waiting for a person, with their wait and SLA countdowns ticking every
// second, offers to me with Accept/Decline and the seconds left, Take when
// picking by hand is allowed) and Mine (my conversations with unread counts).

import { agent } from './api.js';
import { button, duration, h, notice, toast } from './dom.js';
import { app, convId, offerExpiry, offeredToMe, on, refreshListsSoon } from './state.js';

let root = null;
let queueList = null;
let mineList = null;
let queueCount = null;
let mineCount = null;
let ticker = null;
let openId = null;

const PRIORITY = ['', 'High', 'Urgent'];
const SLA_KIND = { first_response: 'First reply', next_response: 'Next reply', resolution: 'Resolution' };

export function mount(sidebar) {
  root = sidebar;
  queueCount = h('span', { class: 'count', 'aria-label': 'waiting' }, '0');
  mineCount = h('span', { class: 'count' }, '0');
  queueList = h('ul', { class: 'conv-list', id: 'queue-list', 'aria-labelledby': 'queue-title' });
  mineList = h('ul', { class: 'conv-list', id: 'mine-list', 'aria-labelledby': 'mine-title' });
  sidebar.replaceChildren(
    h('section', { class: 'side-section', 'aria-labelledby': 'queue-title' },
      h('h2', { id: 'queue-title' }, 'Queue ', queueCount), queueList),
    h('section', { class: 'side-section', 'aria-labelledby': 'mine-title' },
      h('h2', { id: 'mine-title' }, 'Mine ', mineCount), mineList));
  renderQueue();
  renderMine();
  clearInterval(ticker);
  ticker = setInterval(tick, 1000);
}

on('queue', () => renderQueue());
on('mine', () => renderMine());
on('queue-error', (e) => {
  if (queueList) queueList.replaceChildren(h('li', {}, notice('error', `The queue could not be loaded: ${e.message}`)));
});

export function highlight(id) {
  openId = id;
  if (!root) return;
  for (const a of root.querySelectorAll('a[data-conv]')) {
    if (a.dataset.conv === id) a.setAttribute('aria-current', 'true');
    else a.removeAttribute('aria-current');
  }
}

function slaOf(item) {
  const s = item.sla;
  if (!s) return null;
  if (Array.isArray(s)) return s.find((x) => x.state !== 'met') || s[0] || null;
  return s;
}

// The SLA state at time now: the server's word, unless the clock has passed
// the warning or due instant since.
export function slaState(sla, now = Date.now()) {
  if (!sla || !sla.due_at) return null;
  if (sla.state === 'met') return 'met';
  if (now >= sla.due_at || sla.state === 'breached') return 'breached';
  if (sla.state === 'warning' || (sla.warn_at && now >= sla.warn_at)) return 'warning';
  return 'ok';
}

function slaBadge(sla) {
  if (!sla || !sla.due_at) return null;
  return h('span', { class: 'sla', dataset: { due: sla.due_at, warn: sla.warn_at || '', state: sla.state || '' },
    title: `${SLA_KIND[sla.kind] || 'SLA'} due ${new Date(sla.due_at).toLocaleTimeString()}` },
  h('span', { class: 'sla-kind' }, SLA_KIND[sla.kind] || 'SLA'), ' ', h('span', { class: 'sla-left' }, ''));
}

function renderQueue() {
  if (!queueList) return;
  const items = [...app.queue].sort((a, b) => Number(offeredToMe(b)) - Number(offeredToMe(a)));
  queueCount.textContent = String(items.length);
  if (!items.length) {
    queueList.replaceChildren(h('li', { class: 'empty' }, 'Nobody is waiting.'));
    return;
  }
  queueList.replaceChildren(...items.map((it) => reuse(queueCache, it, queueItem)));
  highlight(openId);
  tick();
}

function queueItem(item) {
  const id = convId(item);
  const mineOffer = offeredToMe(item);
  const contact = (item.contact && item.contact.name) || 'Customer';
  const actions = h('div', { class: 'item-actions' });
  if (mineOffer) {
    const expires = offerExpiry(item);
    actions.append(
      h('span', { class: 'offer-left', dataset: { expires: expires || '' } }, 'Offered to you'),
      button('Accept', () => act(id, 'accept', 'Accepted.'), { kind: 'primary', 'aria-label': `Accept the conversation with ${contact}` }),
      button('Decline', () => act(id, 'decline', 'Declined.'), { 'aria-label': `Decline the conversation with ${contact}` }));
  } else if (!item.offered_to && item.can_claim !== false) {
    actions.append(button('Take', () => act(id, 'claim', 'It is yours.'), { kind: 'quiet', 'aria-label': `Take the conversation with ${contact}` }));
  } else if (item.offered_to) {
    actions.append(h('span', { class: 'muted small' }, 'Offered to ' + ((item.offered_to && item.offered_to.name) || 'another agent')));
  }
  const sla = slaOf(item);
  return h('li', { class: ['conv-item', mineOffer && 'is-offer'], dataset: { conv: id, status: 'queued' } },
    h('a', { href: `#/c/${encodeURIComponent(id)}`, class: 'conv-link', dataset: { conv: id } },
      h('span', { class: 'conv-name' }, contact),
      h('span', { class: 'conv-meta' },
        [item.channel, item.team, item.locale].filter(Boolean).join(' · '),
        item.priority ? h('span', { class: `prio prio-${item.priority}` }, ' ' + PRIORITY[item.priority]) : null),
      item.preview ? h('span', { class: 'conv-preview' }, item.preview) : null),
    h('div', { class: 'conv-times' },
      h('span', { class: 'wait', dataset: { since: item.queued_at || (Date.now() - (item.wait_s || 0) * 1000) } }, ''),
      slaBadge(sla)),
    actions);
}

async function act(id, what, done) {
  try {
    await agent[what](id);
    toast(done);
    if (what === 'decline') app.offers.delete(id);
    if (what === 'accept' || what === 'claim') {
      app.offers.delete(id);
      acceptedByMe.add(id);
      location.hash = `#/c/${encodeURIComponent(id)}`;
    }
  } catch (e) {
    if (e.code === 'conflict') toast('Someone else has it already, or the offer expired.', 'error');
    else toast(e.message, 'error');
  }
  refreshListsSoon();
}

export const acceptedByMe = new Set();

function renderMine() {
  if (!mineList) return;
  mineCount.textContent = String(app.mine.length);
  if (!app.mine.length) {
    mineList.replaceChildren(h('li', { class: 'empty' }, 'No conversations assigned to you.'));
    return;
  }
  mineList.replaceChildren(...app.mine.map((c) => reuse(mineCache, c, mineItem)));
  highlight(openId);
  tick();
}

function mineItem(c) {
  const id = convId(c);
  const unread = Number(c.unread) || 0;
  const name = (c.contact && c.contact.name) || c.contact_name || 'Customer';
  const last = c.last_message && c.last_message.text;
  return h('li', { class: 'conv-item', dataset: { conv: id, status: c.status || '' } },
    h('a', { href: `#/c/${encodeURIComponent(id)}`, class: 'conv-link', dataset: { conv: id } },
      h('span', { class: 'conv-name' }, name,
        unread ? h('span', { class: 'unread', 'aria-label': `${unread} unread` }, String(unread)) : null),
      h('span', { class: 'conv-meta' }, [c.channel, c.status !== 'assigned' ? c.status : null].filter(Boolean).join(' · ')),
      last || c.preview ? h('span', { class: 'conv-preview' }, last || c.preview) : null),
    h('div', { class: 'conv-times' }, slaBadge(slaOf(c))));
}

// Rows whose data did not change keep their element, so a refresh never
// takes the keyboard focus away from a button in the list.
const queueCache = new Map();
const mineCache = new Map();
function reuse(cache, item, make) {
  const id = convId(item);
  const sig = JSON.stringify({ ...item, wait_s: 0, offer: offeredToMe(item), exp: offerExpiry(item) });
  const hit = cache.get(id);
  if (hit && hit.sig === sig) return hit.el;
  const el = make(item);
  cache.set(id, { sig, el });
  if (cache.size > 500) cache.delete(cache.keys().next().value);
  return el;
}

// Every second: waits, SLA countdowns (warning colour, red when breached), offer seconds.
function tick() {
  if (!root) return;
  const now = Date.now();
  for (const el of root.querySelectorAll('.wait[data-since]')) {
    const since = Number(el.dataset.since);
    el.textContent = since ? `waiting ${duration((now - since) / 1000)}` : '';
  }
  for (const el of root.querySelectorAll('.sla[data-due]')) {
    const due = Number(el.dataset.due);
    const st = slaState({ due_at: due, warn_at: Number(el.dataset.warn) || null, state: el.dataset.state }, now);
    el.dataset.sla = st;
    el.querySelector('.sla-left').textContent = st === 'met' ? 'met' : st === 'breached'
      ? `overdue ${duration((now - due) / 1000)}` : `in ${duration((due - now) / 1000)}`;
  }
  for (const el of root.querySelectorAll('.offer-left[data-expires]')) {
    const exp = Number(el.dataset.expires);
    if (!exp) continue;
    const left = Math.max(0, Math.ceil((exp - now) / 1000));
    el.textContent = `Offered to you · ${left} s left`;
    if (left === 0) refreshListsSoon();
  }
}

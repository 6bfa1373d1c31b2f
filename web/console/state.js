// state.js - what the views share: the signed-in user and agent profile,
// the queue and my conversations (re-read from the server whenever an event
// may have changed them), offers with their expiry, and a small event bus.

import { agent, listOf } from './api.js';

export const app = {
  user: null, // {id, email, name, roles}
  profile: null, // GET /api/v1/agent/me: {status, capacity, teams, load, …}
  queue: [],
  mine: [],
  offers: new Map(), // conversation id → expires_at (ms), from conversation/offered events
  openConversation: null, // the id on screen, if any
};

const listeners = new Map();

export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name).delete(fn);
}

export function emit(name, data) {
  for (const fn of [...(listeners.get(name) || [])]) {
    try {
      fn(data);
    } catch (e) {
      console.warn(`console: a ${name} listener failed`, e);
    }
  }
}

export function hasRole(user, ...roles) {
  const have = (user && user.roles) || [];
  return roles.some((r) => have.includes(r)) || have.includes('admin');
}

export const isAgent = (u) => hasRole(u, 'agent', 'supervisor');
export const isSupervisor = (u) => hasRole(u, 'supervisor')
  || !!(app.profile && app.profile.user && app.profile.user.supervisor && u === app.user);

// The agent profile, whether GET /api/v1/agent/me nests it or not.
export function profile() {
  const p = app.profile || {};
  return p.profile || p;
}

export function myId() {
  const u = app.user || {};
  return u.id ?? (app.profile && (app.profile.user_id ?? (app.profile.user && app.profile.user.id)));
}

// The conversation's public id, whatever shape an answer gives it in.
export function convId(x) {
  if (!x) return null;
  if (typeof x === 'string' || typeof x === 'number') return String(x);
  const v = x.conversation_id ?? x.id ?? (x.conversation && (x.conversation.id ?? x.conversation));
  return v === undefined || v === null ? null : String(v);
}

// Whether a queue entry is an offer to me.
export function offeredToMe(item) {
  const to = item.offered_to;
  if (to === undefined || to === null || to === '' || to === 0) return app.offers.has(convId(item));
  const id = typeof to === 'object' ? to.id : to;
  return String(id) === String(myId());
}

export function offerExpiry(item) {
  return item.offer_expires_at || (item.offer && item.offer.expires_at) || app.offers.get(convId(item)) || null;
}

export function totalUnread() {
  return app.mine.reduce((n, c) => n + (Number(c.unread) || 0), 0);
}

let queueSeq = 0;
export async function refreshQueue() {
  const mine = ++queueSeq;
  try {
    const r = await agent.queue();
    if (mine !== queueSeq) return;
    app.queue = listOf(r, 'queue', 'conversations', 'items');
    emit('queue', app.queue);
  } catch (e) {
    if (mine === queueSeq) emit('queue-error', e);
  }
}

let mineSeq = 0;
export async function refreshMine() {
  const s = ++mineSeq;
  try {
    const r = await agent.mine();
    if (s !== mineSeq) return;
    app.mine = listOf(r, 'conversations', 'items').filter((c) => c.status !== 'resolved' || convId(c) === app.openConversation);
    emit('mine', app.mine);
  } catch (e) {
    if (s === mineSeq) emit('mine-error', e);
  }
}

export async function refreshProfile() {
  try {
    app.profile = await agent.me();
    emit('profile', app.profile);
  } catch (e) {
    emit('profile-error', e);
  }
}

// Coalesces bursts of events into one re-read of each list.
let pending = null;
export function refreshListsSoon() {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    refreshQueue();
    refreshMine();
  }, 120);
}

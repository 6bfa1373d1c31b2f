// events.js - the console's realtime feed: one EventSource on
// /api/v1/agent/events. The last event id is kept in sessionStorage, so a
// reload resumes where the page left off (?last_event_id=, and EventSource
// sends Last-Event-ID by itself on its own reconnects); events already seen
// are dropped by id; a stream that fails is reopened with backoff.

import { convId, emit } from './state.js';

const KEY = 'switchboard:console:last_event_id';
const TYPES = ['conversation/started', 'conversation/handoff', 'conversation/queued', 'conversation/offered',
  'conversation/assigned', 'conversation/transferred', 'conversation/resolved', 'conversation/reopened',
  'conversation/returned_to_bot', 'conversation/offer_expired', 'conversation/declined', 'conversation/released',
  'message/inbound', 'message/outbound', 'message/delivered', 'message/read', 'message/failed', 'note/added',
  'sla/warning', 'sla/breached', 'csat', 'typing', 'queue/changed', 'queue/position', 'agent/status'];

let source = null;
let retry = 1000;
let timer = null;
const seen = new Set();
const seenOrder = [];

export function lastEventId() {
  const v = sessionStorage.getItem(KEY);
  return v && /^\d+$/.test(v) ? v : null;
}

function remember(id) {
  if (seen.has(id)) return false;
  seen.add(id);
  seenOrder.push(id);
  if (seenOrder.length > 5000) seen.delete(seenOrder.shift());
  const last = Number(lastEventId() || 0);
  if (/^\d+$/.test(id) && Number(id) > last) sessionStorage.setItem(KEY, id);
  return true;
}

// Typing is not stored and has no id: EventSource then reports the previous
// event's id, so only stored events are deduplicated by id.
const EPHEMERAL = new Set(['typing']);

function dispatch(type, e) {
  if (!EPHEMERAL.has(type) && e.lastEventId && !remember(e.lastEventId)) return; // a replay of something handled
  let data = {};
  try {
    data = e.data ? JSON.parse(e.data) : {};
  } catch {
    return;
  }
  const t = data.type || type;
  emit('event', { type: t, id: e.lastEventId || null, conversation: convId(data.conversation_id !== undefined
    ? data.conversation_id : data.conversation || (data.message && data.message.conversation_id)), data });
}

export function connect() {
  disconnect();
  const last = lastEventId();
  const url = '/api/v1/agent/events' + (last ? `?last_event_id=${last}` : '');
  const es = new EventSource(url, { withCredentials: true });
  source = es;
  es.onopen = () => {
    retry = 1000;
    emit('stream', 'open');
  };
  es.onmessage = (e) => dispatch('message', e);
  for (const t of TYPES) es.addEventListener(t, (e) => dispatch(t, e));
  es.onerror = () => {
    if (source !== es) return;
    emit('stream', 'down');
    // EventSource retries by itself while the answer was a stream; when it
    // gave up (an HTTP error) reopen it ourselves, with the stored id.
    if (es.readyState === EventSource.CLOSED) {
      clearTimeout(timer);
      timer = setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    }
  };
}

export function disconnect() {
  clearTimeout(timer);
  if (source) source.close();
  source = null;
}

export function forgetPosition() {
  sessionStorage.removeItem(KEY);
}

// view-customer.js - the customer card beside a conversation: name and
// attributes, every channel identity, every conversation on any channel
// (newest first) with its status and last message, and notes from every agent.

import { agent, listOf } from './api.js';
import { formatTime, h, notice, timeEl } from './dom.js';
import { convId } from './state.js';

let seq = 0;

export function leave() {
  seq++;
}

export async function render(side, contactId, conv) {
  const mine = ++seq;
  const title = h('h2', {}, 'Customer');
  side.replaceChildren(title, h('p', { class: 'muted' }, 'Loading…'));
  if (contactId === undefined || contactId === null) {
    side.replaceChildren(title, card(null, conv));
    return null;
  }
  try {
    const r = await agent.contact(contactId);
    const c = r.contact || r;
    if (mine !== seq) return null;
    side.replaceChildren(title, card(c, conv));
    return c;
  } catch (e) {
    if (mine !== seq) return null;
    side.replaceChildren(title, card(null, conv), notice('error', `The customer card could not be loaded: ${e.message}`));
    return null;
  }
}

function card(c, conv) {
  const name = (c && c.name) || (conv && conv.contact && conv.contact.name) || 'Unknown customer';
  const attrs = (c && c.attributes) || {};
  const identities = listOf(c, 'identities', 'channels');
  const convs = listOf(c, 'conversations');
  const notes = listOf(c, 'notes');
  const here = conv && convId(conv);
  return h('div', { class: 'customer-card' },
    h('p', { class: 'customer-name' }, name),
    Object.keys(attrs).length ? h('dl', { class: 'attrs' }, Object.entries(attrs).flatMap(([k, v]) => [
      h('dt', {}, k), h('dd', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))])) : null,
    h('h3', {}, 'Channels'),
    identities.length ? h('ul', { class: 'identities' }, identities.map((i) => h('li', { dataset: { channel: i.channel || '' } },
      h('span', { class: 'channel' }, i.channel || '?'), ' ', h('span', { class: 'mono' }, i.external_id || i.address || i.id || ''),
      i.verified ? h('span', { class: 'muted' }, ' · verified') : null)))
      : h('p', { class: 'muted' }, conv && conv.channel ? `${conv.channel} (this conversation)` : 'No identity known.'),
    h('h3', {}, 'Conversations'),
    convs.length ? h('ul', { class: 'history' }, convs.map((x) => {
      const id = convId(x);
      const last = x.last_message && (x.last_message.text || '');
      return h('li', { dataset: { conv: id, status: x.status || '' } },
        id === here ? h('strong', {}, 'This conversation') : h('a', { href: `#/c/${encodeURIComponent(id)}` }, `Conversation ${id}`),
        h('span', { class: 'muted' }, ` · ${[x.channel, x.status].filter(Boolean).join(' · ')} · `), timeEl(x.updated_at || x.created_at),
        x.csat ? h('span', { class: 'muted' }, ` · rated ${x.csat}/5`) : null,
        last ? h('p', { class: 'conv-preview' }, last) : null);
    })) : h('p', { class: 'muted' }, 'No other conversations.'),
    h('h3', {}, 'Notes from agents'),
    notes.length ? h('ul', { class: 'card-notes' }, notes.map((n) => h('li', { class: 'msg-note' },
      h('div', { class: 'msg-head' }, h('span', { class: 'note-tag' }, 'Internal note'), ' ',
        h('span', { class: 'who' }, (n.author && (n.author.name || n.author.email)) || n.author_name || 'An agent'),
        h('span', { class: 'muted', title: formatTime(n.created_at) }, ' · '), timeEl(n.created_at)),
      h('p', { class: 'text' }, n.text || '')))) : h('p', { class: 'muted' }, 'No notes yet.'));
}

// view-conversation.js - one conversation (#/c/ID): the transcript with the
// bot's turns (what it searched, the articles it offered with their
// confidence, its decision), system messages and internal notes inline; the
// customer's typing; the reply box (Enter sends, Shift+Enter a new line, "/"
// opens canned responses, a help-center search inserts article links, note
// mode); accept/decline/take, transfer, resolve, return to bot; the customer
// card beside it; a channel's closed reply window (view-window.js) and the
// messages that could not be delivered ("not delivered: reason", Retry).
// Re-read from the server on every event of this conversation, and rendered
// by message id, so a replay never shows twice.

import { agent, listOf } from './api.js';
import { button, clientId, debounce, field, formDialog, h, link, notice, percent, fraction, select, timeEl, toast } from './dom.js';
import { app, convId, isSupervisor, myId, profile, offerExpiry, offeredToMe, on, refreshListsSoon, refreshMine } from './state.js';
import { acceptedByMe, slaState } from './view-queue.js';
import * as customerView from './view-customer.js';
import { windowPanel } from './view-window.js';

const STATUS_TEXT = { bot: 'With the bot', queued: 'Waiting in the queue', assigned: 'Assigned', resolved: 'Resolved' };
const DECISION = { answer: 'answered', clarify: 'asked to clarify', handoff: 'handed off to a person' };

export function acceptedHere(id) {
  return acceptedByMe.has(id);
}

export function render(pane, id) {
  let conv = null;
  let alive = true;
  let loadSeq = 0;
  let readUpTo = 0;
  let noteMode = false;
  let cannedId = null;
  const nodes = new Map(); // "m12" / "n3" / "p<client_id>" → element
  const agentNames = new Map(); // message id → the agent's name, from events
  const undelivered = new Map(); // message id → why it was not delivered (message/failed)
  let windowClosed = false;
  const offs = [];

  const title = h('h1', { tabindex: '-1', class: 'conv-title' }, 'Conversation');
  const meta = h('p', { class: 'conv-sub muted' });
  const actions = h('div', { class: 'conv-actions' });
  const banner = h('div', { class: 'conv-banner' });
  const log = h('ol', { class: 'transcript', 'aria-label': 'Transcript', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const typingEl = h('p', { class: 'typing', hidden: true, 'aria-live': 'polite' }, '');
  const side = h('aside', { class: 'conv-side', 'aria-label': 'Customer' });

  // --- the reply box ---------------------------------------------------------
  const box = h('textarea', { id: 'reply-box', rows: 3, placeholder: 'Write a reply… ( / for canned responses)', 'aria-describedby': 'reply-help' });
  const help = h('p', { class: 'hint', id: 'reply-help' }, 'Enter sends, Shift+Enter starts a new line, / at the start opens canned responses.');
  const modeBtn = button('Internal note', () => setNoteMode(!noteMode), { kind: 'quiet', 'aria-pressed': 'false', class: 'btn btn-quiet mode-toggle' });
  const sendBtn = button('Send', () => send(), { kind: 'primary' });
  const cannedList = h('ul', { class: 'canned', role: 'listbox', id: 'canned-list', 'aria-label': 'Canned responses', hidden: true });
  const composeErr = h('div', { class: 'compose-error' });
  const boxLabel = h('label', { htmlFor: 'reply-box', class: 'compose-label' }, 'Reply to the customer');
  const composer = h('form', { class: 'composer', on: { submit: (e) => { e.preventDefault(); send(); } } },
    boxLabel, h('div', { class: 'compose-wrap' }, box, cannedList), help, composeErr,
    h('div', { class: 'compose-actions' }, modeBtn, sendBtn));

  const kbInput = h('input', { type: 'search', id: 'kb-search', placeholder: 'Search the help center', autocomplete: 'off' });
  const kbResults = h('ul', { class: 'kb-results', 'aria-live': 'polite' });
  const kbForm = h('form', { class: 'kb-search', role: 'search', 'aria-label': 'Help center', on: { submit: (e) => { e.preventDefault(); kbSearch(); } } },
    field('Insert an article link', kbInput), kbResults);

  const win = windowPanel(id, { onSent: () => load() });
  const mainCol = h('div', { class: 'conv-main' },
    h('div', { class: 'conv-head' }, h('div', {}, title, meta), actions), banner, log, typingEl, win.el, composer, kbForm);
  pane.replaceChildren(h('div', { class: 'conv-layout' }, mainCol, side));
  title.focus();

  function setNoteMode(v) {
    noteMode = v;
    modeBtn.setAttribute('aria-pressed', v ? 'true' : 'false');
    composer.classList.toggle('is-note', v);
    boxLabel.textContent = v ? 'Internal note (only agents see it)' : 'Reply to the customer';
    sendBtn.textContent = v ? 'Add note' : 'Send';
    box.placeholder = v ? 'Write an internal note…' : 'Write a reply… ( / for canned responses)';
    lockBox();
    box.focus();
  }

  // Outside a reply window only templates go out: the box serves notes only.
  function lockBox() {
    const locked = windowClosed && !noteMode;
    box.disabled = locked;
    sendBtn.disabled = locked;
    composer.classList.toggle('is-window-closed', locked);
  }

  // --- loading and rendering ---------------------------------------------------
  async function load() {
    const mine = ++loadSeq;
    try {
      const c = await agent.conversation(id);
      if (!alive || mine !== loadSeq) return;
      conv = c;
      paint();
    } catch (e) {
      if (!alive || mine !== loadSeq) return;
      if (!conv) {
        pane.replaceChildren(h('div', { class: 'pane-inner' }, h('h1', { tabindex: '-1' }, 'Conversation'),
          notice('error', e.status === 404 ? 'There is no such conversation.' : e.status === 403
            ? 'This conversation is not yours to see.' : `The conversation could not be loaded: ${e.message}`)));
      } else toast(`The conversation could not be refreshed: ${e.message}`, 'error');
    }
  }
  const reload = debounce(load, 80);

  let cardName = null;
  function contactName() {
    if (!conv) return 'The customer';
    const listed = [...app.queue, ...app.mine].find((x) => convId(x) === id);
    return (conv.contact && conv.contact.name) || conv.contact_name || cardName
      || (listed && listed.contact && listed.contact.name) || 'Customer';
  }

  function assignee() {
    return conv.assignee || conv.agent || null;
  }

  function isMine() {
    const a = assignee();
    return !!a && String(a.id ?? a) === String(myId());
  }

  function paint() {
    title.textContent = contactName();
    document.title = `${contactName()} · Console · Switchboard`;
    const a = assignee();
    const withWho = !a ? null : isMine() ? 'with you' : a.name ? `with ${a.name}` : 'with another agent';
    const bits = [STATUS_TEXT[conv.status] || conv.status, conv.channel, conv.team && `team ${conv.team}`, conv.locale,
      conv.status === 'assigned' ? withWho : null].filter(Boolean);
    meta.replaceChildren(h('span', { class: `status status-${conv.status}`, dataset: { status: conv.status } }, bits.join(' · ')));
    if (conv.page_url) meta.append(' · on ', link(conv.page_url, conv.site ? `${conv.site} page` : 'page'));
    if (conv.csat) meta.append(' · ', h('span', { class: 'csat', dataset: { rating: conv.csat } }, `Rated ${conv.csat} of 5`));
    const sla = Array.isArray(conv.sla) ? conv.sla.find((s) => s.state !== 'met') : conv.sla;
    const st = slaState(sla);
    if (st && st !== 'ok' && st !== 'met') meta.append(' · ', h('span', { class: 'sla', dataset: { sla: st } }, st === 'breached' ? 'SLA breached' : 'SLA warning'));
    paintActions();
    paintTranscript();
    if (focusBoxAfterLoad && conv.status === 'assigned') {
      focusBoxAfterLoad = false;
      box.focus();
    }
    const canReply = conv.status === 'assigned' && (isMine() || isSupervisor(app.user));
    windowClosed = win.update(conv, canReply);
    lockBox();
    banner.replaceChildren(canReply || noteMode ? '' : conv.status === 'resolved'
      ? notice('info', 'This conversation is resolved. If the customer writes again it comes back to the queue. You can still add internal notes.')
      : conv.status === 'queued' ? notice('info', 'Waiting for a person: accept or take it to reply. You can add internal notes.')
        : conv.status === 'bot' ? notice('info', 'The bot has this conversation.') : '');
    // The card lists this conversation's status too: re-read it when that changes.
    if (customerShown !== conv.status) {
      customerShown = conv.status;
      const cid = (conv.contact && conv.contact.id) ?? conv.contact_id ?? id; // the API also takes a conversation id
      customerView.render(side, cid, conv).then((card) => {
        if (alive && card && card.name && !cardName) {
          cardName = card.name;
          paint();
        }
      });
    }
    markRead();
  }
  let customerShown = null;
  let focusBoxAfterLoad = false;

  let actionsSig = null;
  function paintActions() {
    const q = app.queue.find((x) => convId(x) === id) || conv;
    // Rebuilt only when something they depend on changed (keeps the focus on them).
    const sig = JSON.stringify([conv.status, conv.offered_to, conv.assignee, q.offered_to, q.offer_expires_at, app.offers.get(id)]);
    if (sig === actionsSig) return;
    actionsSig = sig;
    actions.replaceChildren();
    if (conv.status === 'queued' && offeredToMe({ ...q, id })) {
      const exp = offerExpiry(q);
      actions.append(h('span', { class: 'offer-left', dataset: { expires: exp || '' } }, 'Offered to you'),
        button('Accept', () => act('accept'), { kind: 'primary' }), button('Decline', () => act('decline')));
    } else if (conv.status === 'queued' && !conv.offered_to) {
      actions.append(button('Take', () => act('claim'), { kind: 'primary' }));
    }
    if (conv.status === 'assigned' || conv.status === 'queued') actions.append(button('Transfer', transfer));
    if (conv.status === 'assigned') {
      actions.append(button('Return to bot', () => act('returnToBot', 'Returned to the bot.')),
        button('Resolve', resolve, { kind: 'primary' }));
    }
  }

  async function act(what, done) {
    try {
      await agent[what](id);
      if (what === 'accept' || what === 'claim') {
        acceptedByMe.add(id);
        focusBoxAfterLoad = true;
      }
      if (what === 'decline') {
        app.offers.delete(id);
        toast('Declined.');
      } else if (done) toast(done);
    } catch (e) {
      toast(e.code === 'conflict' ? `That did not work: ${e.message}` : e.message, 'error');
    }
    refreshListsSoon();
    load();
  }

  // Messages, the bot's turns and notes in time order; at the same instant
  // the customer's message comes first, then what the bot did, then its answer.
  function items() {
    const list = [];
    for (const m of listOf(conv, 'messages'))
      list.push({ key: 'm' + m.id, at: m.created_at || 0, rank: m.direction === 'in' ? 0 : 2, m });
    const turns = Array.isArray(conv.bot) ? conv.bot : [];
    turns.forEach((b, i) => list.push({ key: `b${i}:${b.at || 0}`, at: b.at || 0, rank: 1, b }));
    for (const n of listOf(conv, 'notes')) list.push({ key: 'n' + n.id, at: n.created_at || 0, rank: 3, n });
    list.sort((x, y) => x.at - y.at || x.rank - y.rank || (x.key < y.key ? -1 : 1));
    return list;
  }

  function paintTranscript() {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const want = [];
    const present = new Set();
    for (const it of items()) {
      present.add(it.key);
      let el = nodes.get(it.key);
      if (!el) {
        el = it.m ? messageEl(it.m) : it.b ? botTurnEl(it.b) : noteEl(it.n);
        nodes.set(it.key, el);
      } else if (it.m && it.m.author === 'agent') {
        const w = el.querySelector('.who');
        if (w) w.textContent = who(it.m); // the name may have come with an event since
      }
      if (it.m && it.m.direction === 'out') markDelivery(el, it.m);
      want.push(el);
      if (it.m && it.m.client_id) {
        const p = nodes.get('p' + it.m.client_id);
        if (p) {
          p.remove();
          nodes.delete('p' + it.m.client_id);
        }
      }
    }
    for (const [k, el] of nodes) if (k.startsWith('p')) want.push(el);
    // Reusing the nodes keeps focus and selection; only new ones are added.
    const same = want.length === log.children.length && want.every((el, i) => log.children[i] === el);
    if (!same) log.replaceChildren(...want);
    if (atBottom || !same) log.scrollTop = log.scrollHeight;
  }

  function who(m) {
    if (m.author === 'bot') return 'Bot';
    if (m.author === 'agent') return m.author_name || (m.agent && m.agent.name) || agentNames.get(m.id) || 'Agent';
    if (m.author === 'system') return 'System';
    return contactName();
  }

  function messageEl(m) {
    const author = m.author || (m.direction === 'in' ? 'customer' : 'bot');
    const body = h('div', { class: 'bubble' });
    if (m.text) body.append(h('p', { class: 'text' }, m.text));
    for (const l of m.links || []) body.append(h('p', { class: 'msg-link' }, link(l.url, l.title || l.url)));
    // the customer's files through the agents' route (the customer's needs their token)
    for (const a of m.attachments || []) body.append(h('p', { class: 'msg-link' },
      link(a.id ? `/api/v1/agent/conversations/${encodeURIComponent(id)}/attachments/${encodeURIComponent(a.id)}` : a.url, `📎 ${a.name || 'attachment'}`)));
    if (m.quick_replies && m.quick_replies.length)
      body.append(h('p', { class: 'qr muted' }, 'Buttons: ', m.quick_replies.map((q) => q.title).join(' · ')));
    if (m.bot) body.append(botTurn(m.bot));
    return h('li', { class: ['msg', `msg-${author}`], dataset: { id: m.id, author } },
      h('div', { class: 'msg-head' }, h('span', { class: 'who' }, who(m)), ' ', timeEl(m.created_at)), body);
  }

  // A dead letter: the channel did not take the message. The reason comes
  // with the message (delivery {state: "dead", error}) or the event
  // message/failed, whichever is newer: a retry makes it "pending" again.
  function failureOf(m) {
    const d = m.delivery;
    if (d && d.state !== 'dead') return undelivered.get(m.id) || null;
    if (d) return d.error || undelivered.get(m.id) || 'unknown reason';
    return undelivered.get(m.id) || null;
  }

  function markDelivery(el, m) {
    const reason = failureOf(m);
    let mark = el.querySelector('.undelivered');
    if (!reason) {
      if (mark) mark.remove();
      el.classList.remove('is-failed');
      return;
    }
    el.classList.add('is-failed');
    if (mark && mark.dataset.reason === reason) return;
    if (mark) mark.remove();
    const retryBtn = button('Retry', () => retry(m, retryBtn), { kind: 'quiet', 'aria-label': 'Retry sending this message' });
    mark = h('p', { class: 'undelivered', role: 'status', dataset: { reason } },
      h('span', { class: 'undelivered-text' }, `not delivered: ${reason}`), ' ', retryBtn);
    el.querySelector('.bubble').append(mark);
  }

  async function retry(m, btn) {
    btn.disabled = true;
    try {
      await agent.retry(id, m.id);
      undelivered.delete(m.id);
      m.delivery = { state: 'pending' };
      toast('Sending again.');
      paintTranscript();
    } catch (e) {
      btn.disabled = false;
      toast(`Not retried: ${e.message}`, 'error');
    }
    load();
  }

  function botTurnEl(b) {
    return h('li', { class: 'msg msg-botturn', dataset: { turn: b.at || '' } },
      h('div', { class: 'msg-head' }, h('span', { class: 'who' }, 'Bot'), ' ', h('span', {}, 'looked it up'), ' ', timeEl(b.at)),
      h('div', { class: 'bubble' }, botTurn(b)));
  }

  function botTurn(b) {
    const hits = Array.isArray(b.hits) ? b.hits : [];
    return h('div', { class: 'bot-turn' },
      b.searched ? h('p', {}, 'Searched for ', h('q', {}, b.searched)) : null,
      hits.length ? h('ul', { class: 'hits', 'aria-label': 'Articles the bot considered' }, hits.map((x) => h('li', {},
        h('span', { class: 'hit-title' }, x.url ? link(x.url, x.title || x.slug) : (x.title || x.slug || '')),
        h('meter', { min: 0, max: 1, low: 0.4, high: 0.7, optimum: 1, value: fraction(x.confidence), 'aria-label': 'confidence' }),
        h('span', { class: 'conf' }, percent(x.confidence))))) : null,
      b.decision ? h('p', { class: 'decision', dataset: { decision: b.decision } }, 'Decision: ', DECISION[b.decision] || b.decision) : null);
  }

  function noteEl(n) {
    const name = (n.author && (n.author.name || n.author.email)) || n.author_name || 'An agent';
    return h('li', { class: 'msg msg-note', dataset: { note: n.id } },
      h('div', { class: 'msg-head' }, h('span', { class: 'note-tag' }, 'Internal note'), ' ', h('span', { class: 'who' }, name), ' ', timeEl(n.created_at)),
      h('div', { class: 'bubble' }, h('p', { class: 'text' }, n.text || '')));
  }

  // Tells the server (and so the customer's receipts) what the agent has seen.
  function markRead() {
    if (!isMine() || document.hidden) return;
    const ins = listOf(conv, 'messages').filter((m) => m.direction === 'in');
    const last = ins.length ? ins[ins.length - 1].id : 0;
    if (last && last > readUpTo) {
      readUpTo = last;
      agent.read(id, last).then(() => refreshMine()).catch(() => { readUpTo = 0; });
    }
  }
  const onVisible = () => { if (!document.hidden && conv) markRead(); };
  document.addEventListener('visibilitychange', onVisible);

  // --- sending -------------------------------------------------------------------
  async function send() {
    const text = box.value.trim();
    composeErr.replaceChildren();
    if (!text || (windowClosed && !noteMode)) return;
    closeCanned();
    if (noteMode) {
      sendBtn.disabled = true;
      try {
        await agent.note(id, text);
        box.value = '';
        setNoteMode(false);
        toast('Note added. The customer does not see it.');
      } catch (e) {
        composeErr.append(notice('error', `The note was not added: ${e.message}`));
      } finally {
        sendBtn.disabled = false;
      }
      load();
      return;
    }
    const cid = clientId();
    const body = { text, client_id: cid };
    if (cannedId) body.canned_id = cannedId;
    const pending = h('li', { class: 'msg msg-agent is-pending', dataset: { client: cid } },
      h('div', { class: 'msg-head' }, h('span', { class: 'who' }, (app.user && app.user.name) || 'You'), ' ', h('span', { class: 'muted' }, 'sending…')),
      h('div', { class: 'bubble' }, h('p', { class: 'text' }, text)));
    nodes.set('p' + cid, pending);
    log.append(pending);
    log.scrollTop = log.scrollHeight;
    box.value = '';
    cannedId = null;
    stopTyping();
    try {
      await agent.reply(id, body);
    } catch (e) {
      // one retry with the same client_id (stored once) when the network failed
      let err = e;
      if (e.status === 0 || e.status >= 500) {
        try {
          await agent.reply(id, body);
          err = null;
        } catch (e2) {
          err = e2;
        }
      }
      if (err) {
        pending.remove();
        nodes.delete('p' + cid);
        box.value = text;
        composeErr.append(notice('error', `Not sent: ${err.message}`));
      }
    }
    load();
  }

  // --- typing ----------------------------------------------------------------------
  let typingSent = 0;
  let typingOn = false;
  const typingIdle = debounce(() => stopTyping(), 4000);
  function stopTyping() {
    typingIdle.cancel();
    if (typingOn) {
      typingOn = false;
      agent.typing(id, false).catch(() => {});
    }
  }
  box.addEventListener('input', () => {
    updateCanned();
    if (noteMode || !conv || conv.status !== 'assigned') return;
    if (!box.value.trim() || box.value.startsWith('/')) return stopTyping();
    const now = Date.now();
    if (!typingOn || now - typingSent > 3000) {
      typingOn = true;
      typingSent = now;
      agent.typing(id, true).catch(() => {});
    }
    typingIdle();
  });

  let theirTyping = null;
  function showTheirTyping(on, name) {
    clearTimeout(theirTyping);
    typingEl.hidden = !on;
    typingEl.textContent = on ? `${name || contactName()} is typing…` : '';
    if (on) theirTyping = setTimeout(() => showTheirTyping(false), 6000);
  }

  // --- canned responses: "/" at the start ------------------------------------------
  let canned = [];
  let cannedSel = 0;
  let cannedSeq = 0;
  function closeCanned() {
    cannedList.hidden = true;
    box.removeAttribute('aria-activedescendant');
    box.setAttribute('aria-expanded', 'false');
  }
  async function updateCanned() {
    const v = box.value;
    if (noteMode || !v.startsWith('/') || v.includes('\n')) return closeCanned();
    const q = v.slice(1);
    const mine = ++cannedSeq;
    let r;
    try {
      r = await agent.canned(conv ? conv.locale : undefined, q);
    } catch (e) {
      if (mine === cannedSeq) {
        cannedList.replaceChildren(h('li', { class: 'muted' }, `Canned responses could not be loaded: ${e.message}`));
        cannedList.hidden = false;
      }
      return;
    }
    if (mine !== cannedSeq || !box.value.startsWith('/')) return;
    const ql = q.toLowerCase();
    canned = listOf(r, 'canned', 'responses', 'items').filter((c) => !ql
      || (c.shortcut || '').toLowerCase().includes(ql) || (c.title || '').toLowerCase().includes(ql) || (c.text || '').toLowerCase().includes(ql));
    cannedSel = 0;
    paintCanned();
  }
  function paintCanned() {
    if (!canned.length) {
      cannedList.replaceChildren(h('li', { class: 'muted' }, 'No canned response matches.'));
    } else {
      cannedList.replaceChildren(...canned.map((c, i) => h('li', {
        role: 'option', id: `canned-${i}`, 'aria-selected': i === cannedSel ? 'true' : 'false', class: i === cannedSel ? 'is-sel' : null,
        on: { mousedown: (e) => { e.preventDefault(); pickCanned(i); } },
      }, h('span', { class: 'canned-short' }, '/' + (c.shortcut || '')), ' ', h('span', { class: 'canned-title' }, c.title || ''),
      h('span', { class: 'canned-text muted' }, c.text || ''))));
      box.setAttribute('aria-activedescendant', `canned-${cannedSel}`);
    }
    box.setAttribute('aria-controls', 'canned-list');
    box.setAttribute('aria-expanded', 'true');
    cannedList.hidden = false;
  }
  async function pickCanned(i) {
    const c = canned[i];
    if (!c) return;
    closeCanned();
    try {
      const r = await agent.renderCanned(c.id, id);
      box.value = r.text || '';
      cannedId = c.id;
    } catch (e) {
      composeErr.replaceChildren(notice('error', `The canned response could not be filled in: ${e.message}`));
    }
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  box.addEventListener('keydown', (e) => {
    if (!cannedList.hidden && canned.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        cannedSel = (cannedSel + (e.key === 'ArrowDown' ? 1 : canned.length - 1)) % canned.length;
        paintCanned();
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pickCanned(cannedSel);
        return;
      }
    }
    if (e.key === 'Escape' && !cannedList.hidden) {
      e.preventDefault();
      closeCanned();
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  box.addEventListener('blur', () => setTimeout(closeCanned, 150));

  // --- help-center search ------------------------------------------------------------
  let kbSeq = 0;
  async function kbSearch() {
    const q = kbInput.value.trim();
    const mine = ++kbSeq;
    if (!q) {
      kbResults.replaceChildren();
      return;
    }
    try {
      const r = await agent.kbSearch(q, conv ? conv.locale : undefined);
      if (mine !== kbSeq) return;
      const hits = listOf(r, 'hits', 'results', 'articles');
      kbResults.replaceChildren(...(hits.length ? hits.map((x) => h('li', { class: 'kb-hit' },
        h('div', {}, h('span', { class: 'hit-title' }, x.title || x.url),
          h('meter', { min: 0, max: 1, value: fraction(x.confidence), 'aria-label': 'confidence' }),
          h('span', { class: 'conf' }, percent(x.confidence))),
        x.summary ? h('p', { class: 'muted small' }, x.summary) : null,
        button('Insert link', () => insertLink(x), { kind: 'quiet', 'aria-label': `Insert a link to ${x.title || x.url}` })))
        : [h('li', { class: 'muted' }, 'No article matches.')]));
    } catch (e) {
      if (mine === kbSeq) kbResults.replaceChildren(h('li', {}, notice('error', `The search failed: ${e.message}`)));
    }
  }
  const kbTyped = debounce(kbSearch, 250);
  kbInput.addEventListener('input', kbTyped);

  function insertLink(x) {
    if (x.id) linkedArticles.set(x.id, x.title || x.slug || x.url);
    const url = x.url && /^https?:\/\//i.test(x.url) ? x.url : x.url ? new URL(x.url, location.origin).href : null;
    if (!url || !/^https?:/.test(url)) return toast('That article has no web address.', 'error');
    const text = `${x.title ? x.title + ': ' : ''}${url}`;
    const s = box.selectionStart ?? box.value.length;
    const e = box.selectionEnd ?? box.value.length;
    const before = box.value.slice(0, s);
    const sep = before && !/\s$/.test(before) ? ' ' : '';
    box.value = before + sep + text + box.value.slice(e);
    const pos = (before + sep + text).length;
    box.focus();
    box.setSelectionRange(pos, pos);
  }

  // --- resolve -----------------------------------------------------------------------
  // The agent may say which article solved it: the answer engine learns from
  // it and the customer's questions become suggested example questions.
  // Offered: the articles the bot found and those linked from this console.
  const linkedArticles = new Map();
  async function resolve() {
    const known = new Map(linkedArticles);
    for (const b of Array.isArray(conv.bot) ? conv.bot : [])
      for (const x of listOf(b, 'hits')) if (x.id && !known.has(x.id)) known.set(x.id, x.title || x.slug);
    const options = [['', 'None of them / no article'], ...[...known].map(([aid, title]) => [String(aid), title])];
    const result = await formDialog('Resolve the conversation', (close) => {
      const article = select(options, '', { name: 'article' });
      return h('form', { class: 'dialog-form', on: { submit: (e) => {
        e.preventDefault();
        close({ article: Number(article.value) || 0 });
      } } }, field('Which help article solved it? (optional)', article, { hint: 'The bot learns from it.' }),
      h('p', { class: 'muted small' }, 'The customer is asked for a 1–5 rating.'),
      h('div', { class: 'dialog-actions' }, button('Cancel', () => close(null)), button('Resolve', null, { kind: 'primary', type: 'submit' })));
    });
    if (!result) return;
    try {
      await agent.resolve(id, result.article);
      toast('Resolved. The customer is asked for a rating.');
    } catch (e) {
      toast(`Not resolved: ${e.message}`, 'error');
    }
    refreshListsSoon();
    load();
  }

  // --- transfer ----------------------------------------------------------------------
  async function transfer() {
    let teams = (profile().teams || []).map((t) => (typeof t === 'string' ? t : t.id));
    let agents = [];
    try {
      if (isSupervisor(app.user)) {
        const o = await agent.overview();
        teams = [...new Set([...teams, ...listOf(o, 'queues', 'teams').map((q) => q.team || q.id)])];
        agents = listOf(o, 'agents');
      }
    } catch {
      // not a supervisor: the teams of my profile, an agent by id
    }
    if (!teams.includes('default')) teams.push('default');
    const result = await formDialog('Transfer the conversation', (close) => {
      const kind = select([['team', 'To a team'], ['agent', 'To an agent']], 'team', { name: 'kind' });
      const team = select(teams.map((t) => [t, t]), conv.team || teams[0], { name: 'team' });
      const agentCtl = agents.length
        ? select(agents.filter((a) => String(a.id) !== String(myId())).map((a) => [String(a.id ?? a.user_id), `${a.name} (${a.status}, ${a.load ?? 0}/${a.capacity ?? '?'})`]), undefined, { name: 'agent' })
        : h('input', { type: 'text', name: 'agent', inputmode: 'numeric', placeholder: 'Agent user id' });
      const note = h('textarea', { rows: 2, name: 'note' });
      const teamF = field('Team', team);
      const agentF = field('Agent', agentCtl);
      agentF.hidden = true;
      kind.addEventListener('change', () => {
        teamF.hidden = kind.value !== 'team';
        agentF.hidden = kind.value !== 'agent';
      });
      return h('form', { class: 'dialog-form', on: { submit: (e) => {
        e.preventDefault();
        const body = kind.value === 'team' ? { team: team.value } : { agent_id: Number(agentCtl.value) || agentCtl.value };
        if (note.value.trim()) body.note = note.value.trim();
        close(body);
      } } }, field('Transfer', kind), teamF, agentF, field('Note for the next agent (optional)', note),
      h('div', { class: 'dialog-actions' }, button('Cancel', () => close(null)), button('Transfer', null, { kind: 'primary', type: 'submit' })));
    });
    if (!result) return;
    try {
      await agent.transfer(id, result);
      toast('Transferred.');
    } catch (e) {
      toast(`Not transferred: ${e.message}`, 'error');
    }
    refreshListsSoon();
    load();
  }

  // --- events --------------------------------------------------------------------------
  offs.push(on('event', (ev) => {
    if (ev.conversation !== id) return;
    const d = ev.data || {};
    if (ev.type === 'typing') {
      if (d.author === 'customer') showTheirTyping(!!d.typing, d.name);
      return;
    }
    if (ev.type === 'message/inbound') showTheirTyping(false);
    if (ev.type === 'message/failed') {
      const mid = d.id ?? d.message_id;
      if (mid !== undefined) undelivered.set(Number(mid), d.reason || 'unknown reason');
    }
    // Events name the agent who wrote; a transcript may not.
    if (d.message && d.message.agent && d.message.agent.name) agentNames.set(d.message.id, d.message.agent.name);
    reload();
  }));
  offs.push(on('stream', (s) => { if (s === 'open') reload(); }));
  offs.push(on('queue', () => { if (conv) paintActions(); }));
  const safety = setInterval(() => reload(), 30000); // under the event stream, in case it missed something
  const ticker = setInterval(() => {
    for (const el of actions.querySelectorAll('.offer-left[data-expires]')) {
      const exp = Number(el.dataset.expires);
      if (exp) el.textContent = `Offered to you · ${Math.max(0, Math.ceil((exp - Date.now()) / 1000))} s left`;
    }
  }, 1000);

  load();

  return {
    leave() {
      alive = false;
      clearInterval(ticker);
      clearInterval(safety);
      win.leave();
      stopTyping();
      reload.cancel();
      kbTyped.cancel();
      document.removeEventListener('visibilitychange', onVisible);
      for (const off of offs) off();
      customerView.leave();
    },
  };
}

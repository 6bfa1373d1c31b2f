// console.js - the live-agent console's entry point (docs/agents.md): sign-in
// and the role check, the header (status switch, alerts, the stream's state),
// the realtime feed, and the hash router: #/ (queue and my conversations),
// #/c/ID (a conversation with the customer card), #/supervisor.

import { ApiError, agent, auth, setCsrfToken, setUnauthorizedHandler } from './api.js';
import { field, h, notice, toast } from './dom.js';
import { noRolePage, signInForm as sharedSignInForm, signInPage } from '/static/shared/signin.js';
import { connect, disconnect } from './events.js';
import { alert as alertAgent, alertsState, enableAlerts, setBaseTitle, showUnread } from './notify.js';
import { app, emit, isAgent, isSupervisor, myId, on, refreshListsSoon, refreshMine, refreshProfile, refreshQueue, totalUnread } from './state.js';
import * as queueView from './view-queue.js';
import * as conversationView from './view-conversation.js';
import * as supervisorView from './view-supervisor.js';

const main = document.getElementById('main');
const nav = document.getElementById('app-nav');
const tools = document.getElementById('app-tools');
const statusSel = document.getElementById('my-status');
const streamEl = document.getElementById('stream-state');
const alertsBtn = document.getElementById('enable-alerts');

let current = null; // {leave()} of the pane's view
let layout = null; // {sidebar, pane}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  return raw.split('?')[0];
}

function shell() {
  if (layout && main.contains(layout.sidebar)) return layout;
  const sidebar = h('aside', { class: 'sidebar', 'aria-label': 'Queue and my conversations' });
  const pane = h('section', { class: 'pane', 'aria-live': 'off' });
  main.replaceChildren(h('div', { class: 'workspace' }, sidebar, pane));
  queueView.mount(sidebar);
  layout = { sidebar, pane };
  return layout;
}

async function route() {
  if (!app.user) return;
  const path = parseHash();
  const { pane } = shell();
  if (current && current.leave) current.leave();
  current = null;
  app.openConversation = null;
  let m;
  let section = 'inbox';
  if ((m = /^\/c\/([^/]+)$/.exec(path))) {
    app.openConversation = decodeURIComponent(m[1]);
    section = 'conversation';
    setBaseTitle('Conversation');
    current = conversationView.render(pane, app.openConversation);
  } else if (path === '/supervisor') {
    section = 'supervisor';
    setBaseTitle('Supervisor');
    if (!isSupervisor(app.user)) {
      pane.replaceChildren(h('div', { class: 'pane-inner' }, h('h1', { tabindex: '-1' }, 'Supervisor view'),
        notice('warn', 'The supervisor view needs the supervisor or admin role.')));
    } else current = supervisorView.render(pane);
  } else {
    setBaseTitle('Console');
    pane.replaceChildren(h('div', { class: 'pane-inner pane-empty' },
      h('h1', { tabindex: '-1' }, 'Inbox'),
      h('p', { class: 'muted' }, 'Accept an offer or open one of your conversations on the left. '
        + 'New offers ring a bell when alerts are on.')));
  }
  document.body.dataset.section = section;
  queueView.highlight(app.openConversation);
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.section === section || (section === 'conversation' && a.dataset.section === 'inbox')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  showUnread(totalUnread());
}

// --- signing in -----------------------------------------------------------

// The shared form (web/shared/signin.js) with this page's fields.
function signInForm(onDone) {
  return sharedSignInForm(onDone, { field });
}

function showSignInPage() {
  app.user = null;
  layout = null;
  disconnect();
  nav.hidden = true;
  tools.hidden = true;
  document.title = 'Sign in · Console · Switchboard';
  main.replaceChildren(signInPage('Sign in to the agent console',
    'Use your Switchboard staff account. The console needs the agent role.', signInForm(signedIn)));
}

function showNoRole(user) {
  nav.hidden = true;
  tools.hidden = true;
  document.title = 'No access · Console · Switchboard';
  main.replaceChildren(noRolePage('You can’t use the agent console',
    `You are signed in as ${user.email || user.name || 'this account'}, but this account does not have the agent role. `
      + 'Ask an administrator to make you an agent, or sign in with another account.', signOut));
  main.querySelector('h1').focus();
}

async function signedIn(user) {
  if (!isAgent(user)) {
    app.user = null;
    showNoRole(user);
    return;
  }
  app.user = user;
  const name = document.getElementById('app-user-name');
  name.textContent = user.name || user.email;
  name.title = user.email || '';
  nav.hidden = false;
  tools.hidden = false;
  document.getElementById('nav-supervisor').hidden = !isSupervisor(user);
  await refreshProfile();
  connect();
  refreshQueue();
  refreshMine();
  await route();
}

async function signOut() {
  disconnect();
  try {
    await auth.logout();
  } catch {
    // the session may have ended already
  }
  setCsrfToken(null);
  if (current && current.leave) current.leave();
  current = null;
  showSignInPage();
}

// --- header -----------------------------------------------------------------

on('profile', (p) => {
  const s = p && (p.status || (p.profile && p.profile.status));
  if (s) statusSel.value = s;
  document.getElementById('nav-supervisor').hidden = !isSupervisor(app.user);
});

statusSel.addEventListener('change', async () => {
  const want = statusSel.value;
  statusSel.disabled = true;
  try {
    const r = await agent.setStatus(want);
    const got = r && (r.status || (r.profile && r.profile.status));
    if (got) statusSel.value = got;
    toast(`You are ${statusSel.value}.`);
    refreshListsSoon();
  } catch (e) {
    toast(`Your status could not be changed: ${e.message}`, 'error');
    refreshProfile();
  } finally {
    statusSel.disabled = false;
  }
});

function showAlertsState() {
  const s = alertsState();
  const on = s.sound || s.desktop === 'granted';
  alertsBtn.textContent = on ? 'Alerts on' : 'Enable alerts';
  alertsBtn.setAttribute('aria-pressed', on ? 'true' : 'false');
  alertsBtn.title = `Sound: ${s.sound ? 'on' : 'off'} · Desktop notifications: ${s.desktop}`;
}
alertsBtn.addEventListener('click', async () => {
  await enableAlerts();
  showAlertsState();
});

on('stream', (s) => {
  streamEl.dataset.state = s;
  streamEl.textContent = s === 'open' ? 'Live' : 'Reconnecting…';
  // After a drop the lists may be stale: events missed are replayed, and
  // the lists are re-read anyway.
  if (s === 'open') refreshListsSoon();
});

on('mine', () => showUnread(totalUnread()));

// Every event may change the lists; offers and assignments to me ring.
on('event', (ev) => {
  const d = ev.data || {};
  if (ev.type === 'typing') return;
  if (ev.type === 'conversation/offered') {
    const to = d.agent && d.agent.id;
    if (to !== undefined && String(to) === String(myId())) {
      if (d.expires_at) app.offers.set(ev.conversation, d.expires_at);
      if (ev.id) alertAgent('New conversation offered', d.preview || 'A customer is waiting for you.',
        () => { location.hash = '#/'; });
    }
  } else if (ev.type === 'conversation/assigned') {
    app.offers.delete(ev.conversation);
    const to = d.agent && d.agent.id;
    if (to !== undefined && String(to) === String(myId()) && !conversationView.acceptedHere(ev.conversation))
      alertAgent('Conversation assigned to you', 'Open it from “Mine”.', () => { location.hash = `#/c/${ev.conversation}`; });
  } else if (/^conversation\/(resolved|returned_to_bot|transferred|queued|offer_expired|declined)$/.test(ev.type)) {
    app.offers.delete(ev.conversation);
  }
  refreshListsSoon();
});

// When the session ends, sign in again.
function onSessionEnded() {
  if (!app.user) return;
  toast('Your session has ended. Sign in again.', 'error');
  showSignInPage();
}

// A safety net under the event stream: the lists are re-read every 30 s.
setInterval(() => { if (app.user) refreshListsSoon(); }, 30000);

async function boot() {
  setUnauthorizedHandler(onSessionEnded);
  document.getElementById('sign-out').addEventListener('click', signOut);
  window.addEventListener('hashchange', route);
  showAlertsState();
  try {
    const r = await auth.me();
    if (r.csrf_token) setCsrfToken(r.csrf_token);
    if (r.user) await signedIn(r.user);
    else showNoRole({ email: r.token ? `token ${r.token.name}` : 'an API token', roles: [] });
  } catch (e) {
    if (e.status === 401) showSignInPage();
    else main.replaceChildren(h('h1', {}, 'The console could not start'),
      notice('error', e instanceof ApiError ? e.message : String(e)));
  }
  emit('booted');
}

boot();

// editor.js - the knowledge-base editor's entry point: sign-in, the role
// check, the page shell and the hash router (#/articles, #/article/12,
// #/article/12/history, #/try, #/synonyms, #/gaps, #/helpfulness). Each view lives in
// its own module and renders into <main>.

import { ApiError, auth, setCsrfToken, setUnauthorizedHandler } from './api.js';
import { confirmDialog, field, h, notice, notify } from './dom.js';
import { noRolePage, signInForm as sharedSignInForm, signInPage } from '/static/shared/signin.js';
import { app, loadLocales } from './state.js';
import * as listView from './view-list.js';
import * as articleView from './view-article.js';
import * as historyView from './view-history.js';
import * as tryView from './view-try.js';
import * as synonymsView from './view-synonyms.js';
import * as gapsView from './view-gaps.js';
import * as helpView from './view-helpfulness.js';

const main = document.getElementById('main');
const nav = document.getElementById('app-nav');
const userBox = document.getElementById('app-user');

const routes = [
  { re: /^\/articles$/, view: listView, section: 'articles' },
  { re: /^\/article\/new$/, view: articleView, section: 'articles' },
  { re: /^\/article\/(\d+)$/, view: articleView, section: 'articles' },
  { re: /^\/article\/(\d+)\/history$/, view: historyView, section: 'articles' },
  { re: /^\/try$/, view: tryView, section: 'try' },
  { re: /^\/synonyms$/, view: synonymsView, section: 'synonyms' },
  { re: /^\/gaps$/, view: gapsView, section: 'gaps' },
  { re: /^\/helpfulness$/, view: helpView, section: 'helpfulness' },
];

let current = null; // {hash, controller} of the view on screen
let guardPass = false; // the next hashchange was confirmed already

function isEditor(user) {
  const roles = (user && user.roles) || [];
  return roles.includes('editor') || roles.includes('admin');
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/articles';
  const [path, q] = raw.split('?');
  return { path, query: Object.fromEntries(new URLSearchParams(q || '')) };
}

async function route() {
  if (!app.user) return;
  const { path, query } = parseHash();
  const match = routes.map((r) => ({ r, m: r.re.exec(path) })).find((x) => x.m);
  if (current && current.controller && current.controller.leave) current.controller.leave();
  current = null;
  const root = h('div', { class: 'view' });
  main.replaceChildren(root);
  for (const a of nav.querySelectorAll('a')) {
    if (match && a.dataset.section === match.r.section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!match) {
    document.title = 'Not found · Knowledge base';
    root.append(h('h1', { tabindex: '-1' }, 'Page not found'),
      h('p', {}, 'There is nothing at this address. ', h('a', { href: '#/articles' }, 'Go to the article list.')));
    focusHeading(root);
    return;
  }
  const ctx = {
    root,
    params: match.m.slice(1),
    query,
    setTitle: (t) => { document.title = `${t} · Knowledge base`; },
  };
  const entry = { hash: location.hash, controller: null };
  current = entry;
  try {
    entry.controller = (await match.r.view.render(ctx)) || null;
  } catch (e) {
    if (current !== entry) return;
    root.replaceChildren(h('h1', { tabindex: '-1' }, 'Something went wrong'),
      notice('error', e instanceof ApiError ? e.message : String(e)));
  }
  if (current === entry && !root.contains(document.activeElement)) focusHeading(root);
}

function focusHeading(root) {
  const h1 = root.querySelector('h1');
  if (h1) {
    if (!h1.hasAttribute('tabindex')) h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: false });
  }
}

async function onHashChange() {
  if (guardPass) {
    guardPass = false;
    return route();
  }
  const c = current && current.controller;
  if (c && c.canLeave && !c.canLeave()) {
    const target = location.hash;
    history.replaceState(null, '', current.hash);
    const ok = await confirmDialog({
      title: 'Leave without saving?',
      message: 'You have changes that are not saved. If you leave this page they are lost.',
      confirmLabel: 'Discard changes and leave',
      cancelLabel: 'Stay here',
      danger: true,
    });
    if (!ok) return;
    guardPass = true;
    location.hash = target;
    return;
  }
  return route();
}

window.addEventListener('beforeunload', (e) => {
  const c = current && current.controller;
  if (c && c.canLeave && !c.canLeave()) {
    e.preventDefault();
    e.returnValue = '';
  }
});

// --- signing in -----------------------------------------------------------

// The shared form (web/shared/signin.js) with this page's fields.
function signInForm(onDone, { compact = false } = {}) {
  return sharedSignInForm(onDone, { field: (label, control) => field(label, control).wrap, compact });
}

function showSignInPage() {
  app.user = null;
  nav.hidden = true;
  userBox.hidden = true;
  document.title = 'Sign in · Knowledge base';
  main.replaceChildren(signInPage('Sign in to the knowledge base',
    'Use your Switchboard staff account. Editing needs the editor role.', signInForm(signedIn)));
}

function showNoRole(user) {
  nav.hidden = true;
  showUser(user);
  document.title = 'No access · Knowledge base';
  main.replaceChildren(noRolePage('You can’t edit the knowledge base',
    `You are signed in as ${user.email}, but this account does not have the editor role. `
      + 'Ask an administrator to give you the editor role, or sign in with another account.', signOut));
  main.querySelector('h1').focus();
}

function showUser(user) {
  userBox.hidden = false;
  const el = document.getElementById('app-user-name');
  el.textContent = user.name || user.email;
  el.title = user.email;
}

async function signedIn(user) {
  if (!isEditor(user)) {
    app.user = null;
    showNoRole(user);
    return;
  }
  app.user = user;
  showUser(user);
  nav.hidden = false;
  await loadLocales();
  await route();
}

async function signOut() {
  try {
    await auth.logout();
  } catch {
    // the session may have ended already; the page signs out either way
  }
  setCsrfToken(null);
  current = null;
  showSignInPage();
}

// When the session ends mid-edit, sign in again in a dialog so the page,
// and any unsaved text in it, stays as it is.
let reauthOpen = false;
function onSessionEnded() {
  if (!app.user) return showSignInPage();
  if (reauthOpen) return;
  reauthOpen = true;
  const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'reauth-title' },
    h('h2', { id: 'reauth-title' }, 'Your session has ended'),
    h('p', {}, 'Sign in again to go on. Your unsaved changes are still on this page; save them after signing in.'));
  const form = signInForm(async (user) => {
    if (!isEditor(user)) {
      dlg.close();
      showNoRole(user);
      return;
    }
    app.user = user;
    showUser(user);
    dlg.close();
    notify('Signed in again. You can save now.');
  }, { compact: true });
  dlg.append(form);
  dlg.addEventListener('cancel', (e) => e.preventDefault());
  dlg.addEventListener('close', () => {
    reauthOpen = false;
    dlg.remove();
  });
  document.body.append(dlg);
  dlg.showModal();
  form.querySelector('input').focus();
}

async function boot() {
  setUnauthorizedHandler(onSessionEnded);
  document.getElementById('sign-out').addEventListener('click', signOut);
  window.addEventListener('hashchange', onHashChange);
  try {
    const r = await auth.me();
    if (r.csrf_token) setCsrfToken(r.csrf_token);
    if (r.user) await signedIn(r.user);
    else showNoRole({ email: r.token ? `token ${r.token.name}` : 'an API token', roles: [] });
  } catch (e) {
    if (e.status === 401) showSignInPage();
    else main.replaceChildren(h('h1', {}, 'The editor could not start'), notice('error', e.message));
  }
}

boot();

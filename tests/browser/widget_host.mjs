// widget_host.mjs - what the widget tests share: host pages carrying the
// widget (served through the context's routes with the server's own strict CSP, so
// attributes and hostile CSS can vary), the demo site, and reading the
// widget's shadow root, storage and transcript.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const OUT = path.join(HERE, 'out');

// The server's CSP for HTML pages (core/http/http.c): no inline script or style.
const CSP = "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'";

// Where the widget is served: /widget.js (docs/widget.md), or the static
// folder while the server does not have that route.
export async function widgetSrc(server) {
  try {
    const r = await fetch(`${server.url}/widget.js`);
    if (r.ok && /javascript/.test(r.headers.get('content-type') || '')) return '/widget.js';
  } catch {
    // fall through
  }
  return '/static/widget/widget.js';
}

// Creates (or replaces) the site "demo" for the server's URL with the admin
// API; false when the server has no sites yet.
export async function demoSite(server, extra = {}) {
  const api = await server.api(ADMIN);
  const site = {
    id: 'demo', name: 'Demo', origins: [server.url], title: 'Pinecone help', color: '#1f6f4a', position: 'right', locale: 'en',
    greeting: { en: 'Hi! Ask me anything about your order.', 'pt-BR': 'Olá! Pergunte sobre o seu pedido.', ro: 'Bună! Întrebați-mă despre comandă.' },
    proactive: [{ url: '*/demo/checkout*', after_s: 1, message: { en: 'Need help with checkout?', 'pt-BR': 'Precisa de ajuda com o pagamento?' }, article: 'payment-methods' }],
    ...extra,
  };
  const r = await api.request('PUT', '/api/v1/admin/sites/demo', site);
  return r.status === 200 || r.status === 201;
}

// Opens a host page at PATH on the server's origin: a shop-like page with
// the widget tag (ATTRS are its data-* attributes) and optional host CSS.
// ORIGIN (default the server's) is where the host page lives; another one
// makes the widget talk to the server cross-origin (CORS).
export async function openHost(page, server, { attrs = {}, css = '', path: p = '/test/host', src, origin = server.url } = {}) {
  let script = src || page.widgetSrc || (page.widgetSrc = await widgetSrc(server));
  if (origin !== server.url && script.startsWith('/')) script = server.url + script;
  const data = Object.entries({ site: 'demo', ...attrs }).map(([k, v]) => ` data-${k}="${String(v).replace(/"/g, '&quot;')}"`).join('');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Host page</title>
${css ? '<link rel="stylesheet" href="/test/host.css">' : ''}</head>
<body><header><h1>A shop</h1><nav><a href="/help">Help</a> <button type="button">Host button</button></nav></header>
<p>Some product text.</p><script src="${script}"${data} async></script></body></html>`;
  const ctx = page.context();
  await ctx.unroute(`${origin}/test/**`);
  await ctx.route(`${origin}/test/**`, (route) => {
    const u = new URL(route.request().url());
    if (u.pathname === '/test/host.css') return route.fulfill({ status: 200, contentType: 'text/css', body: css });
    // A strict site elsewhere lets in the widget's server for scripts, API calls and images.
    const csp = origin === server.url ? CSP : CSP.replace(/(default-src|script-src) 'self'/g, `$1 'self' ${server.url}`);
    return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', headers: { 'Content-Security-Policy': csp }, body: html });
  });
  await page.goto(origin + p);
  await widget(page).launcher.waitFor();
}

export function widget(page) {
  return {
    launcher: page.locator('.sb .launcher'),
    panel: page.locator('.sb .panel'),
    input: page.locator('.sb textarea'),
    log: page.locator('.sb .log'),
    mine: page.locator('.sb .log .msg.me'),
    theirs: page.locator('.sb .log .msg.them:not(.greeting)'),
    system: page.locator('.sb .log .msg.system'),
    cards: page.locator('.sb .log .msg.them .card'),
    qr: page.locator('.sb .qr button'),
    lang: page.locator('.sb select.lang'),
    status: page.locator('.sb .status'),
  };
}

export async function openPanel(page) {
  const w = widget(page);
  if ((await w.launcher.getAttribute('aria-expanded')) !== 'true') await w.launcher.click();
  await w.input.waitFor();
  return w;
}

export async function ask(page, text) {
  const w = await openPanel(page);
  await w.input.fill(text);
  await w.input.press('Enter');
}

// Waits for a bot link card whose title is TITLE (the latest one).
export async function cardTitled(page, title) {
  const card = page.locator('.sb .log .msg.them .card', { has: page.locator('.ct', { hasText: title }) }).last();
  await card.waitFor();
  return card;
}

// Resolves once no finite CSS animation or transition runs on the page or in
// the widget's shadow root (the panel slides in, buttons may transition on
// hover or focus): computed styles read before that depend on how fast the
// machine is. Endless ones (the typing dots) never finish and are skipped; a
// finished animation may start a transition, hence the loop.
export async function animationsSettled(page) {
  await page.evaluate(async () => {
    const root = document.getElementById('switchboard-widget')?.shadowRoot;
    for (;;) {
      const running = [...document.getAnimations(), ...(root ? root.getAnimations() : [])]
        .filter((a) => a.playState === 'running' || a.playState === 'pending')
        .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity);
      if (!running.length) return;
      await Promise.all(running.map((a) => a.finished.catch(() => null)));
      await new Promise((r) => requestAnimationFrame(() => r()));
    }
  });
}

// Resolves once N more POSTs to PATH_RE (default: a conversation's messages) have failed in
// the network (server down, offline, refused by CORS): what a test waits for instead of
// sleeping "long enough for a try or two". Call it before the action that makes them.
export function failedPosts(page, n = 1, pathRe = /\/api\/v1\/conversations\/[^/]+\/messages$/) {
  return new Promise((resolve) => {
    let seen = 0;
    const on = (r) => {
      if (r.method() !== 'POST' || !pathRe.test(new URL(r.url()).pathname) || ++seen < n) return;
      page.off('requestfailed', on);
      resolve();
    };
    page.on('requestfailed', on);
  });
}

export async function stored(page, site = 'demo') {
  return page.evaluate((k) => JSON.parse(localStorage.getItem(k) || 'null'), `switchboard:${site}`);
}

// The ids of the messages the widget shows, in order.
export async function shownIds(page) {
  return page.evaluate(() => [...document.getElementById('switchboard-widget').shadowRoot.querySelectorAll('.log [data-id]')]
    .map((e) => Number(e.dataset.id)));
}

export async function transcript(server, conv) {
  const r = await fetch(`${server.url}/api/v1/conversations/${conv.id}/messages`, { headers: { Authorization: `Bearer ${conv.token}` } });
  if (!r.ok) throw new Error(`GET transcript -> ${r.status} ${await r.text()}`);
  return r.json();
}

export function outDir() {
  fs.mkdirSync(OUT, { recursive: true });
  return OUT;
}

// Another web site embedding the widget: a real HTTP server on loopback
// (Chromium keeps pages it cannot place off loopback addresses), reached as
// http://localhost:PORT, a different origin from the server's 127.0.0.1.
export async function shopSite(server) {
  const csp = CSP.replace(/(default-src|script-src) 'self'/g, `$1 'self' ${server.url}`);
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another shop</title></head>
<body><h1>Another shop</h1><script src="${server.url}/widget.js" data-site="demo" async></script></body></html>`;
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': csp });
    res.end(html);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://localhost:${srv.address().port}`,
    close: () => new Promise((r) => {
      srv.closeAllConnections();
      srv.close(r);
    }),
  };
}

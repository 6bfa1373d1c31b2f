// The widget with what the server keeps per site (docs/widget.md): the demo
// shop page, the site's title, colour and greeting, proactive rules,
// attachments, and identity verification across devices.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { ADMIN, EDITOR, setup } from './harness.mjs';
import { ask, shopSite, cardTitled, demoSite, openHost, openPanel, shownIds, stored, transcript, widget, failedPosts } from './widget_host.mjs';

const env = setup(test, { before, after }, { users: [EDITOR, ADMIN] });
const SECRET = 'demo-secret-0123456789-abcdefghijklmnop';

let site = null;
const wtest = (name, fn, opts = {}) => env.test(name, async (page, e) => {
  if (!site) site = demoSite(e.server, { secret: SECRET });
  assert.ok(await site, 'PUT /api/v1/admin/sites/demo');
  return fn(page, e);
}, { as: null, ...opts });

wtest('the demo shop at / carries the widget with the site\'s title, colour and greeting; /demo/checkout too', async (page, { server }) => {
  const r = await fetch(`${server.url}/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(r.headers.get('content-security-policy') || '', /script-src 'self'/);
  await page.goto('/');
  await page.getByRole('heading', { name: 'Gear for the trail' }).waitFor();
  assert.equal(await page.locator('link[rel="stylesheet"]').evaluate((l) => !!l.sheet && l.sheet.cssRules.length > 0), true, 'demo.css loads');
  const w = widget(page);
  await w.launcher.waitFor();
  await page.locator('.sb .title', { hasText: 'Pinecone help' }).waitFor({ state: 'attached' });
  assert.equal(await w.launcher.evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(31, 111, 74)');
  const w2 = await openPanel(page);
  assert.equal(await page.locator('.sb .greeting .text').textContent(), 'Hi! Ask me anything about your order.');
  await ask(page, 'where is my order');
  await cardTitled(page, 'How do I track my order?');
  assert.equal(await w2.mine.count(), 1);
  const conv = (await stored(page)).conversation;
  const tr = await transcript(server, conv);
  assert.equal(tr.messages.length, 2);

  await page.getByRole('link', { name: 'Checkout' }).first().click();
  await page.getByRole('heading', { name: 'Checkout', level: 1 }).waitFor();
  await openPanel(page);
  await cardTitled(page, 'How do I track my order?'); // the same conversation on the next page
});

wtest('a proactive rule on the checkout page shows its message and article after after_s, once per session until dismissed', async (page, { server }) => {
  await openHost(page, server, { path: '/test/demo/checkout?step=2' });
  const pro = page.locator('.sb .pro');
  await pro.waitFor({ timeout: 4000 });
  assert.equal(await pro.locator('.text').textContent(), 'Need help with checkout?');
  const card = pro.locator('a.card');
  const href = await card.getAttribute('href');
  assert.match(href, /\/help\/en\/payment-methods$/);
  assert.equal((await fetch(href)).status, 200);
  assert.equal(await card.getAttribute('target'), '_blank');
  await pro.locator('button.x').click();
  await pro.waitFor({ state: 'hidden' });
  await page.reload();
  await widget(page).launcher.waitFor();
  await page.waitForTimeout(1800);
  assert.equal(await pro.isHidden(), true, 'dismissed: not again in this session');

  // Another session, another page: no rule matches the host page.
  const ctx = await env.browser.newContext({ baseURL: server.url });
  try {
    const p2 = await ctx.newPage();
    await openHost(p2, server, { path: '/test/host' });
    await p2.waitForTimeout(1800);
    assert.equal(await p2.locator('.sb .pro').isHidden(), true, 'no rule for this URL');
    await p2.goto('/test/demo/checkout');
    await p2.locator('.sb .pro').waitFor({ timeout: 4000 });
    await p2.locator('.sb .pro .text').focus(); // a button: the keyboard opens the chat from it
    await p2.keyboard.press('Enter');
    await p2.locator('.sb .panel').waitFor();
    assert.equal(await p2.locator('.sb .pro').isHidden(), true);
  } finally {
    await ctx.close();
  }
});

// The smallest PNG (1x1) and a one-page PDF.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

wtest('attachments: an image shows as a thumbnail, a PDF as a link card; both are stored with the message', async (page, { server }) => {
  await openHost(page, server);
  const w = await openPanel(page);
  await page.locator('.sb input[type="file"]').setInputFiles({ name: 'photo of box.png', mimeType: 'image/png', buffer: PNG });
  const img = page.locator('.sb .msg.me .thumb img');
  await img.waitFor();
  await page.waitForFunction(() => {
    const i = document.getElementById('switchboard-widget').shadowRoot.querySelector('.msg.me .thumb img');
    return i && i.complete && i.naturalWidth === 1;
  });
  assert.equal(await img.getAttribute('alt'), 'photo of box.png');
  await page.locator('.sb .msg.me[data-receipt="sent"], .sb .msg.me[data-receipt="delivered"]').first().waitFor();

  await w.input.fill('here is the invoice');
  await page.locator('.sb input[type="file"]').setInputFiles({ name: 'invoice.pdf', mimeType: 'application/pdf', buffer: PDF });
  const pdf = page.locator('.sb .msg.me .card.file', { hasText: 'invoice.pdf' });
  await pdf.waitFor();
  await w.mine.filter({ hasText: 'here is the invoice' }).waitFor();
  const r = await fetch(await pdf.getAttribute('href'));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/pdf');

  // Not an image or PDF: refused before anything is sent.
  await page.locator('.sb input[type="file"]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') });
  await page.locator('.sb .notice', { hasText: 'Only images and PDF files can be sent.' }).waitFor();

  const conv = (await stored(page)).conversation;
  const tr = await transcript(server, conv);
  const inbound = tr.messages.filter((m) => m.direction === 'in');
  assert.deepEqual(inbound.map((m) => [m.text, m.attachments.map((a) => [a.name, a.type])]),
    [['', [['photo of box.png', 'image/png']]], ['here is the invoice', [['invoice.pdf', 'application/pdf']]]]);
  // After a reload the transcript shows them the same way.
  await page.reload();
  await openPanel(page);
  await page.locator('.sb .msg.me .thumb img').waitFor();
  await page.locator('.sb .msg.me .card.file', { hasText: 'invoice.pdf' }).waitFor();
});

wtest('identity: data-user-id and data-user-hash bring the same conversation to another device; a wrong hash chats anonymously', async (page, { server }) => {
  const user = 'customer-42';
  const hash = crypto.createHmac('sha256', SECRET).update(user).digest('hex');
  await openHost(page, server, { attrs: { 'user-id': user, 'user-hash': hash } });
  await ask(page, 'where is my order');
  await cardTitled(page, 'How do I track my order?');
  const first = (await stored(page)).conversation;
  const ids = await shownIds(page);

  const ctx = await env.browser.newContext({ baseURL: server.url });
  try {
    const p2 = await ctx.newPage();
    await openHost(p2, server, { attrs: { 'user-id': user, 'user-hash': hash } });
    await openPanel(p2);
    await cardTitled(p2, 'How do I track my order?');
    assert.deepEqual(await shownIds(p2), ids, 'the other device shows the conversation');
    const second = (await stored(p2)).conversation;
    assert.equal(second.id, first.id);
    assert.notEqual(second.token, first.token, 'with a token of its own');
    await ask(p2, 'how do I return an item');
    await cardTitled(p2, 'How do I return an item?');
    await cardTitled(page, 'How do I return an item?'); // and the first device sees it

    const ctx3 = await env.browser.newContext({ baseURL: server.url });
    const p3 = await ctx3.newPage();
    await openHost(p3, server, { attrs: { 'user-id': user, 'user-hash': 'ab'.repeat(32) } });
    await ask(p3, 'where is my order');
    await cardTitled(p3, 'How do I track my order?');
    const third = (await stored(p3)).conversation;
    assert.notEqual(third.id, first.id, 'a wrong hash never reaches the verified conversation');
    await ctx3.close();
  } finally {
    await ctx.close();
  }
});

wtest('embedded on another site (cross-origin): CORS for the API and the event stream; an origin the site does not list is refused', async (page, { server }) => {
  const shop = await shopSite(server);
  const other = await shopSite(server);
  try {
    assert.ok(await demoSite(server, { secret: SECRET, origins: [server.url, shop.url] }));
    await page.goto(shop.url + '/product/42');
    await page.locator('.sb .title', { hasText: 'Pinecone help' }).waitFor({ state: 'attached' });
    await ask(page, 'where is my order');
    const card = await cardTitled(page, 'How do I track my order?');
    assert.ok((await card.getAttribute('href')).startsWith(server.url + '/help/en/'));
    const box = await stored(page);
    assert.equal(box.outbox.length, 0);
    // Said from another device while the panel is closed: only the
    // (cross-origin) event stream brings it, and the launcher counts it.
    await page.keyboard.press('Escape');
    await widget(page).panel.waitFor({ state: 'hidden' });
    const conv = box.conversation;
    const r = await fetch(`${server.url}/api/v1/conversations/${conv.id}/messages`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${conv.token}` },
      body: JSON.stringify({ text: 'how do I return an item', client_id: 'phone-1' }),
    });
    assert.equal(r.status, 200);
    const badge = page.locator('.sb .launcher .badge');
    await badge.filter({ hasText: /^1$/ }).waitFor();
    assert.equal(await widget(page).launcher.getAttribute('aria-label'), 'Open chat (1 new)');
    await openPanel(page);
    await cardTitled(page, 'How do I return an item?');
    assert.equal(await badge.isHidden(), true);
    const tr = await transcript(server, conv);
    assert.deepEqual(await shownIds(page), tr.messages.map((m) => m.id));

    // A site the demo site does not list: the browser gets no CORS answer and nothing is stored.
    const p2 = await page.context().newPage();
    p2.on('console', () => {});
    await p2.goto(other.url + '/');
    await widget(p2).launcher.waitFor();
    const refused = failedPosts(p2, 1, /\/api\/v1\/conversations$/);
    await ask(p2, 'where is my order');
    await refused; // the browser tried, and CORS kept the answer from it
    assert.equal(await p2.locator('.sb .msg.them:not(.greeting)').count(), 0);
    assert.equal((await stored(p2)).conversation, null, 'no conversation');
    assert.equal(await p2.locator('.sb .msg.me[data-receipt="sending"]').count(), 1, 'kept in the outbox');
  } finally {
    await demoSite(server, { secret: SECRET });
    await shop.close();
    await other.close();
  }
});

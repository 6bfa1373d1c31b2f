// The chat widget (web/widget/widget.js) on a host page, against the real
// server: answers with help-center links, the handoff after two "no"s, one
// conversation across reloads and tabs, the outbox through a lost network,
// text that stays text, languages, host CSS that cannot reach it, keyboard
// use and a 320 px screen.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ADMIN, AGENT, EDITOR, askAsCustomer, setup } from './harness.mjs';
import { animationsSettled, ask, cardTitled, demoSite, failedPosts, openHost, openPanel, outDir, shownIds, stored, transcript, widget } from './widget_host.mjs';

const env = setup(test, { before, after }, { users: [EDITOR, AGENT, ADMIN] });
// The site "demo" for this server's URL, once (the hooks' order is not ours).
let site = null;
const wtest = (name, fn, opts = {}) => env.test(name, async (page, e) => {
  if (!site) site = demoSite(e.server);
  await site;
  return fn(page, e);
}, { as: null, ...opts });

wtest('a question from the demo KB is answered with a card linking to the help article; screenshot of the open widget', async (page, { server }) => {
  await openHost(page, server);
  const w = widget(page);
  assert.equal(await w.panel.isHidden(), true, 'starts closed');
  // The bot's answer is held back a moment: the typing indicator shows meanwhile.
  await page.route('**/api/v1/conversations/*/messages', async (route) => {
    if (route.request().method() === 'POST') await new Promise((r) => setTimeout(r, 600));
    return route.continue();
  });
  const read = page.waitForRequest((r) => r.method() === 'POST' && /\/read$/.test(r.url()));
  await ask(page, 'where is my order');
  await w.mine.filter({ hasText: 'where is my order' }).waitFor();
  await page.locator('.sb .typing').waitFor();
  assert.equal(await page.locator('.sb .typing').textContent(), 'Typing…');
  const card = await cardTitled(page, 'How do I track my order?');
  await page.locator('.sb .typing').waitFor({ state: 'hidden' });
  const ids = await shownIds(page);
  assert.deepEqual((await read).postDataJSON(), { up_to: ids[1] }, 'the open panel reports what the customer has seen');
  const href = await card.getAttribute('href');
  assert.match(href, /^http:\/\/127\.0\.0\.1:\d+\/help\/en\/track-order$/);
  assert.equal(await card.getAttribute('target'), '_blank');
  assert.equal(await card.getAttribute('rel'), 'noopener');
  const r = await fetch(href);
  assert.equal(r.status, 200, `GET ${href}`);
  assert.match(await r.text(), /How do I track my order\?/);
  // The article's summary is the bot's text; the "did this help?" quick replies follow.
  await w.theirs.last().locator('.text', { hasText: 'tracking number' }).waitFor();
  assert.deepEqual(await w.qr.allTextContents(), ['Yes, that helped', 'No', 'Talk to a person']);
  // Receipts: the customer's message was stored and the bot processed it.
  await page.locator('.sb .msg.me[data-receipt="delivered"], .sb .msg.me[data-receipt="read"]').first().waitFor();
  assert.equal(await page.locator('.sb .msg.me time').count(), 1, 'a timestamp');

  // No globals: window has nothing a fresh window lacks; one host element on the page.
  const globals = await page.evaluate(() => {
    const f = document.createElement('iframe');
    document.body.append(f);
    const fresh = new Set(Object.getOwnPropertyNames(f.contentWindow));
    f.remove();
    return Object.getOwnPropertyNames(window).filter((k) => !fresh.has(k));
  });
  assert.deepEqual(globals, []);
  assert.equal(await page.evaluate(() => document.body.lastElementChild.outerHTML), '<div id="switchboard-widget"></div>');
  assert.equal(await page.evaluate(() => document.getElementById('switchboard-widget').shadowRoot.mode), 'open');

  const file = path.join(outDir(), 'widget.png');
  await page.screenshot({ path: file });
  console.log(`# screenshot of the open widget: ${file}`);
});

wtest('"No" twice (the /not_helped quick reply) hands the conversation to a person', async (page, { server }) => {
  await openHost(page, server);
  const w = widget(page);
  await ask(page, 'where is my order');
  await cardTitled(page, 'How do I track my order?');
  await w.qr.filter({ hasText: /^No$/ }).click();
  await w.theirs.last().locator('.text', { hasText: "Sorry that didn't help" }).waitFor();
  assert.equal(await w.system.count(), 0, 'no handoff after the first no');
  await ask(page, 'how do I return an item');
  await cardTitled(page, 'How do I return an item?');
  await w.qr.filter({ hasText: /^No$/ }).click();
  await w.system.filter({ hasText: "I'm passing your conversation to a person on our team" }).waitFor();
  // GET /api/v1/conversations/{id}: the place in the queue.
  await w.status.filter({ hasText: /^You are number \d+ in the queue/ }).waitFor();
  assert.equal(await w.qr.count(), 0, 'no quick replies while waiting for a person');
  // Now a person will read along: the customer's typing is reported (not while the bot answers).
  const typing = page.waitForRequest((r) => r.method() === 'POST' && /\/typing$/.test(r.url()));
  await w.input.pressSequentially('hel');
  assert.deepEqual((await typing).postDataJSON(), { typing: true });
  const conv = (await stored(page)).conversation;
  const tr = await transcript(server, conv);
  assert.equal(tr.status, 'queued');
  assert.deepEqual(tr.messages.filter((m) => m.direction === 'in').map((m) => m.text), ['where is my order', 'No', 'how do I return an item', 'No']);
});

wtest('a vague question gets "did you mean" choices; tapping one answers with that article', async (page, { server }) => {
  await openHost(page, server);
  const w = widget(page);
  await ask(page, 'order');
  await w.theirs.last().locator('.text', { hasText: 'Did you mean one of these?' }).waitFor();
  const choices = await w.qr.evaluateAll((bs) => bs.map((b) => [b.textContent, b.dataset.payload]));
  assert.ok(choices.length >= 3, JSON.stringify(choices));
  assert.deepEqual(choices.at(-1), ['Talk to a person', '/human']);
  for (const [, payload] of choices.slice(0, -1)) assert.match(payload, /^\/article:\d+$/);
  const [title] = choices[0];
  await w.qr.first().click();
  await cardTitled(page, title);
  const conv = (await stored(page)).conversation;
  const tr = await transcript(server, conv);
  assert.deepEqual(tr.messages.filter((m) => m.direction === 'in').map((m) => m.text), ['order', title]);
});

wtest('a message the server refuses (400 text_too_long) is marked failed with the reason in the customer\'s words and leaves the outbox', async (page, { server }) => {
  await openHost(page, server);
  await ask(page, 'ã'.repeat(5000)); // 10,000 bytes: over max_text
  const failed = page.locator('.sb .msg.me[data-receipt="failed"]');
  await failed.waitFor();
  // en.json's widget.error.text_too_long, not the server's English message for developers
  assert.equal(await failed.locator('.receipt').textContent(), 'Not sent: the message is too long');
  assert.equal((await stored(page)).outbox.length, 0);
  await ask(page, 'where is my order'); // the next one goes through
  await cardTitled(page, 'How do I track my order?');
  const tr = await transcript(server, (await stored(page)).conversation);
  assert.deepEqual(tr.messages.filter((m) => m.direction === 'in').map((m) => m.text), ['where is my order']);
});

wtest('a reload and a second tab show the same conversation; a message from either tab reaches both', async (page, { server }) => {
  await openHost(page, server);
  const w = widget(page);
  // A tab that was already open when the conversation started follows it (the storage event).
  const early = await page.context().newPage();
  await early.goto('/test/host');
  await openPanel(early);
  await ask(page, 'where is my order');
  await cardTitled(page, 'How do I track my order?');
  const ids = await shownIds(page);
  assert.equal(ids.length, 2);
  await cardTitled(early, 'How do I track my order?');
  assert.deepEqual(await shownIds(early), ids);
  await early.close();

  await page.reload();
  await openPanel(page);
  await cardTitled(page, 'How do I track my order?');
  assert.deepEqual(await shownIds(page), ids, 'the same messages after a reload');
  assert.equal(await page.locator('.sb .msg.me[data-receipt="sending"]').count(), 0);

  const tab2 = await page.context().newPage();
  await tab2.goto('/test/host');
  await openPanel(tab2);
  await cardTitled(tab2, 'How do I track my order?');
  assert.deepEqual(await shownIds(tab2), ids, 'the second tab shows the same conversation');
  await ask(tab2, 'how do I return an item');
  await cardTitled(tab2, 'How do I return an item?');
  await cardTitled(page, 'How do I return an item?');
  await w.mine.filter({ hasText: 'how do I return an item' }).waitFor();
  const all = await shownIds(page);
  assert.equal(all.length, 4);
  assert.deepEqual(await shownIds(tab2), all);
  assert.equal(await w.mine.filter({ hasText: 'how do I return an item' }).count(), 1, 'shown once in the first tab');
  const conv = (await stored(page)).conversation;
  assert.deepEqual((await transcript(server, conv)).messages.map((m) => m.id), all);
  await tab2.close();
});

wtest('offline: a message typed without a network is kept and delivered exactly once when it comes back; a lost answer is retried without a duplicate', async (page, { server }) => {
  await openHost(page, server);
  const w = widget(page);
  await ask(page, 'where is my order');
  await cardTitled(page, 'How do I track my order?');
  const conv = (await stored(page)).conversation;

  await page.context().setOffline(true);
  const twoTriesFail = failedPosts(page, 2);
  await ask(page, 'when will I get my refund');
  const mine = w.mine.filter({ hasText: 'when will I get my refund' });
  await mine.waitFor();
  assert.equal(await mine.getAttribute('data-receipt'), 'sending');
  await page.locator('.sb .notice', { hasText: 'You are offline' }).waitFor();
  const box = await stored(page);
  assert.equal(box.outbox.length, 1, 'waiting in the outbox');
  assert.equal(box.outbox[0].text, 'when will I get my refund');
  assert.match(box.outbox[0].client_id, /^[0-9a-f-]{36}$/);
  await twoTriesFail; // the first try and a retry
  assert.equal((await stored(page)).outbox.length, 1, 'still waiting after failed tries');
  await page.context().setOffline(false);
  await cardTitled(page, 'When will I get my refund?');
  await page.waitForFunction(() => {
    const el = document.getElementById('switchboard-widget').shadowRoot.querySelector('.msg.me[data-receipt="sending"]');
    return !el;
  });
  assert.equal((await stored(page)).outbox.length, 0);

  // The server stores it, but the answer never reaches the browser: the
  // retry carries the same client_id and nothing is stored twice.
  let lost = 0;
  await page.route('**/api/v1/conversations/*/messages', async (route) => {
    if (route.request().method() === 'POST' && lost === 0) {
      lost++;
      await route.fetch();
      return route.abort('failed');
    }
    return route.continue();
  });
  await ask(page, 'how do I return an item');
  await cardTitled(page, 'How do I return an item?'); // the event stream brings the answer
  assert.equal(lost, 1);
  // The retry (after a second) gets the first answer again, marked duplicate, and empties the outbox.
  await page.waitForFunction(() => JSON.parse(localStorage.getItem('switchboard:demo')).outbox.length === 0);

  const tr = await transcript(server, conv);
  const texts = tr.messages.filter((m) => m.direction === 'in').map((m) => m.text);
  assert.deepEqual(texts, ['where is my order', 'when will I get my refund', 'how do I return an item'], 'each exactly once');
  assert.equal(await w.mine.count(), 3);
  assert.deepEqual(await shownIds(page), tr.messages.map((m) => m.id));

  // Typed offline and the tab closed: the next visit sends it.
  const ctx = page.context();
  await ctx.setOffline(true);
  await ask(page, 'can I pay with PayPal');
  await w.mine.filter({ hasText: 'can I pay with PayPal' }).waitFor();
  assert.equal((await stored(page)).outbox.length, 1);
  await page.unroute('**/api/v1/conversations/*/messages');
  const next = await ctx.newPage();
  await page.close();
  await ctx.setOffline(false);
  await next.goto('/test/host');
  await openPanel(next);
  await cardTitled(next, 'Which payment methods do you accept?');
  assert.equal((await stored(next)).outbox.length, 0);
  const tr2 = await transcript(server, conv);
  assert.equal(tr2.messages.filter((m) => m.text === 'can I pay with PayPal').length, 1);
  assert.deepEqual(await shownIds(next), tr2.messages.map((m) => m.id));
});

wtest('a message <img src=x onerror=alert(1)> is shown as text: no element, no dialog', async (page, { server }) => {
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  const evil = '<img src=x onerror=alert(1)>';
  await openHost(page, server);
  const w = widget(page);
  await ask(page, evil);
  const mine = w.mine.filter({ hasText: evil });
  await mine.waitFor();
  await page.locator('.sb .msg.me[data-receipt="delivered"], .sb .msg.me[data-receipt="sent"]').first().waitFor();
  // the answer, whichever it is (out of scope: the hand-off notice)
  await page.locator('.sb .log .msg.them:not(.greeting), .sb .log .msg.system').last().waitFor();
  await page.reload(); // and from the transcript
  await openPanel(page);
  await w.mine.filter({ hasText: evil }).waitFor();
  assert.equal(await w.mine.locator('.text').first().textContent(), evil);
  const imgs = await page.evaluate(() => document.getElementById('switchboard-widget').shadowRoot.querySelectorAll('img').length);
  assert.equal(imgs, 0, 'no img element in the shadow root');
  assert.equal(await page.locator('img').count(), 0, 'nor anywhere on the page');
  await page.waitForTimeout(300);
  assert.deepEqual(dialogs, []);
});

wtest('the language menu changes the UI strings and the answers (pt-BR, ro; pt-PT answers from pt-BR)', async (page, { server }) => {
  await openHost(page, server);
  const w = await openPanel(page);
  assert.equal(await w.input.getAttribute('placeholder'), 'Type your message…');
  assert.deepEqual(await w.lang.locator('option').evaluateAll((os) => os.map((o) => o.value)), ['en', 'pt-BR', 'pt-PT', 'ro']);

  await w.lang.selectOption('pt-BR');
  assert.equal(await w.input.getAttribute('placeholder'), 'Digite sua mensagem…');
  assert.equal(await page.locator('.sb .send').getAttribute('aria-label'), 'Enviar');
  assert.equal(await w.launcher.getAttribute('aria-label'), 'Abrir o chat');
  await ask(page, 'cadê meu pedido');
  const pt = await cardTitled(page, 'Como rastrear meu pedido?');
  assert.match(await pt.getAttribute('href'), /\/help\/pt-BR\/track-order$/);
  assert.deepEqual(await w.qr.allTextContents(), ['Sim, ajudou', 'Não', 'Falar com uma pessoa']);
  assert.equal((await stored(page)).locale, 'pt-BR', 'the choice is kept');

  await w.lang.selectOption('ro');
  assert.equal(await w.input.getAttribute('placeholder'), 'Scrieți mesajul…');
  await ask(page, 'unde este comanda mea');
  await cardTitled(page, 'Cum îmi urmăresc comanda?');

  await w.lang.selectOption('pt-PT');
  assert.equal(await w.input.getAttribute('placeholder'), 'Escreva a sua mensagem…');
  const post = page.waitForRequest((r) => r.method() === 'POST' && /\/messages$/.test(r.url()));
  await ask(page, 'como devolver um produto');
  assert.equal((await post).postDataJSON().locale, 'pt-BR', 'pt-PT answers come from pt-BR articles');
  await cardTitled(page, 'Como devolver ou trocar um produto?');
  const conv = (await stored(page)).conversation;
  const locales = (await stored(page)).outbox.length === 0 && (await transcript(server, conv)).messages.filter((m) => m.direction === 'in').length;
  assert.equal(locales, 3);

  // After a reload the chosen language stays.
  await page.reload();
  await openPanel(page);
  assert.equal(await w.input.getAttribute('placeholder'), 'Escreva a sua mensagem…');
});

wtest('data-locale="ro" and the browser language pick the UI language; data-open="true" starts open', async (page, { server }) => {
  await openHost(page, server, { attrs: { locale: 'ro', open: 'true' } });
  const w = widget(page);
  await w.panel.waitFor();
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'true');
  assert.equal(await w.input.getAttribute('placeholder'), 'Scrieți mesajul…');
  assert.equal(await w.lang.inputValue(), 'ro');
  await page.context().close().catch(() => {});

  const ctx = await env.browser.newContext({ baseURL: server.url, locale: 'pt-PT' });
  try {
    const p2 = await ctx.newPage();
    await openHost(p2, server);
    const w2 = await openPanel(p2);
    assert.equal(await w2.input.getAttribute('placeholder'), 'Escreva a sua mensagem…');
    assert.equal(await w2.lang.inputValue(), 'pt-PT');
  } finally {
    await ctx.close();
  }
});

wtest('the server\'s rule picks the UI language: pt-PT words where pt-PT has them, pt-BR\'s otherwise; pt-AO reads pt-BR; names from the catalogues', async (page, { server }) => {
  // a page asking for pt_pt (the widget maps no locale itself: the table comes from base/words.c)
  await openHost(page, server, { attrs: { locale: 'pt_pt' } });
  let w = await openPanel(page);
  assert.equal(await w.lang.inputValue(), 'pt-PT');
  assert.equal(await w.input.getAttribute('placeholder'), 'Escreva a sua mensagem…', 'pt-PT.json has it');
  assert.equal(await page.locator('.sb .send').getAttribute('aria-label'), 'Enviar', 'pt-PT.json has none: pt-BR\'s');
  assert.deepEqual(await w.lang.locator('option').evaluateAll((os) => os.map((o) => o.textContent)),
    ['English', 'Português (Brasil)', 'Português (Portugal)', 'Română']);
  await page.context().close().catch(() => {});

  for (const [browser, want, placeholder] of [['pt-AO', 'pt-BR', 'Digite sua mensagem…'], ['ro-MD', 'ro', 'Scrieți mesajul…'],
    ['de-CH', 'en', 'Type your message…']]) {
    const ctx = await env.browser.newContext({ baseURL: server.url, locale: browser });
    try {
      const p2 = await ctx.newPage();
      await openHost(p2, server);
      const w2 = await openPanel(p2);
      assert.equal(await w2.lang.inputValue(), want, browser);
      assert.equal(await w2.input.getAttribute('placeholder'), placeholder, browser);
    } finally {
      await ctx.close();
    }
  }
});

wtest('messages go in the locale the server names for the UI language (answer_locales)', async (page, { server }) => {
  // As if the knowledge base had pt-PT articles: the widget follows the server, not a rule of its own.
  await page.route(`${server.url}/api/v1/widget/sites/demo`, async (route) => {
    const r = await route.fetch();
    const body = await r.json();
    assert.equal(body.answer_locales['pt-PT'], 'pt-BR', 'the demo knowledge base has no pt-PT articles');
    body.answer_locales['pt-PT'] = 'pt-PT';
    await route.fulfill({ response: r, json: body });
  });
  await openHost(page, server, { attrs: { locale: 'pt-PT' } });
  const post = page.waitForRequest((r) => r.method() === 'POST' && /\/messages$/.test(r.url()));
  await ask(page, 'como devolver um produto');
  assert.equal((await post).postDataJSON().locale, 'pt-PT');
});

const HOSTILE = `* { color: red !important; font-size: 40px !important; font-family: serif !important; line-height: 3 !important;
  background: yellow !important; border: 5px solid lime !important; padding: 30px !important; margin: 20px !important; }
button { display: none !important; } textarea, select { display: none !important; visibility: hidden !important; }
div { transform: rotate(3deg) !important; opacity: .5 !important; } section { display: none !important; }
html { font-size: 50px !important; }`;

wtest('host page CSS (* { color: red !important … } button { display: none !important }) does not change the widget', async (page, { server }) => {
  const probe = () => page.evaluate(() => {
    const root = document.getElementById('switchboard-widget').shadowRoot;
    const props = ['color', 'font-size', 'font-family', 'line-height', 'display', 'visibility', 'background-color', 'border-top-width',
      'padding-top', 'margin-top', 'width', 'height', 'opacity', 'transform'];
    const out = {};
    for (const sel of ['.sb', '.launcher', '.panel', '.head', '.title', '.lang', '.close', '.log', '.msg.me .bubble', '.msg.me .text',
      '.msg.them:not(.greeting) .card', '.qr button', 'textarea', '.send']) {
      const el = root.querySelector(sel);
      if (!el) {
        out[sel] = null;
        continue;
      }
      const cs = getComputedStyle(el);
      out[sel] = Object.fromEntries(props.map((p) => [p, cs.getPropertyValue(p)]));
    }
    const hostEl = document.getElementById('switchboard-widget');
    const hcs = getComputedStyle(hostEl);
    out.host = ['display', 'opacity', 'transform', 'visibility', 'filter', 'position', 'contain'].map((p) => hcs.getPropertyValue(p)).join(' | ');
    const host = hostEl.getBoundingClientRect();
    out.launcherBox = JSON.stringify(root.querySelector('.launcher').getBoundingClientRect());
    out.hostHeight = host.height;
    return out;
  });
  const run = async (css) => {
    await openHost(page, server, { css });
    await ask(page, 'where is my order');
    await cardTitled(page, 'How do I track my order?');
    await page.locator('.sb .qr button').first().waitFor();
    // Styles mid-animation differ from run to run: compare where they come to rest.
    await animationsSettled(page);
    return probe();
  };
  const plain = await run('');
  for (const [sel, v] of Object.entries(plain)) assert.notEqual(v, null, `${sel} exists`);
  await page.evaluate(() => localStorage.clear());
  const hostile = await run(HOSTILE);
  // The host CSS does apply to the host page itself.
  assert.equal(await page.locator('header button').evaluate((b) => getComputedStyle(b).display), 'none');
  assert.deepEqual(hostile, plain);
  assert.equal(plain['.launcher'].display, 'flex');
  assert.equal(plain['.msg.me .text']['font-size'], '15px');
});

wtest('keyboard only: Tab to the launcher, Enter opens with the focus in the input, Enter sends, Esc closes and returns the focus', async (page, { server }) => {
  await openHost(page, server);
  const w = widget(page);
  const active = () => page.evaluate(() => {
    const host = document.getElementById('switchboard-widget');
    if (document.activeElement !== host) return document.activeElement && document.activeElement.tagName;
    const a = host.shadowRoot.activeElement;
    return a ? `widget:${a.tagName.toLowerCase()}.${a.className}` : 'widget:?';
  });
  let found = false;
  for (let i = 0; i < 10 && !found; i++) {
    await page.keyboard.press('Tab');
    found = (await active()) === 'widget:button.launcher';
  }
  assert.ok(found, 'the launcher is reachable with Tab');
  await page.keyboard.press('Enter');
  await w.panel.waitFor();
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'true');
  assert.equal(await active(), 'widget:textarea.');
  assert.equal(await page.locator('.sb [role="log"][aria-live="polite"]').count(), 1);
  await page.keyboard.type('where is my order');
  await page.keyboard.press('Enter');
  await cardTitled(page, 'How do I track my order?');
  assert.equal(await w.input.inputValue(), '');
  // Tab reaches the quick replies; Enter taps one.
  await w.qr.first().focus();
  await page.keyboard.press('Enter');
  await w.theirs.last().locator('.text', { hasText: 'Glad that helped' }).waitFor();
  // The panel slides in, unless the visitor prefers reduced motion.
  const anim = () => w.panel.evaluate((el) => getComputedStyle(el).animationName);
  assert.equal(await anim(), 'sb-in');
  await page.emulateMedia({ reducedMotion: 'reduce' });
  assert.equal(await anim(), 'none');
  await w.input.focus();
  await page.keyboard.press('Escape');
  await w.panel.waitFor({ state: 'hidden' });
  assert.equal(await active(), 'widget:button.launcher');
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'false');
});

wtest('at 320 px the open panel takes the whole width and still works', async (page, { server }) => {
  await page.setViewportSize({ width: 320, height: 640 });
  await openHost(page, server);
  const w = await openPanel(page);
  const box = await w.panel.boundingBox();
  assert.equal(Math.round(box.x), 0);
  assert.equal(Math.round(box.width), 320);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320), 'no horizontal scrolling');
  await ask(page, 'where is my order');
  const card = await cardTitled(page, 'How do I track my order?');
  const cb = await card.boundingBox();
  assert.ok(cb.x >= 0 && cb.x + cb.width <= 320, 'the card fits');
  const send = await page.locator('.sb .send').boundingBox();
  assert.ok(send.x + send.width <= 320, 'the send button is on screen');
  const top = await page.evaluate(([x, y]) => {
    const el = document.getElementById('switchboard-widget').shadowRoot.elementFromPoint(x, y);
    return el && el.closest('button') && el.closest('button').className;
  }, [send.x + send.width / 2, send.y + send.height / 2]);
  assert.equal(top, 'icon send', 'nothing covers the send button (the launcher hides while the panel fills the screen)');
  await page.keyboard.press('Escape');
  await w.panel.waitFor({ state: 'hidden' });
  await w.launcher.waitFor();
});

// What agents do arrives as events (the console is not part of these tests):
// the stream is played from a script here, the transcript is the server's.
wtest('agent events: the queue position and wait, the agent\'s name, typing and read receipts, then a rating when resolved', async (page, { server }) => {
  const { conv, answers } = await askAsCustomer(server.url, 'en', ['where is my order']);
  const mine = answers[0].message_id;
  await page.addInitScript(([k, v]) => localStorage.getItem(k) || localStorage.setItem(k, v),
    ['switchboard:demo', JSON.stringify({ v: 1, conversation: { id: conv.id, token: conv.token }, locale: null, outbox: [], last_event_id: 2 })]);
  // GET /api/v1/conversations/{id} agrees with the stream's story.
  let state = 'queued';
  await page.route(`**/api/v1/conversations/${conv.id}`, (route) => route.fulfill({
    status: 200, contentType: 'application/json',
    body: JSON.stringify(state === 'queued'
      ? { id: conv.id, status: 'queued', locale: 'en', agent: null, queue: { position: 3, expected_wait_s: 240 }, read_up_to: { customer: 0, agent: 0 } }
      : { id: conv.id, status: state, locale: 'en', agent: { name: 'Bo Agent' }, queue: null, read_up_to: { customer: 0, agent: 0 } }),
  }));
  const ev = (id, type, data) => `${id ? `id: ${id}\n` : ''}event: ${type}\ndata: ${JSON.stringify({ ...data, type })}\n\n`;
  let script = 'retry: 600000\n\n' + ev(3, 'conversation/handoff', { reason: 'customer_request', status: 'queued' });
  let streams = 0;
  await page.route(`**/api/v1/conversations/${conv.id}/events?*`, (route) => {
    streams++;
    return route.fulfill({ status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' }, body: script });
  });
  await openHost(page, server);
  const w = await openPanel(page);
  await cardTitled(page, 'How do I track my order?');
  await w.status.filter({ hasText: 'You are number 3 in the queue · Expected wait: about 4 min' }).waitFor();
  assert.equal(streams, 1);

  // Reconnect with the next part of the script (a dropped stream resumes).
  state = 'assigned';
  script = 'retry: 600000\n\n'
    + ev(4, 'conversation/assigned', { agent: { name: 'Bo Agent' } })
    + ev(0, 'typing', { author: 'agent', name: 'Bo Agent', typing: true })
    + ev(5, 'message/delivered', { up_to: mine })
    + ev(6, 'message/read', { up_to: mine, by: 'agent' });
  await page.reload();
  await openPanel(page);
  await page.locator('.sb .sub', { hasText: 'You are chatting with Bo Agent' }).waitFor();
  await page.locator('.sb .typing', { hasText: 'Bo Agent is typing…' }).waitFor();
  assert.equal(await w.status.isHidden(), true, 'no queue once assigned');
  await page.locator(`.sb .msg.me[data-id="${mine}"][data-receipt="read"] .receipt`, { hasText: 'Read' }).waitFor();
  // Typing events carry no id; the last id is kept (written once for the batch).
  await page.waitForFunction(() => JSON.parse(localStorage.getItem('switchboard:demo')).last_event_id === 6);

  script = 'retry: 600000\n\n'
    + ev(7, 'message/outbound', { message: { id: 900, direction: 'out', author: 'agent', text: '<b>Hi</b>, I am Bo. Let me check.',
      links: [{ title: 'Evil', url: 'javascript:alert(1)' }, { title: 'Good', url: 'https://example.com/a', summary: 'A summary' }],
      quick_replies: [], created_at: Date.now() } })
    + ev(8, 'conversation/resolved', {});
  state = 'resolved';
  await page.reload();
  await openPanel(page);
  const agentMsg = page.locator('.sb .msg.them[data-id="900"]');
  await agentMsg.waitFor();
  assert.equal(await agentMsg.locator('.who').textContent(), 'Bo Agent');
  assert.equal(await agentMsg.locator('.text').textContent(), '<b>Hi</b>, I am Bo. Let me check.');
  assert.equal(await agentMsg.locator('b').count(), 0);
  // Only http(s) links become links.
  assert.deepEqual(await agentMsg.locator('.card').evaluateAll((cs) => cs.map((c) => [c.tagName, c.textContent, c.getAttribute('href'), c.getAttribute('rel')])),
    [['SPAN', 'Evil', null, null], ['A', 'GoodA summary', 'https://example.com/a', 'noopener']]);
  await page.locator('.sb .typing').waitFor({ state: 'hidden' });
  await page.locator('.sb .qr p', { hasText: 'How would you rate this conversation?' }).waitFor();
  assert.equal(await w.qr.count(), 5);
  const post = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith(`/conversations/${conv.id}/messages`));
  await page.locator('.sb .qr button[aria-label="4 of 5"]').click();
  const body = (await post).postDataJSON();
  assert.equal(body.payload, '/rate:4');
  assert.equal(body.text, '4');
  await w.qr.first().waitFor({ state: 'detached' });
});

// The live-agent console (web/console/, docs/agents.md) against the real
// server: a customer in the widget asks for a person, an agent in another
// browser accepts, replies, writes an internal note the customer never
// sees, resolves, and the customer rates; a reload of the console loses
// and repeats nothing; canned responses, help-center links, hostile text,
// the supervisor view, and no CSP violations (the harness fails a page that
// reports one).

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ADMIN, AGENT, EDITOR, newPage, setup } from './harness.mjs';
import { agentProfile, consoleUi, customerSays, customerWantsPerson, missingEndpoints, openConsole, resolveQuietly, takeAsAgent } from './console_host.mjs';
import { ask, cardTitled, demoSite, openHost, outDir, stored, transcript, widget } from './widget_host.mjs';

const env = setup(test, { before, after }, { users: [EDITOR, AGENT, ADMIN] });

// Once per file: which endpoints are missing, the demo site, the agent's id.
let prepared = null;
function prepare(server) {
  if (!prepared) prepared = (async () => {
    const missing = await missingEndpoints(server);
    await demoSite(server);
    const agentId = missing.has('adminAgents') ? null : await agentProfile(server, 'online');
    return { missing, agentId };
  })();
  return prepared;
}

// The endpoints (console_host.mjs ENDPOINTS) every conversation test uses.
const AGENT_API = ['me', 'status', 'queue', 'mine', 'events', 'accept', 'claim', 'reply', 'note', 'resolve', 'read', 'contact', 'adminAgents'];

// Like env.test, but skipped, naming what is missing, while the server lacks an endpoint in NEEDS.
function ctest(name, fn, { as = AGENT, timeout = 60000, needs = AGENT_API, skip = false } = {}) {
  test(name, { timeout, skip }, async (t) => {
    const st = await prepare(env.server);
    const lacking = needs.filter((n) => st.missing.has(n)).map((n) => st.missing.get(n));
    if (lacking.length) {
      t.skip(`waiting for ${lacking.join(', ')}`);
      return;
    }
    const page = await newPage(env.browser, env.server, { signedInAs: as });
    const extra = [];
    try {
      await fn(page, { ...env, agentId: st.agentId, extra });
      for (const p of [page, ...extra]) if (p.problems.length) throw new Error(`a page reported problems:\n${p.problems.join('\n')}`);
    } catch (e) {
      env.server.failed = true;
      e.message += `\n--- page ${page.url()}${page.problems.length ? '\n' + page.problems.join('\n') : ''}`
        + `\n--- server log (tail) ---\n${env.server.logTail(3000)}`;
      throw e;
    } finally {
      for (const p of extra) await p.context().close().catch(() => {});
      await page.context().close();
    }
  });
}

ctest('sign-in: a non-agent is told the console needs the agent role; an agent gets the console', async (page) => {
  await page.goto('/console/');
  await page.getByRole('heading', { name: 'Sign in to the agent console' }).waitFor();
  await page.getByLabel('E-mail').fill(EDITOR.email);
  await page.getByLabel('Password').fill(EDITOR.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'You can’t use the agent console' }).waitFor();
  assert.match(await page.locator('main').textContent(), /does not have the agent role/);
  await page.getByRole('button', { name: 'Sign out' }).first().click();
  await page.getByRole('heading', { name: 'Sign in to the agent console' }).waitFor();
  await page.getByLabel('E-mail').fill(AGENT.email);
  await page.getByLabel('Password').fill(AGENT.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#app-tools').waitFor();
  assert.equal(await page.locator('#app-user-name').textContent(), AGENT.name);
  await page.getByRole('heading', { name: /^Queue/ }).waitFor();
  await page.getByRole('heading', { name: /^Mine/ }).waitFor();
}, { as: null, needs: [] });

ctest('the issue end to end: widget asks for a person, the agent accepts, replies, notes, resolves; the customer rates', async (page, { server, browser, agentId, extra }) => {
  await agentProfile(server, 'offline');
  // The customer, in another browser context, on a page with the widget.
  const customer = await newPage(browser, server);
  extra.push(customer);
  await openHost(customer, server);
  const w = widget(customer);
  await ask(customer, 'where is my order from last week');
  await cardTitled(customer, 'How do I track my order?');
  await w.qr.filter({ hasText: 'Talk to a person' }).click();
  await w.system.first().waitFor();
  const conv = (await stored(customer)).conversation;
  assert.ok(conv && conv.id);

  // The agent: console, status online → the conversation is offered.
  const ui = consoleUi(page);
  await page.context().grantPermissions(['notifications'], { origin: server.url });
  await openConsole(page);
  // Alerts are switched on by a click (audio and notifications need a gesture).
  await page.evaluate(() => {
    window.consoleAlerts = [];
    document.addEventListener('console-alert', (e) => window.consoleAlerts.push(e.detail.title));
  });
  await page.locator('#enable-alerts').click(); // "Enable alerts", or "Alerts on" when notifications are allowed already
  await page.getByRole('button', { name: 'Alerts on' }).waitFor();
  await ui.status.selectOption('online');
  const item = ui.queue.locator(`li[data-conv="${conv.id}"]`);
  await item.getByRole('button', { name: /^Accept/ }).waitFor();
  assert.match(await item.locator('.offer-left').textContent(), /Offered to you( · \d+ s left)?/);
  await item.locator('.wait').filter({ hasText: /^waiting \d+:\d\d$/ }).waitFor();
  await page.waitForFunction(() => window.consoleAlerts.includes('New conversation offered'));

  // Its transcript before accepting, with the bot's turn.
  await item.locator('a.conv-link').click();
  await ui.transcript.locator('.msg-customer', { hasText: 'where is my order from last week' }).waitFor();
  const botTurn = ui.transcript.locator('.bot-turn').first();
  await botTurn.waitFor();
  assert.match(await botTurn.textContent(), /Searched for/);
  await botTurn.locator('.hits li', { hasText: 'How do I track my order?' }).first().waitFor();
  assert.match(await botTurn.locator('.conf').first().textContent(), /^\d+%$/);
  await ui.transcript.locator('.msg-system').first().waitFor();

  await page.locator('.conv-actions').getByRole('button', { name: 'Accept' }).click();
  await page.locator('.conv-actions').getByRole('button', { name: 'Resolve' }).waitFor();
  await ui.mine.locator(`li[data-conv="${conv.id}"]`).waitFor();

  // A reply reaches the widget with the agent's name.
  await ui.box.fill('Hi, this is Bo. Let me check your order.');
  await ui.box.press('Enter');
  const reply = w.theirs.filter({ hasText: 'Let me check your order.' });
  await reply.waitFor();
  assert.equal(await reply.locator('.who').textContent(), AGENT.name);
  await ui.transcript.locator('.msg-agent:not(.is-pending)', { hasText: 'Let me check your order.' }).waitFor();

  // An internal note: inline and marked in the console, never to the customer.
  await page.getByRole('button', { name: 'Internal note' }).click();
  await ui.box.fill('Private: customer asked twice already');
  await ui.box.press('Enter');
  const note = ui.notes.filter({ hasText: 'Private: customer asked twice already' });
  await note.waitFor();
  assert.match(await note.locator('.note-tag').textContent(), /Internal note/);
  await ui.box.fill('Found it: it ships tomorrow.');
  await ui.box.press('Enter');
  await w.theirs.filter({ hasText: 'it ships tomorrow' }).waitFor();
  assert.doesNotMatch(await w.log.textContent(), /Private: customer asked twice/);
  const tr = await transcript(server, conv);
  assert.ok(!JSON.stringify(tr).includes('Private: customer asked twice'), 'the note is not in the customer transcript');

  // Customer typing shows in the console.
  await w.input.pressSequentially('ok th');
  await page.locator('.typing').filter({ hasText: /is typing/ }).waitFor();
  await w.input.fill('');

  const file = path.join(outDir(), 'console.png');
  await page.screenshot({ path: file, fullPage: true });
  console.log(`# screenshot of the console's conversation view: ${file}`);

  // Resolve, naming the article that solved it (the bot's hit) → the widget asks for a rating;
  // the customer taps 4.
  await page.locator('.conv-actions').getByRole('button', { name: 'Resolve' }).click();
  const dlg = page.getByRole('dialog', { name: 'Resolve the conversation' });
  await dlg.getByLabel('Which help article solved it? (optional)').selectOption({ label: 'How do I track my order?' });
  await dlg.getByRole('button', { name: 'Resolve' }).click();
  await page.locator('.conv-sub [data-status="resolved"]').waitFor();
  // The editors see the customer's question as a suggested example question of that article.
  const editor = await server.api();
  const track = (await editor.ok('GET', '/api/v1/kb/articles?q=track&locale=en')).articles.find((a) => a.title === 'How do I track my order?');
  const sugg = await editor.ok('GET', `/api/v1/kb/articles/${track.id}/suggestions`);
  const mineSugg = sugg.suggestions.find((x) => x.question === 'where is my order from last week');
  assert.ok(mineSugg && mineSugg.resolved === 1, `suggested by the agent's resolution: ${JSON.stringify(sugg)}`);
  await w.qr.nth(4).waitFor();
  assert.equal(await w.qr.count(), 5);
  await w.qr.nth(3).click();
  const api = await server.api(AGENT);
  let csat = null;
  for (let i = 0; i < 40 && !csat; i++) {
    csat = (await api.ok('GET', `/api/v1/agent/conversations/${conv.id}`)).csat;
    if (!csat) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(csat, 4, 'the rating is stored on the conversation');
  await page.locator('.csat').filter({ hasText: 'Rated 4 of 5' }).waitFor();
  assert.equal(agentId !== null, true);
}, { timeout: 90000 });

ctest('a reload keeps the conversation and resumes the stream; a customer message sent meanwhile shows once', async (page, { server, agentId }) => {
  await agentProfile(server, 'online');
  const conv = await customerWantsPerson(server, 'how do I return an item');
  const api = await takeAsAgent(server, conv, agentId);
  try {
    const ui = consoleUi(page);
    await openConsole(page, `#/c/${conv.id}`);
    await ui.transcript.locator('.msg-customer', { hasText: 'how do I return an item' }).waitFor();
    // A new console starts its stream at "now": one live event (the agent's
    // reply) gives it a place to resume from.
    await page.locator('#stream-state[data-state="open"]').waitFor();
    await ui.box.fill('Let me look at your return.');
    await ui.box.press('Enter');
    await page.waitForFunction(() => /^\d+$/.test(sessionStorage.getItem('switchboard:console:last_event_id') || ''));
    const before = Number(await page.evaluate(() => sessionStorage.getItem('switchboard:console:last_event_id')));
    const resumed = page.waitForRequest((r) => /\/api\/v1\/agent\/events\?last_event_id=\d+$/.test(r.url()));
    const reloading = page.reload({ waitUntil: 'commit' });
    await customerSays(server, conv, 'sent while the console reloads');
    await reloading;
    const url = new URL((await resumed).url());
    assert.ok(Number(url.searchParams.get('last_event_id')) >= before, 'the stream resumes where the page was');
    const during = ui.transcript.locator('.msg-customer', { hasText: 'sent while the console reloads' });
    await during.waitFor();
    await page.locator('#stream-state[data-state="open"]').waitFor();
    await ui.transcript.locator('.msg-agent:not(.is-pending)', { hasText: 'Let me look at your return.' }).waitFor();
    // The replay has been rendered once every stored message is on the page (not after a guessed pause).
    const full = await api.ok('GET', `/api/v1/agent/conversations/${conv.id}`);
    const want = full.messages.map((m) => String(m.id));
    await page.waitForFunction((w) => {
      const shown = new Set([...document.querySelectorAll('.transcript [data-id]')].map((e) => e.dataset.id));
      return w.every((id) => shown.has(id));
    }, want);
    assert.equal(await during.count(), 1, 'shown once');
    const ids = await ui.transcript.locator('[data-id]').evaluateAll((els) => els.map((e) => e.dataset.id));
    assert.equal(new Set(ids).size, ids.length, `no message twice: ${ids}`);
    assert.deepEqual([...ids].sort(), [...want].sort(), 'every stored message is shown, and nothing else');
  } finally {
    await resolveQuietly(api, conv);
  }
});

ctest('unread counts in Mine and the page title; opening the conversation reads it', async (page, { server, agentId }) => {
  const conv = await customerWantsPerson(server, 'when will I get my refund');
  const api = await takeAsAgent(server, conv, agentId);
  try {
    await customerSays(server, conv, 'hello? anyone there?');
    const ui = consoleUi(page);
    await openConsole(page, '#/');
    const item = ui.mine.locator(`li[data-conv="${conv.id}"]`);
    await item.locator('.unread').waitFor();
    await page.waitForFunction(() => /^\(\d+\) /.test(document.title));
    await item.locator('a.conv-link').click();
    await ui.transcript.locator('.msg-customer', { hasText: 'anyone there' }).waitFor();
    await item.locator('.unread').waitFor({ state: 'detached' });
    await page.waitForFunction(() => !/^\(\d+\) /.test(document.title));
  } finally {
    await resolveQuietly(api, conv);
  }
});

// Every stored event wakes the agents' streams, a customer's message on an
// assigned conversation too (it used to wait for the next 15 s keep-alive):
// the 3 s waits below would fail on that.
ctest('live: a customer message reaches the open conversation and raises Mine\'s unread count at once', async (page, { server, agentId }) => {
  const conv = await customerWantsPerson(server, 'when will I get my refund');
  const api = await takeAsAgent(server, conv, agentId);
  try {
    const ui = consoleUi(page);
    await openConsole(page, `#/c/${conv.id}`);
    await ui.transcript.locator('.msg-customer').first().waitFor();
    await page.locator('#stream-state[data-state="open"]').waitFor();
    await customerSays(server, conv, 'are you still there?');
    await ui.transcript.locator('.msg-customer', { hasText: 'are you still there?' }).waitFor({ timeout: 3000 });
    await openConsole(page, '#/');
    const item = ui.mine.locator(`li[data-conv="${conv.id}"]`);
    await item.waitFor();
    await customerSays(server, conv, 'hello?');
    await item.locator('.unread').waitFor({ timeout: 3000 });
    await page.waitForFunction(() => /^\(\d+\) /.test(document.title), null, { timeout: 3000 });
  } finally {
    await resolveQuietly(api, conv);
  }
});

ctest('canned responses: "/" opens them, arrows and Enter pick one, {{customer.name}} is filled in by the server', async (page, { server, agentId }) => {
  const admin = await server.api(ADMIN);
  await admin.ok('POST', '/api/v1/admin/canned', {
    shortcut: 'thanks', locale: 'en', title: 'Thanks for waiting', text: 'Thanks for waiting, {{customer.name}}! {{agent.name}} here.',
  });
  await admin.ok('POST', '/api/v1/admin/canned', { shortcut: 'bye', locale: 'en', title: 'Goodbye', text: 'Have a nice day!' });
  const conv = await customerWantsPerson(server, 'where is my order');
  const api = await takeAsAgent(server, conv, agentId);
  try {
    const ui = consoleUi(page);
    await openConsole(page, `#/c/${conv.id}`);
    await ui.transcript.locator('.msg-customer').first().waitFor();
    await ui.box.click();
    await ui.box.pressSequentially('/');
    const list = page.locator('#canned-list');
    await list.locator('[role="option"]', { hasText: 'Thanks for waiting' }).waitFor();
    await ui.box.pressSequentially('tha');
    await page.waitForFunction(() => document.querySelectorAll('#canned-list [role="option"]').length === 1);
    await ui.box.press('ArrowDown');
    await ui.box.press('Enter');
    await page.waitForFunction(() => !document.querySelector('#reply-box').value.startsWith('/'));
    const text = await ui.box.inputValue();
    const list2 = await api.ok('GET', '/api/v1/agent/canned?locale=en&q=thanks');
    const rendered = await api.ok('POST', '/api/v1/agent/canned/render', { canned_id: list2.canned[0].id, conversation_id: conv.id });
    assert.equal(text, rendered.text);
    assert.doesNotMatch(text, /\{\{/);
    assert.match(text, new RegExp(`^Thanks for waiting, .+! ${AGENT.name} here\\.$`));
    await ui.box.press('Enter');
    await ui.transcript.locator('.msg-agent:not(.is-pending)', { hasText: 'Thanks for waiting' }).waitFor();
  } finally {
    await resolveQuietly(api, conv);
  }
}, { needs: [...AGENT_API, 'canned', 'render', 'adminCanned'] });

ctest('help-center search inserts an article link into the reply; hostile customer text stays text', async (page, { server, agentId }) => {
  const conv = await customerWantsPerson(server, 'where is my order');
  const api = await takeAsAgent(server, conv, agentId);
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    d.dismiss();
  });
  try {
    await customerSays(server, conv, '<img src=x onerror=alert(1)> <b>bold?</b>');
    const ui = consoleUi(page);
    await openConsole(page, `#/c/${conv.id}`);
    await ui.transcript.locator('.msg-customer').first().waitFor();
    const hostile = ui.transcript.locator('.msg-customer', { hasText: '<img src=x onerror=alert(1)>' });
    await hostile.waitFor();
    assert.equal(await ui.transcript.locator('img, b').count(), 0, 'no element made from customer text');
    assert.equal(await hostile.locator('.text').textContent(), '<img src=x onerror=alert(1)> <b>bold?</b>');

    await ui.box.fill('Here you go: ');
    await page.getByLabel('Insert an article link').fill('track my order');
    const hit = page.locator('.kb-hit', { hasText: 'How do I track my order?' }).first();
    await hit.waitFor();
    await hit.getByRole('button', { name: /Insert a link/ }).click();
    const value = await ui.box.inputValue();
    assert.match(value, /^Here you go: How do I track my order\?: http:\/\/127\.0\.0\.1:\d+\/help\/en\/track-order$/);
    await ui.box.press('Enter');
    const sent = ui.transcript.locator('.msg-agent:not(.is-pending)', { hasText: '/help/en/track-order' });
    await sent.waitFor();
    assert.equal(dialogs, 0, 'no script ran');
  } finally {
    await resolveQuietly(api, conv);
  }
}, { needs: [...AGENT_API, 'kb'] });

ctest('an SLA countdown turns to the warning colour, then to red and "overdue" (the page\'s clock moved)', async (page, { server }) => {
  const admin = await server.api(ADMIN);
  await admin.ok('PUT', '/api/v1/admin/sla-policies', { policies: [
    { channel: '*', priority: 0, first_response_min: 10, next_response_min: null, resolution_min: null }] });
  await agentProfile(server, 'offline'); // nobody is offered it: it waits with its SLA
  const conv = await customerWantsPerson(server, 'my parcel is late again');
  const api = await server.api(AGENT);
  try {
    await page.clock.install(); // the page's timers and Date, from the real time on
    await openConsole(page);
    const badge = consoleUi(page).queue.locator(`li[data-conv="${conv.id}"] .sla[data-due]`);
    await badge.waitFor();
    const due = Number(await badge.getAttribute('data-due'));
    const warn = Number(await badge.getAttribute('data-warn'));
    assert.ok(warn > 0 && warn < due, `warning before due: ${warn} < ${due}`);
    const state = () => badge.getAttribute('data-sla');
    const colour = () => badge.evaluate((el) => getComputedStyle(el).color);
    await page.waitForFunction((el) => el.dataset.sla === 'ok', await badge.elementHandle());
    const okColour = await colour();
    assert.match(await badge.locator('.sla-left').textContent(), /^in \d/);
    await page.clock.fastForward(warn - (await page.evaluate(() => Date.now())) + 1500);
    await page.waitForFunction((el) => el.dataset.sla === 'warning', await badge.elementHandle());
    const warnColour = await colour();
    assert.notEqual(warnColour, okColour, 'the warning has its own colour');
    await page.clock.fastForward(due - (await page.evaluate(() => Date.now())) + 61000);
    await page.waitForFunction((el) => el.dataset.sla === 'breached', await badge.elementHandle());
    assert.equal(await state(), 'breached');
    assert.notEqual(await colour(), warnColour, 'breached is red, not the warning colour');
    assert.match(await badge.locator('.sla-left').textContent(), /^overdue 1:0\d/);
  } finally {
    await resolveQuietly(api, conv);
    await admin.ok('PUT', '/api/v1/admin/sla-policies', { policies: [] });
    await agentProfile(server, 'online'); // as the other tests expect
  }
});

ctest('the supervisor view: agents with load and capacity, the queue per team, SLA counts', async (page, { server }) => {
  await agentProfile(server, 'online');
  await openConsole(page, '#/supervisor');
  await page.getByRole('heading', { name: 'Supervisor', level: 1 }).waitFor();
  const row = page.locator('tr', { hasText: AGENT.name });
  await row.waitFor();
  assert.match(await row.textContent(), /online/);
  assert.match(await row.textContent(), /\d+ \/ 4/);
  await page.locator('tr[data-team="default"]').waitFor();
  await page.locator('.stat-breached').waitFor();
}, { as: ADMIN, needs: ['overview', 'adminAgents'] });

ctest('1024 px and 375 px without sideways scrolling; keyboard: Tab reaches Resolve with a visible focus ring', async (page, { server, agentId }) => {
  const conv = await customerWantsPerson(server, 'how do I return an item');
  const api = await takeAsAgent(server, conv, agentId);
  try {
    const ui = consoleUi(page);
    for (const [width, height] of [[1024, 768], [375, 740]]) {
      await page.setViewportSize({ width, height });
      await openConsole(page, `#/c/${conv.id}`);
      await ui.transcript.locator('.msg-customer').first().waitFor();
      await page.locator('.customer-card').waitFor();
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(over <= 0, `${width} px: the page is ${over} px wider than the window`);
      assert.ok(await ui.box.isVisible());
    }
    await page.setViewportSize({ width: 1024, height: 768 });
    await page.locator('.conv-title').focus();
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement.textContent === 'Resolve');
    }
    assert.ok(reached, 'Resolve took focus within 30 presses of Tab');
    assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'none');
    await page.keyboard.press('Enter');
    // the resolve dialog: the focus starts in it; Tab to its Resolve button, Enter
    const dlg = page.getByRole('dialog', { name: 'Resolve the conversation' });
    await dlg.waitFor();
    let inDialog = false;
    for (let i = 0; i < 5 && !inDialog; i++) {
      await page.keyboard.press('Tab');
      inDialog = await page.evaluate(() => document.activeElement.closest('dialog') !== null && document.activeElement.textContent === 'Resolve');
    }
    assert.ok(inDialog, "the dialog's Resolve button took focus within 5 presses of Tab");
    await page.keyboard.press('Enter');
    await page.locator('.conv-sub [data-status="resolved"]').waitFor();
  } finally {
    await resolveQuietly(api, conv);
  }
});

// The widget across a server restart: the process stops mid-conversation
// and starts again on the same port and data directory; the event stream
// reconnects, a message typed while the server was down is sent once, and
// everything said meanwhile (also from another device) is shown, once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, EDITOR, setup } from './harness.mjs';
import { ask, cardTitled, demoSite, failedPosts, openHost, openPanel, shownIds, stored, transcript, widget } from './widget_host.mjs';

const env = setup(test, { before, after }, { users: [EDITOR, ADMIN] });

env.test('server restart mid-conversation: the widget reconnects, sends what was typed meanwhile and misses nothing', async (page, { server }) => {
  await demoSite(server);
  await openHost(page, server);
  const w = widget(page);
  await ask(page, 'where is my order');
  await cardTitled(page, 'How do I track my order?');
  const conv = (await stored(page)).conversation;

  await server.halt();
  const triesFail = failedPosts(page, 2);
  await ask(page, 'how do I return an item');
  const mine = w.mine.filter({ hasText: 'how do I return an item' });
  await mine.waitFor();
  await triesFail; // the first try and a retry
  assert.equal(await mine.getAttribute('data-receipt'), 'sending');
  assert.equal((await stored(page)).outbox.length, 1);

  await server.launch(server.port);
  await cardTitled(page, 'How do I return an item?');

  // Said from another device after the restart: only the event stream brings it.
  const r = await fetch(`${server.url}/api/v1/conversations/${conv.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${conv.token}` },
    body: JSON.stringify({ text: 'when will I get my refund', client_id: 'other-device-1' }),
  });
  assert.equal(r.status, 200);
  await w.mine.filter({ hasText: 'when will I get my refund' }).waitFor({ timeout: 15000 });
  await cardTitled(page, 'When will I get my refund?');

  const tr = await transcript(server, conv);
  assert.deepEqual(tr.messages.filter((m) => m.direction === 'in').map((m) => m.text),
    ['where is my order', 'how do I return an item', 'when will I get my refund'], 'each stored once');
  assert.deepEqual(await shownIds(page), tr.messages.map((m) => m.id), 'the widget shows the transcript, each message once');
  assert.equal((await stored(page)).outbox.length, 0);
  assert.ok((await stored(page)).last_event_id > 0, 'the last event id is kept');

  // A fresh page load resumes from there and shows the same.
  await page.reload();
  await openPanel(page);
  await cardTitled(page, 'When will I get my refund?');
  assert.deepEqual(await shownIds(page), tr.messages.map((m) => m.id));
}, { as: null, timeout: 45000 });

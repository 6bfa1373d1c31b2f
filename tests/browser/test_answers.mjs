// How the bot decides, as the editor shows and tunes it: the try box's
// decision (answers, asks which one, hands off), an article's own answer
// threshold, and synonyms per locale.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openEditor, setup } from './harness.mjs';

const env = setup(test, { before, after });

function tryHash(q, locale = 'en') {
  return `#/try?${new URLSearchParams({ q, locale })}`;
}

async function saveArticle(page) {
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('#toast').filter({ hasText: 'Saved' }).waitFor();
}

env.test('an answer threshold of 0.99 makes the try box ask which one instead of answering; emptied, it answers again', async (page, { server }) => {
  const api = await server.api();
  const q = 'where is my order';
  const art = await api.articleBySlug('en', 'track-order');
  const want = await api.ok('POST', '/api/v1/kb/try', { text: q, locale: 'en' });
  assert.equal(want.decision, 'answer');
  assert.equal(want.answer.slug, 'track-order');
  assert.ok(want.answer.confidence < 0.99, `confidence ${want.answer.confidence} is below 0.99`);

  const decision = page.locator('.decision');
  await openEditor(page, tryHash(q));
  await page.locator('.decision[data-decision="answer"]').waitFor();
  assert.equal(await decision.textContent(), `Answers with “${art.title}”`);
  await page.locator('.answer-card[data-slug="track-order"]').waitFor();
  assert.match(await page.locator('.answer-card .hit-threshold').textContent(), /^Needs 50% to answer$/);

  await openEditor(page, `#/article/${art.id}`);
  const box = page.getByLabel('Answer threshold');
  assert.equal(await box.inputValue(), '', 'no threshold of its own yet');
  await page.waitForFunction(() => document.querySelector('input[name="answer_threshold"]').placeholder === 'default 0.5');
  await box.fill('0.99');
  await saveArticle(page);
  assert.equal((await api.ok('GET', `/api/v1/kb/articles/${art.id}`)).article.answer_threshold, 0.99);
  assert.equal(await box.inputValue(), '0.99');

  await openEditor(page, tryHash(q));
  await page.locator('.decision[data-decision="clarify"]').waitFor();
  assert.match(await decision.textContent(), new RegExp(`^Asks which one: .*“${art.title.replace(/[?.]/g, '\\$&')}”`));
  const choice = page.locator('.answer-card .choice[data-slug="track-order"]');
  await choice.waitFor();
  assert.equal(await choice.locator('.hit-threshold').textContent(), 'Needs 99% to answer (this article’s own threshold)');
  assert.match(await choice.locator('.conf-verdict').textContent(), /^below the 99% threshold$/);
  assert.equal(await page.locator('.answer-card .answer-title a').count(), 0, 'no answer');

  // Out of range is refused before it is sent; empty means the knowledge base's again.
  await openEditor(page, `#/article/${art.id}`);
  assert.equal(await box.inputValue(), '0.99');
  await box.fill('1.5');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('.field-error', { hasText: 'must be a number from 0 to 1' }).waitFor();
  assert.equal(await box.getAttribute('aria-invalid'), 'true');
  assert.equal((await api.ok('GET', `/api/v1/kb/articles/${art.id}`)).article.answer_threshold, 0.99);
  await box.fill('');
  await saveArticle(page);
  assert.equal((await api.ok('GET', `/api/v1/kb/articles/${art.id}`)).article.answer_threshold, null);

  await openEditor(page, tryHash(q));
  await page.locator('.decision[data-decision="answer"]').waitFor();
  await page.locator('.answer-card[data-slug="track-order"]').waitFor();
});

env.test('the try box says “Hands off: out of scope” for gibberish, and “Asks again” for a question with no words', async (page, { server }) => {
  const api = await server.api();
  const want = await api.ok('POST', '/api/v1/kb/try', { text: 'zxqv plorb', locale: 'en' });
  assert.equal(want.decision, 'handoff');
  await openEditor(page, tryHash('zxqv plorb'));
  await page.locator('.decision[data-decision="handoff"]').waitFor();
  assert.equal(await page.locator('.decision').textContent(), 'Hands off: out of scope');
  await page.getByRole('link', { name: 'Write an article for this question' }).waitFor();

  await page.getByLabel('Customer question').fill('?');
  await page.getByRole('button', { name: 'Ask' }).click();
  await page.locator('.decision[data-decision="clarify"]').waitFor();
  assert.match(await page.locator('.decision').textContent(), /^Asks again/);
});

env.test('synonyms: add “zwiebelbox” → refund in en and the try box ranks refund-status first; field errors; remove it', async (page, { server }) => {
  const api = await server.api();
  const q = 'how do I get my zwiebelbox';
  const before = await api.ok('POST', '/api/v1/kb/try', { text: q, locale: 'en' });
  assert.notEqual(before.hits[0] && before.hits[0].slug, 'refund-status', 'refund-status is not first without the synonym');

  await openEditor(page, '#/articles');
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Synonyms' }).click();
  await page.getByRole('heading', { name: 'Synonyms', level: 1 }).waitFor();
  await page.getByLabel('Locale').selectOption('en');
  await page.locator('.results[aria-busy="false"]').waitFor();
  assert.equal(await page.locator('tr[data-term="zwiebelbox"]').count(), 0);

  // The API's refusal is shown next to the field it names.
  await page.getByLabel('Term', { exact: true }).fill('zwiebelbox');
  await page.getByLabel('Synonyms', { exact: true }).fill('refund, <b>');
  await page.getByRole('button', { name: 'Save synonyms' }).click();
  await page.locator('.field-error', { hasText: '1 to 64 bytes of plain text' }).waitFor();
  assert.equal(await page.getByLabel('Synonyms', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.deepEqual((await api.ok('GET', '/api/v1/kb/synonyms?locale=en')).synonyms.filter((s) => s.term === 'zwiebelbox'), []);

  await page.getByLabel('Synonyms', { exact: true }).fill('refund');
  await page.getByRole('button', { name: 'Save synonyms' }).click();
  const row = page.locator('tr[data-term="zwiebelbox"]');
  await row.waitFor();
  assert.equal(await row.locator('.syn-words').textContent(), 'refund');
  assert.equal(await page.getByLabel('Synonyms', { exact: true }).getAttribute('aria-invalid'), null, 'the error is gone');
  const stored = (await api.ok('GET', '/api/v1/kb/synonyms?locale=en')).synonyms.find((s) => s.term === 'zwiebelbox');
  assert.deepEqual(stored && stored.synonyms, ['refund']);

  await openEditor(page, tryHash(q));
  const first = page.locator('[data-rank="1"]');
  await first.waitFor();
  assert.equal(await first.getAttribute('data-slug'), 'refund-status');

  await openEditor(page, '#/synonyms?locale=en');
  await row.getByRole('button', { name: 'Remove “zwiebelbox”' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove term' }).click();
  await row.waitFor({ state: 'detached' });
  assert.deepEqual((await api.ok('GET', '/api/v1/kb/synonyms?locale=en')).synonyms.filter((s) => s.term === 'zwiebelbox'), []);

  await openEditor(page, tryHash(q));
  await page.locator('.decision').waitFor();
  const top = page.locator('[data-rank="1"]');
  assert.ok(await top.count() === 0 || await top.getAttribute('data-slug') !== 'refund-status', 'refund-status is not first any more');
});

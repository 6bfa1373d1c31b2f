// Signing in, the role check, hash routing across reloads, keyboard use.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AGENT, EDITOR, openEditor, setup } from './harness.mjs';

const env = setup(test, { before, after });

env.test('signing in through the form shows the article list; a wrong password is refused', async (page) => {
  await page.goto('/editor/');
  await page.getByRole('heading', { name: 'Sign in to the knowledge base' }).waitFor();
  assert.equal(await page.getByRole('navigation', { name: 'Sections' }).isVisible(), false);

  await page.getByLabel('E-mail').fill(EDITOR.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Articles' }).count(), 0);

  await page.getByLabel('Password').fill(EDITOR.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Articles', level: 1 }).waitFor();
  assert.ok(await page.getByRole('navigation', { name: 'Sections' }).isVisible());
  assert.equal(await page.locator('#app-user-name').textContent(), EDITOR.name);
  assert.equal(await page.locator('#app-user-name').getAttribute('title'), EDITOR.email);
  await page.locator('.articles-table tbody tr').first().waitFor();
  assert.ok(await page.locator('.articles-table tbody tr').count() >= 7, 'the demo articles are listed');
}, { as: null });

env.test('an account without the editor role is told it cannot edit', async (page) => {
  await page.goto('/editor/#/articles');
  await page.getByLabel('E-mail').fill(AGENT.email);
  await page.getByLabel('Password').fill(AGENT.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'You can’t edit the knowledge base' }).waitFor();
  assert.match(await page.locator('main').textContent(), /does not have the editor role/);
  assert.equal(await page.locator('.articles-table').count(), 0);
  await page.getByRole('button', { name: 'Sign out' }).first().click();
  await page.getByRole('heading', { name: 'Sign in to the knowledge base' }).waitFor();
}, { as: null });

env.test('a reload keeps the place: hash routes and list filters survive', async (page) => {
  await openEditor(page, '#/gaps');
  assert.equal(await page.locator('main h1').textContent(), 'Content gaps');
  await page.reload();
  await page.getByRole('heading', { name: 'Content gaps', level: 1 }).waitFor();

  await openEditor(page, '#/articles');
  await page.getByLabel('Locale').selectOption('pt-BR');
  await page.waitForFunction(() => location.hash.includes('locale=pt-BR'));
  await page.reload();
  await page.getByRole('heading', { name: 'Articles', level: 1 }).waitFor();
  assert.equal(await page.getByLabel('Locale').inputValue(), 'pt-BR');
  await page.locator('.articles-table tbody tr').first().waitFor();
  const locales = await page.locator('.articles-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.locale));
  assert.ok(locales.length > 0 && locales.every((l) => l === 'pt-BR'), `only pt-BR rows after the reload: ${locales}`);
});

env.test('keyboard only: Tab from the top of an article reaches the Save button, with a visible focus ring', async (page, { server }) => {
  const api = await server.api();
  const a = await api.articleBySlug('en', 'track-order');
  await openEditor(page, `#/article/${a.id}`);
  await page.getByRole('button', { name: 'Save', exact: true }).waitFor();
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press('Tab'); // the skip link comes first
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    reached = await page.evaluate(() => document.activeElement && document.activeElement.textContent === 'Save'
      && document.activeElement.tagName === 'BUTTON');
    if (!reached) await page.keyboard.press('Tab');
  }
  assert.ok(reached, 'Save took focus within 40 presses of Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'the focused Save button shows a focus outline');
  // Enter on the focused button saves (nothing changed: says so).
  await page.keyboard.press('Enter');
  await page.locator('#toast').filter({ hasText: 'No changes to save' }).waitFor();
});

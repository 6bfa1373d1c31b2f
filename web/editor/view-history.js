// view-history.js - #/article/12/history?from=2&to=3: the revisions of one
// article, a readable diff between any two, and revert (a new revision
// with an old text; nothing is lost).

import { kb } from './api.js';
import { renderDiff } from './diff.js';
import { badge, button, confirmDialog, formatTime, h, hashWith, notice, notify, replaceHash, timeEl } from './dom.js';

export async function render(ctx) {
  const id = Number(ctx.params[0]);
  const [got, revs] = await Promise.all([kb.get(id), kb.revisions(id)]);
  let article = got.article;
  let revisions = revs.revisions || [];

  ctx.setTitle(`History: ${article.title}`);
  const heading = h('h1', {});
  const tableBox = h('div', { class: 'history-table' });
  const diffBox = h('section', { class: 'diff-box', 'aria-live': 'polite', 'aria-labelledby': 'diff-title' });
  const alerts = h('div', { class: 'alerts' });
  const compareBtn = button('Show changes', () => showDiff(), { kind: 'primary' });

  ctx.root.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/articles' }, 'Articles'), ' / ',
      h('a', { href: `#/article/${id}`, class: 'crumb-article' }, article.title), ' / '),
    h('div', { class: 'page-head' }, heading,
      h('div', { class: 'page-actions' }, h('a', { class: 'btn btn-secondary', href: `#/article/${id}` }, 'Back to the editor'))),
    alerts,
    h('form', { class: 'history-form', 'aria-label': 'Choose two revisions to compare', on: { submit: (e) => { e.preventDefault(); showDiff(); } } },
      tableBox,
      h('div', { class: 'form-actions' }, compareBtn)),
    diffBox);

  let from = Number(ctx.query.from) || null;
  let to = Number(ctx.query.to) || null;

  function drawTable() {
    heading.textContent = `History of “${article.title}”`;
    const nums = revisions.map((r) => r.revision);
    if (!nums.includes(to)) to = nums[0] ?? null;
    if (!nums.includes(from) || from === to) from = nums.find((n) => n !== to) ?? null;
    compareBtn.disabled = revisions.length < 2;
    const radio = (name, n, checked, label) => h('input', {
      type: 'radio', name, value: String(n), checked, 'aria-label': label,
      on: { change: () => { if (name === 'from') from = n; else to = n; } },
    });
    tableBox.replaceChildren(h('table', { class: 'table' },
      h('caption', {}, `${revisions.length} revision${revisions.length === 1 ? '' : 's'}, newest first. Pick two to compare.`),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', class: 'pick' }, 'From'), h('th', { scope: 'col', class: 'pick' }, 'To'),
        h('th', { scope: 'col', class: 'num' }, 'Revision'), h('th', { scope: 'col' }, 'Saved'), h('th', { scope: 'col' }, 'By'),
        h('th', { scope: 'col' }, 'Title'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Note'),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h('tbody', {}, revisions.map((r) => h('tr', { dataset: { revision: r.revision } },
        h('td', { class: 'pick' }, radio('from', r.revision, r.revision === from, `Compare from revision ${r.revision}`)),
        h('td', { class: 'pick' }, radio('to', r.revision, r.revision === to, `Compare to revision ${r.revision}`)),
        h('td', { class: 'num' }, String(r.revision)),
        h('td', {}, h('span', { title: formatTime(r.created_at) }, timeEl(r.created_at))),
        h('td', {}, r.author || '—'),
        h('td', {}, r.title || ''),
        h('td', {}, badge(r.status)),
        h('td', { class: 'muted' }, r.note || ''),
        h('td', { class: 'actions' }, r.revision === article.revision
          ? h('span', { class: 'muted' }, 'Current')
          : button('Revert to this', () => revert(r.revision), { kind: 'quiet', class: 'btn btn-quiet btn-small', 'aria-label': `Revert to revision ${r.revision}` })))))));
  }

  async function showDiff() {
    if (!from || !to) return;
    const [a, b] = from < to ? [from, to] : [to, from];
    from = a;
    to = b;
    replaceHash(hashWith(`/article/${id}/history`, { from, to }));
    drawTable();
    diffBox.replaceChildren(h('p', { class: 'muted' }, 'Loading the changes…'));
    try {
      const d = await kb.diff(id, from, to);
      diffBox.replaceChildren(
        h('h2', { id: 'diff-title' }, `Changes from revision ${d.from ?? from} to revision ${d.to ?? to}`),
        h('p', { class: 'diff-legend' }, h('span', { class: 'diff-key diff-del' }, `− only in revision ${d.from ?? from}`), ' ',
          h('span', { class: 'diff-key diff-add' }, `+ only in revision ${d.to ?? to}`)),
        renderDiff(d.fields || []));
    } catch (e) {
      diffBox.replaceChildren(notice('error', `The changes could not be loaded: ${e.message}`));
    }
  }

  async function revert(n) {
    const ok = await confirmDialog({
      title: `Revert to revision ${n}?`,
      message: `The article gets the text of revision ${n} as a new revision. The revisions after it stay in the history.`,
      confirmLabel: `Revert to revision ${n}`,
    });
    if (!ok) return;
    alerts.replaceChildren();
    try {
      const r = await kb.revert(id, n, article.revision);
      article = r.article;
      revisions = (await kb.revisions(id)).revisions || [];
      to = article.revision;
      from = n;
      drawTable();
      notify(`Reverted: revision ${article.revision} has the text of revision ${n}.`);
      alerts.replaceChildren(notice('ok', `Reverted: revision ${article.revision} has the text of revision ${n}. `,
        h('a', { href: `#/article/${id}` }, 'Open it in the editor')));
      await showDiff();
    } catch (e) {
      if (e.status === 409) {
        alerts.replaceChildren(notice('error', `Not reverted: someone else saved this article (revision ${e.body && e.body.current ? e.body.current.revision : '?'}) meanwhile. The list below is up to date now; try again.`));
        article = (await kb.get(id)).article;
        revisions = (await kb.revisions(id)).revisions || [];
        drawTable();
      } else {
        alerts.replaceChildren(notice('error', `Not reverted: ${e.message}`));
      }
    }
  }

  drawTable();
  if (revisions.length >= 2) await showDiff();
  else diffBox.replaceChildren(h('p', { class: 'muted' }, 'This article has one revision so far: nothing to compare.'));
  return null;
}

// view-gaps.js - #/gaps?locale=&days=: the questions customers asked that
// the bot could not answer well, most asked first. Each can become an
// example question of an article (appended and saved with that article's
// revision) or the start of a new article.

import { kb } from './api.js';
import { button, field, formDialog, h, hashWith, notice, notify, percent, replaceHash, select, timeEl } from './dom.js';
import { app, localeOptions } from './state.js';

const PERIODS = [['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days'], ['365', 'Last year']];

export async function render(ctx) {
  ctx.setTitle('Content gaps');
  const locale = select(localeOptions(true), ctx.query.locale ?? '', { name: 'locale' });
  const days = select(PERIODS, ctx.query.days || '30', { name: 'days' });
  if (!PERIODS.some(([v]) => v === days.value)) days.value = '30';
  const out = h('div', { class: 'results', 'aria-live': 'polite' });

  ctx.root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Content gaps')),
    h('p', { class: 'lede' }, 'Questions customers asked that the bot was unsure about, could not answer, or handed to a person. Teach the bot by adding a question to an article, or write a new one.'),
    h('form', { class: 'filters', 'aria-label': 'Filter the gap report', on: { submit: (e) => { e.preventDefault(); load(); } } },
      field('Locale', locale).wrap, field('Period', days).wrap),
    out);

  async function load() {
    replaceHash(hashWith('/gaps', { locale: locale.value, days: days.value }));
    out.setAttribute('aria-busy', 'true');
    try {
      const r = await kb.gaps(locale.value, days.value);
      out.replaceChildren(table(r.gaps || []));
    } catch (e) {
      out.replaceChildren(notice('error', `The gap report could not be loaded: ${e.message}`));
    } finally {
      out.setAttribute('aria-busy', 'false');
    }
  }

  locale.addEventListener('change', load);
  days.addEventListener('change', load);
  await load();
  return null;
}

function bestOf(g) {
  const b = g.best;
  if (b && typeof b === 'object') return b;
  if (typeof b === 'number') return { id: b };
  return null;
}

function outcomes(o = {}) {
  const parts = [['unsure', 'unsure'], ['none', 'no answer'], ['handoff', 'handed off']]
    .filter(([k]) => o[k]).map(([k, label]) => h('span', { class: `outcome outcome-${k}` }, `${o[k]} ${label}`));
  return parts.length ? h('div', { class: 'outcome-list' }, parts) : h('span', { class: 'muted' }, '—');
}

function table(gaps) {
  if (!gaps.length) return h('div', { class: 'empty' }, h('p', {}, 'No gaps in this period: every question found an answer.'));
  return h('table', { class: 'table gaps-table' },
    h('caption', {}, `${gaps.length} question${gaps.length === 1 ? '' : 's'} without a good answer`),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Question'), h('th', { scope: 'col', class: 'num' }, 'Asked'),
      h('th', { scope: 'col' }, 'Outcome'), h('th', { scope: 'col' }, 'Last asked'),
      h('th', { scope: 'col' }, 'Closest article'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, gaps.map((g) => gapRow(g))));
}

function gapRow(g) {
  const best = bestOf(g);
  const status = h('div', { class: 'row-status', 'aria-live': 'polite' });
  return h('tr', { dataset: { question: g.question } },
    h('th', { scope: 'row', class: 'gap-question' }, g.question, ' ', h('span', { class: 'locale' }, g.locale || '')),
    h('td', { class: 'num' }, String(g.count ?? '')),
    h('td', { class: 'outcomes' }, outcomes(g.outcomes)),
    h('td', {}, timeEl(g.last_at)),
    h('td', {}, best
      ? [h('a', { href: `#/article/${best.id}` }, best.title || best.slug || `Article ${best.id}`),
        typeof best.confidence === 'number' ? h('span', { class: 'muted' }, ` ${percent(best.confidence)}`) : null]
      : h('span', { class: 'muted' }, '—')),
    h('td', { class: 'actions' },
      h('div', { class: 'inline' },
        button('Add as example question', () => addAsExample(g, best, status), {
          kind: 'secondary', class: 'btn btn-secondary btn-small', 'aria-label': `Add as example question: “${g.question}”`,
        }),
        h('a', {
          class: 'btn btn-quiet btn-small', 'aria-label': `New article: “${g.question}”`,
          href: hashWith('/article/new', { title: g.question, example: g.question, locale: g.locale }),
        }, 'New article')),
      status));
}

// Chooses an article, appends the question to its examples and saves it
// with the revision just read; a concurrent save is retried once on top.
async function addAsExample(g, best, status) {
  const loc = g.locale || app.defaultLocale;
  let articles = [];
  try {
    articles = (await kb.list({ locale: loc })).articles || [];
  } catch (e) {
    notify(`The articles could not be loaded: ${e.message}`, 'error');
    return;
  }
  if (!articles.length) {
    notify(`There is no ${loc} article yet. Use “New article”.`, 'error');
    return;
  }
  articles.sort((a, b) => (a.title || '').localeCompare(b.title || ''));
  const chosen = await formDialog(`Add an example question`, (dlg, close) => {
    const pick = select(articles.map((a) => [String(a.id), `${a.title} (${a.status})`]),
      best && articles.some((a) => a.id === best.id) ? String(best.id) : String(articles[0].id), { name: 'article' });
    const form = h('form', { class: 'dialog-form', on: { submit: (e) => { e.preventDefault(); close(Number(pick.value)); } } },
      h('p', {}, 'Customers asked: ', h('q', { class: 'quoted' }, g.question)),
      field(`Add it to this ${loc} article`, pick).wrap,
      h('div', { class: 'dialog-actions' },
        button('Cancel', () => close(null)),
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add example question')));
    queueMicrotask(() => pick.focus());
    return form;
  });
  if (!chosen) return;
  status.textContent = 'Saving…';
  try {
    let { article } = await kb.get(chosen);
    for (let attempt = 0; ; attempt++) {
      const examples = article.examples || [];
      if (examples.some((x) => x.trim().toLowerCase() === g.question.trim().toLowerCase())) {
        status.replaceChildren('Already an example of ', h('a', { href: `#/article/${article.id}` }, article.title), '.');
        return;
      }
      try {
        const r = await kb.update(article.id, article.revision, { examples: [...examples, g.question] });
        status.replaceChildren('Added to ', h('a', { href: `#/article/${r.article.id}` }, r.article.title),
          ` (revision ${r.article.revision})`, r.article.status === 'published' ? '.' : ' — publish it so the bot uses it.');
        notify(`Added “${g.question}” to “${r.article.title}”.`);
        return;
      } catch (e) {
        if (e.status === 409 && e.code === 'conflict' && attempt === 0) {
          article = (e.body && e.body.current) || (await kb.get(article.id)).article;
          continue;
        }
        throw e;
      }
    }
  } catch (e) {
    status.textContent = `Not added: ${e.message}`;
    notify(`Not added: ${e.message}`, 'error');
  }
}

// view-list.js - #/articles: every article, filtered by locale, status,
// category and search text; the filters live in the address so a reload
// or a shared link keeps them.

import { kb } from './api.js';
import { badge, debounce, field, h, hashWith, notice, replaceHash, select, timeEl } from './dom.js';
import { app, categoriesFor, localeOptions } from './state.js';

const STATUSES = [['', 'Any status'], ['draft', 'Draft'], ['published', 'Published'], ['archived', 'Archived']];

export async function render(ctx) {
  ctx.setTitle('Articles');
  const f = {
    locale: ctx.query.locale || '',
    status: ctx.query.status || '',
    category: ctx.query.category || '',
    q: ctx.query.q || '',
  };

  const q = h('input', { type: 'search', name: 'q', value: f.q, placeholder: 'Words in the title, summary, body or examples' });
  const locale = select(localeOptions(true), f.locale, { name: 'locale' });
  const status = select(STATUSES, f.status, { name: 'status' });
  const category = select([['', 'Any category']], '', { name: 'category' });
  const newLink = h('a', { class: 'btn btn-primary', href: '#/article/new' }, 'New article');
  const results = h('div', { class: 'results', 'aria-live': 'polite', 'aria-busy': 'true' });

  ctx.root.append(
    h('div', { class: 'page-head' },
      h('h1', {}, 'Articles'),
      h('div', { class: 'page-actions' }, newLink)),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter articles', on: { submit: (e) => { e.preventDefault(); reload(); } } },
      field('Search', q, { wide: true }).wrap,
      field('Locale', locale).wrap,
      field('Status', status).wrap,
      field('Category', category).wrap),
    results);

  async function fillCategories() {
    const cats = await categoriesFor(f.locale || app.defaultLocale);
    const keep = f.category;
    category.replaceChildren(h('option', { value: '' }, 'Any category'),
      ...cats.map((c) => h('option', { value: c.slug }, c.name && c.name !== c.slug ? `${c.name} (${c.slug})` : c.slug)));
    if (keep && !cats.some((c) => c.slug === keep)) category.append(h('option', { value: keep }, keep));
    category.value = keep;
  }

  let seq = 0;
  async function reload() {
    f.q = q.value.trim();
    f.locale = locale.value;
    f.status = status.value;
    f.category = category.value;
    replaceHash(hashWith('/articles', f));
    newLink.href = hashWith('/article/new', { locale: f.locale });
    const mine = ++seq;
    results.setAttribute('aria-busy', 'true');
    try {
      const r = await kb.list({ locale: f.locale, status: f.status, category: f.category, q: f.q });
      if (mine !== seq) return;
      results.replaceChildren(table(r.articles || []));
    } catch (e) {
      if (mine !== seq) return;
      results.replaceChildren(notice('error', `The articles could not be loaded: ${e.message}`));
    } finally {
      if (mine === seq) results.setAttribute('aria-busy', 'false');
    }
  }

  const typed = debounce(reload, 250);
  q.addEventListener('input', typed);
  locale.addEventListener('change', async () => {
    f.locale = locale.value;
    await fillCategories();
    reload();
  });
  status.addEventListener('change', reload);
  category.addEventListener('change', reload);

  await fillCategories();
  await reload();
  return { leave: () => typed.cancel() };
}

function table(articles) {
  if (!articles.length)
    return h('div', { class: 'empty' }, h('p', {}, 'No article matches these filters.'),
      h('p', {}, h('a', { href: '#/article/new' }, 'Write a new article')));
  const sorted = [...articles].sort((a, b) => (b.updated_at || 0) - (a.updated_at || 0)
    || (a.locale || '').localeCompare(b.locale || '') || (a.title || '').localeCompare(b.title || ''));
  return h('table', { class: 'table articles-table' },
    h('caption', {}, `${articles.length} article${articles.length === 1 ? '' : 's'}`),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Title'), h('th', { scope: 'col' }, 'Slug'), h('th', { scope: 'col' }, 'Locale'),
      h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col', class: 'num' }, 'Revision'),
      h('th', { scope: 'col' }, 'Updated'))),
    h('tbody', {}, sorted.map((a) => h('tr', { dataset: { id: a.id, locale: a.locale, status: a.status } },
      h('td', {}, h('a', { href: `#/article/${a.id}`, class: 'row-title' }, a.title || '(untitled)'),
        a.category ? h('span', { class: 'row-meta' }, a.category) : null),
      h('td', { class: 'mono' }, a.slug),
      h('td', {}, h('span', { class: 'locale' }, a.locale)),
      h('td', {}, badge(a.status)),
      h('td', { class: 'num' }, String(a.revision ?? '')),
      h('td', {}, timeEl(a.updated_at))))));
}

// view-helpfulness.js - #/helpfulness?locale=&sort=: the "did this help?"
// votes per article, from the bot and the help center, sorted so the
// articles that need work come first.

import { kb } from './api.js';
import { field, h, hashWith, notice, replaceHash, select } from './dom.js';
import { localeOptions } from './state.js';

const SORTS = [
  ['down', 'Most “not helpful” votes'],
  ['share', 'Lowest helpful share'],
  ['up', 'Most “helpful” votes'],
  ['total', 'Most votes'],
];

function share(a) {
  const n = (a.up || 0) + (a.down || 0);
  return n ? (a.up || 0) / n : null;
}

const ORDER = {
  down: (a, b) => (b.down || 0) - (a.down || 0) || (a.up || 0) - (b.up || 0),
  up: (a, b) => (b.up || 0) - (a.up || 0) || (a.down || 0) - (b.down || 0),
  total: (a, b) => ((b.up || 0) + (b.down || 0)) - ((a.up || 0) + (a.down || 0)),
  share: (a, b) => {
    const x = share(a);
    const y = share(b);
    if (x === null || y === null) return (x === null) - (y === null);
    return x - y || (b.down || 0) - (a.down || 0);
  },
};

export async function render(ctx) {
  ctx.setTitle('Helpfulness');
  const locale = select(localeOptions(true), ctx.query.locale ?? '', { name: 'locale' });
  const sort = select(SORTS, ORDER[ctx.query.sort] ? ctx.query.sort : 'down', { name: 'sort' });
  const out = h('div', { class: 'results', 'aria-live': 'polite' });
  let rows = [];

  ctx.root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Helpfulness')),
    h('p', { class: 'lede' }, 'How customers voted on each article: after a bot answer (“did this help?”) and at the bottom of the help-center page.'),
    h('form', { class: 'filters', 'aria-label': 'Filter and sort', on: { submit: (e) => e.preventDefault() } },
      field('Locale', locale).wrap, field('Sort by', sort).wrap),
    out);

  function draw() {
    replaceHash(hashWith('/helpfulness', { locale: locale.value, sort: sort.value }));
    out.replaceChildren(table([...rows].sort(ORDER[sort.value])));
  }

  async function load() {
    out.setAttribute('aria-busy', 'true');
    try {
      rows = (await kb.helpfulness(locale.value)).articles || [];
      draw();
    } catch (e) {
      out.replaceChildren(notice('error', `The votes could not be loaded: ${e.message}`));
    } finally {
      out.setAttribute('aria-busy', 'false');
    }
  }

  locale.addEventListener('change', load);
  sort.addEventListener('change', draw);
  await load();
  return null;
}

function shareCell(a) {
  const s = share(a);
  if (s === null) return h('span', { class: 'muted' }, 'no votes');
  const bar = h('div', { class: 'share-bar', 'aria-hidden': 'true' }, h('div', { class: 'share-fill' }));
  bar.style.setProperty('--fill', String(s));
  return h('div', { class: 'share' }, h('span', { class: 'share-value' }, `${Math.round(s * 100)}%`), bar);
}

function pair(up, down) {
  return h('span', { class: 'vote-pair' }, h('span', { class: 'vote-up' }, `▲ ${up || 0}`), ' ',
    h('span', { class: 'vote-down' }, `▼ ${down || 0}`));
}

function table(rows) {
  if (!rows.length) return h('div', { class: 'empty' }, h('p', {}, 'No votes yet.'));
  return h('table', { class: 'table help-table' },
    h('caption', {}, `${rows.length} article${rows.length === 1 ? '' : 's'}`),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Article'), h('th', { scope: 'col' }, 'Locale'),
      h('th', { scope: 'col', class: 'num' }, 'Helpful'), h('th', { scope: 'col', class: 'num' }, 'Not helpful'),
      h('th', { scope: 'col' }, 'Helpful share'), h('th', { scope: 'col' }, 'In the chat'), h('th', { scope: 'col' }, 'Help center'))),
    h('tbody', {}, rows.map((a) => h('tr', { dataset: { id: a.id } },
      h('th', { scope: 'row' }, h('a', { href: `#/article/${a.id}` }, a.title || a.slug)),
      h('td', {}, h('span', { class: 'locale' }, a.locale)),
      h('td', { class: 'num' }, String(a.up || 0)),
      h('td', { class: 'num' }, String(a.down || 0)),
      h('td', {}, shareCell(a)),
      h('td', {}, pair(a.bot_up, a.bot_down)),
      h('td', {}, pair(a.help_up, a.help_down))))));
}

// view-try.js - #/try?q=…&locale=…: ask a question the way a customer
// would and see what the bot would answer, how sure it is against the
// threshold, and the runners-up.

import { kb } from './api.js';
import { field, fraction, h, hashWith, notice, percent, replaceHash, select } from './dom.js';
import { app, localeOptions } from './state.js';

export async function render(ctx) {
  ctx.setTitle('Try a question');
  const text = h('input', { type: 'text', name: 'q', value: ctx.query.q || '', placeholder: 'e.g. where is my order', autocomplete: 'off' });
  const locale = select(localeOptions(false), ctx.query.locale || app.defaultLocale, { name: 'locale' });
  const out = h('div', { class: 'try-results', 'aria-live': 'polite' });
  const form = h('form', { class: 'try-form', 'aria-label': 'Try a question' },
    field('Customer question', text, { wide: true }).wrap,
    field('Locale', locale).wrap,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Ask')));

  ctx.root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Try a question')),
    h('p', { class: 'lede' }, 'Type a question as a customer would. You see what the bot would answer with the published articles, and how sure it is.'),
    form, out);

  async function ask() {
    const q = text.value.trim();
    replaceHash(hashWith('/try', { q, locale: locale.value }));
    if (!q) {
      out.replaceChildren(notice('info', 'Type a question first.'));
      text.focus();
      return;
    }
    out.replaceChildren(h('p', { class: 'muted' }, 'Asking…'));
    try {
      const r = await kb.try(q, locale.value);
      out.replaceChildren(results(q, locale.value, r));
    } catch (e) {
      out.replaceChildren(notice('error', `The question could not be tried: ${e.message}`));
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    ask();
  });
  if (text.value.trim()) await ask();
  else text.focus();
  return null;
}

// A bar with the confidence and the threshold marked on it.
export function confidenceBar(conf, threshold) {
  const above = typeof threshold === 'number' ? conf >= threshold : null;
  const bar = h('div', { class: ['conf-bar', above === false && 'below'], 'aria-hidden': 'true' },
    h('div', { class: 'conf-fill' }),
    typeof threshold === 'number' ? h('div', { class: 'conf-threshold', title: `Threshold ${percent(threshold)}` }) : null);
  bar.style.setProperty('--fill', String(fraction(conf)));
  if (typeof threshold === 'number') bar.style.setProperty('--threshold', String(fraction(threshold)));
  return bar;
}

function verdict(conf, threshold) {
  if (typeof threshold !== 'number') return '';
  return conf >= threshold ? `above the ${percent(threshold)} threshold` : `below the ${percent(threshold)} threshold`;
}

function results(q, loc, r) {
  const hits = r.hits || [];
  const threshold = typeof r.threshold === 'number' ? r.threshold : null;
  const answer = r.answer || null;
  const box = h('div', {});
  if (answer) {
    box.append(h('section', { class: 'answer-card', 'aria-labelledby': 'answer-title' },
      h('p', { class: 'eyebrow', id: 'answer-title' }, 'The bot would answer with'),
      h('h2', { class: 'answer-title' }, h('a', { href: `#/article/${answer.id}` }, answer.title),
        ' ', h('span', { class: 'locale' }, answer.locale)),
      h('p', { class: 'answer-summary' }, answer.summary || ''),
      h('div', { class: 'conf-row' },
        h('span', { class: 'conf-value', 'data-confidence': String(answer.confidence) }, `${percent(answer.confidence)} confidence`),
        h('span', { class: 'conf-verdict' }, verdict(answer.confidence, threshold)),
        confidenceBar(answer.confidence, threshold))));
  } else {
    box.append(h('section', { class: 'answer-card answer-none', 'aria-labelledby': 'answer-title' },
      h('p', { class: 'eyebrow', id: 'answer-title' }, 'No answer'),
      h('h2', { class: 'answer-title' }, 'The bot would not answer this question'),
      h('p', {}, hits.length
        ? `No article reached the ${percent(threshold)} threshold. The bot would say it is unsure and offer a person.`
        : 'No published article matches any word of it. The bot would say it is unsure and offer a person.'),
      h('p', {}, h('a', { href: hashWith('/article/new', { title: q, example: q, locale: loc }) }, 'Write an article for this question'))));
  }
  const others = hits.filter((x) => !answer || x.id !== answer.id);
  box.append(h('section', { class: 'runners-up', 'aria-labelledby': 'runners-title' },
    h('h2', { id: 'runners-title' }, answer ? 'Runners-up' : 'Closest matches'),
    others.length
      ? h('ol', { class: 'hit-list' }, others.map((x) => h('li', { class: 'hit', dataset: { id: x.id } },
        h('div', { class: 'hit-head' },
          h('a', { href: `#/article/${x.id}`, class: 'hit-title' }, x.title), ' ', h('span', { class: 'locale' }, x.locale)),
        h('p', { class: 'hit-summary' }, x.summary || ''),
        h('div', { class: 'conf-row' },
          h('span', { class: 'conf-value', 'data-confidence': String(x.confidence) }, `${percent(x.confidence)} confidence`),
          h('span', { class: 'conf-verdict' }, verdict(x.confidence, threshold)),
          confidenceBar(x.confidence, threshold)))))
      : h('p', { class: 'muted' }, 'No other article came close.')));
  return box;
}

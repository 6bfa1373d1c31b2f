// view-try.js - #/try?q=…&locale=…: ask a question the way a customer
// would and see what the bot would do (answer, ask which one, hand off),
// how sure it is against each article's threshold, what feedback taught
// it, and the runners-up (docs/kb-api.md, "The answer policy").

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

// The learned part of a confidence: "+0.03 from feedback" (empty when none).
export function adjustmentText(adj) {
  if (typeof adj !== 'number' || Number.isNaN(adj) || Math.abs(adj) < 0.005) return '';
  return `${adj > 0 ? '+' : '−'}${Math.abs(adj).toFixed(2)} from feedback`;
}

// "A, B or C"
function orList(items) {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

// What the bot would do, in a few words, for the banner.
function decisionText(r) {
  const choices = r.choices || [];
  if (r.decision === 'answer') return ['Answers', r.answer ? ` with “${r.answer.title}”` : ''];
  if (r.decision === 'clarify' && choices.length) return ['Asks which one: ', orList(choices.map((c) => `“${c.title}”`))];
  if (r.decision === 'clarify') return ['Asks again: ', 'the question has no words to search for'];
  return ['Hands off: ', 'out of scope'];
}

// The article's own threshold when it has one, else the knowledge base's.
function thresholdOf(x, r) {
  return typeof x.threshold === 'number' ? x.threshold : (typeof r.threshold === 'number' ? r.threshold : null);
}

function hitConf(x, r) {
  const t = thresholdOf(x, r);
  const own = typeof x.threshold === 'number' && typeof r.answer_threshold === 'number'
    && Math.abs(x.threshold - r.answer_threshold) > 1e-9;
  const adj = adjustmentText(x.adjustment);
  return [
    h('div', { class: 'conf-row' },
      h('span', { class: 'conf-value', 'data-confidence': String(x.confidence) }, `${percent(x.confidence)} confidence`),
      h('span', { class: 'conf-verdict' }, verdict(x.confidence, t)),
      confidenceBar(x.confidence, t)),
    h('p', { class: 'hit-facts' },
      h('span', { class: 'hit-threshold', 'data-threshold': String(t) },
        `Needs ${percent(t)} to answer${own ? ' (this article’s own threshold)' : ''}`),
      adj ? h('span', { class: ['hit-adjustment', x.adjustment > 0 ? 'up' : 'down'], 'data-adjustment': String(x.adjustment) }, adj) : null),
  ];
}

function results(q, loc, r) {
  const hits = r.hits || [];
  const rank = new Map(hits.map((x, i) => [x.id, i + 1]));
  const decision = r.decision || (r.answer ? 'answer' : 'handoff');
  const answer = decision === 'answer' ? r.answer || null : null;
  const choices = decision === 'clarify' ? r.choices || [] : [];
  const shown = new Set([answer && answer.id, ...choices.map((c) => c.id)].filter(Boolean));
  const hitData = (x) => ({ id: x.id, slug: x.slug, rank: rank.get(x.id) || '' });
  const [what, detail] = decisionText({ ...r, decision });
  const box = h('div', {});
  box.append(h('p', { class: ['decision', `decision-${decision}`], dataset: { decision } },
    h('strong', { class: 'decision-what' }, what), detail));

  if (answer) {
    box.append(h('section', { class: 'answer-card', 'aria-labelledby': 'answer-title', dataset: hitData(answer) },
      h('p', { class: 'eyebrow', id: 'answer-title' }, 'The bot would answer with'),
      h('h2', { class: 'answer-title' }, h('a', { href: `#/article/${answer.id}` }, answer.title),
        ' ', h('span', { class: 'locale' }, answer.locale)),
      h('p', { class: 'answer-summary' }, answer.summary || ''),
      hitConf(answer, r)));
  } else if (choices.length) {
    const sum = Math.min(1, choices.reduce((t, c) => t + (c.confidence || 0), 0));
    box.append(h('section', { class: 'answer-card answer-clarify', 'aria-labelledby': 'answer-title' },
      h('p', { class: 'eyebrow', id: 'answer-title' }, 'Did you mean one of these?'),
      h('h2', { class: 'answer-title' }, 'The bot would ask which one'),
      h('p', {}, `No article reached its threshold, so the bot offers ${choices.length === 1 ? 'this article' : `these ${choices.length} articles`} as choices: `
        + `together they reach ${percent(sum)}`
        + (typeof r.clarify_threshold === 'number' ? ` (${percent(r.clarify_threshold)} is needed to ask).` : '.')),
      h('ol', { class: 'hit-list choice-list' }, choices.map((x) => h('li', { class: 'choice', dataset: hitData(x) },
        h('div', { class: 'hit-head' },
          h('a', { href: `#/article/${x.id}`, class: 'hit-title' }, x.title), ' ', h('span', { class: 'locale' }, x.locale)),
        hitConf(x, r))))));
  } else {
    const noTerms = decision === 'clarify';
    box.append(h('section', { class: 'answer-card answer-none', 'aria-labelledby': 'answer-title' },
      h('p', { class: 'eyebrow', id: 'answer-title' }, 'No answer'),
      h('h2', { class: 'answer-title' }, 'The bot would not answer this question'),
      h('p', {}, noTerms
        ? 'The question has no words to search for; the bot would ask the customer to say more.'
        : hits.length
          ? `No article is close enough (not even together) to answer or to offer as choices. The bot would hand off to a person.`
          : 'No published article matches any word of it. The bot would hand off to a person.'),
      noTerms ? null : h('p', {}, h('a', { href: hashWith('/article/new', { title: q, example: q, locale: loc }) }, 'Write an article for this question'))));
  }
  const others = hits.filter((x) => !shown.has(x.id));
  box.append(h('section', { class: 'runners-up', 'aria-labelledby': 'runners-title' },
    h('h2', { id: 'runners-title' }, shown.size ? 'Runners-up' : 'Closest matches'),
    others.length
      ? h('ol', { class: 'hit-list' }, others.map((x) => h('li', { class: 'hit', dataset: hitData(x) },
        h('div', { class: 'hit-head' },
          h('a', { href: `#/article/${x.id}`, class: 'hit-title' }, x.title), ' ', h('span', { class: 'locale' }, x.locale)),
        h('p', { class: 'hit-summary' }, x.summary || ''),
        hitConf(x, r))))
      : h('p', { class: 'muted' }, 'No other article came close.')));
  return box;
}

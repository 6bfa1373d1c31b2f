// diff.js - line diffs: lineDiff() compares two texts in the browser (the
// conflict view: my unsaved text against theirs), and renderDiff() shows
// the API's per-field diffs (GET .../diff) and those alike, with long runs
// of unchanged lines folded.

import { h } from './dom.js';

const MAX_CELLS = 4_000_000; // beyond this the LCS table is too big: show a replace

// Returns [{op: ' '|'-'|'+', text}] turning a into b (longest common subsequence).
export function lineDiff(a, b) {
  const x = (a ?? '').split('\n');
  const y = (b ?? '').split('\n');
  let pre = 0;
  while (pre < x.length && pre < y.length && x[pre] === y[pre]) pre++;
  let suf = 0;
  while (suf < x.length - pre && suf < y.length - pre && x[x.length - 1 - suf] === y[y.length - 1 - suf]) suf++;
  const xs = x.slice(pre, x.length - suf);
  const ys = y.slice(pre, y.length - suf);
  const out = x.slice(0, pre).map((text) => ({ op: ' ', text }));
  if (xs.length * ys.length > MAX_CELLS) {
    xs.forEach((text) => out.push({ op: '-', text }));
    ys.forEach((text) => out.push({ op: '+', text }));
  } else {
    const n = xs.length;
    const m = ys.length;
    const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        L[i][j] = xs[i] === ys[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (xs[i] === ys[j]) {
        out.push({ op: ' ', text: xs[i] });
        i++;
        j++;
      } else if (L[i + 1][j] >= L[i][j + 1]) {
        out.push({ op: '-', text: xs[i++] });
      } else {
        out.push({ op: '+', text: ys[j++] });
      }
    }
    while (i < n) out.push({ op: '-', text: xs[i++] });
    while (j < m) out.push({ op: '+', text: ys[j++] });
  }
  x.slice(x.length - suf).forEach((text) => out.push({ op: ' ', text }));
  return out;
}

// A field's value as text lines, the way the server diffs lists: one item a line.
export function fieldText(v) {
  if (Array.isArray(v)) return v.join('\n');
  if (v === null || v === undefined) return '';
  return String(v);
}

export const FIELD_NAMES = {
  title: 'Title', slug: 'Slug', locale: 'Locale', group: 'Translation group', category: 'Category',
  tags: 'Tags', summary: 'Summary', examples: 'Example questions', body: 'Body', status: 'Status',
};

// Diffs two article objects field by field: the same shape as the API's diff.
export function articleDiff(from, to, fields = ['title', 'slug', 'category', 'tags', 'summary', 'examples', 'body']) {
  return fields.map((f) => {
    const a = fieldText(from[f]);
    const b = fieldText(to[f]);
    return { field: f, changed: a !== b, lines: a === b ? [] : lineDiff(a, b) };
  });
}

const SIGN = { '+': '+', '-': '−', ' ': ' ' };
const SR = { '+': 'Added: ', '-': 'Removed: ', ' ': '' };

function lineEl(l) {
  const kind = l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same';
  return h('div', { class: `diff-line diff-${kind}` },
    h('span', { class: 'diff-sign', 'aria-hidden': 'true' }, SIGN[l.op] ?? l.op),
    l.op === ' ' ? null : h('span', { class: 'sr-only' }, SR[l.op]),
    h('span', { class: 'diff-text' }, l.text === '' ? '\u00a0' : l.text));
}

// Lines of one field, keeping `context` unchanged lines around each change.
function linesEl(lines, context) {
  const box = h('div', { class: 'diff-lines' });
  const keep = lines.map(() => false);
  lines.forEach((l, i) => {
    if (l.op === ' ') return;
    for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++) keep[k] = true;
  });
  let skipped = 0;
  const flush = () => {
    if (skipped) box.append(h('div', { class: 'diff-fold' }, `… ${skipped} unchanged line${skipped === 1 ? '' : 's'} …`));
    skipped = 0;
  };
  lines.forEach((l, i) => {
    if (!keep[i]) {
      skipped++;
      return;
    }
    flush();
    box.append(lineEl(l));
  });
  flush();
  return box;
}

// fields: [{field, changed, lines:[{op,text}]}] → a readable block.
export function renderDiff(fields, { context = 3, labels = {} } = {}) {
  const changed = fields.filter((f) => f.changed);
  const same = fields.filter((f) => !f.changed);
  const box = h('div', { class: 'diff' });
  if (!changed.length) box.append(h('p', { class: 'muted' }, 'No differences.'));
  for (const f of changed) {
    box.append(h('section', { class: 'diff-field', 'aria-label': `Changes in ${labels[f.field] || FIELD_NAMES[f.field] || f.field}` },
      h('h3', { class: 'diff-field-name' }, labels[f.field] || FIELD_NAMES[f.field] || f.field),
      linesEl(f.lines || [], context)));
  }
  if (same.length)
    box.append(h('p', { class: 'muted diff-same' }, 'Unchanged: ' + same.map((f) => FIELD_NAMES[f.field] || f.field).join(', ')));
  return box;
}

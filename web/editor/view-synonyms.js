// view-synonyms.js - #/synonyms?locale=…: the words customers use for what
// the articles call something else. A question containing a term (its words
// in a row) is searched with the term's synonyms added (docs/kb-api.md).
// Per locale: list, add or change a term, remove it (an empty list).

import { ApiError, kb } from './api.js';
import { button, confirmDialog, field, h, hashWith, notice, notify, replaceHash, select, timeEl } from './dom.js';
import { app, localeOptions } from './state.js';

const MAX_SYNONYMS = 20;

function splitList(text) {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

export async function render(ctx) {
  ctx.setTitle('Synonyms');
  const locale = select(localeOptions(false), ctx.query.locale || app.defaultLocale, { name: 'locale' });
  const termIn = h('input', { type: 'text', name: 'term', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. parcel' });
  const synIn = h('input', { type: 'text', name: 'synonyms', autocomplete: 'off', placeholder: 'e.g. package, order' });
  const fields = {
    locale: field('Locale', locale),
    term: field('Term', termIn, { hint: 'A word or words, as customers write them.' }),
    synonyms: field('Synonyms', synIn, { hint: `Words the articles use for it, separated by commas (at most ${MAX_SYNONYMS}).` }),
  };
  const saveBtn = button('Save synonyms', null, { kind: 'primary', type: 'submit' });
  const cancelBtn = button('Cancel', () => resetForm(), { hidden: true });
  const formTitle = h('h2', { id: 'syn-form-title' }, 'Add a term');
  const alerts = h('div', { class: 'alerts' });
  const form = h('form', { class: 'synonym-form', novalidate: true, 'aria-labelledby': 'syn-form-title' },
    fields.term.wrap, fields.synonyms.wrap, h('div', { class: 'form-actions' }, saveBtn, cancelBtn));
  const list = h('div', { class: 'results', 'aria-live': 'polite', 'aria-busy': 'true' });

  ctx.root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Synonyms')),
    h('p', { class: 'lede' }, 'When a customer’s question contains a term, the bot also searches for its synonyms. '
      + 'Use them for words customers use that the articles do not.'),
    h('div', { class: 'synonym-locale' }, fields.locale.wrap),
    formTitle, alerts, form, list);

  let entries = [];
  let seq = 0;
  let formBase = { term: '', words: '' }; // what the form held when it was filled

  function setBase() {
    formBase = { term: termIn.value.trim(), words: synIn.value.trim() };
  }

  function clearErrors() {
    alerts.replaceChildren();
    for (const f of Object.values(fields)) f.setError('');
  }

  function resetForm() {
    clearErrors();
    termIn.value = '';
    synIn.value = '';
    termIn.readOnly = false;
    formTitle.textContent = 'Add a term';
    cancelBtn.hidden = true;
    setBase();
  }

  function edit(entry) {
    clearErrors();
    termIn.value = entry.term;
    termIn.readOnly = true;
    synIn.value = entry.synonyms.join(', ');
    formTitle.textContent = `Change “${entry.term}”`;
    cancelBtn.hidden = false;
    setBase();
    synIn.focus();
  }

  // An API error names its field ("term: …", "synonyms[2]: …"): shown there.
  function showError(e, what) {
    const key = e instanceof ApiError ? e.field : null;
    const target = key && fields[key];
    if (target) {
      target.setError(e.message.replace(/^[a-z_]+(\[\d+\])?:\s*/, ''));
      target.control.focus();
    }
    alerts.replaceChildren(notice('error', `${what}: ${e.message}`));
  }

  function show(items) {
    entries = items;
    if (!items.length) {
      list.replaceChildren(h('p', { class: 'empty' }, `No synonyms in ${locale.value} yet.`));
      return;
    }
    list.replaceChildren(h('table', { class: 'table synonyms-table' },
      h('caption', {}, `${items.length} term${items.length === 1 ? '' : 's'} in ${locale.value}`),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Term'), h('th', { scope: 'col' }, 'Synonyms'),
        h('th', { scope: 'col' }, 'Updated'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h('tbody', {}, items.map((x) => h('tr', { dataset: { term: x.term } },
        h('th', { scope: 'row', class: 'syn-term' }, x.term),
        h('td', { class: 'syn-words' }, x.synonyms.join(', ')),
        h('td', {}, timeEl(x.updated_at)),
        h('td', { class: 'actions' },
          button('Edit', () => edit(x), { kind: 'quiet', class: 'btn btn-quiet btn-small', 'aria-label': `Edit “${x.term}”` }),
          ' ',
          button('Remove', () => remove(x), { kind: 'danger-quiet', class: 'btn btn-danger-quiet btn-small', 'aria-label': `Remove “${x.term}”` })))))));
  }

  async function reload() {
    const mine = ++seq;
    replaceHash(hashWith('/synonyms', { locale: locale.value }));
    list.setAttribute('aria-busy', 'true');
    try {
      const r = await kb.synonyms(locale.value);
      if (mine !== seq) return;
      show(r.synonyms || []);
    } catch (e) {
      if (mine !== seq) return;
      list.replaceChildren(notice('error', `The synonyms could not be loaded: ${e.message}`));
    } finally {
      if (mine === seq) list.setAttribute('aria-busy', 'false');
    }
  }

  async function save() {
    clearErrors();
    const term = termIn.value.trim();
    const words = splitList(synIn.value);
    const problems = [];
    if (!term) problems.push(['term', 'is required']);
    if (!words.length) problems.push(['synonyms', 'give at least one (to remove a term, use Remove)']);
    else if (words.length > MAX_SYNONYMS) problems.push(['synonyms', `at most ${MAX_SYNONYMS}`]);
    if (problems.length) {
      for (const [k, m] of problems) fields[k].setError(m);
      alerts.replaceChildren(notice('error', 'Not saved: ' + problems.map(([k, m]) => `${k}: ${m}`).join('; ')));
      fields[problems[0][0]].control.focus();
      return;
    }
    const existed = entries.some((x) => x.term === term);
    saveBtn.disabled = true;
    try {
      const r = await kb.setSynonyms(locale.value, term, words);
      ++seq;
      show(r.synonyms || []);
      list.setAttribute('aria-busy', 'false');
      resetForm();
      notify(`${existed ? 'Changed' : 'Added'} “${term}” in ${locale.value}.`);
      termIn.focus();
    } catch (e) {
      showError(e, 'Not saved');
    } finally {
      saveBtn.disabled = false;
    }
  }

  async function remove(entry) {
    const ok = await confirmDialog({
      title: `Remove “${entry.term}”?`,
      message: `Questions containing “${entry.term}” are no longer searched with ${entry.synonyms.join(', ')}.`,
      confirmLabel: 'Remove term', danger: true,
    });
    if (!ok) return;
    clearErrors();
    try {
      const r = await kb.setSynonyms(locale.value, entry.term, []);
      ++seq;
      show(r.synonyms || []);
      list.setAttribute('aria-busy', 'false');
      if (termIn.readOnly && termIn.value === entry.term) resetForm();
      notify(`Removed “${entry.term}” from ${locale.value}.`);
    } catch (e) {
      showError(e, 'Not removed');
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    save();
  });
  locale.addEventListener('change', () => {
    resetForm();
    reload();
  });

  await reload();
  return {
    canLeave: () => termIn.value.trim() === formBase.term && synIn.value.trim() === formBase.words,
  };
}

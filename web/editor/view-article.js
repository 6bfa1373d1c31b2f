// view-article.js - #/article/12 and #/article/new: the article form with a
// live Markdown preview, save (with the revision it loaded: a 409 shows who
// won and never overwrites silently), publish, unpublish, delete, and the
// translations: listed, added from a source, and shown field by field beside
// the text being written (#/article/new?from=12&locale=pt-BR,
// #/article/13?beside=12).

import { ApiError, kb } from './api.js';
import { articleDiff, renderDiff } from './diff.js';
import {
  badge, button, confirmDialog, debounce, field, h, hashWith, notice, notify, replaceHash, select, slugify, timeEl, uid,
} from './dom.js';
import { app, categoriesFor, forgetCategories, localeOptions } from './state.js';

const TEXT_FIELDS = ['title', 'slug', 'locale', 'category', 'summary', 'body'];
const LIST_FIELDS = ['tags', 'examples'];
const LIMITS = { title: 300, summary: 2000, body: 65536, slug: 120, category: 64 };
const MAX_EXAMPLES = 100;
const encoder = new TextEncoder();

function fieldsOf(a) {
  return {
    title: a.title || '', slug: a.slug || '', locale: a.locale || '', category: a.category || '',
    summary: a.summary || '', body: a.body || '', tags: [...(a.tags || [])], examples: [...(a.examples || [])],
    answer_threshold: typeof a.answer_threshold === 'number' ? a.answer_threshold : null,
  };
}

function sameValue(a, b) {
  return Array.isArray(a) ? JSON.stringify(a) === JSON.stringify(b) : a === b;
}

function changedFields(now, base) {
  const out = {};
  for (const k of [...TEXT_FIELDS, ...LIST_FIELDS, 'answer_threshold']) if (!sameValue(now[k], base[k])) out[k] = now[k];
  return out;
}

function bytes(s) {
  return encoder.encode(s).length;
}

// The answer-threshold box: null when empty (the knowledge base's), NaN
// when it holds something that is not a number.
function thresholdValue(input) {
  if (input.validity && input.validity.badInput) return NaN;
  const t = input.value.trim();
  if (!t) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : NaN;
}

function thresholdText(v) {
  return typeof v === 'number' ? String(v) : '';
}

export async function render(ctx) {
  const id = ctx.params[0] ? Number(ctx.params[0]) : null;
  const isNew = id === null;
  let article = null; // the article as last loaded or saved (null while new)
  let translations = [];
  let renderedHtml = null;

  if (!isNew) {
    const r = await kb.get(id).catch((e) => {
      if (e.status === 404) return null;
      throw e;
    });
    if (!r) {
      ctx.setTitle('Article not found');
      ctx.root.append(h('h1', {}, 'Article not found'),
        h('p', {}, `There is no article ${id}; it may have been deleted. `, h('a', { href: '#/articles' }, 'Back to the articles.')));
      return null;
    }
    article = r.article;
    renderedHtml = r.html ?? null;
    translations = (r.translations || []).filter((t) => t.id !== article.id);
  }

  // The text shown beside the form: the source of a new translation, or a
  // translation chosen for comparison.
  const sourceId = isNew ? ctx.query.from : ctx.query.beside;
  let source = null;
  if (sourceId) source = await kb.get(sourceId).then((r) => r.article).catch(() => null);

  let initial;
  let group = null;
  if (article) {
    initial = fieldsOf(article);
  } else if (source && ctx.query.from) {
    initial = fieldsOf(source);
    initial.locale = ctx.query.locale || '';
    group = source.group || source.slug;
  } else {
    const title = ctx.query.title || '';
    initial = fieldsOf({
      title, slug: ctx.query.slug || slugify(title), locale: ctx.query.locale || app.defaultLocale,
      category: ctx.query.category || '', examples: ctx.query.example ? [ctx.query.example] : [],
    });
  }
  if (!initial.locale) initial.locale = app.defaultLocale;
  let baseline = fieldsOf(initial); // what "unsaved changes" is measured against
  let revision = article ? article.revision : null;
  let saving = false;
  let slugTouched = !isNew || Boolean(ctx.query.slug) || Boolean(source && ctx.query.from);

  // --- controls -----------------------------------------------------------
  const titleIn = h('input', { type: 'text', name: 'title', value: initial.title, required: true, autocomplete: 'off' });
  const slugIn = h('input', { type: 'text', name: 'slug', value: initial.slug, required: true, autocomplete: 'off', spellcheck: 'false', pattern: '[a-z0-9-]+', class: 'mono' });
  const localeIn = select(localeOptions(false), initial.locale, { name: 'locale', disabled: !isNew });
  const catList = h('datalist', { id: uid('cats') });
  const categoryIn = h('input', { type: 'text', name: 'category', value: initial.category, list: catList.id, autocomplete: 'off' });
  const tagsIn = h('input', { type: 'text', name: 'tags', value: initial.tags.join(', '), autocomplete: 'off' });
  const summaryIn = h('textarea', { name: 'summary', rows: '4' });
  summaryIn.value = initial.summary;
  const bodyIn = h('textarea', { name: 'body', rows: '22', class: 'mono body-input', spellcheck: 'true' });
  bodyIn.value = initial.body;
  const examples = examplesEditor(initial.examples, onEdit);
  const thresholdIn = h('input', {
    type: 'number', name: 'answer_threshold', min: '0', max: '1', step: '0.01', inputmode: 'decimal',
    value: thresholdText(initial.answer_threshold), placeholder: 'Knowledge base default', autocomplete: 'off',
  });

  const titleCount = h('span', { class: 'counter', 'aria-live': 'off' });
  const summaryCount = h('span', { class: 'counter' });
  const fields = {
    title: field('Title', titleIn, { labelExtra: titleCount }),
    slug: field('Slug', slugIn, { hint: 'Lowercase letters, digits and “-”. Part of the help-center address.' }),
    locale: field('Locale', localeIn, { hint: isNew ? null : 'Other locales are translations: add one on the right.' }),
    category: field('Category', categoryIn),
    tags: field('Tags', tagsIn, { hint: 'Separate tags with commas.' }),
    summary: field('Summary — what the bot says', summaryIn, {
      wide: true, labelExtra: summaryCount,
      hint: 'The answer the bot sends in the chat, one to three sentences. The body below is the full help-center page.',
    }),
    examples: { wrap: examples.el, control: examples.focusTarget, setError: examples.setError },
    body: field('Body (Markdown)', bodyIn, { wide: true }),
    answer_threshold: field('Answer threshold', thresholdIn, {
      hint: 'How sure (0 to 1) the bot must be to answer with this article. Higher: it offers the article as a choice instead. Empty: the knowledge base’s.',
    }),
  };

  // --- header and actions -------------------------------------------------
  const heading = h('h1', { class: 'article-title', tabindex: '-1' });
  const statusBadge = h('span');
  const meta = h('p', { class: 'article-meta' });
  const dirtyMark = h('span', { class: 'dirty-mark', hidden: true }, 'Unsaved changes');
  const saveBtn = button('Save', () => save(), { kind: 'primary', 'aria-keyshortcuts': 'Control+S' });
  const publishBtn = button('Publish', () => togglePublish(), { hidden: isNew });
  const historyLink = h('a', { class: 'btn btn-secondary', href: isNew ? '#' : `#/article/${id}/history`, hidden: isNew }, 'History');
  const helpLink = h('a', { class: 'btn btn-quiet', target: '_blank', rel: 'noopener', hidden: true }, 'View in help center');
  const deleteBtn = button('Delete', () => remove(), { kind: 'danger-quiet', hidden: isNew });
  const alerts = h('div', { class: 'alerts' });

  // --- preview ------------------------------------------------------------
  const previewId = uid('preview');
  const preview = h('div', { class: 'preview article-html', id: previewId, 'aria-labelledby': previewId + '-label', role: 'region' });
  const previewState = h('span', { class: 'preview-state', 'aria-live': 'polite' });
  let previewSeq = 0;
  const refreshPreview = debounce(async () => {
    const mine = ++previewSeq;
    previewState.textContent = 'Updating…';
    try {
      const r = await kb.preview(bodyIn.value);
      if (mine !== previewSeq) return;
      showHtml(preview, r.html || '');
      previewState.textContent = '';
    } catch (e) {
      if (mine !== previewSeq) return;
      previewState.textContent = `Preview failed: ${e.message}`;
    }
  }, 300);

  // --- layout -------------------------------------------------------------
  const sourcePane = h('div', { class: 'source-slot' });
  const aside = h('aside', { class: 'article-aside', 'aria-labelledby': 'tr-heading' });
  const form = h('form', { class: 'article-form', novalidate: true, 'aria-label': 'Article', on: { submit: (e) => { e.preventDefault(); save(); } } });

  const metaGrid = h('div', { class: 'meta-grid' },
    fields.slug.wrap, fields.locale.wrap, fields.category.wrap, fields.tags.wrap, fields.answer_threshold.wrap);
  fields.category.wrap.append(catList);
  const titleRow = pairRow('title', fields.title.wrap);
  const summaryRow = pairRow('summary', fields.summary.wrap);
  const examplesRow = pairRow('examples', fields.examples.wrap);
  const bodySplit = h('div', { class: 'body-split' },
    h('div', { class: 'body-source-slot' }),
    h('div', { class: 'body-write' }, fields.body.wrap),
    h('section', { class: 'body-preview', 'aria-labelledby': previewId + '-label' },
      h('div', { class: 'preview-head' }, h('h2', { id: previewId + '-label', class: 'label-like' }, 'Preview'), previewState),
      preview));
  form.append(titleRow, metaGrid, summaryRow, examplesRow, bodySplit);

  ctx.root.append(
    h('div', { class: 'article-page' },
      h('div', { class: 'article-head' },
        h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/articles' }, 'Articles'), h('span', { 'aria-hidden': 'true' }, ' / ')),
        h('div', { class: 'article-head-row' },
          h('div', { class: 'article-head-text' }, h('div', { class: 'title-line' }, heading, statusBadge), h('div', { class: 'meta-line' }, meta, dirtyMark)),
          h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Article actions' }, saveBtn, publishBtn, historyLink, helpLink, deleteBtn))),
      alerts,
      h('div', { class: 'article-layout' }, h('div', { class: 'article-main' }, sourcePane, form), aside)));

  // --- behaviour ----------------------------------------------------------
  function values() {
    return {
      title: titleIn.value.trim(),
      slug: slugIn.value.trim(),
      locale: localeIn.value,
      category: categoryIn.value.trim(),
      tags: tagsIn.value.split(',').map((t) => t.trim()).filter(Boolean),
      summary: summaryIn.value.trim(),
      examples: examples.values(),
      body: bodyIn.value,
      answer_threshold: thresholdValue(thresholdIn),
    };
  }

  function fill(v) {
    titleIn.value = v.title;
    slugIn.value = v.slug;
    localeIn.value = v.locale;
    categoryIn.value = v.category;
    tagsIn.value = v.tags.join(', ');
    summaryIn.value = v.summary;
    examples.set(v.examples);
    bodyIn.value = v.body;
    thresholdIn.value = thresholdText(v.answer_threshold);
    refreshPreview();
    onEdit();
  }

  function isDirty() {
    return Object.keys(changedFields(values(), baseline)).length > 0;
  }

  function onEdit() {
    dirtyMark.hidden = !isDirty();
    titleCount.textContent = `${bytes(titleIn.value)} / ${LIMITS.title}`;
    summaryCount.textContent = `${bytes(summaryIn.value)} / ${LIMITS.summary}`;
    titleCount.classList.toggle('over', bytes(titleIn.value) > LIMITS.title);
    summaryCount.classList.toggle('over', bytes(summaryIn.value) > LIMITS.summary);
  }

  function updateHeader() {
    const v = values();
    heading.textContent = isNew ? (source && ctx.query.from ? `New translation (${v.locale})` : 'New article') : (article.title || '(untitled)');
    ctx.setTitle(isNew ? heading.textContent : article.title);
    statusBadge.replaceChildren(badge(isNew ? 'draft' : article.status));
    if (isNew) {
      meta.replaceChildren('Not saved yet');
    } else {
      meta.replaceChildren(h('span', { class: 'locale' }, article.locale), ` · revision ${article.revision} · saved `,
        timeEl(article.updated_at), article.author ? ` by ${article.author}` : '');
    }
    publishBtn.hidden = isNew;
    if (!isNew) publishBtn.textContent = article.status === 'published' ? 'Unpublish' : 'Publish';
    helpLink.hidden = isNew || article.status !== 'published';
    if (!isNew) helpLink.href = `/help/${encodeURIComponent(article.locale)}/${encodeURIComponent(article.slug)}`;
  }

  // After a save: the server's article is the new baseline; the form takes
  // its (normalised) values unless the editor typed on meanwhile.
  function setLoaded(a, sent) {
    article = a;
    revision = a.revision;
    const server = fieldsOf(a);
    if (!sent || Object.keys(changedFields(values(), sent)).length === 0) fill(server);
    baseline = server;
    updateHeader();
    onEdit();
  }

  function clearErrors() {
    alerts.replaceChildren();
    for (const f of Object.values(fields)) f.setError('');
  }

  function showError(e, what) {
    const key = e instanceof ApiError ? e.field : null;
    const target = key && fields[key];
    if (target) {
      target.setError(e.message.replace(/^[a-z_]+(\[\d+\])?:\s*/, ''));
      alerts.replaceChildren(notice('error', `${what}: ${e.message}`));
      target.control.focus();
    } else {
      alerts.replaceChildren(notice('error', `${what}: ${e.message}`));
    }
  }

  function checkLocally(v) {
    const problems = [];
    if (!v.title) problems.push(['title', 'is required']);
    if (!v.slug) problems.push(['slug', 'is required']);
    else if (!/^[a-z0-9-]+$/.test(v.slug)) problems.push(['slug', 'use only lowercase letters, digits and “-”']);
    for (const [k, max] of Object.entries(LIMITS)) if (bytes(v[k]) > max) problems.push([k, `is longer than ${max} bytes`]);
    if (v.examples.length > MAX_EXAMPLES) problems.push(['examples', `at most ${MAX_EXAMPLES} example questions`]);
    const t = v.answer_threshold;
    if (t !== null && !(t >= 0 && t <= 1)) problems.push(['answer_threshold', 'must be a number from 0 to 1, or empty for the knowledge base’s']);
    for (const [k, msg] of problems) fields[k].setError(msg);
    if (problems.length) {
      alerts.replaceChildren(notice('error', 'Not saved: ' + problems.map(([k, m]) => `${k}: ${m}`).join('; ')));
      fields[problems[0][0]].control.focus();
    }
    return problems.length === 0;
  }

  function setBusy(on) {
    saving = on;
    for (const b of [saveBtn, publishBtn, deleteBtn]) b.setAttribute('aria-disabled', on ? 'true' : 'false');
    saveBtn.textContent = on ? 'Saving…' : 'Save';
  }

  // Saves; resolves true when the server has the form's text.
  async function save({ quietUnchanged = false } = {}) {
    if (saving) return false;
    clearErrors();
    const v = values();
    if (!checkLocally(v)) return false;
    setBusy(true);
    try {
      if (isNew) {
        const fieldsToSend = { ...v, status: 'draft' };
        if (group) fieldsToSend.group = group;
        if (!fieldsToSend.category) delete fieldsToSend.category;
        if (fieldsToSend.answer_threshold === null) delete fieldsToSend.answer_threshold;
        const r = await kb.create(fieldsToSend);
        baseline = v; // nothing left unsaved: the router may leave
        forgetCategories();
        notify(`Created “${r.article.title}” as a draft.`);
        location.hash = hashWith(`/article/${r.article.id}`, { beside: source ? source.id : '' });
        return true;
      }
      const changes = changedFields(v, baseline);
      if (!Object.keys(changes).length) {
        if (!quietUnchanged) notify('No changes to save.');
        return true;
      }
      const r = await kb.update(article.id, revision, changes);
      setLoaded(r.article, v);
      if (changes.category !== undefined) forgetCategories();
      notify(r.change === 'unchanged' ? 'No changes to save.' : `Saved: revision ${r.article.revision}.`);
      return true;
    } catch (e) {
      if (e.status === 409 && e.code === 'conflict' && !isNew) {
        let theirs = e.body && e.body.current;
        if (!theirs) theirs = await kb.get(article.id).then((x) => x.article).catch(() => null);
        showConflict(theirs);
      } else if (e.status === 409) {
        fields.slug.setError(`Another ${v.locale} article already uses the slug “${v.slug}”.`);
        alerts.replaceChildren(notice('error', `Not saved: ${e.message}`));
        slugIn.focus();
      } else {
        showError(e, 'Not saved');
      }
      return false;
    } finally {
      setBusy(false);
    }
  }

  function showConflict(theirs) {
    const n = theirs ? theirs.revision : '?';
    const diffBox = h('div', { class: 'conflict-diff' });
    const panel = h('section', { class: 'conflict', role: 'alert', 'aria-labelledby': 'conflict-title' },
      h('h2', { id: 'conflict-title' }, 'Not saved: this article changed while you were editing'),
      h('p', { class: 'conflict-message' },
        `Someone else saved this article (revision ${n}) while you were editing.`,
        theirs && theirs.author ? ` The last save was by ${theirs.author}.` : '',
        ' Your changes are still here and have not been saved.'),
      h('div', { class: 'conflict-actions' },
        button('Reload their version', async () => {
          const ok = await confirmDialog({
            title: 'Reload their version?', message: 'Your unsaved changes to this article will be discarded.',
            confirmLabel: 'Discard mine and reload', danger: true,
          });
          if (!ok) return;
          const fresh = await kb.get(article.id).catch(() => null);
          const a = fresh ? fresh.article : theirs;
          if (fresh) {
            translations = (fresh.translations || []).filter((t) => t.id !== a.id);
            renderAside();
          }
          setLoaded(a);
          alerts.replaceChildren();
          notify(`Loaded revision ${a.revision}.`);
          titleIn.focus();
        }),
        button('Show differences', () => {
          if (!theirs) return;
          const mine = values();
          diffBox.replaceChildren(
            h('p', { class: 'diff-legend' }, h('span', { class: 'diff-key diff-del' }, '− their revision ' + n),
              ' ', h('span', { class: 'diff-key diff-add' }, '+ your unsaved text')),
            renderDiff(articleDiff(theirs, mine)),
            h('div', { class: 'conflict-actions' },
              button('Save mine over theirs', async () => {
                const ok = await confirmDialog({
                  title: `Replace revision ${n}?`,
                  message: `Your text becomes the next revision; what revision ${n} changed is replaced. It stays in the history.`,
                  confirmLabel: 'Save mine', danger: true,
                });
                if (!ok) return;
                baseline = fieldsOf(theirs);
                revision = theirs.revision;
                await save();
              }, { kind: 'danger-quiet' })));
        }, { kind: 'primary' })),
      diffBox);
    alerts.replaceChildren(panel);
    panel.scrollIntoView({ block: 'nearest' });
  }

  async function togglePublish() {
    if (saving || isNew) return;
    if (isDirty() && !(await save({ quietUnchanged: true }))) return;
    const publishing = article.status !== 'published';
    setBusy(true);
    try {
      const r = publishing ? await kb.publish(article.id, revision) : await kb.unpublish(article.id, revision);
      setLoaded(r.article);
      notify(publishing ? `Published: the bot and the help center use revision ${r.article.revision}.` : 'Unpublished: the article is a draft again.');
    } catch (e) {
      if (e.status === 409 && e.code === 'conflict') showConflict(e.body && e.body.current);
      else showError(e, publishing ? 'Not published' : 'Not unpublished');
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (saving || isNew) return;
    const ok = await confirmDialog({
      title: `Delete “${article.title}”?`,
      message: `The ${article.locale} article “${article.slug}” and its history are deleted for good. Its translations stay.`,
      confirmLabel: 'Delete article', danger: true,
    });
    if (!ok) return;
    try {
      await kb.remove(article.id);
      baseline = values();
      notify(`Deleted “${article.title}”.`);
      location.hash = '#/articles';
    } catch (e) {
      showError(e, 'Not deleted');
    }
  }

  // --- translations ---------------------------------------------------------
  function renderAside() {
    const items = translations.map((t) => h('li', { class: 'tr-item' },
      h('div', { class: 'tr-line' }, h('span', { class: 'locale' }, t.locale), ' ',
        h('a', { href: `#/article/${t.id}` }, t.title || t.slug)),
      h('div', { class: 'tr-line' }, badge(t.status), isNew ? null : button(source && source.id === t.id ? 'Hide' : 'Show beside', () => toggleBeside(t.id), {
        kind: 'quiet', class: 'btn btn-quiet btn-small', 'aria-label': `${source && source.id === t.id ? 'Hide' : 'Show beside'}: the ${t.locale} translation`,
      }))));
    const have = new Set([article ? article.locale : values().locale, ...translations.map((t) => t.locale)]);
    const missing = app.locales.filter((l) => !have.has(l));
    let adder;
    if (isNew) {
      adder = h('p', { class: 'muted' }, source && ctx.query.from
        ? `Translating “${source.title}” (${source.locale}). Save to create the ${values().locale} article in the same group.`
        : 'Save the article first, then add its translations here.');
    } else if (missing.length) {
      const which = select(missing, missing[0], { id: uid('tr-locale') });
      adder = h('div', { class: 'tr-add' },
        h('label', { htmlFor: which.id }, 'Add a translation into'),
        h('div', { class: 'inline' }, which,
          button('Add translation', () => {
            location.hash = hashWith('/article/new', { from: article.id, locale: which.value });
          })));
    } else {
      adder = h('p', { class: 'muted' }, 'This article exists in every locale.');
    }
    aside.replaceChildren(
      h('h2', { id: 'tr-heading' }, 'Translations'),
      items.length ? h('ul', { class: 'tr-list' }, items) : h('p', { class: 'muted' }, isNew ? 'None yet.' : 'No translations yet.'),
      adder,
      isNew ? null : h('p', { class: 'aside-note' }, h('a', { href: `#/try?${new URLSearchParams({ locale: article.locale, q: (article.examples || [])[0] || article.title })}` }, 'Try this article’s first question')));
  }

  async function toggleBeside(tid) {
    if (source && source.id === tid) {
      source = null;
      replaceHash(hashWith(`/article/${id}`, {}));
    } else {
      source = await kb.get(tid).then((r) => r.article).catch((e) => {
        notify(`The translation could not be loaded: ${e.message}`, 'error');
        return null;
      });
      if (!source) return;
      replaceHash(hashWith(`/article/${id}`, { beside: tid }));
    }
    renderSource();
    renderAside();
  }

  // The source text, field by field, next to the field it is translated into.
  function renderSource() {
    const on = Boolean(source);
    ctx.root.querySelector('.article-page').classList.toggle('with-source', on);
    for (const row of [titleRow, summaryRow, examplesRow]) row.querySelector('.source-cell').replaceChildren();
    const bodySlot = bodySplit.querySelector('.body-source-slot');
    bodySlot.replaceChildren();
    sourcePane.replaceChildren();
    if (!on) return;
    const label = isNew && ctx.query.from ? 'Source' : 'Beside';
    sourcePane.append(h('div', { class: 'source-banner' },
      h('p', {}, `${label}: `, h('span', { class: 'locale' }, source.locale), ' ',
        h('a', { href: `#/article/${source.id}` }, source.title), ` (revision ${source.revision})`),
      isNew ? null : button('Hide', () => toggleBeside(source.id), { kind: 'quiet', class: 'btn btn-quiet btn-small' })));
    const cell = (row, name, content) => row.querySelector('.source-cell').append(
      h('div', { class: 'source-field', lang: source.locale },
        h('div', { class: 'source-label' }, `${name} · ${source.locale}`), content));
    cell(titleRow, 'Title', h('p', { class: 'source-text' }, source.title));
    cell(summaryRow, 'Summary', h('p', { class: 'source-text' }, source.summary || '—'));
    cell(examplesRow, 'Example questions', (source.examples || []).length
      ? h('ul', { class: 'source-list' }, source.examples.map((x) => h('li', {}, x))) : h('p', { class: 'muted' }, 'None'));
    bodySlot.append(h('div', { class: 'source-field', lang: source.locale },
      h('div', { class: 'source-label' }, `Body · ${source.locale}`),
      h('pre', { class: 'source-body mono' }, source.body || '')));
  }

  // --- events -------------------------------------------------------------
  form.addEventListener('input', (e) => {
    if (e.target === titleIn && !slugTouched) slugIn.value = slugify(titleIn.value);
    if (e.target === slugIn) slugTouched = true;
    if (e.target === bodyIn) refreshPreview();
    if (e.target === localeIn) renderAside();
    onEdit();
    if (isNew) updateHeader();
  });
  form.addEventListener('change', (e) => {
    if (e.target === localeIn) {
      fillCategories();
      renderAside();
      updateHeader();
    }
  });
  const onKey = (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 's') {
      e.preventDefault();
      save();
    }
  };
  document.addEventListener('keydown', onKey);

  // The knowledge base's threshold, as the placeholder of the empty box:
  // "try" answers with it whatever the question ("?" searches nothing).
  async function showDefaultThreshold() {
    const r = await kb.try('?', localeIn.value).catch(() => null);
    if (r && typeof r.answer_threshold === 'number') {
      thresholdIn.placeholder = `default ${r.answer_threshold}`;
      fields.answer_threshold.wrap.dataset.default = String(r.answer_threshold);
    }
  }

  async function fillCategories() {
    const cats = await categoriesFor(localeIn.value);
    catList.replaceChildren(...cats.map((c) => h('option', { value: c.slug }, c.name || c.slug)));
  }

  updateHeader();
  renderAside();
  renderSource();
  onEdit();
  fillCategories();
  showDefaultThreshold();
  if (renderedHtml !== null) showHtml(preview, renderedHtml);
  else if (initial.body) refreshPreview();
  (isNew ? titleIn : heading).focus();

  return {
    canLeave: () => !isDirty(),
    leave: () => {
      refreshPreview.cancel();
      document.removeEventListener('keydown', onKey);
    },
  };
}

// One row of the form: the source text (when translating) beside the field.
function pairRow(name, fieldWrap) {
  return h('div', { class: 'pair-row', dataset: { field: name } }, h('div', { class: 'source-cell' }), h('div', { class: 'pair-field' }, fieldWrap));
}

// The server's sanitised rendering of the body. It is the only HTML the
// editor inserts; it is parsed inert in a <template> and stripped of
// anything active once more before it reaches the page.
function showHtml(target, html) {
  const t = document.createElement('template');
  t.innerHTML = html;
  for (const el of t.content.querySelectorAll('script, style, iframe, object, embed, form, input, button, textarea, select, link, meta, base'))
    el.remove();
  for (const el of t.content.querySelectorAll('*')) {
    for (const attr of [...el.attributes]) {
      const n = attr.name.toLowerCase();
      const v = attr.value.replace(/[\s\u0000-\u001f]/g, '').toLowerCase();
      if (n.startsWith('on') || n === 'style' || n === 'srcdoc' || ((n === 'href' || n === 'src' || n === 'xlink:href' || n === 'action') && /^(javascript|vbscript|data):/.test(v)))
        el.removeAttribute(attr.name);
    }
    if (el.tagName === 'A') {
      el.setAttribute('target', '_blank');
      el.setAttribute('rel', 'noopener noreferrer');
    }
  }
  target.replaceChildren(t.content);
}

// The example questions: one text box each, with Remove, and a box to add one.
function examplesEditor(initial, onChange) {
  const headingId = uid('ex');
  const list = h('ol', { class: 'examples-list', 'aria-labelledby': headingId });
  const addIn = h('input', { type: 'text', id: uid('ex-new'), placeholder: 'e.g. where is my order', autocomplete: 'off' });
  const err = h('p', { class: 'field-error', hidden: true, id: uid('ex-err') });
  const count = h('span', { class: 'counter' });

  function renumber() {
    [...list.children].forEach((li, i) => {
      li.querySelector('input').setAttribute('aria-label', `Example question ${i + 1}`);
      li.querySelector('button').setAttribute('aria-label', `Remove example question ${i + 1}: ${li.querySelector('input').value}`);
    });
    count.textContent = `${list.children.length} / ${MAX_EXAMPLES}`;
  }

  function row(text) {
    const input = h('input', { type: 'text', value: text, autocomplete: 'off', class: 'example-input' });
    const li = h('li', { class: 'example-row' }, input);
    li.append(button('Remove', () => {
      const next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      renumber();
      onChange();
      (next ? next.querySelector('input') : addIn).focus();
    }, { kind: 'quiet', class: 'btn btn-quiet btn-small' }));
    input.addEventListener('input', renumber);
    return li;
  }

  function add() {
    const text = addIn.value.trim();
    if (!text) {
      addIn.focus();
      return;
    }
    list.append(row(text));
    addIn.value = '';
    renumber();
    onChange();
    addIn.focus();
  }

  addIn.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      add();
    }
  });

  const el = h('div', { class: 'field field-wide examples' },
    h('div', { class: 'field-label-row' }, h('span', { class: 'label-like', id: headingId }, 'Example questions'), count),
    h('p', { class: 'hint' }, 'Questions customers ask in their own words. The bot matches new questions against them.'),
    list,
    h('div', { class: 'example-add' },
      h('label', { htmlFor: addIn.id, class: 'sr-only' }, 'New example question'), addIn,
      button('Add example', add)),
    err);

  const api = {
    el,
    focusTarget: addIn,
    values: () => [...list.querySelectorAll('input')].map((i) => i.value.trim()).filter(Boolean),
    set(arr) {
      list.replaceChildren(...arr.map(row));
      renumber();
    },
    setError(msg) {
      err.textContent = msg || '';
      err.hidden = !msg;
    },
  };
  api.set(initial);
  return api;
}

// dom.js - building the page without innerHTML: h() makes elements whose
// text always goes in as text; plus form fields with labels and error slots,
// a modal confirmation, the status toast, and time and number formatting.

import { h, append, uid, button, formatTime } from '/static/shared/dom.js';

export { h, append, uid, select, button, notice, formatTime, fraction, debounce } from '/static/shared/dom.js';
// the editor calls the shared toast notify
export { toast as notify } from '/static/shared/dom.js';

// A labelled control with an optional hint and an error slot, wired with
// aria-describedby. Returns {wrap, control, setError(msg)}.
export function field(label, control, { hint, wide, labelExtra } = {}) {
  const id = control.id || (control.id = uid('field'));
  const hintEl = hint ? h('p', { class: 'hint', id: id + '-hint' }, hint) : null;
  const errEl = h('p', { class: 'field-error', id: id + '-error', hidden: true });
  const described = [hintEl && hintEl.id].filter(Boolean);
  if (described.length) control.setAttribute('aria-describedby', described.join(' '));
  const wrap = h('div', { class: ['field', wide && 'field-wide'] },
    h('div', { class: 'field-label-row' }, h('label', { htmlFor: id }, label), labelExtra || null),
    control, hintEl, errEl);
  return {
    wrap,
    control,
    setError(msg) {
      errEl.textContent = msg || '';
      errEl.hidden = !msg;
      if (msg) {
        control.setAttribute('aria-invalid', 'true');
        control.setAttribute('aria-describedby', [...described, errEl.id].join(' '));
      } else {
        control.removeAttribute('aria-invalid');
        if (described.length) control.setAttribute('aria-describedby', described.join(' '));
        else control.removeAttribute('aria-describedby');
      }
    },
  };
}

export function badge(status) {
  const names = { published: 'Published', draft: 'Draft', archived: 'Archived' };
  return h('span', { class: `badge badge-${status || 'unknown'}` }, names[status] || status || '—');
}

// A modal question; resolves true when confirmed. Esc or Cancel → false.
export function confirmDialog({ title, message, confirmLabel = 'OK', cancelLabel = 'Cancel', danger = false }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const cancel = button(cancelLabel, () => dlg.close('cancel'));
    const ok = button(confirmLabel, () => dlg.close('ok'), { kind: danger ? 'danger' : 'primary' });
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title),
      typeof message === 'string' ? h('p', {}, message) : message,
      h('div', { class: 'dialog-actions' }, cancel, ok));
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(dlg.returnValue === 'ok');
    });
    document.body.append(dlg);
    dlg.showModal();
    (danger ? cancel : ok).focus();
  });
}

// A modal with a custom form. build(dlg, close) returns the content nodes;
// the promise resolves with whatever close(value) is given (null on Esc).
export function formDialog(title, build) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    let result = null;
    const dlg = h('dialog', { class: 'dialog dialog-wide', 'aria-labelledby': titleId });
    const close = (value) => {
      result = value;
      dlg.close();
    };
    append(dlg, [h('h2', { id: titleId }, title), build(dlg, close)]);
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(result);
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

const relFmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function relativeTime(ms, now = Date.now()) {
  if (!ms) return '—';
  const s = Math.round((ms - now) / 1000);
  const steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [7, 'day'], [4.35, 'week'], [12, 'month'], [Infinity, 'year']];
  let v = s;
  for (const [n, unit] of steps) {
    if (Math.abs(v) < n) return relFmt.format(Math.round(v), unit);
    v /= n;
  }
  return formatTime(ms);
}

// <time> showing "5 minutes ago" with the exact time as its tooltip.
export function timeEl(ms) {
  if (!ms) return h('span', {}, '—');
  return h('time', { datetime: new Date(ms).toISOString(), title: formatTime(ms) }, relativeTime(ms));
}

// Confidences come as 0..1; shown as whole percentages.
export function percent(x) {
  if (typeof x !== 'number' || Number.isNaN(x)) return '—';
  const v = x <= 1 ? x * 100 : x;
  return `${Math.round(v)}%`;
}

// "How do I track my order?" → "how-do-i-track-my-order"
export function slugify(text) {
  return text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 120).replace(/-+$/, '');
}

export function parseHashQuery(q) {
  return Object.fromEntries(new URLSearchParams(q || ''));
}

export function hashWith(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return '#' + path + (s ? '?' + s : '');
}

// Changes the address without running the router (filters, the try box).
export function replaceHash(hash) {
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

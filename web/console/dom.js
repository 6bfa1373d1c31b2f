// dom.js - the console's page building: the staff pages' shared helpers
// (/static/shared/dom.js: h() puts every string in as text, so customer and
// agent text can never become markup) plus links that only allow http/https,
// the toast, dialogs and time formatting.

import { h, append, uid, formatTime, fraction } from '/static/shared/dom.js';

export { h, append, uid, select, button, notice, formatTime, fraction, debounce, toast } from '/static/shared/dom.js';

// The URL when it is an absolute http(s) one (relative ones resolve against
// this page), else null: javascript:, data: and the like never become links.
export function safeUrl(u) {
  if (typeof u !== 'string' || !u) return null;
  try {
    const url = new URL(u, location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

// <a> to an http(s) URL opening in a new tab, or plain text when the URL is not one.
export function link(url, text) {
  const href = safeUrl(url);
  if (!href) return h('span', {}, text || url || '');
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, text || href);
}

// A labelled control; returns its wrapper.
export function field(label, control, { hint } = {}) {
  const id = control.id || (control.id = uid('field'));
  return h('div', { class: 'field' }, h('label', { htmlFor: id }, label), control,
    hint ? h('p', { class: 'hint' }, hint) : null);
}

// A modal with a custom form. build(close) returns the content nodes; the
// promise resolves with whatever close(value) is given (null on Esc).
export function formDialog(title, build) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    let result = null;
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId });
    const close = (value) => {
      result = value;
      dlg.close();
    };
    append(dlg, [h('h2', { id: titleId }, title), build(close)]);
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(result);
    });
    document.body.append(dlg);
    dlg.showModal();
    const first = dlg.querySelector('input, select, textarea, button');
    if (first) first.focus();
  });
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

// <time> with the clock time (and the day when it is not today), the full date as its tooltip.
export function timeEl(ms) {
  if (!ms) return h('span', {}, '');
  const d = new Date(ms);
  const today = d.toDateString() === new Date().toDateString();
  return h('time', { datetime: d.toISOString(), title: formatTime(ms) }, (today ? timeFmt : dayFmt).format(d));
}

// 75 → "1:15", 3725 → "1:02:05"; negative values get a leading "−".
export function duration(s) {
  const neg = s < 0;
  let v = Math.abs(Math.round(s));
  const hh = Math.floor(v / 3600);
  v -= hh * 3600;
  const mm = Math.floor(v / 60);
  const ss = v - mm * 60;
  const pad = (n) => String(n).padStart(2, '0');
  return (neg ? '−' : '') + (hh ? `${hh}:${pad(mm)}:${pad(ss)}` : `${mm}:${pad(ss)}`);
}

export function percent(x) {
  return `${Math.round(fraction(x) * 100)}%`;
}

export function clientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

// dom.js - the staff pages' shared way of building the page without
// innerHTML (the editor's and the console's dom.js re-export these): h()
// puts every string in as text, so customer and editor text never becomes
// markup; plus buttons, selects, notices and small formatting helpers.

// Set as properties, not attributes (h() below).
const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'htmlFor',
  'tabIndex', 'required', 'multiple', 'readOnly', 'open']);
let seq = 0; // uid()
const absFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

// h('button', {class: 'btn', on: {click}}, 'Save') → <button class="btn">Save</button>.
// Children may be strings (inserted as text), nodes, arrays, or null/false (skipped).
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function uid(prefix = 'f') {
  seq += 1;
  return `${prefix}-${seq}`;
}

export function select(options, value, props = {}) {
  const el = h('select', props);
  for (const o of options) {
    const [v, label] = Array.isArray(o) ? o : [o, o];
    el.append(h('option', { value: v, selected: v === value }, label));
  }
  if (value !== undefined) el.value = value;
  return el;
}

export function button(label, onClick, { kind = 'secondary', type = 'button', ...props } = {}) {
  return h('button', { type, class: `btn btn-${kind}`, on: onClick ? { click: onClick } : undefined, ...props }, label);
}

export function notice(kind, ...children) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : null }, children);
}

export function formatTime(ms) {
  return ms ? absFmt.format(new Date(ms)) : '—';
}

export function fraction(x) {
  if (typeof x !== 'number' || Number.isNaN(x)) return 0;
  return Math.max(0, Math.min(1, x <= 1 ? x : x / 100));
}

export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

let toastTimer = null;
// A short message in the polite live region at the bottom of the page.
export function toast(text, kind = 'ok') {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = text;
  el.dataset.kind = kind;
  el.classList.add('toast-visible');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('toast-visible'), kind === 'error' ? 9000 : 5000);
}

// widget.js - the Switchboard chat widget for any web page (docs/widget.md):
//   <script src="https://HOST/widget.js" data-site="demo" async></script>
// One file, no build step, no globals: a launcher and a chat panel in an open
// shadow root on <div id="switchboard-widget">. Customer, bot and agent text
// always goes in with textContent. Every typed message waits in a
// localStorage outbox under a client_id until the server has stored it, so a
// reload, a dropped network or a server restart loses nothing; the event
// stream resumes from the last event id and messages are deduplicated by id.

(() => {
  'use strict';

  const me = document.currentScript || document.querySelector('script[src*="widget.js"][data-site]');
  if (!me || !me.dataset.site || !window.fetch || !document.documentElement.attachShadow) return;
  const D = me.dataset;
  const SITE = D.site;
  const ORIGIN = new URL(me.src, location.href).origin;
  const API = ORIGIN + '/api/v1';
  const KEY = 'switchboard:' + SITE;
  const PKEY = KEY + ':proactive-dismissed';
  const FILE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'];
  const EVENTS = ['conversation/started', 'message/inbound', 'message/outbound', 'conversation/handoff',
    'conversation/reopened', 'conversation/assigned', 'conversation/resolved', 'queue/position',
    'message/delivered', 'message/read', 'typing'];

  // The customer's words, per locale: the server fills them in from its
  // catalogues (web/locales) with its fallback rule when it serves this file.
  const STR = /*sb:words*/{};
  // The locales it offers, their names, which of them any locale stands
  // for, and the last resort: {"offered": [...], "names": {...}, "of":
  // {tag: locale}, "last": "en"}, made by the server's one fallback rule
  // (base/words.c, sb_locale_table).
  const LOC = /*sb:locales*/{};
  const LAST = LOC.last || 'en';
  const LOCALES = LOC.offered || [LAST];

  const CSS = `
:host{all:initial!important;display:block!important;position:static!important;contain:none!important}
.sb{--a:#2457d6;--af:#fff;--bg:#fff;--fg:#1b1f24;--mu:#4a5360;--sf:#f3f5f8;--bd:#cfd5dd;--fc:#f2a900;--ln:#0b57c2;
 all:initial;position:fixed;z-index:2147483000;bottom:20px;right:20px;left:auto;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;
 color:var(--fg);text-align:left;direction:ltr;letter-spacing:normal;word-spacing:normal;text-transform:none;font-style:normal;font-weight:400;
 -webkit-text-size-adjust:100%;display:flex;flex-direction:column;align-items:flex-end;gap:12px;pointer-events:none}
.sb.left{right:auto;left:20px;align-items:flex-start}
@media (prefers-color-scheme:dark){.sb{--bg:#14171b;--fg:#e9edf1;--mu:#b3bcc7;--sf:#1e2329;--bd:#3b444f;--fc:#ffd166;--ln:#8ab8ff}}
*,*::before,*::after{box-sizing:border-box}
.sb>*{pointer-events:auto}
[hidden]{display:none!important}
button,select,textarea,input{font:inherit;color:inherit;margin:0;text-transform:none;letter-spacing:normal}
button{cursor:pointer;display:inline-flex;align-items:center;justify-content:center;visibility:visible;opacity:1}
:focus-visible{outline:3px solid var(--fc);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.launcher{width:56px;height:56px;border-radius:50%;border:0;background:var(--a);color:var(--af);box-shadow:0 4px 14px rgba(0,0,0,.25);position:relative;padding:0}
.launcher svg{width:28px;height:28px;fill:currentColor}
.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#c0262d;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center}
.panel{width:370px;height:min(600px,calc(100vh - 110px));background:var(--bg);color:var(--fg);border:1px solid var(--bd);border-radius:14px;
 box-shadow:0 10px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;animation:sb-in .18s ease-out}
@keyframes sb-in{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}
.head{background:var(--a);color:var(--af);padding:10px 10px 10px 16px;display:flex;align-items:center;gap:8px}
.titles{flex:1;min-width:0}
.title{font-size:17px;font-weight:700;margin:0;line-height:1.3}
.sub{font-size:13px;margin:0;opacity:.92;line-height:1.3}
.lang{background:transparent;color:var(--af);border:1px solid currentColor;border-radius:6px;padding:2px 4px;font-size:13px;max-width:92px;display:inline-block}
.lang option{color:#1b1f24;background:#fff}
.x{background:transparent;border:0;color:inherit;width:34px;height:34px;border-radius:6px;font-size:24px;line-height:1;padding:0}
.status{background:var(--sf);border-bottom:1px solid var(--bd);padding:8px 16px;font-size:13px;color:var(--mu);display:block}
.log{flex:1;overflow-y:auto;padding:14px 12px;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}
.msg{display:flex;flex-direction:column;max-width:85%;align-items:flex-start}
.msg.me{align-self:flex-end;align-items:flex-end}
.msg.system{align-self:center;max-width:92%;align-items:center}
.who{font-size:12px;color:var(--mu);margin:0 4px 2px}
.bubble{background:var(--sf);color:var(--fg);border:1px solid var(--bd);border-radius:14px 14px 14px 4px;padding:8px 12px;overflow-wrap:anywhere;display:block}
.me .bubble{background:var(--a);color:var(--af);border-color:var(--a);border-radius:14px 14px 4px 14px}
.system .bubble{background:transparent;border-style:dashed;text-align:center;font-size:14px;color:var(--mu)}
.text{white-space:pre-wrap;margin:0;display:block}
.meta{font-size:11px;color:var(--mu);margin:3px 4px 0;display:flex;gap:6px}
.msg[data-receipt="failed"] .receipt{color:#c0262d;font-weight:600}
.card{display:block;margin-top:8px;background:var(--bg);color:var(--fg);border:1px solid var(--bd);border-left:4px solid var(--a);border-radius:8px;padding:8px 10px;text-decoration:none}
.card:hover .ct{text-decoration:underline}
.ct{display:block;font-weight:600;color:var(--ln)}
.cs{display:block;font-size:13px;color:var(--mu);margin-top:2px}
.thumb{display:block;margin-top:6px}
.thumb img{display:block;max-width:200px;max-height:160px;border-radius:8px;border:1px solid var(--bd)}
.qr{display:flex;flex-wrap:wrap;gap:6px;padding:0 12px 10px;justify-content:flex-end}
.qr p{flex-basis:100%;margin:0;font-size:13px;color:var(--mu);text-align:right}
.qr button{border:1px solid var(--a);background:var(--bg);color:var(--ln);border-radius:16px;padding:5px 12px;font-size:14px}
.qr button:hover{background:var(--sf)}
.typing{padding:0 16px 6px;font-size:13px;color:var(--mu);display:flex;align-items:center;gap:6px}
.dots{display:inline-flex;gap:3px}
.dots i{width:6px;height:6px;border-radius:50%;background:var(--mu);animation:sb-b 1s infinite ease-in-out}
.dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}
@keyframes sb-b{0%,80%,100%{opacity:.3}40%{opacity:1}}
.notice{margin:0 12px 8px;padding:6px 10px;border-radius:8px;background:#fff6d6;color:#1b1f24;border:1px solid #b58100;font-size:13px;display:block}
.compose{display:flex;align-items:flex-end;gap:6px;padding:10px;border-top:1px solid var(--bd);background:var(--bg)}
.compose textarea{flex:1;resize:none;min-height:40px;max-height:120px;border:1px solid var(--bd);border-radius:10px;padding:9px 10px;background:var(--bg);color:var(--fg);font-size:15px;line-height:1.4;display:block}
.icon{width:40px;height:40px;border-radius:10px;border:1px solid var(--bd);background:var(--bg);color:var(--fg);padding:0;flex:none}
.icon svg{width:20px;height:20px;fill:currentColor}
.send{background:var(--a);color:var(--af);border-color:var(--a)}
.pro{max-width:300px;background:var(--bg);color:var(--fg);border:1px solid var(--bd);border-radius:12px;padding:12px 36px 12px 14px;box-shadow:0 6px 24px rgba(0,0,0,.2);position:relative;display:block}
.pro .text{cursor:pointer;background:none;border:0;padding:0;text-align:left;color:inherit;font-size:15px}
.pro .x{position:absolute;top:4px;right:4px;width:28px;height:28px;font-size:20px;color:var(--mu)}
@media (max-width:480px){.sb{right:12px;bottom:12px}.sb.left{left:12px}
 .panel{position:fixed;inset:0;width:100%;height:100%;border-radius:0;border:0}.open .launcher{display:none}.pro{max-width:calc(100vw - 24px)}}
@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important}}
`;

  // ---- small helpers ------------------------------------------------------

  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === 'hidden' || k === 'value' || k === 'disabled') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of kids.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
    return el;
  }

  function icon(d) {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const p = document.createElementNS(NS, 'path');
    p.setAttribute('d', d);
    svg.append(p);
    return svg;
  }
  const I_CHAT = 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z';
  const I_SEND = 'M3 20.5 21 12 3 3.5 3 10l12 2-12 2z';
  const I_CLIP = 'M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z';

  const enc = encodeURIComponent;

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  // The offered locale that l ("pt-PT", "pt_AO", "en-US") stands for, or
  // null: the server's table has every offered tag and language, and the
  // rule answers a tag as it answers its language unless the tag is offered.
  function offeredLocale(l) {
    const of = LOC.of || {};
    const tag = String(l || '').toLowerCase().replace(/_/g, '-');
    return of[tag] || of[tag.split('-')[0]] || null;
  }

  function safeHref(url) {
    try {
      const u = new URL(url, ORIGIN);
      return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
    } catch {
      return null;
    }
  }

  function globRe(glob) {
    const s = String(glob).split('*').map((p) => p.replace(/[\\^$.+?()[\]{}|]/g, '\\$&')).join('.*');
    return new RegExp('^' + s + '$');
  }

  // ---- what is kept in the browser (docs/widget.md) -----------------------

  let memState = null;
  function readState() {
    let s = null;
    try {
      s = JSON.parse(localStorage.getItem(KEY));
    } catch {
      s = memState;
    }
    if (!s || s.v !== 1) s = { v: 1, conversation: null, locale: null, outbox: [], last_event_id: 0 };
    if (!Array.isArray(s.outbox)) s.outbox = [];
    return s;
  }
  let st = readState();
  function update(fn) {
    const s = readState();
    fn(s);
    memState = s;
    try {
      localStorage.setItem(KEY, JSON.stringify(s));
    } catch {
      // private mode or full: this tab keeps it in memory
    }
    st = s;
    return s;
  }
  function session(get, val) {
    try {
      if (get) return sessionStorage.getItem(PKEY);
      sessionStorage.setItem(PKEY, val);
    } catch {
      return null;
    }
    return null;
  }

  // ---- HTTP ---------------------------------------------------------------

  // → {status, ok, body}; throws on a network error.
  async function api(method, path, body, token, headers = {}) {
    const hd = { Accept: 'application/json', ...headers };
    if (token) hd.Authorization = 'Bearer ' + token;
    let data = body;
    if (body !== undefined && !(body instanceof Blob)) {
      hd['Content-Type'] = 'application/json';
      data = JSON.stringify(body);
    }
    const r = await fetch(API + path, { method, headers: hd, body: data, mode: 'cors', credentials: 'omit' });
    let parsed = null;
    try {
      parsed = await r.json();
    } catch {
      parsed = null;
    }
    return { status: r.status, ok: r.ok, body: parsed || {} };
  }
  const errText = (r) => (r.body && r.body.error && r.body.error.message) || `HTTP ${r.status}`;

  // ---- the widget ---------------------------------------------------------

  function init() {
    let site = { title: null, color: '#2457d6', position: 'right', locale: LAST, greeting: {}, proactive: [], locales: LOCALES };
    let loc = LAST;
    let isOpen = false;
    let status = 'bot';
    let agentName = null;
    let queue = null;
    let delivered = 0;
    let agentRead = 0;
    let customerRead = 0;
    let unread = 0;
    let resolvedAsk = false;
    let awaiting = 0;
    let agentTyping = null;
    let agentTypingTimer = 0;
    let convId = null;
    let lastSeq = 0; // the newest event id seen on this page
    const timers = {};
    const msgs = new Map(); // id -> message
    const els = new Map(); // id -> element
    const pending = new Map(); // client_id -> element
    const failed = new Map(); // client_id -> error text
    const attMeta = new Map(); // attachment id -> {id, name, type, size, url}
    const texts = []; // [element, property, key, vars]

    const t = (k, vars) => {
      let s = (STR[loc] || {})[k] || k;
      for (const [n, v] of Object.entries(vars || {})) s = s.split('{' + n + '}').join(String(v));
      return s;
    };
    // Why the server refused, in the customer's words: the catalogue's
    // widget.error.<code> when it has one, else the server's message.
    const reason = (r) => {
      const code = r.body && r.body.error && r.body.error.code;
      return (code && (STR[loc] || {})['error.' + code]) || errText(r);
    };
    // The site's own texts for loc, picked by the server with the same rule.
    const siteText = (k) => ((site.texts || {})[loc] || {})[k];
    const bind = (el, prop, k, vars) => {
      texts.push([el, prop, k, vars]);
      return el;
    };
    // The locale messages go in: the knowledge base's for loc, by the
    // server's rule (pt-PT asks in pt-BR while there are no pt-PT articles).
    const msgLocale = () => (site.answer_locales || {})[loc] || loc;

    // DOM
    const hostEl = h('div', { id: 'switchboard-widget' });
    const shadow = hostEl.attachShadow({ mode: 'open' });
    if (shadow.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } else {
      shadow.append(h('style', {}, CSS));
    }

    const badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
    const launcher = h('button', { type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'sb-panel' },
      icon(I_CHAT), badge);
    bind(launcher, 'aria-label', 'open');

    const titleEl = h('h2', { class: 'title', id: 'sb-title' });
    const subEl = h('p', { class: 'sub', hidden: true });
    const langSel = h('select', { class: 'lang' });
    bind(langSel, 'aria-label', 'language');
    const closeBtn = bind(h('button', { type: 'button', class: 'x close', text: '×' }), 'aria-label', 'close');
    const statusEl = h('div', { class: 'status', role: 'status', hidden: true });
    const log = bind(h('div', { class: 'log', role: 'log', 'aria-live': 'polite', tabindex: '0' }), 'aria-label', 'log');
    const greetEl = h('div', { class: 'msg them greeting', 'data-author': 'bot' },
      h('div', { class: 'bubble' }, h('p', { class: 'text' })));
    log.append(greetEl);
    const typingText = h('span');
    const typingEl = h('div', { class: 'typing', hidden: true },
      h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), typingText);
    const qrEl = h('div', { class: 'qr', hidden: true });
    const noticeEl = h('p', { class: 'notice', role: 'status', hidden: true });
    const input = h('textarea', { rows: '1', maxlength: '8000', id: 'sb-input' });
    bind(input, 'placeholder', 'placeholder');
    bind(input, 'aria-label', 'input');
    const file = h('input', { type: 'file', accept: FILE_TYPES.join(','), hidden: true, tabindex: '-1' });
    const attachBtn = h('button', { type: 'button', class: 'icon attach' }, icon(I_CLIP));
    bind(attachBtn, 'aria-label', 'attach');
    bind(attachBtn, 'title', 'attach');
    const sendBtn = h('button', { type: 'submit', class: 'icon send' }, icon(I_SEND));
    bind(sendBtn, 'aria-label', 'send');
    bind(sendBtn, 'title', 'send');
    const form = h('form', { class: 'compose' }, input, file, attachBtn, sendBtn);
    const panel = h('section', { class: 'panel', id: 'sb-panel', role: 'dialog', 'aria-labelledby': 'sb-title', hidden: true },
      h('div', { class: 'head' }, h('div', { class: 'titles' }, titleEl, subEl), langSel, closeBtn),
      statusEl, log, typingEl, qrEl, noticeEl, form);
    const proText = h('button', { type: 'button', class: 'text' });
    const proCard = h('span');
    const proClose = bind(h('button', { type: 'button', class: 'x', text: '×' }), 'aria-label', 'dismiss');
    const pro = h('div', { class: 'pro', role: 'status', hidden: true }, proText, proCard, proClose);
    const root = h('div', { class: 'sb' }, panel, pro, launcher);
    shadow.append(root);
    document.body.append(hostEl);

    // ---- strings and settings ----

    function applyTexts() {
      for (const [el, prop, k, vars] of texts) {
        if (prop === 'text') el.textContent = t(k, vars);
        else el.setAttribute(prop, t(k, vars));
      }
      titleEl.textContent = site.title || t('title');
      greetEl.querySelector('.text').textContent = siteText('greeting') || t('greeting');
      langSel.replaceChildren(...(site.locales || LOCALES).filter((l) => STR[l])
        .map((l) => h('option', { value: l, lang: l, text: (LOC.names || {})[l] || l })));
      langSel.value = loc;
      panel.setAttribute('lang', loc);
      pro.setAttribute('lang', loc);
      for (const [cid, el] of pending) setReceipt(el, failed.has(cid) ? 'failed' : 'sending', failed.get(cid));
      refreshReceipts();
      renderStatus();
      renderQR();
      renderTyping();
      renderBadge();
      if (!navigator.onLine) notice(t('offline'));
    }

    function pickLocale() {
      const nav = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]).map(offeredLocale);
      const allowed = (l) => l && (site.locales || LOCALES).includes(l) ? l : null;
      loc = allowed(offeredLocale(st.locale)) || allowed(offeredLocale(D.locale)) || nav.map(allowed).find(Boolean)
        || allowed(offeredLocale(site.locale)) || LAST;
    }

    function applySite() {
      if (/^#[0-9a-f]{6}$/i.test(site.color || '')) {
        root.style.setProperty('--a', site.color);
        const n = parseInt(site.color.slice(1), 16);
        const lum = (0.2126 * ((n >> 16) & 255) + 0.7152 * ((n >> 8) & 255) + 0.0722 * (n & 255)) / 255;
        root.style.setProperty('--af', lum > 0.6 ? '#1b1f24' : '#ffffff');
      }
      root.classList.toggle('left', site.position === 'left');
    }

    // ---- panel ----

    function setOpen(open, focus = true) {
      isOpen = open;
      panel.hidden = !open;
      root.classList.toggle('open', open);
      launcher.setAttribute('aria-expanded', String(open));
      if (open) {
        hidePro(false);
        unread = 0;
        renderBadge();
        scrollDown();
        if (focus) input.focus();
        markRead();
      } else if (focus) {
        launcher.focus();
      }
    }
    launcher.addEventListener('click', () => setOpen(!isOpen));
    closeBtn.addEventListener('click', () => setOpen(false));
    root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && isOpen) {
        e.preventDefault();
        setOpen(false);
      }
    });
    langSel.addEventListener('change', () => {
      update((s) => (s.locale = langSel.value));
      loc = langSel.value;
      applyTexts();
    });

    function renderBadge() {
      badge.hidden = !unread;
      badge.textContent = String(unread);
      launcher.setAttribute('aria-label', unread ? `${t('open')} (${t('newMessages', { n: unread })})` : t('open'));
    }

    function scrollDown() {
      log.scrollTop = log.scrollHeight;
    }

    let noticeTimer = 0;
    function notice(text, ms) {
      clearTimeout(noticeTimer);
      noticeEl.textContent = text || '';
      noticeEl.hidden = !text;
      if (text && ms) noticeTimer = setTimeout(() => notice(navigator.onLine ? '' : t('offline')), ms);
    }

    // ---- messages ----

    function fmtTime(ms) {
      const d = new Date(ms || Date.now());
      let s;
      try {
        s = d.toLocaleTimeString(loc, { hour: '2-digit', minute: '2-digit' });
      } catch {
        s = d.toTimeString().slice(0, 5);
      }
      return h('time', { datetime: d.toISOString(), text: s });
    }

    function attachmentEl(a) {
      if (typeof a === 'string') a = attMeta.get(a) || { id: a, name: t('attachment'), type: '' };
      const tok = st.conversation && st.conversation.token;
      const href = a.url && a.url.startsWith('/') ? safeHref(ORIGIN + a.url + (tok ? '?token=' + enc(tok) : '')) : null;
      if (href && /^image\//.test(a.type)) {
        return h('a', { class: 'thumb', href, target: '_blank', rel: 'noopener' }, h('img', { src: href, alt: a.name || t('attachment'), loading: 'lazy' }));
      }
      const size = a.size ? ` · ${Math.max(1, Math.round(a.size / 1024))} KB` : '';
      const kids = [h('span', { class: 'ct', text: a.name || t('attachment') }), h('span', { class: 'cs', text: (a.type === 'application/pdf' ? 'PDF' : t('attachment')) + size })];
      return href ? h('a', { class: 'card file', href, target: '_blank', rel: 'noopener' }, kids) : h('span', { class: 'card file' }, kids);
    }

    function bubble(m, cls) {
      const b = h('div', { class: 'bubble' });
      if (m.text) b.append(h('p', { class: 'text', text: m.text }));
      for (const a of m.attachments || []) b.append(attachmentEl(a));
      for (const l of m.links || []) {
        const href = safeHref(l.url);
        const kids = [h('span', { class: 'ct', text: l.title || l.url || '' }), l.summary ? h('span', { class: 'cs', text: l.summary }) : null];
        b.append(href ? h('a', { class: 'card', href, target: '_blank', rel: 'noopener', 'data-article-id': l.article_id }, kids)
          : h('span', { class: 'card' }, kids));
      }
      const own = m.author_name || (m.agent && m.agent.name) || null;
      const who = m.author === 'agent' ? own || agentName : m.author === 'bot' ? t('bot') : null;
      return h('div', { class: 'msg ' + cls, 'data-author': m.author || 'customer' },
        cls !== 'me' && m.author !== 'system' ? h('span', { class: 'who', text: who || '', hidden: !who, 'data-own': own ? '1' : null }) : null, b,
        h('div', { class: 'meta' }, fmtTime(m.created_at || m.queued_at),
          cls === 'me' ? h('span', { class: 'receipt' }) : null));
    }

    function setReceipt(el, r, err) {
      el.dataset.receipt = r;
      const rc = el.querySelector('.receipt');
      if (rc) rc.textContent = r === 'failed' ? t('failed', { error: err || '' }) : t(r);
    }

    function refreshReceipts() {
      let maxOut = 0;
      for (const m of msgs.values()) if (m.direction === 'out' && m.id > maxOut) maxOut = m.id;
      for (const [id, el] of els) {
        const m = msgs.get(id);
        if (m.direction !== 'in') continue;
        setReceipt(el, id <= agentRead ? 'read' : id <= delivered || id < maxOut ? 'delivered' : 'sent');
      }
    }

    function insertOrdered(el, id) {
      for (const c of log.children) {
        const cid = c.dataset.id;
        if ((cid && Number(cid) > id) || c.dataset.cid) {
          log.insertBefore(el, c);
          return;
        }
      }
      log.append(el);
    }

    function addMessage(m, live) {
      if (!m || typeof m.id !== 'number' || msgs.has(m.id)) return false;
      if (m.client_id && pending.has(m.client_id)) {
        pending.get(m.client_id).remove();
        pending.delete(m.client_id);
        failed.delete(m.client_id);
      }
      msgs.set(m.id, m);
      const el = bubble(m, m.direction === 'in' ? 'me' : m.author === 'system' ? 'system' : 'them');
      el.dataset.id = String(m.id);
      els.set(m.id, el);
      insertOrdered(el, m.id);
      if (m.direction === 'out') {
        if (m.author === 'agent') showAgentTyping(false);
        if (live && !isOpen) {
          unread++;
          renderBadge();
        }
      }
      return true;
    }

    function addPending(item) {
      if (pending.has(item.client_id) || [...msgs.values()].some((m) => m.client_id === item.client_id)) return;
      const el = bubble({ text: item.text, attachments: item.attachments, created_at: item.queued_at }, 'me');
      el.dataset.cid = item.client_id;
      pending.set(item.client_id, el);
      setReceipt(el, 'sending');
      log.append(el);
    }

    // Everything that depends on the set of messages, once per batch.
    function rendered() {
      refreshReceipts();
      renderQR();
      renderTyping();
      scrollDown();
      if (isOpen) markRead();
    }

    function lastMessage() {
      let last = null;
      for (const m of msgs.values()) if (!last || m.id > last.id) last = m;
      return last;
    }

    function renderQR() {
      const last = lastMessage();
      const items = [];
      let prompt = null;
      if (status === 'resolved' && resolvedAsk) {
        prompt = t('rate');
        for (let n = 1; n <= 5; n++) items.push({ title: '★'.repeat(n), label: t('stars', { n }), payload: '/rate:' + n, text: String(n) });
      } else if (last && last.direction === 'out' && !pending.size && Array.isArray(last.quick_replies)) {
        for (const q of last.quick_replies) if (q && q.title) items.push({ title: q.title, payload: q.payload || null, text: q.title });
      }
      qrEl.replaceChildren(...(prompt ? [h('p', { text: prompt })] : []), ...items.map((q) => h('button', {
        type: 'button', text: q.title, 'aria-label': q.label, 'data-payload': q.payload,
        on: { click: () => { if (q.payload && q.payload.startsWith('/rate')) resolvedAsk = false; send(q.text, q.payload); } },
      })));
      qrEl.hidden = !items.length;
    }

    function showAgentTyping(on, name) {
      clearTimeout(agentTypingTimer);
      agentTyping = on ? name || agentName || '' : null;
      if (on) agentTypingTimer = setTimeout(() => showAgentTyping(false), 8000);
      renderTyping();
    }

    function renderTyping() {
      const bot = awaiting > 0 && status === 'bot';
      typingEl.hidden = !bot && agentTyping === null;
      typingText.textContent = agentTyping ? t('agentTyping', { name: agentTyping }) : t('typing');
    }

    function renderStatus() {
      for (const el of log.querySelectorAll('.msg[data-author="agent"] .who:not([data-own])')) {
        el.textContent = agentName || '';
        el.hidden = !agentName;
      }
      for (const el of log.querySelectorAll('.msg[data-author="bot"] .who')) el.textContent = t('bot');
      let sub = '';
      if (agentName && status === 'assigned') sub = t('agent', { name: agentName });
      subEl.textContent = sub;
      subEl.hidden = !sub;
      let s = '';
      if (status === 'queued') {
        if (queue && queue.position) {
          s = t('queue', { n: queue.position });
          if (queue.expected_wait_s) s += ' · ' + t('wait', { m: Math.max(1, Math.round(queue.expected_wait_s / 60)) });
        } else s = t('waiting');
      } else if (status === 'resolved') s = t('closed');
      statusEl.textContent = s;
      statusEl.hidden = !s;
    }

    let queueTimer = 0;
    function setStatus(s) {
      if (!s || typeof s !== 'string') return;
      const was = status;
      status = s;
      if (s === 'resolved' && was !== 'resolved') resolvedAsk = true;
      if (s !== 'resolved') resolvedAsk = false;
      if (s !== 'assigned' && s !== 'resolved') agentName = s === 'queued' ? agentName : null;
      clearInterval(queueTimer);
      if (s === 'queued') queueTimer = setInterval(fetchConv, 15000);
      if (s === 'queued' && was !== 'queued') fetchConv();
      renderStatus();
      renderQR();
      renderTyping();
    }

    async function fetchConv() {
      const c = st.conversation;
      if (!c) return;
      try {
        const r = await api('GET', `/conversations/${enc(c.id)}`, undefined, c.token);
        if (!r.ok || !st.conversation || st.conversation.id !== c.id) return;
        const b = r.body;
        queue = b.queue || null;
        if (b.agent && b.agent.name) agentName = b.agent.name;
        if (b.read_up_to) {
          agentRead = Math.max(agentRead, Number(b.read_up_to.agent) || 0);
          customerRead = Math.max(customerRead, Number(b.read_up_to.customer) || 0);
        }
        if (b.status && b.status !== status) setStatus(b.status);
        renderStatus();
        refreshReceipts();
      } catch {
        // the next event or tick tries again
      }
    }

    let readBusy = false;
    async function markRead() {
      const c = st.conversation;
      let up = 0;
      for (const m of msgs.values()) if (m.direction === 'out' && m.id > up) up = m.id;
      if (!c || up <= customerRead || readBusy || document.visibilityState === 'hidden') return;
      readBusy = true;
      try {
        const r = await api('POST', `/conversations/${enc(c.id)}/read`, { up_to: up }, c.token);
        if (r.ok || (r.status >= 400 && r.status < 500)) customerRead = up;
      } catch {
        // next time
      }
      readBusy = false;
    }
    document.addEventListener('visibilitychange', () => isOpen && markRead());

    // ---- the conversation: transcript, events ----

    function forget() {
      disconnect();
      update((s) => {
        s.conversation = null;
        s.last_event_id = 0;
      });
      clearConversation();
    }

    function clearConversation() {
      lastSeq = 0;
      for (const el of els.values()) el.remove();
      els.clear();
      msgs.clear();
      convId = null;
      status = 'bot';
      agentName = null;
      queue = null;
      delivered = agentRead = customerRead = 0;
      resolvedAsk = false;
      setStatus('bot');
    }

    // Reads the whole transcript (and the conversation's state): what was
    // missed while the page was closed or the stream was down.
    async function refresh() {
      const c = st.conversation;
      if (!c) return;
      let r;
      try {
        r = await api('GET', `/conversations/${enc(c.id)}/messages`, undefined, c.token);
      } catch {
        return;
      }
      if (!st.conversation || st.conversation.id !== c.id) return;
      if (r.status === 401 || r.status === 403 || r.status === 404) {
        forget();
        return;
      }
      if (!r.ok) return;
      for (const m of r.body.messages || []) addMessage(m, false);
      if (r.body.status) setStatus(r.body.status);
      rendered();
      fetchConv();
    }

    let es = null;
    let esTimer = 0;
    let esTries = 0;
    let esBroken = false;
    function disconnect() {
      clearTimeout(esTimer);
      if (es) es.close();
      es = null;
    }
    function connect() {
      disconnect();
      const c = st.conversation;
      if (!c || !window.EventSource) return;
      const q = new URLSearchParams({ token: c.token });
      if (st.last_event_id) q.set('last_event_id', String(st.last_event_id));
      const src = new EventSource(`${API}/conversations/${enc(c.id)}/events?${q}`);
      es = src;
      src.onopen = () => {
        esTries = 0;
        if (esBroken) {
          esBroken = false;
          refresh();
          flush();
        }
      };
      src.onerror = () => {
        if (es !== src) return;
        esBroken = true;
        // CLOSED: the server refused the stream (a restart, 503): reconnect
        // ourselves, resuming from the last event we stored.
        if (src.readyState === 2) {
          es = null;
          const wait = Math.min(30000, 1000 * 2 ** esTries++);
          esTimer = setTimeout(() => refresh().then(connect), wait);
        }
      };
      for (const type of EVENTS) src.addEventListener(type, (e) => es === src && onEvent(e));
    }

    function onEvent(e) {
      const seq = Number(e.lastEventId);
      let d = {};
      try {
        d = JSON.parse(e.data) || {};
      } catch {
        return;
      }
      switch (e.type) {
        case 'message/inbound':
        case 'message/outbound':
          addMessage(d.message, true);
          break;
        case 'conversation/handoff':
          setStatus(d.status || 'queued');
          break;
        case 'conversation/assigned':
          if (d.agent && d.agent.name) agentName = d.agent.name;
          setStatus('assigned');
          break;
        case 'conversation/resolved':
          setStatus('resolved');
          break;
        case 'conversation/reopened':
          setStatus(d.status || 'bot');
          break;
        case 'queue/position':
          fetchConv();
          break;
        case 'message/delivered':
          delivered = Math.max(delivered, Number(d.up_to) || 0);
          break;
        case 'message/read':
          if (d.by === 'agent') agentRead = Math.max(agentRead, Number(d.up_to) || 0);
          else if (d.by === 'customer') customerRead = Math.max(customerRead, Number(d.up_to) || 0);
          break;
        case 'typing':
          if (d.author && d.author !== 'customer') showAgentTyping(!!d.typing, d.name);
          break;
        default:
      }
      if (status === 'queued' && e.type !== 'typing') later('conv', fetchConv);
      rendered();
      // A replay of many events writes the storage once. Should the page go
      // before, the next load replays a little more: messages dedupe by id.
      if (seq > lastSeq) {
        lastSeq = seq;
        later('seq', () => update((s) => {
          if (s.conversation && st.conversation && s.conversation.id === st.conversation.id && lastSeq > (s.last_event_id || 0)) s.last_event_id = lastSeq;
        }));
      }
    }
    function later(k, fn) {
      if (!timers[k]) timers[k] = setTimeout(() => {
        timers[k] = 0;
        fn();
      }, 250);
    }

    // Shows the conversation in storage (after a load, or another tab's change).
    function adopt() {
      const id = st.conversation && st.conversation.id;
      if (id === convId) return;
      clearConversation();
      convId = id || null;
      if (!id) return;
      refresh().then(() => {
        if (st.conversation && st.conversation.id === id) connect();
      });
    }

    // ---- sending: outbox, retries ----

    let creating = null;
    async function ensureConv() {
      st = readState();
      if (st.conversation) {
        if (st.conversation.id !== convId) adopt();
        return st.conversation;
      }
      if (!creating) {
        creating = (async () => {
          const body = { locale: msgLocale(), site: SITE };
          if (/^https?:/.test(location.href) && location.href.length <= 2000) body.page_url = location.href;
          if (D.userId && D.userHash) {
            body.user_id = D.userId;
            body.user_hash = D.userHash;
          }
          let r = await api('POST', '/conversations', body);
          if (r.status === 403 && body.user_id) {
            // The site's server signed the identity wrongly: chat anonymously rather than not at all.
            delete body.user_id;
            delete body.user_hash;
            r = await api('POST', '/conversations', body);
          }
          if (r.status !== 201) {
            const e = new Error(reason(r));
            e.status = r.status;
            throw e;
          }
          update((s) => {
            s.conversation = { id: r.body.id, token: r.body.token };
            s.last_event_id = 0;
          });
          convId = r.body.id;
          setStatus(r.body.status || 'bot');
          connect();
          return st.conversation;
        })().finally(() => {
          creating = null;
        });
      }
      return creating;
    }

    function send(text, payload, attachments) {
      text = String(text || '').trim();
      if (!text && !(attachments && attachments.length)) return;
      const item = { client_id: uuid(), text, attachments: attachments || [], locale: msgLocale(), queued_at: Date.now() };
      if (payload) item.payload = payload;
      update((s) => s.outbox.push(item));
      addPending(item);
      renderQR();
      scrollDown();
      flush();
    }

    let flushing = false;
    let retryTimer = 0;
    let retryDelay = 0;
    function retryLater() {
      clearTimeout(retryTimer);
      retryDelay = retryDelay ? Math.min(30000, retryDelay * 2) : 1000;
      retryTimer = setTimeout(flush, retryDelay);
    }

    async function flush() {
      if (flushing) return;
      flushing = true;
      clearTimeout(retryTimer);
      let resets = 0;
      try {
        for (;;) {
          const item = readState().outbox[0];
          if (!item) break;
          addPending(item);
          let c;
          try {
            c = await ensureConv();
          } catch (e) {
            if (e.status >= 400 && e.status < 500 && e.status !== 429) {
              dropFailed(item, e.message);
              continue;
            }
            throw e;
          }
          const body = { text: item.text || '', client_id: item.client_id, locale: item.locale || msgLocale() };
          if (item.payload) body.payload = item.payload;
          if (item.attachments && item.attachments.length) body.attachments = item.attachments;
          awaiting++;
          renderTyping();
          let r;
          try {
            r = await api('POST', `/conversations/${enc(c.id)}/messages`, body, c.token);
          } finally {
            awaiting--;
            renderTyping();
          }
          if (r.ok) {
            retryDelay = 0;
            answered(item, r.body, c);
            continue;
          }
          if (r.status === 429 || r.status >= 500) throw new Error(errText(r));
          if ((r.status === 401 || r.status === 403 || r.status === 404) && resets++ < 1 && !(item.attachments || []).length) {
            forget(); // the conversation is gone (or not ours): start a new one
            continue;
          }
          dropFailed(item, reason(r));
        }
        if (navigator.onLine) notice('');
      } catch {
        retryLater();
      } finally {
        flushing = false;
      }
    }

    function dropFailed(item, msg) {
      update((s) => (s.outbox = s.outbox.filter((x) => x.client_id !== item.client_id)));
      failed.set(item.client_id, msg);
      const el = pending.get(item.client_id);
      if (el) setReceipt(el, 'failed', msg);
    }

    function answered(item, b, c) {
      update((s) => (s.outbox = s.outbox.filter((x) => x.client_id !== item.client_id)));
      if (!st.conversation || st.conversation.id !== c.id) return;
      if (typeof b.message_id === 'number') {
        addMessage({
          id: b.message_id, direction: 'in', author: 'customer', text: item.text, client_id: item.client_id,
          created_at: item.queued_at, attachments: (item.attachments || []).map((a) => attMeta.get(a) || a),
        }, false);
      }
      for (const m of b.replies || []) addMessage(m, true);
      if (b.status) setStatus(b.status);
      rendered();
    }

    window.addEventListener('online', () => {
      notice('');
      retryDelay = 0;
      flush();
      if (!es && st.conversation) connect();
    });
    window.addEventListener('offline', () => notice(t('offline')));

    // Another tab changed the shared storage: same conversation, same outbox.
    window.addEventListener('storage', (e) => {
      if (e.key !== KEY) return;
      st = readState();
      if (st.locale && offeredLocale(st.locale) !== loc) {
        pickLocale();
        applyTexts();
      }
      adopt();
      for (const item of st.outbox) addPending(item);
      renderQR();
      // If the tab that queued them is gone, this one sends them (the
      // client_id makes a second try harmless).
      clearTimeout(orphanTimer);
      if (st.outbox.length) orphanTimer = setTimeout(() => readState().outbox.some((i) => Date.now() - i.queued_at > 5000) && flush(), 6000);
    });
    let orphanTimer = 0;

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = input.value;
      if (!text.trim()) return;
      input.value = '';
      typing(false);
      send(text);
      input.focus();
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event('submit', { cancelable: true }));
      }
    });

    // The customer's typing, for agents (not while the bot answers).
    let typingSent = 0;
    function typing(on) {
      const c = st.conversation;
      if (!c || (status !== 'queued' && status !== 'assigned')) return;
      if (on && Date.now() - typingSent < 3000) return;
      if (!on && !typingSent) return;
      typingSent = on ? Date.now() : 0;
      api('POST', `/conversations/${enc(c.id)}/typing`, { typing: on }, c.token).catch(() => {});
    }
    input.addEventListener('input', () => typing(!!input.value));
    input.addEventListener('blur', () => typing(false));

    // ---- attachments: upload, then send ----

    attachBtn.addEventListener('click', () => file.click());
    file.addEventListener('change', async () => {
      const f = file.files && file.files[0];
      file.value = '';
      if (!f) return;
      if (!FILE_TYPES.includes(f.type)) {
        notice(t('badType'), 6000);
        return;
      }
      notice(t('uploading', { name: f.name }));
      try {
        const c = await ensureConv();
        const r = await api('POST', `/conversations/${enc(c.id)}/attachments`, f, c.token,
          { 'Content-Type': f.type, 'X-Filename': enc(f.name.slice(0, 150)) });
        if (r.status !== 201 || !r.body.id) {
          notice(t('uploadFailed', { name: f.name, error: reason(r) }), 8000);
          return;
        }
        attMeta.set(r.body.id, r.body);
        notice('');
        const text = input.value;
        input.value = '';
        send(text, null, [r.body.id]);
      } catch (e) {
        notice(t('uploadFailed', { name: f.name, error: e.message }), 8000);
      }
    });

    // ---- proactive messages ----

    function hidePro(dismiss) {
      pro.hidden = true;
      if (dismiss) session(false, '1');
    }
    proClose.addEventListener('click', () => {
      hidePro(true);
      launcher.focus();
    });
    proText.addEventListener('click', () => {
      hidePro(true);
      setOpen(true);
    });

    function proactive() {
      if (session(true)) return;
      const rule = (site.proactive || []).find((r) => {
        try {
          return r && r.url && r.message && globRe(r.url).test(location.href);
        } catch {
          return false;
        }
      });
      if (!rule) return;
      const after = Math.min(3600, Math.max(1, Number(rule.after_s) || 20));
      setTimeout(() => {
        if (isOpen || session(true)) return;
        const m = rule.message;
        proText.textContent = typeof m === 'string' ? m : (siteText('proactive') || [])[site.proactive.indexOf(rule)] || Object.values(m)[0] || '';
        proCard.replaceChildren();
        const a = rule.article;
        if (a) {
          const slug = typeof a === 'string' ? a : a.slug;
          const href = safeHref((typeof a === 'object' && a.url) || `${ORIGIN}/help/${enc(msgLocale())}/${enc(slug || '')}`);
          const title = (typeof a === 'object' && a.title) || String(slug || '').replace(/-/g, ' ').replace(/^./, (x) => x.toUpperCase());
          if (href && slug) proCard.append(h('a', { class: 'card', href, target: '_blank', rel: 'noopener' }, h('span', { class: 'ct', text: title }),
            typeof a === 'object' && a.summary ? h('span', { class: 'cs', text: a.summary }) : null));
        }
        pro.hidden = false;
      }, after * 1000);
    }

    // ---- start ----

    async function start() {
      try {
        const r = await api('GET', `/widget/sites/${enc(SITE)}`);
        if (r.ok) site = { ...site, ...r.body };
      } catch {
        // defaults: the chat still works
      }
      applySite();
      pickLocale();
      applyTexts();
      if (D.userId && D.userHash) {
        try {
          const r = await api('POST', '/widget/session', { site: SITE, user_id: D.userId, user_hash: D.userHash });
          const newest = r.ok && r.body.conversations && r.body.conversations[0];
          if (newest && newest.id && newest.token) {
            update((s) => {
              if (!s.conversation || s.conversation.id !== newest.id) {
                s.conversation = { id: newest.id, token: newest.token };
                s.last_event_id = 0;
              } else s.conversation.token = newest.token;
            });
          }
        } catch {
          // the stored conversation, if any
        }
      }
      st = readState();
      if (st.locale && offeredLocale(st.locale) !== loc) {
        pickLocale();
        applyTexts();
      }
      adopt();
      for (const item of st.outbox) addPending(item);
      rendered();
      if (st.outbox.length) flush();
      proactive();
    }

    pickLocale();
    applyTexts();
    if (D.open === 'true') setOpen(true, false);
    start();
  }

  const go = () => document.getElementById('switchboard-widget') || init();
  if (document.body) go();
  else document.addEventListener('DOMContentLoaded', go);
})();

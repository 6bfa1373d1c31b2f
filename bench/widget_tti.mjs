// widget_tti.mjs - time to interactive of the chat widget in headless Chromium.
//
//   node bench/widget_tti.mjs URL [--runs 10] [--json OUT] [--page /]
//
// URL is a running Switchboard. Each run opens a fresh browser context (cold
// cache, empty localStorage, as a first visit), navigates, and takes the time
// from navigation start (performance.timeOrigin) until the widget's launcher
// button (#switchboard-widget's shadow root, button.launcher) is clickable,
// judged in the page itself by a probe injected before any page script (see
// PROBE: attached, enabled, visible, topmost at its centre, stable for one
// frame), so no browser/driver round trip is timed; Playwright's own
// actionability check (locator.click({trial: true})) then confirms it,
// untimed. In the same session and
// with the same procedure, alternating with the widget runs, it loads a blank
// page on the same origin (served by the test's route, no server round trip)
// holding one plain <button>: the baseline. Reports the medians (and min/max),
// their ratio and difference, plus when the launcher first existed in the DOM
// (a MutationObserver/requestAnimationFrame probe injected before any page
// script) and the widget.js resource timing.
//
// The page is GET / (the demo shop, docs/widget.md) when it carries the
// widget. If it does not yet, but the server serves the widget (/widget.js or
// /static/widget/widget.js), a host page with the documented script tag is
// served on the same origin through the test's route instead, and the output
// says so. With no widget at all it prints "skipped: ..." and exits 0.
// Uses playwright-core from tests/browser (npm ci there) and /usr/bin/chromium
// (CHROMIUM to override).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function parseArgs(argv) {
  const a = { url: null, runs: 10, json: null, page: '/' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') a.runs = Number(argv[++i]);
    else if (argv[i] === '--json') a.json = argv[++i];
    else if (argv[i] === '--page') a.page = argv[++i];
    else a.url = argv[i];
  }
  if (!a.url) {
    console.error('usage: node bench/widget_tti.mjs URL [--runs N] [--json OUT] [--page /]');
    process.exit(2);
  }
  a.url = a.url.replace(/\/+$/, '');
  return a;
}

function skip(msg, json) {
  console.log(`skipped: ${msg}`);
  if (json) fs.writeFileSync(json, JSON.stringify({ skipped: msg }) + '\n');
  process.exit(0);
}

const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const stats = (v) => ({ n: v.length, median: Math.round(median(v) * 10) / 10, min: Math.min(...v), max: Math.max(...v), runs: v });
const r1 = (x) => Math.round(x * 10) / 10;

// Injected before any page script, on both pages: the first moment the
// target (the widget's launcher in its shadow root, or the blank page's
// button) is in the DOM, and the first animation frame in which it is
// clickable: connected, enabled, a non-empty box inside the viewport,
// visible (visibility, display, opacity), the topmost element at its centre
// (elementFromPoint in its own root, so a covering element or a closed
// shadow would fail), and the same box as in the frame before (stable, as
// Playwright requires). Times are performance.now(): ms since navigation
// start. Frames come every ~16 ms, which bounds the resolution.
const PROBE = `(() => {
  const blank = location.pathname.endsWith('/bench-tti/blank');
  const find = () => {
    if (blank) return document.getElementById('b');
    const host = document.getElementById('switchboard-widget');
    return host && host.shadowRoot && host.shadowRoot.querySelector('button.launcher');
  };
  const clickable = (el) => {
    if (!el || !el.isConnected || el.disabled) return null;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return null;
    const cs = getComputedStyle(el);
    if (cs.visibility !== 'visible' || cs.display === 'none' || Number(cs.opacity) === 0) return null;
    const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
    if (cx < 0 || cy < 0 || cx > innerWidth || cy > innerHeight) return null;
    const root = el.getRootNode();
    const hit = (root.elementFromPoint ? root : document).elementFromPoint(cx, cy);
    if (!(hit === el || el.contains(hit))) return null;
    return r.left + ',' + r.top + ',' + r.width + ',' + r.height;
  };
  let last = null;
  const inDom = () => { if (window.__sbInDomAt === undefined && find()) window.__sbInDomAt = performance.now(); };
  const mo = new MutationObserver(inDom);
  mo.observe(document, { childList: true, subtree: true });
  const frame = () => {
    inDom();
    const box = clickable(find());
    if (box && box === last) { window.__sbReadyAt = performance.now(); mo.disconnect(); return; }
    last = box;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();`;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let pw;
  try {
    const req = createRequire(path.join(HERE, '..', 'tests', 'browser', 'package.json'));
    pw = await import(req.resolve('playwright-core'));
  } catch (e) {
    skip(`playwright-core not installed (cd tests/browser && npm ci): ${e.message}`, args.json);
  }
  if (!fs.existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM}`, args.json);

  // Where is the widget?
  let src = null;
  for (const p of ['/widget.js', '/static/widget/widget.js']) {
    try {
      const r = await fetch(args.url + p);
      if (r.ok && /javascript/.test(r.headers.get('content-type') || '')) { src = p; break; }
    } catch {
      // try the next
    }
  }
  if (!src) skip('the server serves no widget.js yet', args.json);
  let mode = 'demo';
  let target = args.url + args.page;
  try {
    const html = await (await fetch(target)).text();
    if (!/widget\.js/.test(html)) mode = 'host';
  } catch {
    mode = 'host';
  }
  if (mode === 'host') target = `${args.url}/bench-tti/host`;
  const HOST = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title></head>
<body><header><h1>A shop</h1></header><p>Some product text.</p>
<script src="${src}" data-site="demo" async></script></body></html>`;
  const BLANK = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Blank</title></head>
<body><button type="button" id="b">Button</button></body></html>`;

  const chromium = pw.chromium || pw.default.chromium;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--disable-gpu', '--no-first-run'] });
  const version = browser.version();

  async function once(kind) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.route(`${args.url}/bench-tti/**`, (route) => {
      const body = route.request().url().endsWith('/blank') ? BLANK : HOST;
      return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body });
    });
    const page = await ctx.newPage();
    await page.addInitScript(PROBE);
    const url = kind === 'widget' ? target : `${args.url}/bench-tti/blank`;
    const target_ = kind === 'widget' ? page.locator('#switchboard-widget button.launcher') : page.locator('#b');
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__sbReadyAt !== undefined, null, { timeout: 15000, polling: 50 });
    // Not timed: Playwright's own actionability checks agree it is clickable.
    await target_.click({ trial: true, timeout: 15000 });
    const m = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const js = performance.getEntriesByType('resource').find((e) => /widget\.js/.test(e.name));
      return {
        tti: window.__sbReadyAt,
        launcher_at: window.__sbInDomAt,
        dcl: nav ? nav.domContentLoadedEventEnd : null,
        widget_js: js ? { start: js.startTime, end: js.responseEnd, bytes: js.transferSize, encoded: js.encodedBodySize, decoded: js.decodedBodySize } : null,
      };
    });
    await ctx.close();
    return m;
  }

  // One warm-up pair (not counted): the browser's own first-use costs.
  await once('blank');
  await once('widget');
  const w = [], b = [];
  for (let i = 0; i < args.runs; i++) {
    b.push(await once('blank'));
    w.push(await once('widget'));
  }
  await browser.close();

  const res = {
    url: target,
    mode,
    widget_src: src,
    chromium: version,
    runs: args.runs,
    widget_tti_ms: stats(w.map((m) => r1(m.tti))),
    blank_tti_ms: stats(b.map((m) => r1(m.tti))),
    launcher_in_dom_ms: stats(w.filter((m) => m.launcher_at !== undefined).map((m) => r1(m.launcher_at))),
    widget_dcl_ms: stats(w.map((m) => r1(m.dcl || 0))),
    blank_dcl_ms: stats(b.map((m) => r1(m.dcl || 0))),
    widget_js: w[w.length - 1].widget_js,
    widget_js_end_ms: stats(w.filter((m) => m.widget_js).map((m) => r1(m.widget_js.end))),
    blank_in_dom_ms: stats(b.filter((m) => m.launcher_at !== undefined).map((m) => r1(m.launcher_at))),
  };
  res.ratio = r1((res.widget_tti_ms.median / res.blank_tti_ms.median) * 100) / 100;
  res.difference_ms = r1(res.widget_tti_ms.median - res.blank_tti_ms.median);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(res, null, 1) + '\n');
  const where = mode === 'demo' ? `demo page GET ${args.page}` : `host page with the widget tag (GET ${args.page} does not carry the widget yet), widget from ${src}`;
  console.log(`page: ${where}; Chromium ${version}; ${args.runs} runs each, alternating, fresh context per run`);
  console.log(`widget launcher clickable: median ${res.widget_tti_ms.median} ms (min ${res.widget_tti_ms.min}, max ${res.widget_tti_ms.max}); launcher in DOM median ${res.launcher_in_dom_ms.median} ms; widget.js loaded at median ${res.widget_js_end_ms.median} ms`);
  console.log(`blank page button clickable (baseline): median ${res.blank_tti_ms.median} ms (min ${res.blank_tti_ms.min}, max ${res.blank_tti_ms.max})`);
  console.log(`widget / blank = ${res.ratio.toFixed(2)}, difference ${res.difference_ms} ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

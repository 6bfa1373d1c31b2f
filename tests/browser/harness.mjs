// harness.mjs - browser tests against the real server: starts the
// switchboard binary on a free port with a temporary data directory (the
// demo KB imported, staff accounts created with `switchboard user add`),
// drives Debian's Chromium through playwright-core, and talks to the API
// directly for setup and for checking what the page did.
//
// Environment:
//   SWITCHBOARD_BIN   the server binary (default <repo>/build/switchboard)
//   SWITCHBOARD_SRC   the repo root (default two folders above this file)
//   CHROMIUM          the browser (default /usr/bin/chromium)
//   SWITCHBOARD_BROWSER_KEEP=1  keep the data directories (kept after a failure anyway)

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SRC = path.resolve(process.env.SWITCHBOARD_SRC || path.join(HERE, '..', '..'));
export const BIN = path.resolve(process.env.SWITCHBOARD_BIN || path.join(SRC, 'build', 'switchboard'));
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const KEEP = process.env.SWITCHBOARD_BROWSER_KEEP === '1';

export const EDITOR = { email: 'ana@pinecone.example', password: 'editor-pass-123', name: 'Ana Editor', roles: ['editor'] };
export const AGENT = { email: 'bo@pinecone.example', password: 'agent-pass-123', name: 'Bo Agent', roles: ['agent'] };
export const ADMIN = { email: 'cy@pinecone.example', password: 'admin-pass-123', name: 'Cy Admin', roles: ['admin'] };

// Same as tests/e2e/harness.py TEST_CONFIG_DEFAULTS: customer limits lifted,
// a cheap password hash so sign-ins are fast.
const TEST_CONFIG = {
  rate_ip_per_s: 100000, rate_ip_burst: 100000,
  rate_visitor_per_s: 100000, rate_visitor_burst: 100000,
  kdf_log2_n: 10,
  // Index rebuilds stay in place, as in tests/e2e/harness.py: the sanitizer build takes about as
  // long as the production limit (1000 ms) to index the demo knowledge base.
  kb_rebuild_in_place_ms: 600000,
};

// The server overlays SWITCHBOARD_<KEY> variables onto its config; the
// caller's environment must not change what is tested.
function childEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWITCHBOARD_')));
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function requireTools() {
  if (!fs.existsSync(BIN)) throw new Error(`switchboard binary not found at ${BIN} (build it, or set SWITCHBOARD_BIN)`);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/deps.sh --test (Debian package chromium)`);
}

export class Server {
  // args/env: more `serve` arguments and environment, e.g. ['--test-clock'] with {SWITCHBOARD_TEST: '1'}.
  constructor({ users = [EDITOR, AGENT], config = {}, args = [], env = {} } = {}) {
    this.users = users;
    this.config = { ...TEST_CONFIG, ...config };
    this.extraArgs = args;
    this.extraEnv = env;
    this.data = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-browser-'));
    this.logPath = path.join(this.data, 'server.log');
    this.proc = null;
    this.port = null;
    this.failed = false;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  log(text) {
    fs.appendFileSync(this.logPath, `\n=== harness ${new Date().toISOString()}: ${text} ===\n`);
  }

  logTail(limit = 6000) {
    try {
      const t = fs.readFileSync(this.logPath, 'utf8');
      return t.length > limit ? '…' + t.slice(-limit) : t;
    } catch (e) {
      return `<no log: ${e.message}>`;
    }
  }

  // Runs `switchboard ARGS` on the data directory; throws unless it exits 0.
  cli(args, input = '') {
    const r = spawnSync(BIN, args, { cwd: SRC, env: childEnv(), input, encoding: 'utf8', timeout: 60000 });
    this.log(`cli: ${args.join(' ')} -> ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    if (r.status !== 0) throw new Error(`switchboard ${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  async start() {
    requireTools();
    this.cli(['kb', 'import', path.join(SRC, 'kb', 'demo'), '--data', this.data]);
    for (const u of this.users) {
      const args = ['user', 'add', '--data', this.data, '--email', u.email, '--name', u.name];
      for (const r of u.roles) args.push('--role', r);
      this.cli(args, u.password + '\n');
    }
    fs.writeFileSync(path.join(this.data, 'config.json'), JSON.stringify(this.config));
    return this.launch(0);
  }

  // Starts the binary on PORT (0: any free one) and waits until it is healthy.
  async launch(port) {
    const cfg = path.join(this.data, 'config.json');
    const portFile = path.join(this.data, 'switchboard.port');
    fs.rmSync(portFile, { force: true });
    const args = ['serve', '--port', String(port), '--data', this.data, '--plugins', path.join(SRC, 'plugins'),
      '--web', path.join(SRC, 'web'), '--config', cfg, ...this.extraArgs];
    this.log(`start: ${BIN} ${args.join(' ')}`);
    const fd = fs.openSync(this.logPath, 'a');
    this.proc = spawn(BIN, args, { cwd: SRC, env: { ...childEnv(), ...this.extraEnv }, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    const proc = this.proc;
    this.exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
    const killOnExit = () => proc.exitCode === null && proc.kill('SIGKILL');
    process.once('exit', killOnExit);
    if (!port) this.port = null;

    const deadline = Date.now() + 10000;
    let last = 'no port yet';
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`switchboard exited ${proc.exitCode} during startup\n${this.logTail()}`);
      if (!this.port && fs.existsSync(portFile)) {
        const text = fs.readFileSync(portFile, 'utf8').trim();
        if (text) this.port = Number(text);
      }
      if (this.port) {
        try {
          const r = await fetch(`${this.url}/healthz`);
          const body = await r.json();
          if (r.ok && body.status === 'ok') return this;
          last = `GET /healthz -> ${r.status}`;
        } catch (e) {
          last = `GET /healthz: ${e.message}`;
        }
      }
      await sleep(25);
    }
    proc.kill('SIGKILL');
    throw new Error(`switchboard not healthy within 10 s (${last})\n${this.logTail()}`);
  }

  // Stops the process (SIGTERM) and starts it again on the same port and data directory.
  async restart() {
    await this.halt();
    return this.launch(this.port);
  }

  async halt() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      const { code, sig } = await this.exited;
      clearTimeout(t);
      this.log(`stopped: exit ${code} signal ${sig}`);
    }
  }

  // SIGTERM, then SIGKILL after 5 s; the data directory goes unless a test failed.
  async stop() {
    await this.halt();
    if (this.failed || KEEP) console.error(`# server data kept in ${this.data}`);
    else fs.rmSync(this.data, { recursive: true, force: true });
  }

  // A signed-in API client (cookie + CSRF), for setup and for checks.
  async api(user = EDITOR) {
    const c = new ApiClient(this.url);
    await c.login(user.email, user.password);
    return c;
  }
}

export class ApiClient {
  constructor(base) {
    this.base = base;
    this.cookie = '';
    this.csrf = '';
  }

  async login(email, password) {
    const r = await fetch(`${this.base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }),
    });
    if (!r.ok) throw new Error(`login ${email} -> ${r.status} ${await r.text()}`);
    const set = r.headers.get('set-cookie') || '';
    this.cookie = set.split(';')[0];
    this.csrf = (await r.json()).csrf_token;
  }

  // → {status, body}; never throws on an HTTP error.
  async request(method, p, body, headers = {}) {
    const h = { Accept: 'application/json', ...headers };
    if (this.cookie) h.Cookie = this.cookie;
    if (method !== 'GET' && this.csrf) h['X-CSRF-Token'] = this.csrf;
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const r = await fetch(this.base + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: r.status, body: parsed, headers: r.headers };
  }

  // Like request() but throws unless the status is 2xx; returns the body.
  async ok(method, p, body) {
    const r = await this.request(method, p, body);
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${p} -> ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async articleBySlug(locale, slug) {
    const list = await this.ok('GET', `/api/v1/kb/articles?locale=${encodeURIComponent(locale)}`);
    return list.articles.find((a) => a.slug === slug) || null;
  }
}

// A customer conversation through the public API: asks each question.
export async function askAsCustomer(base, locale, questions) {
  const r = await fetch(`${base}/api/v1/conversations`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ locale }),
  });
  if (r.status !== 201) throw new Error(`POST /api/v1/conversations -> ${r.status} ${await r.text()}`);
  const conv = await r.json();
  const answers = [];
  for (const [i, text] of questions.entries()) {
    const m = await fetch(`${base}/api/v1/conversations/${conv.id}/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${conv.token}` },
      body: JSON.stringify({ text, client_id: `q-${i}` }),
    });
    if (m.status !== 200) throw new Error(`POST messages -> ${m.status} ${await m.text()}`);
    answers.push(await m.json());
  }
  return { conv, answers };
}

// Chromium and a fresh context per test; collects what the page did wrong
// (uncaught exceptions and Content-Security-Policy violations).
export async function launchBrowser() {
  requireTools();
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--disable-gpu', '--no-first-run'] });
}

export async function newPage(browser, server, { signedInAs = null } = {}) {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1440, height: 900 } });
  if (signedInAs) {
    const r = await context.request.post('/api/v1/auth/login', { data: { email: signedInAs.email, password: signedInAs.password } });
    if (!r.ok()) throw new Error(`browser sign-in ${signedInAs.email} -> ${r.status()} ${await r.text()}`);
  }
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) page.problems.push(`CSP: ${m.text()}`);
  });
  return page;
}

// Opens the editor at a hash route and waits for the view's heading.
export async function openEditor(page, hash = '#/articles') {
  await page.goto('/editor/' + hash);
  await page.locator('main h1').first().waitFor();
}

// The fixture of one test file: one server and one browser for all its
// tests, a fresh signed-in context per test. A failing test keeps the data
// directory and gets the server log's tail in its message.
export function setup(test, hooks, serverOpts = {}) {
  const env = { server: null, browser: null };
  hooks.before(async () => {
    env.server = await new Server(serverOpts).start();
    env.browser = await launchBrowser();
  });
  hooks.after(async () => {
    if (env.browser) await env.browser.close();
    if (env.server) await env.server.stop();
  });
  env.test = (name, fn, { as = EDITOR, timeout = 30000 } = {}) => test(name, { timeout }, async () => {
    const page = await newPage(env.browser, env.server, { signedInAs: as });
    try {
      await fn(page, env);
      if (page.problems.length) throw new Error(`the page reported problems:\n${page.problems.join('\n')}`);
    } catch (e) {
      env.server.failed = true;
      e.message += `\n--- page ${page.url()}${page.problems.length ? '\n' + page.problems.join('\n') : ''}`
        + `\n--- server log (tail) ---\n${env.server.logTail(3000)}`;
      throw e;
    } finally {
      await page.context().close();
    }
  });
  return env;
}

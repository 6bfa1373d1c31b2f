#!/usr/bin/env python3
"""Soak: mixed load against the real server with kill -9 every few minutes, then an invariant
check (bench/soak.sh runs it; see BENCHMARKS.md "Soak").

Customers create conversations, follow each one's event stream (resuming with Last-Event-ID after
every drop), ask knowledge-base questions and sometimes for a person; agents sign in, follow their
own event stream, accept offers, reply and resolve; an editor edits and publishes articles. Every
KILL_EVERY seconds the server gets SIGKILL and is started again on the same port and data
directory. Clients retry every unacknowledged write with the same client_id (or revision).

At the end (after one more kill -9 and restart) it checks:
  lost        every message answered 2xx (customer's, the bot's replies, agents') is in the
              transcript, under the id the answer gave
  duplicated  no client_id appears twice in a transcript
  gap         across all its resumes, each customer stream saw exactly the stored events a
              customer may see, in order, none missing, none twice (the store numbers a
              conversation's events 1..n; the agents-only ones, HIDDEN, are skipped in the
              customer's stream); the agents' streams saw strictly increasing ids
  events      the store's numbers have no hole, a replay after the last restart serves the same
              events, and the stored message events are the transcript's messages, one to one
  edits       every acknowledged article revision exists afterwards
and exits 1 when any is violated.

Standard library only; the SSE reader is tests/e2e/harness.py's.

usage: soak.py --bin BUILD/switchboard --src REPO --data DIR [--duration S] [--kill-every S]
               [--customers N] [--agents N] [--editors N] [--seed N]
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from harness import SSEClient  # noqa: E402

QUESTIONS = {
    "en": ["how can I track my order?", "which payment methods do you accept?", "I forgot my password",
           "when will I get my refund?", "can I change my delivery address?", "do you ship abroad?",
           "how do I return an item?"],
    "pt-BR": ["como rastrear meu pedido?", "quais formas de pagamento vocês aceitam?", "esqueci minha senha",
              "quando recebo meu reembolso?"],
    "ro": ["cum îmi urmăresc comanda?", "ce metode de plată acceptați?", "mi-am uitat parola"],
}
ASK_HUMAN = {"en": "I want to talk to a human", "pt-BR": "falar com um atendente", "ro": "vreau un operator"}
PASSWORD = "soak-password-%d-long-enough"
SERVER_CONFIG = {
    # All customers come from 127.0.0.1: the per-address limits would measure themselves.
    "rate_ip_per_s": 100000, "rate_ip_burst": 100000,
    "rate_visitor_per_s": 100000, "rate_visitor_burst": 100000,
    "session_idle_s": 86400, "session_max_s": 86400,
    # The check replays every conversation's stream, one after another, from one address; a
    # stream the client closed holds its connection slot until the server's next keep-alive
    # write finds the socket gone (sse_keepalive_s), so 256 replays within that time would
    # meet max_conns_per_ip and be refused.
    "max_conns_per_ip": 1000000,
}
REQUEST_TIMEOUT = 15.0
# Stored events only agents see (core/http/sse.c): a customer's stream skips their numbers.
HIDDEN = ("conversation/offered", "note/added")


def now():
    return time.monotonic()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = {}
        self.violations = []

    def add(self, key, k=1):
        with self.lock:
            self.n[key] = self.n.get(key, 0) + k

    def violate(self, kind, text):
        with self.lock:
            self.violations.append((kind, text))
        log("VIOLATION %s: %s" % (kind, text))


_log_lock = threading.Lock()
T0 = now()


def log(text):
    with _log_lock:
        sys.stdout.write("[%7.1fs] %s\n" % (now() - T0, text))
        sys.stdout.flush()


class ServerProc:
    """The switchboard process; kill9() and start() keep the port and the data directory."""

    def __init__(self, args):
        self.bin, self.src, self.data = args.bin, args.src, args.data
        self.port = args.port or free_port()
        self.proc = None
        self.up = threading.Event()
        os.makedirs(self.data, exist_ok=True)
        self.log = open(os.path.join(self.data, "server.log"), "ab")
        self.starts = 0

    def start(self):
        cfg = os.path.join(self.data, "config.json")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
        self.proc = subprocess.Popen(
            [self.bin, "serve", "--port", str(self.port), "--data", self.data, "--config", cfg,
             "--plugins", os.path.join(self.src, "plugins"), "--web", os.path.join(self.src, "web")],
            cwd=self.src, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = now() + 60
        while now() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("switchboard exited %s during start-up (see %s/server.log)"
                                   % (self.proc.returncode, self.data))
            try:
                st, _, _ = request(self.port, "GET", "/healthz", timeout=2)
                if st == 200:
                    self.starts += 1
                    self.up.set()
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("switchboard not healthy within 60 s")

    def kill9(self):
        self.up.clear()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, method, path, body=None, headers=None, timeout=REQUEST_TIMEOUT):
    """(status, parsed body, response); raises OSError / http.client errors when the server is away."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return r.status, parsed, r
    finally:
        c.close()


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.server = ServerProc(args)
        self.stats = Stats()
        self.stop = threading.Event()  # no new work
        self.halt = threading.Event()  # give up retrying
        self.lock = threading.Lock()
        self.convs = []  # every conversation a customer created (dicts, see Customer)
        self.agent_acks = {}  # client_id -> (conversation id, message id)
        self.edit_acks = []  # (article id, revision)
        self.writes_in_flight = 0  # requests other than GET on the wire now

    # -- retrying a write until the server answers it (the same body: the same client_id)
    def call(self, method, path, body=None, headers=None, retry_on=(), full=False):
        """Retries until an answer that is not a server-away symptom; returns (status, body), or
        (status, body, response) when full.
        Connection errors and 503 are retried (the server is restarting or stopping); so are
        the statuses in retry_on. Returns (None, None) once halt is set."""
        tries = 0
        while not self.halt.is_set():
            self.server.up.wait(1)
            if not self.server.up.is_set():
                continue
            tries += 1
            if tries > 1:
                self.stats.add("retries")
            write = method != "GET"
            if write:
                with self.lock:
                    self.writes_in_flight += 1
            try:
                st, b, r = request(self.server.port, method, path, body, headers)
            except (OSError, http.client.HTTPException):
                self.stats.add("write_interrupted" if write else "read_interrupted")
                time.sleep(0.1)
                continue
            finally:
                if write:
                    with self.lock:
                        self.writes_in_flight -= 1
            if st == 503 or st in retry_on:
                time.sleep(0.2)
                continue
            return (st, b, r) if full else (st, b)
        return (None, None, None) if full else (None, None)

    def run(self):
        a = self.args
        self.prepare()
        self.server.start()
        log("server up on port %d, data %s" % (self.server.port, a.data))
        threads = [threading.Thread(target=Customer(self, i).run, name="customer-%d" % i, daemon=True)
                   for i in range(a.customers)]
        threads += [threading.Thread(target=Agent(self, i).run, name="agent-%d" % i, daemon=True)
                    for i in range(a.agents)]
        threads += [threading.Thread(target=Editor(self, i).run, name="editor-%d" % i, daemon=True)
                    for i in range(a.editors)]
        for t in threads:
            t.start()
        end = now() + a.duration
        next_kill = now() + a.kill_every
        next_report = now() + 60
        while now() < end:
            time.sleep(min(1.0, max(0.0, end - now())))
            if a.kill_every and now() >= next_kill and now() < end - 5:
                self.kill_restart()
                next_kill = now() + a.kill_every
            if now() >= next_report:
                next_report = now() + 60
                log("progress: %s, %d violations" % (self.counts(), len(self.stats.violations)))
        log("load stops")
        self.stop.set()
        grace = now() + 60
        for t in threads:
            t.join(max(0.0, grace - now()))
        self.halt.set()
        for t in threads:
            t.join(10)
        # The check reads the store as the last restart left it.
        self.kill_restart(mid_write=False, before_start=self.inject)
        self.check()
        self.server.stop()
        return self.report()

    def counts(self):
        with self.stats.lock:
            return ", ".join("%s %d" % kv for kv in sorted(self.stats.n.items()))

    def inject(self):
        """--inject: a fault the check must report (the checker's own test)."""
        kind = self.args.inject
        acked = [(c, cid, v[0]) for c in self.convs for cid, v in c["acked"].items()]
        if not kind or not acked:
            return
        conv, cid, mid = self.rng.choice(acked)
        if kind == "lose":
            db = sqlite3.connect(os.path.join(self.args.data, "switchboard.db"))
            db.execute("DELETE FROM messages WHERE id = ?", (mid,))
            db.commit()
            db.close()
        elif kind == "gap":
            conv = self.rng.choice([c for c in self.convs if len(c["seen"]) > 2])
            del conv["seen"][1]
        log("injected %s in conversation %s" % (kind, conv["id"]))

    def kill_restart(self, mid_write=True, before_start=None):
        # A kill between requests tests little: wait (up to 5 s) until a write is on the wire,
        # so that some are cut before their answer and must be retried.
        deadline = now() + 5
        while mid_write and now() < deadline and not self.writes_in_flight:
            time.sleep(0.0005)
        self.server.kill9()
        self.stats.add("kills")
        log("kill -9")
        time.sleep(self.rng.uniform(0.0, 1.0))
        if before_start:
            before_start()
        t = now()
        self.server.start()
        self.stats.add("restarts")
        log("restarted in %.2fs" % (now() - t))

    def prepare(self):
        a = self.args
        os.makedirs(a.data, exist_ok=True)
        with open(os.path.join(a.data, "config.json"), "w") as f:
            json.dump(SERVER_CONFIG, f)

        def cli(*argv, input=None):
            env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
            r = subprocess.run([a.bin] + list(argv) + ["--data", a.data], input=input, cwd=a.src,
                               env=env, capture_output=True, text=True, timeout=300)
            if r.returncode:
                raise RuntimeError("switchboard %s: %s%s" % (" ".join(argv), r.stdout, r.stderr))

        cli("kb", "import", os.path.join(a.src, "kb", "demo"))
        for i in range(a.agents):
            cli("user", "add", "--email", "agent%d@soak.example" % i, "--name", "Agent %d" % i,
                "--role", "agent", input=PASSWORD % i + "\n")
            cli("agent", "set", "agent%d@soak.example" % i, "--team", "default", "--capacity", "6")
        for i in range(a.editors):
            cli("user", "add", "--email", "editor%d@soak.example" % i, "--name", "Editor %d" % i,
                "--role", "editor", input=PASSWORD % (100 + i) + "\n")

    # -- the invariants
    def check(self):
        log("checking %d conversations" % len(self.convs))
        port = self.server.port
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.args.data, "switchboard.db"), uri=True,
                             timeout=30)
        stored_msg_ids = {}
        for conv in self.convs:
            path = "/api/v1/conversations/%s" % urllib.parse.quote(conv["id"])
            auth = {"Authorization": "Bearer " + conv["token"]}
            st, tr, _ = request(port, "GET", path + "/messages", headers=auth)
            if st != 200:
                self.stats.violate("lost", "conversation %s: GET transcript -> %s %r" % (conv["id"], st, tr))
                continue
            msgs = tr["messages"]
            ids = {m["id"] for m in msgs}
            stored_msg_ids[conv["id"]] = ids
            seen_cids = {}
            for m in msgs:
                if m["direction"] == "in" and m.get("client_id"):
                    if m["client_id"] in seen_cids:
                        self.stats.violate("duplicated", "conversation %s: client_id %r stored twice (ids %d, %d)%s"
                                           % (conv["id"], m["client_id"], seen_cids[m["client_id"]], m["id"],
                                              " (retried after a failure)" if m["client_id"] in conv["retried"]
                                              else ""))
                    seen_cids[m["client_id"]] = m["id"]
            for cid, (mid, replies, text) in conv["acked"].items():
                self.stats.add("checked_acked")
                if seen_cids.get(cid) != mid:
                    self.stats.violate("lost", "conversation %s: acknowledged %r (id %d, %r) stored as %r"
                                       % (conv["id"], cid, mid, text, seen_cids.get(cid)))
                lost = [r for r in replies if r not in ids]
                if lost:
                    self.stats.violate("lost", "conversation %s: acknowledged bot replies %r of %r missing"
                                       % (conv["id"], lost, cid))
            self.check_events(db, conv, path, auth, msgs)
        for cid, (conv_id, mid) in self.agent_acks.items():
            self.stats.add("checked_agent_acked")
            if mid not in stored_msg_ids.get(conv_id, ()):
                self.stats.violate("lost", "conversation %s: agent message %r (id %d) missing" % (conv_id, cid, mid))
        self.check_edits(port)

    def check_events(self, db, conv, path, auth, msgs):
        # The store: every event of the conversation, numbered 1..n without a hole.
        rows = db.execute("SELECT e.seq, e.type, e.data FROM events e JOIN conversations c"
                          " ON c.id = e.conversation_id WHERE c.public_id = ? ORDER BY e.seq",
                          (conv["id"],)).fetchall()
        stored = [(seq, typ, msg_id({"event": typ, "data": json.loads(data)})) for seq, typ, data in rows]
        if [r[0] for r in stored] != list(range(1, len(stored) + 1)):
            self.stats.violate("events", "conversation %s: stored seqs %s" % (conv["id"], compact([r[0] for r in stored])))
        visible = [r for r in stored if r[1] not in HIDDEN]
        # What the customer's stream saw across every resume: exactly the visible stored events,
        # in order, from the first on (a prefix: events may come after the stream was closed).
        seen = conv["seen"]
        if seen != visible[:len(seen)]:
            at = next(i for i, (a, b) in enumerate(zip(seen + [None], visible + [None])) if a != b)
            self.stats.violate("gap", "conversation %s: the stream saw %s, the store has %s; first difference at #%d:"
                               " saw %r, stored %r" % (conv["id"], compact([x[0] for x in seen]),
                                                       compact([x[0] for x in visible]), at,
                                                       seen[at] if at < len(seen) else None,
                                                       visible[at] if at < len(visible) else None))
        # A replay from the start after the last restart serves the same events.
        c = SSEClient(self.server.port, timeout=10)
        try:
            c.open(path + "/events", auth)
            if c.status != 200:
                self.stats.violate("events", "conversation %s: GET events -> %s" % (conv["id"], c.status))
                return
            replay = [(e["id"], e["event"], msg_id(e)) for e in c.read_events(len(visible), timeout=20)]
        except AssertionError as e:
            self.stats.violate("events", "conversation %s: replay: %s" % (conv["id"], e))
            return
        finally:
            c.close()
        if replay != visible:
            self.stats.violate("events", "conversation %s: replay %s, store %s"
                               % (conv["id"], compact([x[0] for x in replay]), compact([x[0] for x in visible])))
        ev_msgs = [r[2] for r in stored if r[2] is not None]
        if ev_msgs != [m["id"] for m in msgs]:
            self.stats.violate("events", "conversation %s: message events %s, transcript %s"
                               % (conv["id"], compact(ev_msgs), compact([m["id"] for m in msgs])))

    def check_edits(self, port):
        if not self.edit_acks:
            return
        # The load's retrying clients are halted: sign in directly.
        st, b, r = request(port, "POST", "/api/v1/auth/login", {"email": "editor0@soak.example",
                                                                  "password": PASSWORD % 100})
        if st != 200:
            self.stats.violate("edits", "editor sign-in for the check -> %s %r" % (st, b))
            return
        auth = {"Cookie": (r.getheader("Set-Cookie") or "").split(";")[0]}
        for art, rev in sorted(set(self.edit_acks)):
            self.stats.add("checked_edits")
            st, b, _ = request(port, "GET", "/api/v1/kb/articles/%d/revisions" % art, headers=auth)
            revs = {r["revision"] for r in (b or {}).get("revisions", [])} if st == 200 else set()
            if rev not in revs:
                self.stats.violate("edits", "article %d: acknowledged revision %d missing (%s)" % (art, rev, st))

    def report(self):
        v = self.stats.violations
        kinds = {}
        for k, _ in v:
            kinds[k] = kinds.get(k, 0) + 1
        a = self.args
        print("\n== soak summary ==")
        print("duration %ds, kill -9 every %ds, %d customers, %d agents, %d editors, seed %d"
              % (a.duration, a.kill_every, a.customers, a.agents, a.editors, a.seed))
        print("conversations %d; %s" % (len(self.convs), self.counts()))
        print("server starts %d" % self.server.starts)
        print("violations %d %s" % (len(v), json.dumps(kinds, sort_keys=True)))
        for k, text in v[:50]:
            print("  %s: %s" % (k, text))
        return 1 if v else 0


def msg_id(e):
    d = e.get("data")
    if e["event"] in ("message/inbound", "message/outbound") and isinstance(d, dict):
        return (d.get("message") or {}).get("id")
    return None


def compact(ids):
    """[1, 2, 3, 5, 6] -> '1-3,5-6' (what a gap looks like at a glance)."""
    out, start, prev = [], None, None
    for i in ids:
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            out.append("%s-%s" % (start, prev) if start != prev else str(start))
            start = prev = i
    if start is not None:
        out.append("%s-%s" % (start, prev) if start != prev else str(start))
    return ",".join(out) or "(none)"


class Follower:
    """Follows an event stream in a thread: reconnects after every drop with Last-Event-ID = the
    last id seen, and hands each event with an id to on_event (typing has none)."""

    def __init__(self, soak, path, headers_fn, on_event, name):
        self.soak, self.path, self.headers_fn, self.on_event = soak, path, headers_fn, on_event
        self.last = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, name=name, daemon=True)
        self.thread.start()

    def run(self):
        soak = self.soak
        first = True
        while not self.done.is_set() and not soak.halt.is_set():
            soak.server.up.wait(1)
            if not soak.server.up.is_set():
                continue
            h = dict(self.headers_fn())
            if self.last is not None:
                h["Last-Event-ID"] = str(self.last)
            try:
                c = SSEClient(soak.server.port, timeout=5)
                c.open(self.path, h)
            except OSError:
                time.sleep(0.2)
                continue
            if c.status != 200:
                c.close()
                time.sleep(0.5)
                continue
            if not first:
                soak.stats.add("reconnects")
            first = False
            try:
                while not self.done.is_set():
                    try:
                        ev = c.next_event(1.0)
                    except socket.timeout:
                        continue
                    if ev is None:
                        break
                    if ev["id"] is None:
                        continue
                    self.on_event(ev)
                    self.last = ev["id"]
            except OSError:
                pass
            finally:
                c.close()


class Customer:
    def __init__(self, soak, i):
        self.soak, self.i = soak, i
        self.rng = random.Random(soak.args.seed * 1000 + i)
        self.n = 0
        self.last_ack = None  # (conv, path, auth, body, message id) of the latest 2xx
        self.starts = 1

    def resend_after_restart(self):
        """Once after each restart: the last acknowledged message again, as a client does whose
        answer was lost in the crash. It must come back as the same message, not a new one."""
        if self.soak.server.starts == self.starts or not self.last_ack:
            return
        self.starts = self.soak.server.starts
        conv, path, auth, body, mid = self.last_ack
        st, b = self.soak.call("POST", path + "/messages", body, auth)
        if st is None:
            return
        self.soak.stats.add("resent_after_restart")
        if st != 200 or not b.get("duplicate") or b.get("message_id") != mid:
            self.soak.stats.violate("duplicated", "conversation %s: %r sent again after a restart -> %s %r"
                                    " (first acknowledged as message %d)" % (conv["id"], body, st, b, mid))

    def run(self):
        soak = self.soak
        while not soak.stop.is_set():
            locale = self.rng.choice(["en", "en", "en", "pt-BR", "ro"])
            st, b = soak.call("POST", "/api/v1/conversations", {"locale": locale})
            if st is None:
                return
            if st != 201:
                soak.stats.violate("http", "POST /api/v1/conversations -> %s %r" % (st, b))
                time.sleep(1)
                continue
            soak.stats.add("conversations")
            conv = {"id": b["id"], "token": b["token"], "acked": {}, "retried": set(), "seen": []}
            with soak.lock:
                soak.convs.append(conv)
            self.talk(conv, locale)

    def talk(self, conv, locale):
        soak = self.soak
        path = "/api/v1/conversations/%s" % urllib.parse.quote(conv["id"])
        auth = {"Authorization": "Bearer " + conv["token"]}
        last = [0]

        def on_event(ev):
            # Ids skip the agents' events (see HIDDEN), so only a repeat is visible here; the
            # check at the end compares with the store.
            if not isinstance(ev["id"], int) or ev["id"] <= last[0]:
                soak.stats.violate("gap", "conversation %s: after id %d came %r (%s)"
                                   % (conv["id"], last[0], ev["id"], ev["event"]))
            else:
                last[0] = ev["id"]
            conv["seen"].append((ev["id"], ev["event"], msg_id(ev)))
            soak.stats.add("events_seen")

        f = Follower(soak, path + "/events", lambda: auth, on_event, "sse-" + conv["id"])
        human = self.rng.random() < 0.2
        turns = self.rng.randint(3, 10)
        try:
            for t in range(turns):
                if soak.stop.is_set():
                    break
                if human and t == 1:
                    text = ASK_HUMAN[locale]
                else:
                    text = self.rng.choice(QUESTIONS[locale])
                self.n += 1
                cid = "c%d-%d" % (self.i, self.n)
                body = {"text": text, "client_id": cid}
                self.resend_after_restart()
                if not self.send(conv, path, auth, body):
                    return
                time.sleep(self.rng.uniform(1.0, 3.0))
            # a moment for the agent's answers and the last events, then the next conversation
            time.sleep(self.rng.uniform(0.5, 2.0))
        finally:
            f.done.set()
            f.thread.join(5)

    def send(self, conv, path, auth, body):
        """Posts until answered 2xx (the same client_id every time); False if halted."""
        soak = self.soak
        tries = 0
        while True:
            tries += 1
            if tries > 1:
                conv["retried"].add(body["client_id"])
            st, b = soak.call("POST", path + "/messages", body, auth)
            if st is None:
                return False
            soak.stats.add("sent")
            if 200 <= st < 300:
                soak.stats.add("acked")
                if b.get("duplicate"):
                    soak.stats.add("acked_duplicate")
                conv["acked"][body["client_id"]] = (b["message_id"], [r["id"] for r in b.get("replies", [])],
                                                    body["text"])
                self.last_ack = (conv, path, auth, body, b["message_id"])
                return True
            soak.stats.violate("http", "POST %s/messages %r -> %s %r" % (path, body, st, b))
            return True


class Staff:
    """A signed-in staff member: cookie + CSRF, signing in again when the session is gone."""

    def __init__(self, soak, email, password):
        self.soak, self.email, self.password = soak, email, password
        self.cookie = self.csrf = None
        self.user_id = None

    def login(self):
        while not self.soak.halt.is_set():
            st, b, r = self.soak.call("POST", "/api/v1/auth/login", {"email": self.email, "password": self.password},
                                      retry_on=(429,), full=True)
            if st == 200:
                self.csrf = b["csrf_token"]
                self.user_id = b["user"]["id"]
                self.cookie = (r.getheader("Set-Cookie") or "").split(";")[0]
                self.soak.stats.add("logins")
                return True
            time.sleep(1)
        return False

    def headers(self):
        return {"Cookie": self.cookie or "", "X-CSRF-Token": self.csrf or ""}

    def call(self, method, path, body=None):
        while True:
            st, b = self.soak.call(method, path, body, self.headers())
            if st == 401:
                if not self.login():
                    return None, None
                continue
            return st, b


class Agent:
    def __init__(self, soak, i):
        self.soak, self.i = soak, i
        self.rng = random.Random(soak.args.seed * 1000 + 500 + i)
        self.staff = Staff(soak, "agent%d@soak.example" % i, PASSWORD % i)
        self.n = 0
        self.last_id = 0

    def on_event(self, ev):
        if isinstance(ev["id"], int) and ev["id"] <= self.last_id:
            self.soak.stats.violate("gap", "agent %d stream: id %d after %d (%s)"
                                    % (self.i, ev["id"], self.last_id, ev["event"]))
        self.last_id = max(self.last_id, ev["id"] if isinstance(ev["id"], int) else 0)
        self.soak.stats.add("agent_events_seen")

    def run(self):
        soak, s = self.soak, self.staff
        if not s.login():
            return
        f = Follower(soak, "/api/v1/agent/events", s.headers, self.on_event, "agent-sse-%d" % self.i)
        replies = {}
        try:
            while not soak.stop.is_set():
                s.call("PUT", "/api/v1/agent/me/status", {"status": "online"})
                st, q = s.call("GET", "/api/v1/agent/queue")
                for item in (q or {}).get("queue", []) if st == 200 else []:
                    if item.get("offered_to") == s.user_id:
                        st2, _ = s.call("POST", "/api/v1/agent/conversations/%s/accept" % item["id"])
                        if st2 == 200:
                            soak.stats.add("agent_accepts")
                st, mine = s.call("GET", "/api/v1/agent/conversations?mine=1&status=assigned")
                for item in (mine or {}).get("conversations", []) if st == 200 else []:
                    cid = item["id"]
                    n = replies.get(cid, 0)
                    if n >= self.rng.randint(2, 3):
                        st2, _ = s.call("POST", "/api/v1/agent/conversations/%s/resolve" % cid, {})
                        if st2 == 200:
                            soak.stats.add("agent_resolves")
                            replies.pop(cid, None)
                        continue
                    self.n += 1
                    ccid = "a%d-%d" % (self.i, self.n)
                    st2, b = s.call("POST", "/api/v1/agent/conversations/%s/messages" % cid,
                                    {"text": "Agent %d here, reply %d" % (self.i, n + 1), "client_id": ccid})
                    if st2 == 200:
                        replies[cid] = n + 1
                        soak.stats.add("agent_acked")
                        with soak.lock:
                            soak.agent_acks[ccid] = (cid, b["message"]["id"])
                    elif st2 is not None and st2 != 409:
                        soak.stats.add("agent_send_refused")
                time.sleep(self.rng.uniform(1.0, 2.0))
        finally:
            f.done.set()
            f.thread.join(5)


class Editor:
    def __init__(self, soak, i):
        self.soak, self.i = soak, i
        self.rng = random.Random(soak.args.seed * 1000 + 900 + i)
        self.staff = Staff(soak, "editor%d@soak.example" % i, PASSWORD % (100 + i))
        self.n = 0

    def run(self):
        soak, s = self.soak, self.staff
        if not s.login():
            return
        while not soak.stop.is_set():
            time.sleep(self.rng.uniform(5.0, 10.0))
            st, lst = s.call("GET", "/api/v1/kb/articles?locale=en&status=published")
            arts = (lst or {}).get("articles", []) if st == 200 else []
            if not arts:
                continue
            art = self.rng.choice(arts)
            self.edit(art["id"])

    def edit(self, art_id):
        soak, s = self.soak, self.staff
        st, b = s.call("GET", "/api/v1/kb/articles/%d" % art_id)
        if st != 200:
            return
        a = b["article"]
        self.n += 1
        mark = "Soak edit %d-%d." % (self.i, self.n)
        body = a["body"].split("\n\nSoak edit ")[0] + "\n\n" + mark
        tries = 0
        while True:
            tries += 1
            st, b = s.call("PUT", "/api/v1/kb/articles/%d" % art_id, {"revision": a["revision"], "body": body})
            if st is None:
                return
            if st == 200:
                break
            if st == 409 and tries > 1:
                # The first try may have been stored before the kill: then the article has our text.
                cur = (b or {}).get("error", {}).get("current") or b.get("current") or {}
                if cur.get("body") == body:
                    b = {"article": cur}
                    break
            soak.stats.add("edit_conflicts" if st == 409 else "edit_refused")
            return
        rev = b["article"]["revision"]
        soak.stats.add("edits_acked")
        with soak.lock:
            soak.edit_acks.append((art_id, rev))
        st, b = s.call("POST", "/api/v1/kb/articles/%d/publish" % art_id, {"revision": rev})
        if st == 200:
            soak.stats.add("publishes_acked")
            with soak.lock:
                soak.edit_acks.append((art_id, b["article"]["revision"]))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--data", required=True, help="a fresh data directory")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--duration", type=int, default=1800)
    p.add_argument("--kill-every", type=int, default=300)
    p.add_argument("--customers", type=int, default=20)
    p.add_argument("--agents", type=int, default=3)
    p.add_argument("--editors", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--inject", choices=("lose", "gap"), help="make one violation: the checker's own test")
    args = p.parse_args()
    soak = Soak(args)
    try:
        rc = soak.run()
    finally:
        soak.server.stop()
    sys.exit(rc)


if __name__ == "__main__":
    main()

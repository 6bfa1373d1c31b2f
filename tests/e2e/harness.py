"""End-to-end harness for Switchboard: runs the real binary on a free port and talks real HTTP.

Standard library only. Environment:
  SWITCHBOARD_BIN   path of the server binary (default: <repo>/build/switchboard)
  SWITCHBOARD_SRC   repo root (default: two directories above this file)
  SWITCHBOARD_E2E_KEEP=1  keep the temporary data directories (they are always kept after a failure)

Every server gets its own temporary data directory with `kb/demo` imported into it, is started
with `--port 0`, and its stdout/stderr go to DATA/server.log, which the test base class prints
when a test fails.

Staff accounts: Server(users=[{"email", "password", "roles", ...}], before_start=fn) creates
accounts with `switchboard user add` (and runs fn(server)) between the kb import and the first
start; Server.cli()/user_cli()/add_user() run the command line; Server.login() returns a
StaffSession (cookie + csrf_token) whose request() sends both. The config written for the server
is TEST_CONFIG_DEFAULTS (customer rate limits lifted, kdf_log2_n 10, index rebuilds in place) overlaid with the test's
config; a key set to None is left out so the server's default applies.
"""

import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.environ.get("SWITCHBOARD_SRC") or os.path.join(HERE, "..", ".."))
BIN = os.path.abspath(os.environ.get("SWITCHBOARD_BIN") or os.path.join(SRC, "build", "switchboard"))
KB_DEMO = os.path.join(SRC, "kb", "demo")
PLUGINS = os.path.join(SRC, "plugins")
WEB = os.path.join(SRC, "web")

START_TIMEOUT = 10.0
REQUEST_TIMEOUT = 10.0
LOG_TAIL = 6000

EVENT_TYPES = ("conversation/started", "message/inbound", "message/outbound", "conversation/handoff")
STATUSES = ("bot", "queued", "assigned", "resolved")

REGISTRY = []  # every Server created in this process, in creation order
KEEP = os.environ.get("SWITCHBOARD_E2E_KEEP") == "1"


def _child_env():
    # The server overlays SWITCHBOARD_<KEY> variables onto its config; never let the caller's
    # environment (SWITCHBOARD_PUBLIC_URL, SWITCHBOARD_MAX_BODY, ...) change what is tested.
    return {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}


def _die_with_parent():
    # Linux: the server gets SIGKILL if the test process dies without cleaning up.
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _preexec(nofile):
    def run():
        _die_with_parent()
        if nofile:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    return run


def _tail(path, limit=LOG_TAIL, offset=0):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            start = max(offset, size - limit)
            f.seek(start)
            data = f.read()
    except OSError as e:
        return "<no log: %s>" % e
    prefix = "...[%d bytes cut]...\n" % (start - offset) if start > offset else ""
    return prefix + data.decode("utf-8", "replace")


def _parse_body(headers, data):
    if not data:
        return ""
    ctype = headers.get("content-type", "")
    text = data.decode("utf-8", "replace")
    if "json" in ctype or text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


class HTTPStream:
    """A minimal HTTP/1.1 client over a raw socket with deadlines everywhere.

    Used for SSE (where the body never ends) and for requests http.client refuses to send
    (lying Content-Length, huge headers, partial bodies).
    """

    def __init__(self, port, timeout=5.0, host="127.0.0.1", source=None):
        """source: a local address to connect from (e.g. "127.0.0.3", another client on loopback)."""
        self.port = port
        self.host = host
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""  # raw bytes received, not yet decoded
        self.body = b""  # decoded body bytes, not yet consumed
        self.eof = False
        self.reset = False
        self.send_error = None
        self.status = None
        self.reason = ""
        self.headers = {}
        self.chunked = False
        self.remaining = None  # Content-Length bytes still expected
        self.body_done = False

    # -- sending
    def send(self, data):
        """Sends bytes; returns False (and remembers the error) if the peer closed or reset."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            self.sock.settimeout(self.timeout)
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, socket.timeout) as e:
            self.send_error = e
            return False

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def send_request(self, method, path, headers=None, body=None):
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (self.host, self.port)]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
        return self.send(head + (body or b""))

    # -- receiving
    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            self.reset = True
            data = b""
        if not data:
            self.eof = True
        return data

    def _decode(self):
        if self.status is None:
            return
        if self.chunked:
            while not self.body_done:
                i = self.buf.find(b"\r\n")
                if i < 0:
                    return
                size = int(self.buf[:i].split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.body_done = True
                    self.buf = b""
                    return
                if len(self.buf) < i + 2 + size + 2:
                    return
                self.body += self.buf[i + 2:i + 2 + size]
                self.buf = self.buf[i + 2 + size + 2:]
        elif self.remaining is not None:
            take = self.buf[:self.remaining]
            self.body += take
            self.buf = self.buf[len(take):]
            self.remaining -= len(take)
            if self.remaining == 0:
                self.body_done = True
        else:
            self.body += self.buf
            self.buf = b""

    def fill(self, deadline):
        data = self._recv(deadline)
        self.buf += data
        self._decode()
        return data

    def read_head(self, timeout=None):
        """Reads the status line and headers. Returns False if the peer closed first."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\r\n\r\n" not in self.buf:
            if self.eof:
                return False
            self.buf += self._recv(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("iso-8859-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            self.chunked = True
        elif "content-length" in self.headers:
            self.remaining = int(self.headers["content-length"])
            if self.remaining == 0:
                self.body_done = True
        self._decode()
        return True

    def read_body(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self.body_done and not self.eof:
            self.fill(deadline)
        data, self.body = self.body, b""
        return data

    def response(self, timeout=None):
        """(status, headers, parsed body) or (None, {}, '') if the peer closed without answering."""
        if not self.read_head(timeout):
            return None, {}, ""
        return self.status, self.headers, _parse_body(self.headers, self.read_body(timeout))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SSEClient(HTTPStream):
    """Reads `text/event-stream`. Events are dicts: id (int or None), event, data (parsed JSON)."""

    def __init__(self, port, timeout=5.0):
        super().__init__(port, timeout)
        self.comments = 0
        self.last_id = None

    def open(self, path, headers):
        h = {"Accept": "text/event-stream"}
        h.update(headers)
        self.path = path
        if not self.send_request("GET", path, h):
            return False
        return self.read_head()

    def error_body(self):
        """For a non-200 answer: the parsed body."""
        return _parse_body(self.headers, self.read_body())

    def _parse_one(self):
        while True:
            self.body = self.body.replace(b"\r\n", b"\n")
            i = self.body.find(b"\n\n")
            if i < 0:
                return None
            block, self.body = self.body[:i], self.body[i + 2:]
            ev = {"id": None, "event": "message", "data": None, "raw": block.decode("utf-8", "replace")}
            data_lines = []
            for line in ev["raw"].split("\n"):
                if line == "":
                    continue
                if line.startswith(":"):
                    self.comments += 1
                    continue
                field, sep, value = line.partition(":")
                if sep and value.startswith(" "):
                    value = value[1:]
                if field == "id":
                    ev["id"] = value
                elif field == "event":
                    ev["event"] = value
                elif field == "data":
                    data_lines.append(value)
            if ev["id"] is not None:
                self.last_id = ev["id"]
            if not data_lines:
                continue  # keep-alive comment block (or an id-only block)
            text = "\n".join(data_lines)
            try:
                ev["data"] = json.loads(text)
            except ValueError:
                ev["data"] = text
            try:
                ev["id"] = int(ev["id"]) if ev["id"] is not None else None
            except ValueError:
                pass
            return ev

    def next_event(self, timeout):
        """Next event; None if the stream ended; raises socket.timeout (TimeoutError) on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            ev = self._parse_one()
            if ev is not None:
                return ev
            if self.eof or self.body_done:
                return None
            self.fill(deadline)

    def read_events(self, n, timeout=5.0):
        """Exactly n events within timeout, else AssertionError listing what arrived."""
        deadline = time.monotonic() + timeout
        got = []
        while len(got) < n:
            try:
                ev = self.next_event(max(0.0, deadline - time.monotonic()) or 0.001)
            except socket.timeout:
                ev = "timeout"
            if ev is None or ev == "timeout":
                raise AssertionError(
                    "SSE %s: expected %d events, got %d before %s: %s"
                    % (self.path, n, len(got), "end of stream" if ev is None else "timeout",
                       [(e["id"], e["event"]) for e in got]))
            got.append(ev)
        return got

    def drain(self, idle=0.4, limit=5.0):
        """Events arriving until `idle` seconds pass without one (or the stream ends)."""
        got = []
        end = time.monotonic() + limit
        while time.monotonic() < end:
            try:
                ev = self.next_event(idle)
            except socket.timeout:
                break
            if ev is None:
                break
            got.append(ev)
        return got

    def wait_closed(self, timeout):
        """True if the server closes the stream within timeout; events seen meanwhile are returned
        in self.after_events."""
        self.after_events = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                ev = self.next_event(max(0.001, deadline - time.monotonic()))
            except socket.timeout:
                return False
            if ev is None:
                return True
            self.after_events.append(ev)


TEST_CONFIG_DEFAULTS = {
    "rate_ip_per_s": 100000, "rate_ip_burst": 100000,
    "rate_visitor_per_s": 100000, "rate_visitor_burst": 100000,
    "kdf_log2_n": 10,
    # The sanitizer build takes 1-1.3 s to index the demo knowledge base, around the production
    # default (1000 ms) for moving rebuilds to a thread: tests that publish and then ask at once
    # would pass in some runs and not others. Rebuilds stay in place here; test_kb_rebuild.py
    # sets its own limit.
    "kb_rebuild_in_place_ms": 600000,
}


class Server:
    """One switchboard process on a temporary data directory (kept across restart())."""

    def __init__(self, config=None, import_kb=True, data=None, users=None, before_start=None):
        """config: merged over TEST_CONFIG_DEFAULTS (a value of None drops that key, so the
        server's own default applies). users: staff accounts created with `switchboard user add`
        after the kb import and before the first start: dicts with email, password, roles and
        optionally name, locale (their ids end up in self.user_ids). before_start: a callable
        taking this Server, run once at the same point (after users)."""
        self.data = data or tempfile.mkdtemp(prefix="switchboard-e2e-")
        self.users = list(users or [])
        self.before_start = before_start
        self.prepared = False
        self.user_ids = {}  # e-mail -> id printed by `switchboard user add`
        self.log_path = os.path.join(self.data, "server.log")
        self.port_file = os.path.join(self.data, "switchboard.port")
        self.config = config
        self.import_kb = import_kb
        self.imported = False
        self.proc = None
        self.port = None
        self.statuses = []  # (method, path, status) of every request made through this object
        self.dumped = False
        self.failed = False
        self.closed = False
        self.starts = 0
        # more `serve` arguments and environment, e.g. ["--test-clock"] with
        # {"SWITCHBOARD_TEST": "1"} (test_agents_*.py)
        self.extra_args = []
        self.plugins = PLUGINS  # a test may point the server at its own plugins folder
        self.extra_env = {}
        self.nofile = None  # RLIMIT_NOFILE for the server process (soft and hard), None: inherited
        REGISTRY.append(self)

    # -- lifecycle
    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _log(self, text):
        with open(self.log_path, "ab") as f:
            f.write(("\n=== harness %s: %s ===\n" % (time.strftime("%H:%M:%S"), text)).encode())

    def log_text(self, offset=0, limit=LOG_TAIL):
        return _tail(self.log_path, limit, offset)

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def _check_binary(self):
        if not os.path.isfile(BIN) or not os.access(BIN, os.X_OK):
            raise RuntimeError("switchboard binary not found at %s (build it, or set SWITCHBOARD_BIN)" % BIN)

    def _import(self):
        self._log("kb import %s" % KB_DEMO)
        with open(self.log_path, "ab") as log:
            try:
                rc = subprocess.call([BIN, "kb", "import", KB_DEMO, "--data", self.data],
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=SRC, env=_child_env(), timeout=60)
            except subprocess.TimeoutExpired:
                rc = "timeout"
        if rc != 0:
            raise RuntimeError("`switchboard kb import %s --data %s` exited %s\n%s"
                               % (KB_DEMO, self.data, rc, self.log_text()))
        self.imported = True

    def prepare(self):
        """What happens before the first start, once: the kb import, then the `users`, then the
        `before_start` hook. start() calls it; call it yourself to use the CLI on the data
        directory before the server runs."""
        self._check_binary()
        if self.import_kb and not self.imported:
            self._import()
        if self.prepared:
            return
        self.prepared = True
        for u in self.users:
            self.add_user(u["email"], u["password"], u.get("roles") or ("agent",),
                          name=u.get("name"), locale=u.get("locale"))
        if self.before_start is not None:
            self.before_start(self)

    # -- command line (works on the data directory, normally while the server is stopped)
    def cli(self, *args, input=None, timeout=60):
        """Runs `switchboard ARGS...` (cwd = repo, clean environment); returns (exit code,
        stdout, stderr) as text. input (str) goes to stdin, which is otherwise empty. The call
        and its output are appended to the server log."""
        self._check_binary()
        argv = [BIN] + [str(a) for a in args]
        try:
            p = subprocess.run(argv, input=(input or "").encode("utf-8"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=SRC, env=_child_env(), timeout=timeout)
            rc, out, err = p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            rc, out, err = "timeout", "", ""
        self._log("cli: %s -> exit %s\nstdout: %s\nstderr: %s" % (" ".join(argv), rc, out, err))
        return rc, out, err

    def user_cli(self, sub, *args, input=None):
        """`switchboard user SUB --data DATA ARGS...` -> (exit code, stdout, stderr)."""
        return self.cli("user", sub, "--data", self.data, *args, input=input)

    def add_user(self, email, password, roles=("agent",), name=None, locale=None, check=True):
        """`switchboard user add` with the password on stdin. Returns the printed id (a string);
        with check=False returns (exit code, stdout, stderr) instead of asserting success."""
        if isinstance(roles, str):
            roles = (roles,)
        args = ["--email", email]
        for r in roles:
            args += ["--role", r]
        if name is not None:
            args += ["--name", name]
        if locale is not None:
            args += ["--locale", locale]
        rc, out, err = self.user_cli("add", *args, input=None if password is None else password + "\n")
        if not check:
            return rc, out, err
        if rc != 0:
            raise AssertionError("switchboard user add --email %s %s exited %s\nstdout: %s\nstderr: %s"
                                 % (email, " ".join(args[2:]), rc, out, err))
        uid = out.strip().split()[-1] if out.strip() else ""
        self.user_ids[email] = uid
        return uid

    def start(self, timeout=START_TIMEOUT):
        self._check_binary()
        self.prepare()
        try:
            os.unlink(self.port_file)
        except FileNotFoundError:
            pass
        args = [BIN, "serve", "--port", "0", "--data", self.data, "--plugins", self.plugins, "--web", WEB]
        # Tests send bursts from one IP and sign in often: lift the rate
        # limits and use a cheap password hash unless a test asks otherwise.
        config = dict(TEST_CONFIG_DEFAULTS)
        config.update(self.config or {})
        config = {k: v for k, v in config.items() if v is not None}
        cfg = os.path.join(self.data, "config.json")
        with open(cfg, "w") as f:
            json.dump(config, f)
        args += ["--config", cfg] + list(self.extra_args)
        self._log("start: %s" % " ".join(args))
        offset = self.log_size()
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=SRC,
                                         env=dict(_child_env(), **self.extra_env),
                                         preexec_fn=_preexec(self.nofile))
        finally:
            log.close()
        self.port = None
        self.starts += 1
        deadline = time.monotonic() + timeout
        last = "no port yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("switchboard exited with %s during startup\n%s"
                                   % (self.proc.returncode, self.log_text(offset)))
            if self.port is None:
                self.port = self._discover_port(offset)
            if self.port is not None:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                    conn.request("GET", "/healthz")
                    r = conn.getresponse()
                    body = r.read()
                    conn.close()
                    last = "GET /healthz -> %d %r" % (r.status, body[:200])
                    if r.status == 200 and json.loads(body.decode()).get("status") == "ok":
                        return self
                except (OSError, ValueError, http.client.HTTPException) as e:
                    last = "GET /healthz: %r" % e
            time.sleep(0.02)
        self.kill9()
        raise RuntimeError("switchboard not healthy within %.0fs (%s)\n%s" % (timeout, last, self.log_text(offset)))

    def _discover_port(self, offset):
        try:
            with open(self.port_file) as f:
                text = f.read().strip()
            if text:
                return int(text)
        except (OSError, ValueError):
            pass
        marker = "switchboard listening on http://127.0.0.1:"
        text = self.log_text(offset, limit=1 << 20)
        i = text.rfind(marker)
        if i >= 0:
            digits = ""
            for ch in text[i + len(marker):]:
                if not ch.isdigit():
                    break
                digits += ch
            if digits and ch in "\r\n/ ":
                return int(digits)
        return None

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Sends sig and waits; returns the exit code. AssertionError if it does not exit in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self._log("send signal %d" % sig)
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError("switchboard did not exit within %.1fs after signal %d" % (timeout, sig))
        self._log("exited with %s" % rc)
        return rc

    def kill9(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        rc = self.proc.wait()
        self._log("killed, exit %s" % rc)
        return rc

    def restart(self, timeout=START_TIMEOUT):
        """SIGTERM (if still running) and start again on the same data directory with a new port.
        Returns the exit code of the old process."""
        rc = self.stop() if self.alive() else (self.proc.returncode if self.proc else None)
        self.start(timeout)
        return rc

    def close(self):
        """Stops the server (SIGTERM); returns the exit code (None if it was never started)."""
        rc = None
        if self.proc is not None:
            try:
                rc = self.stop()
            except AssertionError:
                rc = "timeout"
        self.closed = True
        return rc

    def start_for_class(self):
        """start() for a setUpClass: tearDownClass does not run when setUpClass raises, so a
        server that failed to start is cleaned up here, its data kept for the log."""
        try:
            self.start()
        except BaseException:
            self.failed = True
            self.cleanup()
            raise
        return self

    def cleanup(self):
        if self.alive():
            self.kill9()
        if not KEEP and not self.failed:
            shutil.rmtree(self.data, ignore_errors=True)

    def dump_log(self, title="", offset=0):
        self.failed = True
        self.dumped = True
        sys.stderr.write("\n----- switchboard log %s(%s/server.log) -----\n%s\n----- end of log -----\n"
                         % (title + " " if title else "", self.data, self.log_text(offset)))
        sys.stderr.flush()

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.failed = True
            self.cleanup()
            raise
        return self

    def __exit__(self, etype, exc, tb):
        rc = self.close()
        if etype is not None:
            if not self.dumped:
                self.dump_log("(test failed)")
            return False
        if rc != 0:
            self.dump_log("(bad exit)")
            raise AssertionError("switchboard exited with %r on SIGTERM, expected 0" % (rc,))
        return False

    # -- HTTP
    def request(self, method, path, body=None, token=None, headers=None, raw=None, timeout=REQUEST_TIMEOUT):
        """(status, headers with lower-case names, parsed JSON or text). body is JSON-encoded;
        raw (bytes or str) is sent as-is."""
        h = {}
        data = None
        if raw is not None:
            data = raw.encode("utf-8") if isinstance(raw, str) else raw
            h["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            h["Content-Type"] = "application/json"
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if headers:
            h.update(headers)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            payload = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            status = resp.status
        finally:
            conn.close()
        self.statuses.append((method, path, status))
        return status, hdrs, _parse_body(hdrs, payload)

    def raw_request(self, data, timeout=5.0, shutdown_write=False):
        """Sends raw bytes on a new connection and reads one response.
        (status, headers, parsed body); status None if the server closed without answering.
        shutdown_write half-closes the connection 0.1 s after the data (libmicrohttpd 0.9.75 in
        epoll mode can miss an end-of-stream that arrives in the same segment as the data)."""
        with HTTPStream(self.port, timeout) as s:
            s.send(data)
            if shutdown_write:
                time.sleep(0.1)
                s.shutdown_write()
            st, h, b = s.response(timeout)
        self.statuses.append(("RAW", data[:60], st))
        return st, h, b

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def healthz(self):
        return self.request("GET", "/healthz", timeout=5)

    # -- staff helpers
    def login(self, email, password, headers=None, expect=200):
        """POST /api/v1/auth/login. With expect (default 200) asserts the status and returns a
        StaffSession (cookie + csrf_token); with expect=None returns (status, headers, body)."""
        st, h, b = self.request("POST", "/api/v1/auth/login", {"email": email, "password": password},
                                headers=headers)
        if expect is None:
            return st, h, b
        if st != expect:
            raise AssertionError("POST /api/v1/auth/login as %s -> %s %r, expected %s" % (email, st, b, expect))
        return StaffSession(self, h, b, email)

    def create_token(self, admin, name, role):
        """POST /api/v1/admin/tokens as admin (a StaffSession, or an admin API token string);
        asserts 201 and returns the body ({id, name, role, token})."""
        body = {"name": name, "role": role}
        if isinstance(admin, StaffSession):
            st, h, b = admin.request("POST", "/api/v1/admin/tokens", body)
        else:
            st, h, b = self.request("POST", "/api/v1/admin/tokens", body, token=admin)
        if st != 201 or not isinstance(b, dict) or not b.get("token"):
            raise AssertionError("POST /api/v1/admin/tokens %r -> %s %r, expected 201 with a token" % (body, st, b))
        return b

    # -- API helpers
    @staticmethod
    def conv_path(conv, suffix=""):
        cid = conv["id"] if isinstance(conv, dict) else conv
        return "/api/v1/conversations/%s%s" % (urllib.parse.quote(str(cid), safe=""), suffix)

    def start_conversation(self, locale="en"):
        body = {} if locale is None else {"locale": locale}
        st, _, b = self.request("POST", "/api/v1/conversations", body)
        if st != 201 or not isinstance(b, dict) or not b.get("id") or not b.get("token"):
            raise AssertionError("POST /api/v1/conversations %r -> %s %r, expected 201 with id and token"
                                 % (body, st, b))
        return b

    def send(self, conv, text, client_id=None, payload=None, expect=200, token=None):
        """Posts a customer message. Returns the parsed body (asserting status == expect), or
        (status, headers, body) if expect is None."""
        body = {}
        if text is not None:
            body["text"] = text
        if client_id is not None:
            body["client_id"] = client_id
        if payload is not None:
            body["payload"] = payload
        path = self.conv_path(conv, "/messages")
        st, h, b = self.request("POST", path, body, token=conv["token"] if token is None else token)
        if expect is None:
            return st, h, b
        if st != expect:
            raise AssertionError("POST %s %r -> %s %r, expected %s" % (path, body, st, b, expect))
        return b

    def transcript(self, conv, token=None):
        path = self.conv_path(conv, "/messages")
        st, _, b = self.request("GET", path, token=conv["token"] if token is None else token)
        if st != 200 or not isinstance(b, dict) or not isinstance(b.get("messages"), list):
            raise AssertionError("GET %s -> %s %r, expected 200 with messages" % (path, st, b))
        return b

    def sse(self, conv, last_event_id=None, token=None, auth="header", lei="header", timeout=5.0):
        """Opens the event stream; check .status (200) before reading events."""
        tok = conv.get("token") if token is None else token
        params = {}
        headers = {}
        if tok:
            if auth == "header":
                headers["Authorization"] = "Bearer " + tok
            else:
                params["token"] = tok
        if last_event_id is not None:
            if lei == "header":
                headers["Last-Event-ID"] = str(last_event_id)
            else:
                params["last_event_id"] = str(last_event_id)
        path = self.conv_path(conv, "/events")
        if params:
            path += "?" + urllib.parse.urlencode(params)
        c = SSEClient(self.port, timeout)
        c.open(path, headers)
        self.statuses.append(("SSE", path, c.status))
        return c

    def all_events(self, conv, last_event_id=None, idle=0.3):
        """(events, transcript): the stored events of a conversation (after last_event_id) read
        through SSE. Reads at least as many events as the transcript implies, then whatever else
        arrives until the stream is idle for `idle` seconds."""
        tr = self.transcript(conv)
        need = max(0, 1 + len(tr["messages"]) - int(last_event_id or 0))
        c = self.sse(conv, last_event_id)
        try:
            if c.status != 200:
                raise AssertionError("GET %s -> %s %r" % (c.path, c.status, c.error_body()))
            events = c.read_events(need, timeout=5) if need else []
            events += c.drain(idle)
        finally:
            c.close()
        return events, tr


def parse_set_cookie(value):
    """'sb_session=abc; Path=/; HttpOnly' -> ('sb_session', 'abc', {'path': '/', 'httponly': True}).
    Attribute names are lower-cased; valueless attributes map to True."""
    parts = [p.strip() for p in (value or "").split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        if not p:
            continue
        k, sep, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if sep else True
    return name.strip(), val.strip(), attrs


def retry_after(headers):
    """The Retry-After header as an int (None when absent or not an integer)."""
    v = (headers or {}).get("retry-after")
    try:
        return int(v.strip())
    except (AttributeError, ValueError):
        return None


class StaffSession:
    """A signed-in staff member: the sb_session cookie and the csrf_token from the login answer.
    request() sends the cookie and (unless csrf=False, or csrf="...") the X-CSRF-Token header."""

    def __init__(self, server, headers, body, email=None):
        self.server = server
        self.email = email
        self.body = body
        self.set_cookie = headers.get("set-cookie", "")
        name, value, self.cookie_attrs = parse_set_cookie(self.set_cookie)
        if name != "sb_session" or not value:
            raise AssertionError("login answer has no sb_session cookie: Set-Cookie %r" % self.set_cookie)
        self.cookie = value
        self.csrf = body.get("csrf_token") if isinstance(body, dict) else None
        self.user = body.get("user") if isinstance(body, dict) else None

    def headers(self, csrf=True):
        h = {"Cookie": "sb_session=" + self.cookie}
        if csrf is True and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        elif isinstance(csrf, str):
            h["X-CSRF-Token"] = csrf
        return h

    def request(self, method, path, body=None, csrf=True, headers=None, **kw):
        h = self.headers(csrf)
        h.update(headers or {})
        return self.server.request(method, path, body, headers=h, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def me(self):
        return self.request("GET", "/api/v1/auth/me")


# -- assertions shared by the test files

def check_reply_shape(tc, reply):
    tc.assertIsInstance(reply, dict, reply)
    tc.assertIsInstance(reply.get("id"), int, reply)
    tc.assertIsInstance(reply.get("text"), str, reply)
    tc.assertTrue(reply["text"].strip(), "empty reply text: %r" % (reply,))
    tc.assertIsInstance(reply.get("links"), list, reply)
    for link in reply["links"]:
        tc.assertIsInstance(link.get("title"), str, reply)
        tc.assertIsInstance(link.get("url"), str, reply)
    tc.assertIsInstance(reply.get("quick_replies"), list, reply)
    for q in reply["quick_replies"]:
        tc.assertIsInstance(q.get("title"), str, reply)
        tc.assertIsInstance(q.get("payload"), str, reply)


def check_send_shape(tc, body):
    tc.assertIsInstance(body, dict, body)
    tc.assertIn(body.get("status"), STATUSES, body)
    tc.assertIsInstance(body.get("message_id"), int, body)
    tc.assertIsInstance(body.get("duplicate"), bool, body)
    tc.assertIsInstance(body.get("replies"), list, body)
    for r in body["replies"]:
        check_reply_shape(tc, r)


def check_error(tc, resp, statuses, what=""):
    """resp is (status, headers, body): status in statuses and a JSON error object."""
    if isinstance(statuses, int):
        statuses = (statuses,)
    st, h, b = resp
    tc.assertIn(st, statuses, "%s: got %s %r, expected %s" % (what, st, b, statuses))
    tc.assertIsInstance(b, dict, "%s: error body is not a JSON object: %s %r" % (what, st, b))
    err = b.get("error")
    tc.assertIsInstance(err, dict, "%s: no error object: %r" % (what, b))
    tc.assertIsInstance(err.get("code"), str, "%s: error.code: %r" % (what, b))
    tc.assertTrue(err["code"], "%s: empty error.code" % what)
    tc.assertIsInstance(err.get("message"), str, "%s: error.message: %r" % (what, b))


def check_event_stream(tc, events, transcript=None, first_seq=1):
    """Event ids contiguous from first_seq, id == data.seq, event == data.type; if a transcript is
    given (and first_seq == 1), message events match its messages one to one, in order."""
    ids = [e["id"] for e in events]
    tc.assertEqual(ids, list(range(first_seq, first_seq + len(events))),
                   "event ids not contiguous from %d: %s" % (first_seq, [(e["id"], e["event"]) for e in events]))
    for e in events:
        d = e["data"]
        tc.assertIsInstance(d, dict, "event data is not a JSON object: %r" % e["raw"])
        tc.assertEqual(d.get("seq"), e["id"], "data.seq != id: %r" % e["raw"])
        tc.assertEqual(d.get("type"), e["event"], "data.type != event: %r" % e["raw"])
        if e["event"] in ("message/inbound", "message/outbound"):
            m = d.get("message")
            tc.assertIsInstance(m, dict, "message event without message: %r" % e["raw"])
            tc.assertEqual(m.get("direction"), "in" if e["event"] == "message/inbound" else "out", e["raw"])
    if first_seq == 1 and events:
        tc.assertEqual(events[0]["event"], "conversation/started", "first event: %r" % events[0]["raw"])
    if transcript is not None:
        msg_ids = [e["data"]["message"]["id"] for e in events
                   if e["event"] in ("message/inbound", "message/outbound")]
        want = [m["id"] for m in transcript["messages"]]
        if first_seq != 1:
            want = want[len(want) - len(msg_ids):] if msg_ids else []
        tc.assertEqual(msg_ids, want, "message events do not match the transcript")


class SwitchboardTestCase(unittest.TestCase):
    """Prints the server log(s) of a failing test and fails a test that saw any 5xx."""

    maxDiff = 4000

    def setUp(self):
        self._marks = {id(s): (len(s.statuses), s.log_size()) for s in REGISTRY}
        self._n_registry = len(REGISTRY)

    def tearDown(self):
        outcome = getattr(self, "_outcome", None)
        res = getattr(outcome, "result", None)
        if outcome is not None and not getattr(outcome, "success", True):
            return  # already failed; one report per test is enough
        if res is not None and any(getattr(t, "test_case", t) is self
                                   for t, _ in list(res.failures) + list(res.errors)):
            return
        bad = []
        for s in REGISTRY:
            start = self._marks.get(id(s), (0, 0))[0]
            bad += [x for x in s.statuses[start:] if x[2] is not None and x[2] >= 500]
        if bad:
            self.fail("server answered 5xx: %s" % bad[:10])

    def run(self, result=None):
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        marks = {id(s): (len(s.statuses), s.log_size()) for s in REGISTRY}
        n = len(REGISTRY)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            for i, s in enumerate(REGISTRY):
                fresh = i >= n
                if s.dumped and fresh:
                    continue
                if fresh or not s.closed:
                    s.dump_log("for %s" % self.id(), 0 if fresh else marks.get(id(s), (0, 0))[1])
        return out


class ServerTestCase(SwitchboardTestCase):
    """One server per test class (cls.server), stopped with SIGTERM (must exit 0) at the end."""

    server_config = None
    server_users = None  # staff accounts created before the server starts (see Server)

    @classmethod
    def setUpClass(cls):
        cls.server = Server(config=cls.server_config, users=cls.server_users)
        cls.server.start_for_class()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.close()
        if rc != 0:
            cls.server.dump_log("(bad exit in tearDownClass)")
            raise AssertionError("switchboard exited with %r on SIGTERM, expected 0" % (rc,))


def _cleanup_all():
    for s in REGISTRY:
        try:
            s.cleanup()
        except Exception:
            pass
    kept = [s.data for s in REGISTRY if s.failed or KEEP]
    if kept:
        sys.stderr.write("switchboard e2e: kept data directories: %s\n" % " ".join(kept))


atexit.register(_cleanup_all)


def main():
    unittest.main(verbosity=2)

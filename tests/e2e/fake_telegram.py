#!/usr/bin/env python3
"""A fake Telegram Bot API server for the end-to-end tests (Python stdlib only).

It speaks the documented Bot API (https://core.telegram.org/bots/api) closely enough for our
channel plugin: `POST /bot<token>/<method>` with a JSON, form-urlencoded or multipart body, the
`{"ok": true, "result": ...}` / `{"ok": false, "error_code": N, "description": "...",
"parameters": {...}}` envelope, and `GET /file/bot<token>/<file_path>` for downloads.

Methods: getMe, sendMessage, sendPhoto, sendDocument, answerCallbackQuery, getFile, getUpdates
(long poll, honours offset/limit/timeout; 409 while a webhook is set, as Telegram does),
setWebhook, deleteWebhook. A wrong token gets 401, an unknown method 404.

In a test:
    tg = FakeTelegram()          # listens on 127.0.0.1, a free port; tg.url is the api_base
    tg.add_file("ph1", b"...", "photos/file_1.jpg")
    tg.fail(3)                   # the next 3 API calls answer 500
    tg.rate_limit(2, retry_after=1)   # the next 2 answer 429 with parameters.retry_after
    tg.down(); ...; tg.up()      # connection refused in between (same port)
    tg.push_update({...})        # queued for getUpdates
    tg.wait_for(lambda: len(tg.sent()) >= 3, timeout=10)
    tg.calls("sendMessage")      # every request recorded: Call(method, params, files, status)
    tg.close()

Stand-alone, for manual tries (api_base http://127.0.0.1:8081, prints every call):
    python3 tests/e2e/fake_telegram.py --port 8081 --token 123:TEST
and queue an update for getUpdates with
    curl -d '{"update_id":1,"message":{...}}' http://127.0.0.1:8081/_fake/updates
"""

import argparse
import html.parser
import http.server
import json
import re
import socket
import sys
import threading
import time
import urllib.parse

DEFAULT_TOKEN = "123456:TEST-token"
BOT = {"id": 123456, "is_bot": True, "first_name": "Switchboard", "username": "switchboard_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

# parse_mode HTML: the tags Telegram accepts (anything else is "can't parse entities")
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
             "tg-emoji", "code", "pre", "blockquote"}
MAX_TEXT = 4096      # sendMessage text, after entities parsing
MAX_CAPTION = 1024   # sendPhoto/sendDocument caption
MAX_CALLBACK_DATA = 64  # bytes


class ApiError(Exception):
    def __init__(self, code, description, parameters=None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


class Call:
    """One recorded request: method, params (dict), files ({field: (filename, ctype, bytes)}),
    the status answered, and the result when it succeeded."""

    def __init__(self, method, params, files, token):
        self.method, self.params, self.files, self.token = method, params, files, token
        self.status, self.result, self.at = None, None, time.time()

    def __repr__(self):
        return "Call(%s %s -> %s)" % (self.method, json.dumps(self.params, ensure_ascii=False)[:200], self.status)


def visible_text(html_text):
    """The text of a parse_mode=HTML message as Telegram shows it; ApiError(400) when Telegram
    could not parse it (unknown tag, unbalanced tags, a bare '<' or '&')."""
    out, stack = [], []

    class P(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag not in HTML_TAGS:
                raise ApiError(400, "Bad Request: can't parse entities: Unsupported start tag \"%s\"" % tag)
            if tag == "a" and not dict(attrs).get("href"):
                raise ApiError(400, "Bad Request: can't parse entities: a without href")
            stack.append(tag)

        def handle_endtag(self, tag):
            if not stack or stack[-1] != tag:
                raise ApiError(400, "Bad Request: can't parse entities: Can't find end tag corresponding to start tag")
            stack.pop()

        def handle_data(self, data):
            out.append(data)

    # Telegram knows only these named entities, and a bare '&' or '<' is an error
    for m in re.finditer(r"&([^;\s]*);?", html_text):
        if not re.fullmatch(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);", m.group(0)):
            raise ApiError(400, "Bad Request: can't parse entities: Unsupported entity %r" % m.group(0))
    for m in re.finditer("<", html_text):
        if not re.match(r"</?[a-zA-Z][\w-]*(\s[^<>]*)?>", html_text[m.start():]):
            raise ApiError(400, "Bad Request: can't parse entities: Unexpected '<' at byte offset %d" % m.start())
    p = P(convert_charrefs=True)
    p.feed(html_text)
    p.close()
    if stack:
        raise ApiError(400, "Bad Request: can't parse entities: Can't find end tag for \"%s\"" % stack[-1])
    return "".join(out)


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def parse_multipart(body, ctype):
    """multipart/form-data -> (fields, files)."""
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not m:
        raise ApiError(400, "Bad Request: multipart without boundary")
    sep = b"--" + m.group(1).encode()
    fields, files = {}, {}
    for part in body.split(sep)[1:]:
        if part.startswith(b"--"):
            break
        # each part is CRLF headers CRLF CRLF data CRLF, up to the next boundary
        part = part[2:] if part.startswith(b"\r\n") else part
        part = part[:-2] if part.endswith(b"\r\n") else part
        head, _, data = part.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disp = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disp)
        filename = re.search(r'\bfilename="([^"]*)"', disp)
        if not name:
            continue
        if filename:
            files[name.group(1)] = (filename.group(1), headers.get("content-type", ""), data)
        else:
            fields[name.group(1)] = data.decode("utf-8")
    return fields, files


class FakeTelegram:
    def __init__(self, token=DEFAULT_TOKEN, port=0, verbose=False):
        self.token = token
        self.verbose = verbose
        self.lock = threading.Condition(threading.RLock())
        self.conns = set()          # open client connections, cut by down()
        self.calls_ = []            # every Call, in arrival order
        self.failures = []          # queued (status, description, parameters, methods)
        self.updates = []           # queued for getUpdates: update dicts
        self.files = {}             # file_id -> (file_path, bytes)
        self.blocked = set()        # chat ids that blocked the bot (403)
        self.webhook = {"url": "", "secret_token": None}
        self.next_message_id = 1000
        self.httpd = None
        self.thread = None
        self.port = port
        self.up()

    # -- life cycle
    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def up(self):
        """Listens (again) on the same port."""
        if self.httpd is not None:
            return
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = _Server(("127.0.0.1", self.port), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def down(self):
        """Stops listening: new connections are refused until up()."""
        if self.httpd is None:
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd = None
        with self.lock:
            # kept-alive connections would still be answered: cut them, as a crashed server would
            for c in list(self.conns):
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.lock.notify_all()  # long polls in flight end

    def close(self):
        self.down()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- what the test controls
    def fail(self, n, status=500, description="Internal Server Error", methods=None):
        """The next n API calls (of `methods` when given) answer `status`."""
        with self.lock:
            self.failures += [(status, description, None, methods)] * n

    def rate_limit(self, n, retry_after=1, methods=None):
        """The next n API calls answer 429 with parameters.retry_after, as Telegram's flood control."""
        with self.lock:
            self.failures += [(429, "Too Many Requests: retry after %d" % retry_after,
                               {"retry_after": retry_after}, methods)] * n

    def block(self, chat_id):
        """The user blocked the bot: sends to this chat answer 403."""
        with self.lock:
            self.blocked.add(str(chat_id))

    def add_file(self, file_id, data, file_path):
        with self.lock:
            self.files[file_id] = (file_path, data)

    def push_update(self, update):
        with self.lock:
            self.updates.append(update)
            self.lock.notify_all()

    # -- what the test reads
    def calls(self, method=None):
        with self.lock:
            return [c for c in self.calls_ if method is None or c.method == method]

    def sent(self, chat_id=None, methods=("sendMessage", "sendPhoto", "sendDocument")):
        """The messages the bot sent successfully (status 200), in order."""
        return [c for c in self.calls() if c.method in methods and c.status == 200
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]

    def wait_for(self, predicate, timeout=10.0):
        """Waits until predicate() is true (re-checked after every request); returns its value,
        or the last (false) value after timeout."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                v = predicate()  # the lock is an RLock: predicate may call calls()
                left = deadline - time.monotonic()
                if v or left <= 0:
                    return v
                self.lock.wait(min(left, 0.2))

    # -- the API
    def handle(self, token, method, params, files):
        """Returns (status, envelope). Records the call."""
        call = Call(method, params, files, token)
        with self.lock:
            self.calls_.append(call)
            status, env = self._answer(call)
            call.status = status
            call.result = env.get("result")
            self.lock.notify_all()
        if self.verbose:
            sys.stderr.write("%s\n" % call)
        if method == "getUpdates" and status == 200 and not env["result"]:
            env["result"] = self._long_poll(params)
            call.result = env["result"]
        return status, env

    def _answer(self, call):
        if call.token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        for i, (status, desc, parameters, methods) in enumerate(self.failures):
            if methods is None or call.method in methods:
                del self.failures[i]
                env = {"ok": False, "error_code": status, "description": desc}
                if parameters:
                    env["parameters"] = parameters
                return status, env
        fn = getattr(self, "api_" + call.method, None)
        if fn is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            return 200, {"ok": True, "result": fn(call.params, call.files)}
        except ApiError as e:
            env = {"ok": False, "error_code": e.code, "description": e.description}
            if e.parameters:
                env["parameters"] = e.parameters
            return e.code, env

    @staticmethod
    def _need(params, *names):
        for n in names:
            if params.get(n) in (None, ""):
                raise ApiError(400, "Bad Request: %s is empty" % n)

    def _chat(self, params):
        self._need(params, "chat_id")
        chat = str(params["chat_id"])
        if chat in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not re.fullmatch(r"-?\d+|@\w+", chat):
            raise ApiError(400, "Bad Request: chat not found")
        return {"id": int(chat) if chat.lstrip("-").isdigit() else chat,
                "type": "private" if not chat.startswith("-") else "supergroup"}

    @staticmethod
    def _markup(params):
        m = params.get("reply_markup")
        if isinstance(m, str):
            try:
                m = json.loads(m)
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if m is None:
            return None
        for row in m.get("inline_keyboard", []):
            for b in row:
                if not b.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = b.get("callback_data")
                if data is not None and not (1 <= len(data.encode()) <= MAX_CALLBACK_DATA):
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if data is None and not b.get("url"):
                    raise ApiError(400, "Bad Request: can't find field \"callback_data\"")
        return m

    def _message(self, chat, **fields):
        self.next_message_id += 1
        msg = {"message_id": self.next_message_id, "date": int(time.time()), "chat": chat,
               "from": {k: BOT[k] for k in ("id", "is_bot", "first_name", "username")}}
        msg.update({k: v for k, v in fields.items() if v is not None})
        return msg

    def _text(self, params, key, limit):
        text = params.get(key)
        if text is None:
            return None
        if params.get("parse_mode") == "HTML":
            shown = visible_text(text)
        elif params.get("parse_mode") in (None, ""):
            shown = text
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode in this fake: %s" % params["parse_mode"])
        if utf16_len(shown) > limit:
            raise ApiError(400, "Bad Request: message is too long" if key == "text"
                           else "Bad Request: message caption is too long")
        return shown

    def api_getMe(self, params, files):
        return dict(BOT)

    def api_sendMessage(self, params, files):
        chat = self._chat(params)
        self._need(params, "text")
        text = self._text(params, "text", MAX_TEXT)
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = self._markup(params)
        return self._message(chat, text=text, reply_markup=markup)

    def _send_media(self, params, files, field, ctype_ok):
        chat = self._chat(params)
        caption = self._text(params, "caption", MAX_CAPTION)
        markup = self._markup(params)
        if field in files:
            name, ctype, data = files[field]
            if not data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            info = {"file_id": "sent-%d" % (self.next_message_id + 1), "file_size": len(data),
                    "file_name": name, "mime_type": ctype}
        elif isinstance(params.get(field), str) and params[field]:
            info = {"file_id": params[field]}  # a file_id or an HTTP URL Telegram would fetch
        else:
            raise ApiError(400, "Bad Request: there is no %s in the request" % field)
        if not ctype_ok(info.get("mime_type", "")):
            raise ApiError(400, "Bad Request: wrong type of the web page content")
        return self._message(chat, caption=caption, reply_markup=markup,
                             **{field: [info] if field == "photo" else info})

    def api_sendPhoto(self, params, files):
        return self._send_media(params, files, "photo", lambda t: t == "" or t.startswith("image/"))

    def api_sendDocument(self, params, files):
        return self._send_media(params, files, "document", lambda t: True)

    def api_answerCallbackQuery(self, params, files):
        self._need(params, "callback_query_id")
        return True

    def api_getFile(self, params, files):
        self._need(params, "file_id")
        f = self.files.get(params["file_id"])
        if f is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {"file_id": params["file_id"], "file_unique_id": "u-" + params["file_id"],
                "file_size": len(f[1]), "file_path": f[0]}

    def api_setWebhook(self, params, files):
        url = params.get("url", "")
        if url and not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret}
        return True

    def api_deleteWebhook(self, params, files):
        self.webhook = {"url": "", "secret_token": None}
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self.updates = []
        return True

    def api_getUpdates(self, params, files):
        if self.webhook["url"]:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        return self._pending(params)  # empty: handle() waits for more outside the lock

    def _pending(self, params):
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        if offset:
            # an offset confirms every update before it: Telegram forgets them
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        return self.updates[:limit]

    def _long_poll(self, params):
        deadline = time.monotonic() + min(50, max(0, int(params.get("timeout") or 0)))
        with self.lock:
            while True:
                got = self._pending(params)
                left = deadline - time.monotonic()
                if got or left <= 0 or self.httpd is None:
                    return got
                self.lock.wait(left)

    def file_bytes(self, token, path):
        with self.lock:
            if token != self.token:
                return None
            for fpath, data in self.files.values():
                if fpath == path:
                    return data
        return None


class _Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True  # up() binds the same port again at once
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):  # a cut connection is what down() is for
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    fake = None
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with self.fake.lock:
            self.fake.conns.add(self.connection)

    def finish(self):
        with self.fake.lock:
            self.fake.conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def _reply(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass

    def _params(self):
        url = urllib.parse.urlsplit(self.path)
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        files = {}
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        ctype = self.headers.get("Content-Type", "")
        if body and ("application/json" in ctype or (url.path == "/_fake/updates" and body[:1] == b"{")):
            try:
                params.update(json.loads(body))
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON")
        elif body and "multipart/form-data" in ctype:
            fields, files = parse_multipart(body, ctype)
            params.update(fields)
        elif body:
            params.update({k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8")).items()})
        return url.path, params, files

    def do_POST(self):
        try:
            path, params, files = self._params()
        except ApiError as e:
            return self._reply(e.code, {"ok": False, "error_code": e.code, "description": e.description})
        if path == "/_fake/updates":  # stand-alone use: queue an update for getUpdates
            self.fake.push_update(params)
            return self._reply(200, {"ok": True})
        m = re.fullmatch(r"/bot([^/]+)/(\w+)", path)
        if not m:
            return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        status, env = self.fake.handle(m.group(1), m.group(2), params, files)
        self._reply(status, env)

    def do_GET(self):
        m = re.fullmatch(r"/file/bot([^/]+)/(.+)", urllib.parse.urlsplit(self.path).path)
        if m:
            data = self.fake.file_bytes(m.group(1), m.group(2))
            if data is None:
                return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return self._reply(200, data, "application/octet-stream")
        self.do_POST()  # the Bot API takes GET with a query string too


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--token", default=DEFAULT_TOKEN)
    args = ap.parse_args()
    fake = FakeTelegram(args.token, args.port, verbose=True)
    print("fake Telegram Bot API on %s (token %s)" % (fake.url, fake.token), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.close()


if __name__ == "__main__":
    main()

"""A fake Meta Graph API on 127.0.0.1 for the WhatsApp (and later Messenger) channel tests.

Standard library only. It speaks the documented shapes the channel plugins use:
  POST /{id}/messages        send a message (WhatsApp: {id} = phone_number_id, answered
                             {"messages": [{"id"}]}; Messenger: me, {"recipient", "message"},
                             answered {"recipient_id", "message_id"})
  POST /{id}/media           upload media (multipart/form-data, field "file") -> {"id"}
  GET  /{media_id}           media metadata -> {"url", "mime_type", "sha256", "file_size", "id"}
  GET  /media-bytes/{id}     the bytes behind that url
Every call needs `Authorization: Bearer <access_token>`; errors come in Graph's shape
{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}.

The test drives it in-process: FakeMeta.fail(...) makes the next calls fail (500, a 429 rate
limit, a Graph error such as 131047 or 131026), down()/up() make it reset every connection (an
outage), close_window(wa_id) refuses free-form messages to that user with 131047 as Meta does
outside the 24-hour window. It records every request (`requests`) and every accepted message
(`sent`), and it signs and POSTs webhooks to our server (`post_webhook`, X-Hub-Signature-256).

The api_base a server is configured with is `fake.url` (no version part: paths start at the id).
"""

import copy
import hashlib
import hmac
import http.client
import http.server
import json
import os
import threading
import time

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "whatsapp")

# Graph errors the tests ask for by name: (HTTP status, code, type, message, error_subcode).
ERRORS = {
    "outside_window": (400, 131047, "OAuthException",
                       "Re-engagement message: more than 24 hours have passed since the recipient last replied",
                       2494010),
    "rate_limit": (400, 130429, "OAuthException", "Rate limit hit", 2494055),
    "undeliverable": (400, 131026, "OAuthException", "Message undeliverable", 2494032),
    "bad_token": (401, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token", 0),
    "bad_param": (400, 100, "OAuthException", "(#100) Invalid parameter", 0),
    "server": (500, 1, "OAuthException", "An unknown error occurred", 0),
    "throttled": (429, 4, "OAuthException", "(#4) Application request limit reached", 0),
}


def load_fixture(name):
    with open(os.path.join(FIXTURES, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def fixture(name, wa_id=None, suffix=None, phone_number_id=None, status_id=None):
    """A webhook fixture with its sender (every contacts[].wa_id, messages[].from,
    statuses[].recipient_id) set to wa_id, every message id given `suffix` so each test has its
    own, every status about our message `status_id` (a wamid the fake gave out), and the
    metadata's phone_number_id replaced."""
    payload = load_fixture(name)
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            v = change.get("value", {})
            if phone_number_id is not None:
                v.setdefault("metadata", {})["phone_number_id"] = phone_number_id
            for c in v.get("contacts", []):
                if wa_id is not None:
                    c["wa_id"] = wa_id
            for m in v.get("messages", []):
                if wa_id is not None:
                    m["from"] = wa_id
                if suffix is not None:
                    m["id"] += suffix
            for s in v.get("statuses", []):
                if wa_id is not None:
                    s["recipient_id"] = wa_id
                if status_id is not None:
                    s["id"] = status_id
    return payload


def messenger_shape(body):
    return isinstance(body, dict) and "recipient" in body


def sign(app_secret, raw):
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def _multipart_file(ctype, body):
    """(filename, content type, bytes) of the "file" field of a multipart/form-data body."""
    boundary = None
    for part in ctype.split(";"):
        k, _, v = part.strip().partition("=")
        if k.lower() == "boundary":
            boundary = v.strip('"')
    if not boundary:
        return None
    for chunk in body.split(b"--" + boundary.encode()):
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep or b'name="file"' not in head:
            continue
        fname, mime = "file", "application/octet-stream"
        for line in head.decode("utf-8", "replace").split("\r\n"):
            low = line.lower()
            if low.startswith("content-type:"):
                mime = line.split(":", 1)[1].strip()
            if 'filename="' in line:
                fname = line.split('filename="', 1)[1].split('"', 1)[0]
        if data.endswith(b"\r\n"):
            data = data[:-2]
        return fname, mime, data
    return None


class FakeMeta:
    def __init__(self, access_token="test-access-token", app_secret="test-app-secret",
                 phone_number_id="106540352242922"):
        self.access_token = access_token
        self.app_secret = app_secret
        self.phone_number_id = phone_number_id
        self.cond = threading.Condition()
        self.requests = []   # every request: {method, path, headers, body (parsed JSON or bytes), status}
        self.sent = []       # accepted POST .../messages bodies (parsed), each with "_id" = the wamid
        self.failures = []   # queued answers for the next calls: (status, error dict or None, headers)
        self.is_down = False
        self.closed_windows = set()
        self.media = {}      # media id -> (mime, bytes)
        self.counter = 0
        self.httpd = None

    # -- lifecycle
    def start(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    # -- what the test controls
    def fail(self, n=1, kind="server", retry_after=None):
        """The next n calls answer with ERRORS[kind] (plus a Retry-After header when given)."""
        status, code, etype, message, sub = ERRORS[kind]
        err = {"message": message, "type": etype, "code": code, "error_subcode": sub,
               "fbtrace_id": "Fake%06d" % len(self.failures)}
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self.cond:
            self.failures += [(status, err, headers)] * n

    def down(self):
        """Every connection is dropped without an answer until up()."""
        with self.cond:
            self.is_down = True

    def up(self):
        with self.cond:
            self.is_down = False

    def close_window(self, wa_id):
        """Free-form messages to wa_id are refused with 131047; templates still go out."""
        with self.cond:
            self.closed_windows.add(wa_id)

    def add_media(self, data, mime_type="image/jpeg"):
        with self.cond:
            self.counter += 1
            mid = "%d" % (900000000000000 + self.counter)
            self.media[mid] = (mime_type, data)
        return mid

    def wait_sent(self, n, timeout=15.0, to=None):
        """Waits until at least n messages (to wa_id `to`, when given) were accepted; returns them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [m for m in self.sent if to is None or m.get("to") == to]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("fake Meta: %d message(s)%s expected within %.0f s, got %d: %s"
                                         % (n, " to " + to if to else "", timeout, len(got),
                                            json.dumps(got)[:2000]))
                self.cond.wait(left)

    def sent_to(self, wa_id):
        with self.cond:
            return [m for m in self.sent if m.get("to") == wa_id]

    # -- webhooks to our server
    def post_webhook(self, port, payload, signature="good", path="/channels/whatsapp/webhook"):
        """POSTs payload (dict, or raw bytes) to our server; signature "good", "bad", None
        (header left out) or an explicit header value. Returns (status, body text)."""
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "good":
            headers["X-Hub-Signature-256"] = sign(self.app_secret, raw)
        elif signature == "bad":
            headers["X-Hub-Signature-256"] = sign(self.app_secret + "x", raw)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("POST", path, body=raw, headers=headers)
            r = conn.getresponse()
            return r.status, r.read().decode("utf-8", "replace")
        finally:
            conn.close()

    # -- the Graph API
    def _next_id(self, prefix):
        self.counter += 1
        return "%s%024d" % (prefix, self.counter)

    def _handle(self, req, method):
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        path = req.path.split("?", 1)[0]
        rec = {"method": method, "path": path, "headers": {k.lower(): v for k, v in req.headers.items()},
               "raw": raw, "body": None, "status": None}
        try:
            rec["body"] = json.loads(raw) if raw and "json" in req.headers.get("Content-Type", "") else raw
        except ValueError:
            rec["body"] = raw
        with self.cond:
            self.requests.append(rec)
            if self.is_down:
                rec["status"] = "reset"
                req.close_connection = True
                self.cond.notify_all()
                return
            status, body, headers = self._answer(method, path, rec)
            rec["status"] = status
            self.cond.notify_all()
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req.send_response(status)
        ctype = headers.pop("Content-Type", "application/json")
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            req.send_header(k, v)
        req.end_headers()
        req.wfile.write(data)

    def _error(self, kind, detail=None):
        status, code, etype, message, sub = ERRORS[kind]
        err = {"message": message, "type": etype, "code": code, "error_subcode": sub,
               "fbtrace_id": self._next_id("Fk")}
        if detail:
            err["error_data"] = {"messaging_product": "whatsapp", "details": detail}
        return status, {"error": err}, {}

    def _answer(self, method, path, rec):
        """Called with the lock held: (status, body, headers)."""
        if rec["headers"].get("authorization") != "Bearer " + self.access_token:
            return self._error("bad_token")
        if self.failures:
            status, err, headers = self.failures.pop(0)
            return status, {"error": err}, dict(headers)
        parts = [p for p in path.split("/") if p]
        if method == "GET" and len(parts) == 2 and parts[0] == "media-bytes" and parts[1] in self.media:
            mime, data = self.media[parts[1]]
            return 200, data, {"Content-Type": mime}
        if method == "GET" and len(parts) == 1 and parts[0] in self.media:
            mime, data = self.media[parts[0]]
            return 200, {"messaging_product": "whatsapp", "id": parts[0], "mime_type": mime,
                         "sha256": hashlib.sha256(data).hexdigest(), "file_size": len(data),
                         "url": "%s/media-bytes/%s" % (self.url, parts[0])}, {}
        if method == "POST" and len(parts) == 2 and parts[1] == "media":
            f = _multipart_file(rec["headers"].get("content-type", ""), rec["raw"])
            if f is None:
                return self._error("bad_param", "multipart field 'file' missing")
            mid = self.add_media(f[2], f[1])
            rec["upload"] = f
            return 200, {"id": mid}, {}
        if method == "POST" and len(parts) == 2 and parts[1] == "messages":
            return self._send(rec["body"])
        return 404, {"error": {"message": "Unknown path components: /" + path.lstrip("/"),
                               "type": "OAuthException", "code": 2500, "fbtrace_id": "Fk404"}}, {}

    def _send(self, body):
        if not isinstance(body, dict):
            return self._error("bad_param", "the body must be JSON")
        to = body.get("to") or (body.get("recipient") or {}).get("id")
        kind = body.get("type", "text")
        if not to:
            return self._error("bad_param", "to is required")
        if not messenger_shape(body) and kind not in ("text", "interactive", "image", "document", "audio",
                                                      "video", "template", "sticker"):
            return self._error("bad_param", "type %r is not supported" % kind)
        if kind != "template" and to in self.closed_windows:
            return self._error("outside_window", "Message failed to send because more than 24 hours "
                               "have passed since the customer last replied to this number.")
        if kind == "text" and len((body.get("text") or {}).get("body", "")) > 4096:
            return self._error("bad_param", "text.body is longer than 4096 characters")
        messenger = "recipient" in body  # the Send API's shape: {"recipient": {"id"}, "message"}
        wamid = self._next_id("m_" if messenger else "wamid.HBgL")
        sent = copy.deepcopy(body)
        sent["_id"] = wamid
        sent.setdefault("to", to)
        self.sent.append(sent)
        if messenger:
            return 200, {"recipient_id": to, "message_id": wamid}, {}
        out = {"contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]}
        if body.get("messaging_product"):
            out = dict({"messaging_product": body["messaging_product"]}, **out)
        return 200, out, {}

#!/usr/bin/env python3
"""The WhatsApp channel (plugins/channels/whatsapp.lua) against a fake Graph API (fake_meta.py):
the verification handshake, signed webhooks (nothing stored without a good signature),
duplicates, the bot's reply at the fake, button and list replies, media, delivery and read
statuses, a failed status as a dead letter, a provider outage and rate limits (all delivered
once, in order), and the 24-hour window: a free-form agent reply refused, a template sent."""

import hashlib
import http.client
import json
import os
import sqlite3
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from agents_common import PASSWORD, clock_server  # noqa: E402
from fake_meta import FakeMeta, fixture, sign  # noqa: E402

A = "/api/v1/agent"
HOOK = "/channels/whatsapp/webhook"
VERIFY = "verify-token-7f3a"
AGENT = "ana@example.com"
TEMPLATES = [{"name": "order_update", "language": "en_US",
              "text": "Hi {{1}}, your order {{2}} has news. Reply to continue the conversation."},
             {"name": "follow_up", "language": "en_US", "text": "Are you still there? Reply to go on."}]

_seq = [0]


def new_wa():
    """A fresh customer (a wa_id nobody used in this run)."""
    _seq[0] += 1
    return "1650555%04d" % _seq[0]


def wait_until(fn, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def texts_of(sent):
    """The customer-visible text of each WhatsApp message the fake received."""
    out = []
    for m in sent:
        t = m.get("type")
        if t == "text":
            out.append(m["text"]["body"])
        elif t == "interactive":
            out.append(m["interactive"]["body"]["text"])
        elif t == "template":
            out.append("template:" + m["template"]["name"])
        else:
            out.append(t)
    return out


# Replies with quick replies of each shape the plugin renders, and the answer to a choice.
TEST_INTENTS = r"""
local function offer(text, titles)
  return function(ctx)
    local q = {}
    for i, t in ipairs(titles) do q[i] = { title = t, payload = "/opt:" .. i } end
    ctx:reply{ text = text, quick_replies = q }
  end
end
sb.intent{ name = "test_buttons", priority = 90, match = [[^buttons please$]],
           handler = offer("Yes or no?", { "Yes", "No" }) }
sb.intent{ name = "test_list", priority = 90, match = [[^list please$]],
           handler = offer("Which one?", { "Red", "Green", "Blue", "Yellow", "Black" }) }
sb.intent{ name = "test_numbered", priority = 90, match = [[^options please$]],
           handler = offer("Pick one", { "The first of several long choices", "The second of several long choices" }) }
sb.intent{ name = "test_chosen", priority = 90, payload = { "/opt:1", "/opt:2", "/opt:3", "/opt:4", "/opt:5" },
           handler = function(ctx) ctx:reply("You chose " .. ctx.payload) end }
"""


def plugins_with_test_intents():
    """The shipped plugins plus TEST_INTENTS, in a temporary folder."""
    d = tempfile.mkdtemp(prefix="switchboard-wa-plugins-")
    shutil.copytree(harness.PLUGINS, os.path.join(d, "plugins"))
    with open(os.path.join(d, "plugins", "intents", "zz_test_options.lua"), "w") as f:
        f.write(TEST_INTENTS)
    return os.path.join(d, "plugins")


def whatsapp_server(fake, extra=None):
    cfg = {"auto_accept": 1, "offer_timeout_s": 3600,
           "channels": {"whatsapp": {"phone_number_id": fake.phone_number_id,
                                     "access_token": fake.access_token,
                                     "app_secret": fake.app_secret,
                                     "verify_token": VERIFY, "api_base": fake.url,
                                     "templates": TEMPLATES}}}
    cfg.update(extra or {})
    s = clock_server([{"email": AGENT, "roles": ("agent", "admin"), "capacity": 50}], config=cfg)
    s.plugins = plugins_with_test_intents()
    return s


class Base(harness.SwitchboardTestCase):
    server_extra = None

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeMeta().start()
        cls.server = whatsapp_server(cls.fake, cls.server_extra)
        cls.server.start_for_class()
        cls.agent = cls.server.login(AGENT, PASSWORD)
        # Until plugin calls that may wait are merged (issue 16), every route answers 503.
        st, _, b = cls.server.get(HOOK + "?hub.mode=subscribe&hub.verify_token=%s&hub.challenge=1" % VERIFY)
        if st == 503 and isinstance(b, dict) and b.get("error", {}).get("code") == "channel_unavailable":
            cls.tearDownClass()
            raise unittest.SkipTest("channel routes answer 503: plugin calls that may wait are not merged yet")

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.close()
        cls.fake.stop()
        if rc != 0:
            raise AssertionError("switchboard exited with %r on SIGTERM" % (rc,))

    # -- helpers
    def post(self, payload, signature="good"):
        return self.fake.post_webhook(self.server.port, payload, signature)

    def say(self, wa, name="text", suffix=None, **kw):
        """The customer wa sends fixture `name` (its message ids made unique); asserts 200."""
        payload = fixture(name, wa_id=wa, suffix=suffix if suffix is not None else "." + wa + "." + name, **kw)
        st, body = self.post(payload)
        self.assertEqual(st, 200, "webhook %s -> %s %r" % (name, st, body))
        return payload

    def text_payload(self, wa, text, mid):
        p = fixture("text", wa_id=wa, suffix="")
        m = p["entry"][0]["changes"][0]["value"]["messages"][0]
        m["id"], m["text"]["body"] = mid, text
        return p

    def say_text(self, wa, text, mid=None):
        mid = mid or "wamid.%s.%d" % (wa, time.monotonic_ns())
        st, body = self.post(self.text_payload(wa, text, mid))
        self.assertEqual(st, 200, body)
        return mid

    def conversation_of(self, wa, timeout=10.0):
        """The agent API's view of wa's latest conversation (its contact has identity whatsapp:wa)."""
        def find():
            st, _, lst = self.agent.get(A + "/conversations")
            self.assertEqual(st, 200, lst)
            for c in lst["conversations"]:
                if c["channel"] != "whatsapp":
                    continue
                st, _, card = self.agent.get(A + "/contacts/" + c["id"])
                if st == 200 and any(i["channel"] == "whatsapp" and i["external_id"] == wa
                                     for i in card["contact"]["identities"]):
                    return c["id"]
            return None
        cid = wait_until(find, "a whatsapp conversation of " + wa, timeout)
        return self.conv(cid)

    def agent_bytes(self, path):
        """GET path as the agent: (status, headers, raw bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            conn.request("GET", path, headers=self.agent.headers(csrf=False))
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def plugin_kv(self, key):
        """A value of the WhatsApp plugin's sb.store, read from the database (read-only)."""
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.server.data, "switchboard.db"), uri=True, timeout=5)
        try:
            row = db.execute("SELECT value FROM plugin_kv WHERE plugin = 'channels/whatsapp' AND key = ?",
                             (key,)).fetchone()
        finally:
            db.close()
        return row[0] if row else None

    def conv(self, cid):
        st, _, c = self.agent.get(A + "/conversations/" + cid)
        self.assertEqual(st, 200, c)
        return c

    def messages(self, cid, direction=None):
        return [m for m in self.conv(cid)["messages"] if direction is None or m["direction"] == direction]

    def delivered(self, wa, prefix, n, timeout=40.0):
        """The texts starting with prefix the fake accepted for wa, once there are n (or more)."""
        got = wait_until(lambda: (lambda t: t if len(t) >= n else None)(
            [x for x in texts_of(self.fake.sent_to(wa)) if x.startswith(prefix)]), "%d messages %r" % (n, prefix), timeout)
        return got

    def wait_reply(self, wa, n=1):
        """The first n WhatsApp messages the fake accepted for wa."""
        return self.fake.wait_sent(n, to=wa, timeout=20)

    def assigned(self, wa):
        """wa asks for a person; with auto_accept the only agent gets the conversation."""
        self.say_text(wa, "I want to talk to a human")
        c = self.conversation_of(wa)
        return wait_until(lambda: (lambda x: x if x["status"] == "assigned" else None)(self.conv(c["id"])),
                          "the conversation assigned")

    def agent_says(self, cid, text, client_id=None, expect=200, **extra):
        body = dict({"client_id": client_id or "c%d" % time.monotonic_ns()}, **extra)
        if text is not None:
            body["text"] = text
        st, _, b = self.agent.request("POST", A + "/conversations/%s/messages" % cid, body)
        if expect is not None:
            self.assertEqual(st, expect, b)
        return st, b

    def open_events(self):
        c = harness.SSEClient(self.server.port, 5.0)
        c.open(A + "/events", self.agent.headers(csrf=False))
        self.assertEqual(c.status, 200)
        return c

    def until_event(self, stream, pred, timeout=20.0):
        end = time.monotonic() + timeout
        seen = []
        while time.monotonic() < end:
            try:
                ev = stream.next_event(max(0.01, end - time.monotonic()))
            except TimeoutError:
                break
            if ev is None:
                break
            seen.append((ev["event"], ev["data"]))
            if pred(ev):
                return ev
        raise AssertionError("no matching event; got %s" % seen[-20:])


class WebhookTests(Base):

    def test_handshake(self):
        def get(**q):
            return self.server.get(HOOK + "?" + urllib.parse.urlencode(q))
        st, h, body = get(**{"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"})
        self.assertEqual((st, body), (200, "1158201444"))
        self.assertTrue(h.get("content-type", "").startswith("text/plain"), h)
        for q in ({"hub.mode": "subscribe", "hub.verify_token": VERIFY + "x", "hub.challenge": "1"},
                  {"hub.mode": "subscribe", "hub.challenge": "1"},
                  {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"}):
            st, _, body = get(**q)
            self.assertEqual(st, 403, (q, body))

    def test_signature_bad_or_missing_stores_nothing(self):
        wa = new_wa()
        bad = self.text_payload(wa, "unsigned words", "wamid.bad.%s" % wa)
        for sig in ("bad", None, "sha256=", "sha1=00", "sha256=" + "0" * 64):
            st, body = self.post(bad, signature=sig)
            self.assertEqual(st, 403, (sig, body))
        # the same bytes with a good signature over other bytes
        raw = json.dumps(bad).encode()
        st, _ = self.fake.post_webhook(self.server.port, raw + b" ", signature=sign(self.fake.app_secret, raw))
        self.assertEqual(st, 403)
        # a good message from the same customer: its conversation holds that one alone
        self.say_text(wa, "hello")
        self.wait_reply(wa)
        c = self.conversation_of(wa)
        self.assertEqual([m["text"] for m in c["messages"] if m["direction"] == "in"], ["hello"])

    def test_duplicate_one_message_one_reply(self):
        wa = new_wa()
        p = self.text_payload(wa, "hello", "wamid.dup.%s" % wa)
        for _ in range(3):
            st, body = self.post(p)
            self.assertEqual(st, 200, body)
        self.wait_reply(wa)
        self.say_text(wa, "hello", "wamid.dup2.%s" % wa)
        c = self.conversation_of(wa)
        outs = wait_until(lambda: (lambda ms: ms if len([m for m in ms if m["direction"] == "in"]) == 2
                                   and ms[-1]["direction"] == "out" else None)(self.messages(c["id"])),
                          "the second reply")
        ins = [m for m in outs if m["direction"] == "in"]
        self.assertEqual([m["text"] for m in ins], ["hello", "hello"])
        n_out = len([m for m in outs if m["direction"] == "out"])
        sent = self.fake.wait_sent(n_out, to=wa)
        # per-conversation order: a reply to the duplicate would have come before the second one
        self.assertEqual(len(sent), n_out, texts_of(sent))

    def test_text_gets_the_bots_answer_at_the_fake(self):
        wa = new_wa()
        self.say(wa, "text")
        sent = self.wait_reply(wa)
        m = sent[0]
        self.assertEqual(m["messaging_product"], "whatsapp")
        self.assertIn(m["type"], ("text", "interactive"), m)
        req = [r for r in self.fake.requests if isinstance(r["body"], dict) and r["body"].get("to") == wa][0]
        self.assertEqual(req["path"], "/%s/messages" % self.fake.phone_number_id)
        self.assertEqual(req["headers"]["authorization"], "Bearer " + self.fake.access_token)
        c = self.conversation_of(wa)
        self.assertEqual(c["messages"][0]["text"], "how can I track my order?")
        self.assertIn("track", " ".join(texts_of(self.fake.sent_to(wa))).lower())

    def test_button_reply_payload_is_handled(self):
        for name in ("interactive_button", "interactive_list"):
            with self.subTest(name=name):
                wa = new_wa()
                self.say_text(wa, "hello")
                self.wait_reply(wa)
                self.say(wa, name)  # the reply id is "/human": a person takes over
                c = self.conversation_of(wa)
                wait_until(lambda: self.conv(c["id"])["status"] in ("queued", "assigned"), "the hand-off")
                ins = self.messages(c["id"], "in")
                self.assertEqual(ins[-1]["text"], "Talk to a person")

    def test_quick_replies_as_buttons_list_or_numbered_options(self):
        cases = (("buttons please", "button", "/opt:2"), ("list please", "list", "/opt:4"),
                 ("options please", None, "/opt:2"))
        for ask, kind, choice in cases:
            with self.subTest(ask=ask):
                wa = new_wa()
                self.say_text(wa, ask)
                m = self.wait_reply(wa)[0]
                if kind == "button":
                    self.assertEqual(m["type"], "interactive", m)
                    self.assertEqual(m["interactive"]["type"], "button")
                    self.assertEqual([(b["reply"]["id"], b["reply"]["title"]) for b in m["interactive"]["action"]["buttons"]],
                                     [("/opt:1", "Yes"), ("/opt:2", "No")])
                    reply = fixture("interactive_button", wa_id=wa, suffix="." + wa)
                    reply["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["button_reply"] = {"id": choice, "title": "No"}
                    self.assertEqual(self.post(reply)[0], 200)
                elif kind == "list":
                    self.assertEqual((m["type"], m["interactive"]["type"]), ("interactive", "list"), m)
                    rows = m["interactive"]["action"]["sections"][0]["rows"]
                    self.assertEqual([r["id"] for r in rows], ["/opt:%d" % i for i in range(1, 6)])
                    self.assertTrue(m["interactive"]["action"]["button"])
                    reply = fixture("interactive_list", wa_id=wa, suffix="." + wa)
                    reply["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["list_reply"] = {"id": choice, "title": "Yellow"}
                    self.assertEqual(self.post(reply)[0], 200)
                else:
                    # titles too long for buttons and rows: numbered lines, answered by a typed "2"
                    self.assertEqual(m["type"], "text", m)
                    self.assertIn("\n1. The first of several long choices\n2. The second of several long choices",
                                  m["text"]["body"])
                    # the plugin remembers the options in its store as it sends them; the fake
                    # may see the message before that write is committed
                    wait_until(lambda: self.plugin_kv("options:" + wa), "the options remembered")
                    self.say_text(wa, " 2 ")
                sent = self.wait_reply(wa, 2)
                self.assertEqual(texts_of(sent[1:2]), ["You chose " + choice])

    def test_image_is_fetched_and_stored(self):
        wa = new_wa()
        jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
        mid = self.fake.add_media(jpeg, "image/jpeg")
        p = fixture("image", wa_id=wa, suffix="." + wa)
        p["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"] = mid
        st, body = self.post(p)
        self.assertEqual(st, 200, body)
        c = self.conversation_of(wa)
        m = self.messages(c["id"], "in")[0]
        self.assertEqual(m["text"], "the box arrived like this")
        self.assertEqual(len(m["attachments"]), 1, m)
        a = m["attachments"][0]
        self.assertEqual((a["type"], a["size"]), ("image/jpeg", len(jpeg)), a)
        # the very bytes, in the attachments store (content-addressed)
        digest = hashlib.sha256(jpeg).hexdigest()
        with open(os.path.join(self.server.data, "attachments", digest[:2], digest), "rb") as f:
            self.assertEqual(f.read(), jpeg)
        # agents read it through their own route (and not another conversation's)
        st, h, data = self.agent_bytes("%s/conversations/%s/attachments/%s" % (A, c["id"], a["id"]))
        self.assertEqual((st, h.get("content-type"), data), (200, "image/jpeg", jpeg))
        wa2 = new_wa()
        self.say_text(wa2, "hello")
        other = self.conversation_of(wa2)["id"]
        st, _, _ = self.agent_bytes("%s/conversations/%s/attachments/%s" % (A, other, a["id"]))
        self.assertEqual(st, 404)
        # fetched with the token: the metadata, then the bytes
        gets = [r for r in self.fake.requests if r["method"] == "GET" and mid in r["path"]]
        self.assertEqual([r["path"].split("/")[1] for r in gets], [mid, "media-bytes"])
        self.assertTrue(all(r["headers"]["authorization"] == "Bearer " + self.fake.access_token for r in gets))

    def test_voice_note_the_core_does_not_take_is_noted(self):
        # audio/ogg is not one of the attachment types: the message is kept, the file noted
        wa = new_wa()
        mid = self.fake.add_media(b"OggS\x00\x02" + b"\x00" * 200, "audio/ogg; codecs=opus")
        p = fixture("image", wa_id=wa, suffix="." + wa)
        m = p["entry"][0]["changes"][0]["value"]["messages"][0]
        m["type"] = "audio"
        m["audio"] = {"id": mid, "mime_type": "audio/ogg; codecs=opus", "voice": True}
        del m["image"]
        self.assertEqual(self.post(p)[0], 200)
        c = self.conversation_of(wa)
        msg = wait_until(lambda: (self.messages(c["id"], "in") or [None])[0], "the voice note")
        self.assertEqual(msg["attachments"], [])
        self.assertIn("not accepted", msg["text"])

    def test_unknown_type_acknowledged_and_ignored(self):
        wa = new_wa()
        self.say(wa, "unknown_type")
        st, body = self.post({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "account_update", "value": {"x": 1}}]}]})
        self.assertEqual(st, 200, body)
        st, body = self.post(b"not json at all")
        self.assertEqual(st, 200, body)
        # the customer's next real message is the first one stored
        self.say_text(wa, "hello")
        self.wait_reply(wa)
        c = self.conversation_of(wa)
        self.assertEqual([m["text"] for m in c["messages"] if m["direction"] == "in"], ["hello"])

    def test_batch_of_two_messages(self):
        wa = new_wa()
        self.say(wa, "batch")
        c = self.conversation_of(wa)
        ins = wait_until(lambda: (lambda x: x if len(x) == 2 else None)(self.messages(c["id"], "in")), "both messages")
        self.assertEqual([m["text"] for m in ins], ["hello", "I want to talk to a human"])
        wait_until(lambda: self.conv(c["id"])["status"] in ("queued", "assigned"), "the hand-off")


class DeliveryTests(Base):

    def test_statuses_become_receipt_events_and_failed_a_dead_letter(self):
        wa = new_wa()
        c = self.assigned(wa)
        events = self.open_events()
        try:
            _, b = self.agent_says(c["id"], "Hi, Ana here. Checking your order now.")
            mid = b["message"]["id"]
            wamid = wait_until(lambda: next((m["_id"] for m in self.fake.sent_to(wa)
                                             if texts_of([m])[0].startswith("Hi, Ana here")), None),
                               "the agent's reply at the fake")
            # Meta's statuses name its wamid, which we know once the send is recorded
            self.until_event(events, lambda e: e["event"] == "message/sent" and e["data"].get("id") == mid)
            self.say(wa, "status_delivered", status_id=wamid)
            ev = self.until_event(events, lambda e: e["event"] == "message/delivered" and e["data"].get("conversation") == c["id"])
            self.assertEqual(ev["data"]["up_to"], mid, ev["data"])
            self.say(wa, "status_read", status_id=wamid)
            ev = self.until_event(events, lambda e: e["event"] == "message/read" and e["data"].get("conversation") == c["id"])
            self.assertEqual(ev["data"]["up_to"], mid, ev["data"])
            # an unknown status id is ignored
            self.say(wa, "status_read", status_id="wamid.nobody")

            _, b = self.agent_says(c["id"], "This one will bounce.")
            mid2 = b["message"]["id"]
            wamid2 = wait_until(lambda: next((m["_id"] for m in self.fake.sent_to(wa)
                                              if texts_of([m])[0] == "This one will bounce."), None), "the second reply")
            self.until_event(events, lambda e: e["event"] == "message/sent" and e["data"].get("id") == mid2)
            self.say(wa, "status_failed", status_id=wamid2)
            ev = self.until_event(events, lambda e: e["event"] == "message/failed" and e["data"].get("conversation") == c["id"])
            self.assertEqual(ev["data"]["id"], mid2, ev["data"])
            self.assertIn("131026", ev["data"]["reason"])
        finally:
            events.close()

    def test_outage_then_back_all_delivered_once_in_order(self):
        wa = new_wa()
        c = self.assigned(wa)
        self.fake.down()
        try:
            texts = ["outage %d" % i for i in range(4)]
            for t in texts:
                self.agent_says(c["id"], t)
            wait_until(lambda: any(r["status"] == "reset" for r in self.fake.requests), "a refused attempt")
        finally:
            self.fake.up()
        self.assertEqual(self.delivered(wa, "outage ", 4), texts)

    def test_rate_limit_and_errors_then_back(self):
        wa = new_wa()
        c = self.assigned(wa)
        self.fake.fail(1, "rate_limit", retry_after=1)
        self.fake.fail(1, "throttled", retry_after=1)
        self.fake.fail(1, "server")
        texts = ["limited %d" % i for i in range(3)]
        for t in texts:
            self.agent_says(c["id"], t)
        self.assertEqual(self.delivered(wa, "limited ", 3), texts)

    def test_meta_refuses_outside_its_window_dead_letter(self):
        # Meta's own view of the window decides too: 131047 is permanent, named in the reason
        wa = new_wa()
        c = self.assigned(wa)
        events = self.open_events()
        try:
            self.fake.close_window(wa)
            _, b = self.agent_says(c["id"], "Meta says the window is closed")
            ev = self.until_event(events, lambda e: e["event"] == "message/failed" and e["data"].get("conversation") == c["id"])
            self.assertEqual(ev["data"]["id"], b["message"]["id"])
            self.assertIn("24-hour window", ev["data"]["reason"])
        finally:
            events.close()

    def test_long_text_split_and_markdown(self):
        wa = new_wa()
        c = self.assigned(wa)
        long = "**Note:** " + ("word " * 1000).strip()  # 5010 characters
        self.agent_says(c["id"], long)

        def split():
            t = texts_of(self.fake.sent_to(wa))
            i = next((k for k, x in enumerate(t) if x.startswith("*Note:*")), None)
            return t[i:] if i is not None and len(t) - i >= 2 else None
        parts = wait_until(split, "both parts")
        self.assertTrue(parts[0].startswith("*Note:* word"), parts[0][:40])
        self.assertTrue(all(len(p) <= 4096 for p in parts), [len(p) for p in parts])
        self.assertEqual(" ".join(p.strip() for p in parts).replace("*Note:*", "**Note:**"), long)


class WindowTests(Base):
    """The 24-hour window, by the server's clock (--test-clock)."""

    def advance(self, seconds):
        st, _, b = self.agent.request("POST", "/api/v1/test/clock", {"advance_s": seconds})
        self.assertEqual(st, 200, b)

    def test_free_form_refused_outside_template_sent(self):
        wa = new_wa()
        c = self.assigned(wa)
        w = c.get("reply_window")
        self.assertIsInstance(w, dict, c)
        self.assertTrue(w["open"])
        last_in = max(m["created_at"] for m in c["messages"] if m["direction"] == "in")
        self.assertEqual(w["closes_at"], last_in + 86400 * 1000)
        self.agent_says(c["id"], "inside the window")

        self.advance(86400 + 60)
        c = self.conv(c["id"])
        self.assertFalse(c["reply_window"]["open"], c["reply_window"])
        st, b = self.agent_says(c["id"], "too late for free form", expect=409)
        self.assertEqual(b["error"]["code"], "window_closed", b)
        self.assertIn("template", b["error"]["message"])

        st, _, t = self.agent.get(A + "/conversations/%s/templates" % c["id"])
        self.assertEqual(st, 200, t)
        self.assertEqual([(x["name"], x["params"]) for x in t["templates"]], [("order_update", 2), ("follow_up", 0)])
        self.assertFalse(t["reply_window"]["open"])
        # wrong parameters, unknown template
        st, b = self.agent_says(c["id"], None, expect=400, template="order_update", params=["Ann"])
        st, b = self.agent_says(c["id"], None, expect=422, template="no_such_template")
        st, b = self.agent_says(c["id"], None, template="order_update", params=["Ann", "#1042"], client_id="tpl-1")
        self.assertEqual(b["message"]["text"],
                         "Hi Ann, your order #1042 has news. Reply to continue the conversation.")
        # idempotent by client_id
        st, b2 = self.agent_says(c["id"], None, template="order_update", params=["Ann", "#1042"], client_id="tpl-1")
        self.assertEqual(b2["message"]["id"], b["message"]["id"])
        tpl = wait_until(lambda: next((m for m in self.fake.sent_to(wa) if m["type"] == "template"), None),
                         "the template at the fake")
        self.assertEqual(tpl["type"], "template")
        self.assertEqual(tpl["template"]["name"], "order_update")
        self.assertEqual(tpl["template"]["language"]["code"], "en_US")
        self.assertEqual([p["text"] for p in tpl["template"]["components"][0]["parameters"]], ["Ann", "#1042"])

        # the customer answers: the window opens again
        self.say_text(wa, "yes, tell me")
        wait_until(lambda: self.conv(c["id"])["reply_window"]["open"], "the window open again")
        self.agent_says(c["id"], "Great, here is the news.")
        self.delivered(wa, "Great, here is the news.", 1)
        # sent once, though asked twice (the same client_id)
        self.assertEqual(len([m for m in self.fake.sent_to(wa) if m["type"] == "template"]), 1)

    def test_web_conversations_have_no_window(self):
        conv = self.server.start_conversation("en")
        self.server.send(conv, "I want to talk to a human")
        c = wait_until(lambda: (lambda x: x if x["status"] == "assigned" else None)(self.conv(conv["id"])), "assigned")
        self.assertNotIn("reply_window", c)
        st, _, t = self.agent.get(A + "/conversations/%s/templates" % conv["id"])
        self.assertEqual((st, t["templates"], t["reply_window"]), (200, [], None))


if __name__ == "__main__":
    harness.main()

#!/usr/bin/env python3
"""The Telegram channel end to end: the real server and plugins/channels/telegram.lua, with
channels.telegram.api_base pointing at a fake Bot API (fake_telegram.py). Updates are the
documented Update objects (fixtures/telegram/*.json) posted to POST /channels/telegram/webhook
as Telegram would, or fetched by the plugin with getUpdates in poll mode."""

import copy
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from agents_common import PASSWORD, clock_server  # noqa: E402
from fake_telegram import FakeTelegram, visible_text  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "telegram")
WEBHOOK = "/channels/telegram/webhook"
SECRET = "s3cr3t-Token_for-tests"
WAIT = 30.0  # the longest a test waits for something that must happen (ASan builds are slow)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ADMIN = {"email": "admin@example.com", "password": PASSWORD, "roles": ("admin",)}

_ids = iter(range(700000001, 800000000))

# A test intent whose button carries a payload longer than Telegram's 64 bytes of callback_data.
LONG_PAYLOAD = "/choose:" + "x" * 100
LONG_BUTTONS_LUA = r'''
sb.intent{ name = "long_buttons", priority = 90, match = [[^long buttons$]], handler = function(ctx)
  ctx:reply{ text = "pick one", quick_replies = { { title = "Long", payload = "%s" } } }
end }
sb.intent{ name = "long_chosen", priority = 90, payload = "%s", handler = function(ctx)
  ctx:reply("chosen: " .. #ctx.payload .. " bytes")
end }
''' % (LONG_PAYLOAD, LONG_PAYLOAD)


def new_chat():
    """A fresh private chat id (= the user's id): each test talks in its own chats."""
    return next(_ids)


def fixture(name):
    with open(os.path.join(FIXTURES, name + ".json")) as f:
        return json.load(f)


def update(name, chat=None, message_id=None, text=None, update_id=None, lang="en"):
    """A fixture with its ids changed: the message's chat and sender are `chat` (a private chat),
    whose Telegram app speaks `lang` (None: the fixture's)."""
    u = copy.deepcopy(fixture(name))
    u["update_id"] = update_id if update_id is not None else next(_ids)
    m = u.get("message") or u.get("edited_message") or (u.get("callback_query") or {}).get("message")
    if chat is not None:
        if m is not None and m["chat"]["type"] == "private":
            m["chat"]["id"] = chat
        if "callback_query" in u:
            u["callback_query"]["from"]["id"] = chat
            u["callback_query"]["id"] = "cbq-%d" % next(_ids)
        elif m is not None and m["chat"]["type"] == "private":
            m["from"]["id"] = chat
    if m is not None and message_id is not None and "callback_query" not in u:
        m["message_id"] = message_id
    sender = (u.get("callback_query") or m or {}).get("from")
    if lang is not None and sender is not None:
        sender["language_code"] = lang
    if text is not None:
        if "callback_query" in u:
            u["callback_query"]["data"] = text
        else:
            m["text"] = text
    return u


def telegram_config(fake, **more):
    cfg = {"bot_token": fake.token, "secret_token": SECRET, "api_base": fake.url}
    cfg.update(more)
    return {"channels": {"telegram": cfg}}


def post(server, upd, secret=SECRET, raw=None):
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    return server.request("POST", WEBHOOK, raw=raw if raw is not None else json.dumps(upd), headers=headers)


def db(server):
    c = sqlite3.connect("file:%s?mode=ro" % os.path.join(server.data, "switchboard.db"), uri=True, timeout=10)
    c.row_factory = sqlite3.Row
    return c


def query(server, sql, *args):
    c = db(server)
    try:
        return [dict(r) for r in c.execute(sql, args)]
    finally:
        c.close()


def conversation_of(server, chat):
    """The public id and status of the latest Telegram conversation with this chat, or None."""
    rows = query(server, "SELECT c.public_id, c.status FROM conversations c JOIN identities i"
                         " ON i.contact_id = c.contact_id WHERE i.channel = 'telegram' AND i.external_id = ?"
                         " AND c.channel = 'telegram' ORDER BY c.id DESC LIMIT 1", str(chat))
    return rows[0] if rows else None


def inbound(server, chat):
    """The customer's messages stored for this chat: (provider_id, body), in order."""
    return [(r["provider_id"], r["body"]) for r in query(
        server, "SELECT m.provider_id, m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                " JOIN identities i ON i.contact_id = c.contact_id AND i.channel = 'telegram'"
                " WHERE i.external_id = ? AND m.direction = 'in' ORDER BY m.id", str(chat))]


def until(predicate, timeout=WAIT, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() > deadline:
            if not v:
                raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
            return v
        time.sleep(0.05)


def texts(fake, chat):
    """What the user sees in the chat: the visible text of each message the bot sent, in order."""
    return [c.result.get("text") or c.result.get("caption") or "" for c in fake.sent(chat)]


def wait_sent(fake, chat, n, timeout=WAIT):
    got = fake.wait_for(lambda: len(fake.sent(chat)) >= n, timeout)
    if not got:
        raise AssertionError("chat %s: %d messages sent, expected %d: %r" % (chat, len(fake.sent(chat)), n,
                                                                                fake.calls()[-5:]))
    return fake.sent(chat)


class TelegramServerTestCase(harness.SwitchboardTestCase):
    """One fake Bot API and one server configured for it per class."""

    server_users = [ADMIN]
    channel_settings = {}

    @classmethod
    def make_server(cls):
        s = harness.Server(config=telegram_config(cls.fake, **cls.channel_settings), users=cls.server_users)
        s.plugins = os.path.join(s.data, "plugins")  # the shipped plugins and a test intent
        shutil.copytree(harness.PLUGINS, s.plugins)
        with open(os.path.join(s.plugins, "intents", "long_buttons.lua"), "w") as f:
            f.write(LONG_BUTTONS_LUA)
        return s

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeTelegram()
        cls.server = cls.make_server()
        try:
            cls.server.start_for_class()
        except BaseException:
            cls.fake.close()
            raise
        cls.admin = cls.server.login(ADMIN["email"], ADMIN["password"])

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.close()
        cls.fake.close()
        if rc != 0:
            cls.server.dump_log("(bad exit in tearDownClass)")
            raise AssertionError("switchboard exited with %r on SIGTERM, expected 0" % (rc,))

    def agent_view(self, chat):
        conv = until(lambda: conversation_of(self.server, chat), what="a conversation for chat %s" % chat)
        st, _, b = self.admin.get("/api/v1/agent/conversations/" + conv["public_id"])
        self.assertEqual(st, 200, b)
        return b

    def ask(self, chat, text, **kw):
        """The user writes `text` in the chat; returns the update sent."""
        u = update("text", chat, message_id=next(_ids), text=text, **kw)
        st, _, b = post(self.server, u)
        self.assertEqual(st, 200, b)
        return u


class WebhookTests(TelegramServerTestCase):

    def test_secret_token_missing_or_wrong_is_refused_and_nothing_is_stored(self):
        s, chat = self.server, new_chat()
        u = update("text", chat, message_id=1)
        for secret in (None, "", "wrong", SECRET + "x", SECRET[:-1]):
            with self.subTest(secret=secret):
                st, _, b = post(s, u, secret=secret)
                self.assertEqual(st, 403, b)
        self.assertIsNone(conversation_of(s, chat), "a refused update created a conversation")
        self.assertEqual(query(s, "SELECT count(*) AS n FROM messages WHERE provider_id LIKE ?",
                               "msg:%d:%%" % chat)[0]["n"], 0)
        # the good secret is taken, and the same update is then stored once
        st, _, b = post(s, u)
        self.assertEqual(st, 200, b)
        self.assertEqual(inbound(s, chat), [("msg:%d:1" % chat, u["message"]["text"])])
        self.assertEqual(len(wait_sent(self.fake, chat, 1)), 1)

    def test_text_is_answered_from_the_knowledge_base(self):
        s, chat = self.server, new_chat()
        # what the widget answers to the same question is what Telegram must show
        web = s.start_conversation("en")
        want = s.send(web, "how can I track my order?")["replies"][0]
        self.ask(chat, "how can I track my order?")
        sent = wait_sent(self.fake, chat, 1)
        p = sent[0].params
        self.assertEqual(p["parse_mode"], "HTML", p)
        self.assertEqual(str(p["chat_id"]), str(chat))
        shown = visible_text(p["text"])
        self.assertTrue(shown.startswith(want["text"]), (shown, want["text"]))
        link = want["links"][0]
        self.assertIn('<a href="%s">' % link["url"].replace("&", "&amp;"), p["text"])
        self.assertIn(link["title"], shown)
        buttons = [b for row in p["reply_markup"]["inline_keyboard"] for b in row]
        self.assertEqual([b["callback_data"] for b in buttons], [q["payload"] for q in want["quick_replies"]])
        self.assertEqual([b["text"] for b in buttons], [q["title"] for q in want["quick_replies"]])
        # the customer is named and their language kept
        view = self.agent_view(chat)
        self.assertEqual(view["channel"], "telegram", view)
        self.assertEqual([m["text"] for m in view["messages"] if m["direction"] == "in"],
                         ["how can I track my order?"])

    def test_the_same_update_twice_is_one_message_and_one_reply(self):
        s, chat = self.server, new_chat()
        u = update("text", chat, message_id=7, text="hi")
        for _ in range(3):
            st, _, b = post(s, u)
            self.assertEqual(st, 200, b)
        # a later message is answered after everything queued before it
        self.ask(chat, "thanks")
        sent = wait_sent(self.fake, chat, 2)
        self.assertEqual(len(inbound(s, chat)), 2, inbound(s, chat))
        self.assertEqual(len(sent), 2, texts(self.fake, chat))

    def test_the_users_language_is_the_conversations(self):
        s, chat = self.server, new_chat()
        u = update("text", chat, message_id=1, text="olá", lang=None)
        self.assertEqual(u["message"]["from"]["language_code"], "pt-br")
        st, _, b = post(s, u)
        self.assertEqual(st, 200, b)
        web = s.start_conversation("pt-BR")
        greeting = s.send(web, "olá")["replies"][0]["text"]
        self.assertEqual([visible_text(c.params["text"]) for c in wait_sent(self.fake, chat, 1)], [greeting])

    def test_start_command_is_greeted(self):
        s, chat = self.server, new_chat()
        st, _, b = post(s, update("start", chat, message_id=1))
        self.assertEqual(st, 200, b)
        web = s.start_conversation("en")
        greeting = s.send(web, "hi")["replies"][0]["text"]
        sent = wait_sent(self.fake, chat, 1)
        self.assertEqual(visible_text(sent[0].params["text"]), greeting)

    def test_button_press_is_answered_and_its_payload_handled(self):
        s, chat = self.server, new_chat()
        self.ask(chat, "how can I track my order?")
        first = wait_sent(self.fake, chat, 1)[0]
        human = next(b for row in first.params["reply_markup"]["inline_keyboard"] for b in row
                     if b["callback_data"] == "/human")
        press = update("callback_query", chat, text="/human")
        press["callback_query"]["message"] = dict(first.result, chat={"id": chat, "type": "private"})
        st, h, b = post(s, press)
        self.assertEqual(st, 200, b)
        # the spinner is stopped by the webhook's answer (a Bot API call in the response body)
        self.assertEqual(b, {"method": "answerCallbackQuery",
                             "callback_query_id": press["callback_query"]["id"]})
        until(lambda: (conversation_of(s, chat) or {}).get("status") == "queued", what="hand-off")
        msgs = self.agent_view(chat)["messages"]
        pressed = [m for m in msgs if m["direction"] == "in"][-1]
        self.assertEqual(pressed["text"], human["text"], "the button's title is the customer's text")
        self.assertEqual(len(wait_sent(self.fake, chat, 2)), 2, "the hand-off notice reaches the chat")

    def test_payload_longer_than_callback_data_goes_through_the_store(self):
        s, chat = self.server, new_chat()
        self.ask(chat, "long buttons")
        first = wait_sent(self.fake, chat, 1)[0]
        button = first.params["reply_markup"]["inline_keyboard"][0][0]
        self.assertEqual(button["text"], "Long")
        self.assertLessEqual(len(button["callback_data"].encode()), 64, button)
        self.assertNotEqual(button["callback_data"], LONG_PAYLOAD)
        press = update("callback_query", chat, text=button["callback_data"])
        press["callback_query"]["message"] = dict(first.result, chat={"id": chat, "type": "private"})
        st, _, b = post(s, press)
        self.assertEqual(st, 200, b)
        sent = wait_sent(self.fake, chat, 2)
        self.assertEqual(visible_text(sent[1].params["text"]), "chosen: %d bytes" % len(LONG_PAYLOAD))

    def test_photo_is_fetched_and_shown_to_agents(self):
        s, chat = self.server, new_chat()
        self.fake.add_file("AgACAgQAAxkBAAIBlarge", JPEG, "photos/file_%d.jpg" % chat)
        u = update("photo", chat, message_id=3)
        st, _, b = post(s, u)
        self.assertEqual(st, 200, b)
        self.assertEqual([c.params["file_id"] for c in self.fake.calls("getFile")][-1], "AgACAgQAAxkBAAIBlarge",
                         "the largest size is fetched")
        view = self.agent_view(chat)
        m = [m for m in view["messages"] if m["direction"] == "in"][-1]
        self.assertEqual(m["text"], "the box arrived broken")
        self.assertEqual(len(m["attachments"]), 1, m)
        a = m["attachments"][0]
        self.assertEqual((a["type"], a["size"]), ("image/jpeg", len(JPEG)), a)
        stored = query(s, "SELECT sha256 FROM attachments WHERE public_id = ?", a["id"])
        self.assertEqual(stored[0]["sha256"], hashlib.sha256(JPEG).hexdigest())

    def test_document_location_and_edit(self):
        s, chat = self.server, new_chat()
        self.fake.add_file("BQACAgQAAxkBAAIBdoc", PDF, "documents/file_%d.pdf" % chat)
        for name, mid in (("document", 4), ("location", 5), ("edited_message", 4)):
            st, _, b = post(s, update(name, chat, message_id=mid))
            self.assertEqual(st, 200, (name, b))
        msgs = [m for m in self.agent_view(chat)["messages"] if m["direction"] == "in"]
        self.assertEqual([m["text"] for m in msgs],
                         ["my invoice", "📍 38.722252,-9.139337", "✏️ how can I track my parcel?"])
        self.assertEqual([(a["name"], a["type"], a["size"]) for a in msgs[0]["attachments"]],
                         [("invoice-1042.pdf", "application/pdf", len(PDF))])

    def test_unknown_updates_are_acknowledged_and_ignored(self):
        s = self.server
        chat = new_chat()
        group = fixture("supergroup")["message"]["chat"]["id"]
        before = query(s, "SELECT count(*) AS n FROM messages")[0]["n"]
        for name in ("sticker", "poll", "my_chat_member", "supergroup"):
            with self.subTest(update=name):
                st, _, b = post(s, update(name, chat, message_id=9))
                self.assertEqual(st, 200, b)
        for body in ({"update_id": next(_ids)}, {"update_id": next(_ids), "channel_post": {"text": "x"}},
                     {"update_id": next(_ids), "message": "not an object"}, [1, 2]):
            with self.subTest(body=body):
                st, _, b = post(s, body)
                self.assertEqual(st, 200, b)
        self.assertIsNone(conversation_of(s, chat))
        self.assertIsNone(conversation_of(s, group))
        self.assertEqual(query(s, "SELECT count(*) AS n FROM messages")[0]["n"], before)
        self.assertEqual(self.fake.sent(chat) + self.fake.sent(group), [])

    def test_blocked_user_is_a_dead_letter(self):
        s, chat = self.server, new_chat()
        self.fake.block(chat)
        self.ask(chat, "hi")
        until(lambda: query(s, "SELECT o.state, o.last_error FROM outbox o JOIN conversations c"
                               " ON c.id = o.conversation_id WHERE c.public_id = ? AND o.state = 'dead'",
                            conversation_of(s, chat)["public_id"]), what="a dead letter")
        calls = [c for c in self.fake.calls("sendMessage") if str(c.params.get("chat_id")) == str(chat)]
        self.assertEqual([c.status for c in calls], [403], "a permanent error is not retried")

    def test_burst_of_500_updates(self):
        s = self.server
        chats = [new_chat() for _ in range(50)]
        updates = [update("text", chats[i % 50], message_id=1000 + i, text="hi") for i in range(500)]
        bad = []

        def worker(part):
            for u in part:
                st, _, b = post(s, u)
                if st != 200:
                    bad.append((st, b))

        threads = [threading.Thread(target=worker, args=(updates[t::8],)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(bad, [])
        got = self.fake.wait_for(lambda: sum(len(self.fake.sent(c)) for c in chats) >= 500, 120)
        self.assertTrue(got, "replies: %d of 500" % sum(len(self.fake.sent(c)) for c in chats))
        for c in chats:
            self.assertEqual(len(inbound(s, c)), 10, c)
        self.assertEqual(sorted(len(self.fake.sent(c)) for c in chats), [10] * 50, "each update answered once")

    def test_provider_outage_then_back_delivers_everything_once_in_order(self):
        s, fake = self.server, self.fake
        chats = [new_chat() for _ in range(3)]
        questions = ["hi", "thanks", "how can I track my order?"]
        fake.fail(4, methods=("sendMessage",))
        fake.rate_limit(2, retry_after=1, methods=("sendMessage",))
        fake.down()
        try:
            for q in questions:
                for c in chats:
                    self.ask(c, q)
        finally:
            fake.up()
        for c in chats:
            sent = wait_sent(fake, c, 3, timeout=120)
            self.assertEqual(len(sent), 3, texts(fake, c))
        # in order per chat: the greeting, the thanks, then the article
        web = s.start_conversation("en")
        want = [s.send(web, q)["replies"][0]["text"] for q in questions]
        for c in chats:
            shown = texts(fake, c)
            self.assertEqual(shown[:2], want[:2], c)
            self.assertTrue(shown[2].startswith(want[2]), (c, shown[2]))
        self.assertEqual([f for f in fake.failures], [], "every failure was met by a retry")


class AgentTests(TelegramServerTestCase):
    """A hand-off from Telegram reaches the agents; an agent's reply reaches the chat."""

    @classmethod
    def make_server(cls):
        s = clock_server([{"email": "ana@example.com", "capacity": 10}],
                         config=dict(telegram_config(cls.fake), auto_accept=1))
        s.users.append(ADMIN)
        return s

    def agent(self):
        return self.server.login("ana@example.com", PASSWORD)

    def handed_off(self, chat):
        self.ask(chat, "I want to talk to a human")
        notice = wait_sent(self.fake, chat, 1)[0]
        until(lambda: (conversation_of(self.server, chat) or {}).get("status") == "assigned", what="assignment")
        return notice, conversation_of(self.server, chat)["public_id"]

    def test_handoff_reaches_the_agent_and_the_reply_reaches_telegram(self):
        chat = new_chat()
        notice, conv = self.handed_off(chat)
        self.assertTrue(visible_text(notice.params["text"]).strip())
        ana = self.agent()
        st, _, q = ana.get("/api/v1/agent/conversations?mine=1&status=assigned")
        self.assertEqual(st, 200, q)
        self.assertIn(conv, [c["id"] for c in q["conversations"]], q)
        st, _, d = ana.get("/api/v1/agent/conversations/" + conv)
        self.assertEqual((st, d["channel"]), (200, "telegram"), d)
        st, _, b = ana.request("POST", "/api/v1/agent/conversations/%s/messages" % conv,
                               {"text": "Hello, I am **Ana** & I can help <now>.", "client_id": "a1"})
        self.assertEqual(st, 200, b)
        sent = wait_sent(self.fake, chat, 2)
        self.assertEqual(sent[1].params["text"], "Hello, I am <b>Ana</b> &amp; I can help &lt;now&gt;.")
        self.assertEqual(visible_text(sent[1].params["text"]), "Hello, I am Ana & I can help <now>.")

    def test_long_agent_message_is_split_in_order(self):
        chat = new_chat()
        _, conv = self.handed_off(chat)
        # agents may write up to 8000 bytes: two Telegram messages
        paragraphs = ["Paragraph %d: " % i + ("lorem ipsum dolor sit amet " * 50).strip() for i in range(5)]
        text = "\n\n".join(paragraphs)
        self.assertGreater(len(text), 4096)
        self.assertLess(len(text), 8000)
        st, _, b = self.agent().request("POST", "/api/v1/agent/conversations/%s/messages" % conv,
                                         {"text": text, "client_id": "long"})
        self.assertEqual(st, 200, b)
        sent = wait_sent(self.fake, chat, 3)
        parts = [visible_text(c.params["text"]) for c in sent[1:]]
        self.assertEqual(len(parts), 2, [len(p) for p in parts])
        self.assertTrue(all(len(p) <= 4096 for p in parts), [len(p) for p in parts])
        self.assertEqual("\n\n".join(parts), text, "cut at paragraph boundaries, nothing lost")


class PollTests(TelegramServerTestCase):
    """mode "poll": getUpdates instead of a webhook, for servers without a public URL."""

    channel_settings = {"mode": "poll"}

    def test_updates_are_fetched_and_answered(self):
        s, fake, chat = self.server, self.fake, new_chat()
        first = update("text", chat, message_id=1, text="hi")
        fake.push_update(first)
        fake.push_update(update("text", chat, message_id=2, text="how can I track my order?"))
        sent = wait_sent(fake, chat, 2)
        self.assertEqual(len(inbound(s, chat)), 2)
        # the offset moved past what was handled: Telegram forgot those updates
        fake.wait_for(lambda: not fake.updates, WAIT)
        self.assertEqual(fake.updates, [])
        # a button press is answered with answerCallbackQuery
        press = update("callback_query", chat, text="/helped")
        press["callback_query"]["message"] = dict(sent[1].result, chat={"id": chat, "type": "private"})
        fake.push_update(press)
        wait_sent(fake, chat, 3)
        self.assertEqual([c.params["callback_query_id"] for c in fake.calls("answerCallbackQuery")],
                         [press["callback_query"]["id"]])
        # the webhook takes nothing in poll mode
        st, _, b = post(s, update("text", chat, message_id=3))
        self.assertEqual(st, 403, b)
        self.assertEqual(len(inbound(s, chat)), 3)

    def test_getupdates_failures_are_survived(self):
        fake, chat = self.fake, new_chat()
        fake.fail(2, methods=("getUpdates",))
        fake.push_update(update("text", chat, message_id=1, text="hi"))
        self.assertEqual(len(wait_sent(fake, chat, 1)), 1)


class CommandTests(harness.SwitchboardTestCase):
    """switchboard channel telegram set-webhook URL: the plugin's command, with the config file."""

    def test_set_webhook(self):
        with FakeTelegram() as fake:
            s = harness.Server(import_kb=False)
            cfg = os.path.join(s.data, "telegram.json")
            with open(cfg, "w") as f:
                json.dump(telegram_config(fake), f)
            url = "https://support.example.com/channels/telegram/webhook"
            rc, out, err = s.cli("channel", "telegram", "set-webhook", url, "--config", cfg,
                                 "--data", s.data, "--plugins", harness.PLUGINS)
            self.assertEqual((rc, out.strip()), (0, "webhook set: " + url), err)
            self.assertEqual(fake.webhook, {"url": url, "secret_token": SECRET})
            rc, out, err = s.cli("channel", "telegram", "set-webhook", "http://insecure.example.com/",
                                 "--config", cfg, "--data", s.data, "--plugins", harness.PLUGINS)
            self.assertEqual(rc, 1, (out, err))
            self.assertIn("usage", err)
            self.assertEqual([c.params["url"] for c in fake.calls("setWebhook")], [url], "nothing sent")
            rc, out, err = s.cli("channel", "telegram", "delete-webhook", "--config", cfg,
                                 "--data", s.data, "--plugins", harness.PLUGINS)
            self.assertEqual((rc, out.strip()), (0, "webhook deleted"), err)
            self.assertEqual(fake.webhook["url"], "")
            rc, out, err = s.cli("channel", "nosuch", "set-webhook", url, "--config", cfg,
                                 "--data", s.data, "--plugins", harness.PLUGINS)
            self.assertEqual(rc, 1, (out, err))
            self.assertNotIn(fake.token, out + err, "the bot token is a secret")


class Kill9Tests(harness.SwitchboardTestCase):

    def test_full_outbox_is_delivered_after_kill9(self):
        with FakeTelegram() as fake:
            s = harness.Server(config=telegram_config(fake))
            with s:
                chats = [new_chat() for _ in range(10)]
                fake.down()
                for c in chats:
                    for q in ("hi", "thanks"):
                        st, _, b = post(s, update("text", c, message_id=next(_ids), text=q))
                        self.assertEqual(st, 200, b)
                until(lambda: query(s, "SELECT count(*) AS n FROM outbox WHERE state = 'pending'")[0]["n"] >= 20,
                      what="20 replies in the outbox")
                self.assertEqual(s.kill9(), -9)
                fake.up()
                s.start()
                for c in chats:
                    sent = wait_sent(fake, c, 2, timeout=120)
                    self.assertEqual(len(sent), 2, texts(fake, c))
                # the outcome of the last delivery is written just after the fake answered it
                until(lambda: query(s, "SELECT count(*) AS n FROM outbox WHERE state != 'sent'")[0]["n"] == 0,
                      what="every outbox row sent: %r" % query(s, "SELECT state, attempts, last_error"
                                                              " FROM outbox WHERE state != 'sent'"))
                self.assertEqual(sum(len(fake.sent(c)) for c in chats), 20, "each reply delivered once")


if __name__ == "__main__":
    harness.main()

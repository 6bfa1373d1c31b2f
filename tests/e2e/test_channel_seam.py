#!/usr/bin/env python3
"""The channel seam (docs/channels.md) with a channel plugin written for the test: its own routes
under /channels/<name>/, sb.accept (identity, conversation, dedupe on the provider's id, the bot's
turn after the acknowledgement), sb.status receipts, and the outbox: every bot reply is delivered
through the plugin's deliver(), in order per conversation, retried while the "provider" is down,
a dead letter when it refuses for good, retried by an agent, and still delivered after kill -9.

The plugin's "provider" is its own sb.store: deliver() appends what it sends there, and a route
switches it between ok / down / reject, so the test needs no other process. Telegram and WhatsApp
are tested against fake providers in test_channel_telegram.py and test_channel_whatsapp.py."""

import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PW = "correct horse battery"
KEY = "seam-test-key-never-logged"

CHANNEL_LUA = r'''
sb.channel{
  name = "loop",
  settings = {
    key = { type = "string", required = true, secret = true },
  },
  routes = {
    { method = "POST", path = "in", handler = function(req)
        if not sb.crypto.equal(req.headers["x-key"] or "", sb.config.key) then
          return { status = 403, body = "bad key" }
        end
        local m = sb.json.decode(req.body)
        if type(m) ~= "table" then return { status = 200, body = "ignored" } end
        local id, dup = sb.accept{ from = m.from, provider_id = m.id, text = m.text,
                                   name = m.name, locale = m.locale, payload = m.payload }
        if not id then
          return { status = 400, headers = { ["Content-Type"] = "text/plain" }, body = dup }
        end
        return { status = 200, body = sb.json.encode{ id = id, duplicate = dup } }
      end },
    { method = "POST", path = "status", handler = function(req)
        local m = sb.json.decode(req.body)
        local known = sb.status{ provider_id = m.id, status = m.status, reason = m.reason }
        return { status = 200, body = sb.json.encode{ known = known } }
      end },
    { method = "POST", path = "mode", handler = function(req)
        sb.store.set("mode", req.body)
        return { status = 204 }
      end },
  },
  deliver = function(msg)
    local mode = sb.store.get("mode") or "ok"
    if mode == "down" then return nil, "provider down", { retry_after = 1 } end
    if mode == "reject" then return nil, "blocked by the user", { permanent = true } end
    local sent = sb.store.get("sent") or {}
    sent[#sent + 1] = { id = msg.id, to = msg.to, text = msg.text, author = msg.author,
                        conversation = msg.conversation }
    sb.store.set("sent", sent)
    return true, "p-" .. msg.id
  end,
}
'''


class ChannelSeamTests(harness.SwitchboardTestCase):
    @classmethod
    def setUpClass(cls):
        cls.plugins = tempfile.mkdtemp(prefix="sb-plugins-")
        shutil.copytree(harness.PLUGINS, cls.plugins, dirs_exist_ok=True)
        with open(os.path.join(cls.plugins, "channels", "loop.lua"), "w") as f:
            f.write(CHANNEL_LUA)
        cls.server = harness.Server(
            config={"channels": {"loop": {"key": KEY}}},
            users=[{"email": "agent@e2e.test", "password": PW, "roles": ["admin"]}])
        cls.server.plugins = cls.plugins
        cls.server.start_for_class()
        cls.agent = cls.server.login("agent@e2e.test", PW)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.close()
        shutil.rmtree(cls.plugins, ignore_errors=True)
        if rc != 0:
            raise AssertionError("switchboard exited with %r on SIGTERM, expected 0" % (rc,))

    # -- helpers
    def post(self, path, body, key=KEY, raw=None):
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["X-Key"] = key
        data = raw if raw is not None else json.dumps(body).encode()
        return self.server.request("POST", "/channels/loop/" + path, raw=data, headers=headers)

    def db(self):
        return sqlite3.connect(os.path.join(self.server.data, "switchboard.db"), timeout=5)

    def sent(self):
        with self.db() as db:
            row = db.execute("SELECT value FROM plugin_kv WHERE plugin = 'channels/loop'"
                             " AND key = 'sent'").fetchone()
        return json.loads(row[0]) if row else []

    def sent_to(self, who):
        return [s for s in self.sent() if s["to"] == who]

    def wait(self, what, cond, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = cond()
            if v:
                return v
            time.sleep(0.1)
        self.fail("timed out waiting for " + what)

    def set_mode(self, mode):
        st, _, _ = self.post("mode", None, raw=mode.encode())
        self.assertEqual(st, 204)

    def inbound_count(self, who):
        with self.db() as db:
            return db.execute("SELECT count(*) FROM messages m JOIN conversations c"
                              " ON c.id = m.conversation_id JOIN identities i"
                              " ON i.contact_id = c.contact_id WHERE i.channel = 'loop'"
                              " AND i.external_id = ? AND m.direction = 'in'", (who,)).fetchone()[0]

    def conv_of(self, who):
        with self.db() as db:
            return db.execute("SELECT c.public_id FROM conversations c JOIN identities i"
                              " ON i.contact_id = c.contact_id WHERE i.channel = 'loop'"
                              " AND i.external_id = ? ORDER BY c.id DESC", (who,)).fetchone()[0]

    # -- tests
    def test_wrong_or_missing_key_is_403_and_stores_nothing(self):
        st, _, body = self.post("in", {"from": "k1", "id": "k1-1", "text": "hello"}, key="wrong")
        self.assertEqual(st, 403, body)
        st, _, body = self.post("in", {"from": "k1", "id": "k1-2", "text": "hello"}, key=None)
        self.assertEqual(st, 403, body)
        self.assertEqual(self.inbound_count("k1"), 0)

    def test_unknown_route_and_method(self):
        st, _, body = self.server.request("POST", "/channels/loop/nope", raw=b"{}")
        self.assertEqual(st, 404, body)
        st, _, body = self.server.request("GET", "/channels/loop/in")
        self.assertEqual(st, 405, body)
        st, _, body = self.server.request("POST", "/channels/nochannel/in", raw=b"{}")
        self.assertEqual(st, 404, body)

    def test_message_is_answered_through_the_outbox_once(self):
        st, _, body = self.post("in", {"from": "u1", "id": "u1-1", "text": "hello",
                                       "name": "Ann"})
        self.assertEqual(st, 200, body)
        self.assertFalse(body["duplicate"])
        # the provider retries: same id, no second message, no second reply
        st, _, again = self.post("in", {"from": "u1", "id": "u1-1", "text": "hello"})
        self.assertEqual(st, 200, again)
        self.assertTrue(again["duplicate"])
        self.assertEqual(again["id"], body["id"])
        replies = self.wait("the bot's reply", lambda: self.sent_to("u1"))
        time.sleep(0.5)
        replies = self.sent_to("u1")
        self.assertEqual(len(replies), 1, replies)
        self.assertEqual(replies[0]["author"], "bot")
        self.assertTrue(replies[0]["text"])
        self.assertEqual(self.inbound_count("u1"), 1)
        # the agent's view: the reply is marked sent
        conv = self.conv_of("u1")
        with self.db() as db:
            state = db.execute("SELECT state, provider_id FROM outbox WHERE message_id = ?",
                               (replies[0]["id"],)).fetchone()
            name = db.execute("SELECT name FROM contacts c JOIN identities i ON i.contact_id = c.id"
                              " WHERE i.channel = 'loop' AND i.external_id = 'u1'").fetchone()[0]
        self.assertEqual(state, ("sent", "p-%d" % replies[0]["id"]))
        self.assertEqual(name, "Ann")
        self.assertEqual(replies[0]["conversation"], conv)

    def test_receipts_become_events(self):
        self.post("in", {"from": "r1", "id": "r1-1", "text": "hello"})
        reply = self.wait("a reply", lambda: self.sent_to("r1"))[0]
        st, _, body = self.post("status", {"id": "p-%d" % reply["id"], "status": "read"})
        self.assertEqual(st, 200, body)
        self.assertTrue(body["known"])
        st, _, body = self.post("status", {"id": "p-unknown", "status": "read"})
        self.assertFalse(body["known"])
        with self.db() as db:
            types = [r[0] for r in db.execute(
                "SELECT e.type FROM events e JOIN conversations c ON c.id = e.conversation_id"
                " WHERE c.public_id = ? ORDER BY e.seq", (self.conv_of("r1"),))]
        self.assertIn("message/sent", types)
        self.assertIn("message/read", types)

    def test_refused_fields_get_a_reason(self):
        st, _, body = self.post("in", {"from": "b1", "id": "b1-1"})
        self.assertEqual(st, 400)
        self.assertIn("needs text", body if isinstance(body, str) else json.dumps(body))
        st, _, body = self.post("in", {"id": "b1-2", "text": "hi"})
        self.assertEqual(st, 400)
        self.assertEqual(self.inbound_count("b1"), 0)

    def test_outage_then_back_delivers_everything_once_in_order(self):
        self.set_mode("down")
        try:
            for i in range(4):
                st, _, body = self.post("in", {"from": "o1", "id": "o1-%d" % i,
                                               "text": "hello number %d" % i})
                self.assertEqual(st, 200, body)
            time.sleep(2.5)  # at least one failed attempt each
            self.assertEqual(self.sent_to("o1"), [])
            with self.db() as db:
                attempts = db.execute("SELECT max(attempts) FROM outbox o JOIN conversations c"
                                      " ON c.id = o.conversation_id WHERE c.public_id = ?",
                                      (self.conv_of("o1"),)).fetchone()[0]
            self.assertGreaterEqual(attempts, 1)
        finally:
            self.set_mode("ok")
        got = self.wait("four replies", lambda: len(self.sent_to("o1")) >= 4 and self.sent_to("o1"),
                        timeout=30)
        time.sleep(0.5)
        got = self.sent_to("o1")
        ids = [g["id"] for g in got]
        self.assertEqual(len(ids), 4, got)
        self.assertEqual(ids, sorted(ids))

    def test_dead_letter_shown_then_retried_by_an_agent(self):
        self.set_mode("reject")
        try:
            self.post("in", {"from": "d1", "id": "d1-1", "text": "hello"})
            conv = self.wait("a conversation", lambda: self.conv_of("d1"))

            def failed():
                st, _, body = self.agent.get("/api/v1/agent/conversations/" + conv)
                if st != 200:
                    return None
                for m in body.get("messages", []):
                    if m.get("delivery", {}).get("state") == "dead":
                        return m
                return None
            msg = self.wait("a dead letter", failed)
            self.assertIn("blocked by the user", msg["delivery"]["error"])
        finally:
            self.set_mode("ok")
        st, _, body = self.agent.request(
            "POST", "/api/v1/agent/conversations/%s/messages/%d/retry" % (conv, msg["id"]))
        self.assertEqual(st, 200, body)
        self.wait("the retried delivery", lambda: [s for s in self.sent_to("d1")
                                                   if s["id"] == msg["id"]])
        st, _, body = self.agent.request(
            "POST", "/api/v1/agent/conversations/%s/messages/%d/retry" % (conv, msg["id"]))
        self.assertEqual(st, 409, body)

    def test_kill9_with_a_full_outbox_delivers_after_restart(self):
        self.set_mode("down")
        for i in range(3):
            st, _, body = self.post("in", {"from": "k9", "id": "k9-%d" % i, "text": "hello"})
            self.assertEqual(st, 200, body)
        with self.db() as db:
            self.wait("replies queued", lambda: db.execute(
                "SELECT count(*) FROM outbox o JOIN conversations c ON c.id = o.conversation_id"
                " JOIN identities i ON i.contact_id = c.contact_id WHERE i.external_id = 'k9'"
                " AND o.state = 'pending'").fetchone()[0] >= 3)
        self.server.kill9()
        self.server.restart()
        self.agent = self.server.login("agent@e2e.test", PW)
        self.set_mode("ok")
        got = self.wait("three replies after the restart",
                        lambda: len(self.sent_to("k9")) >= 3 and self.sent_to("k9"), timeout=30)
        self.assertEqual(len(got), 3, got)


if __name__ == "__main__":
    harness.main()

#!/usr/bin/env python3
"""Live agents, what admins configure and what the console reads besides the conversation
(docs/agents.md): the customer card across channels, canned responses (CRUD, team filter, variables
filled by the server, bad input naming the field), the answer engine's search with help-center
links, the supervisor overview's counts, teams / agent profiles / routing rules / SLA policies with
their validation (time zone, hours, unknown team, capacity), the audit log, who may call what, and
the operators' CLI (`agent set`, `team add`, `team list`).

Only the web channel exists today, so the customer card's second channel (a Telegram identity, its
conversation and message) is written into the database the way a channel's inbound would store
it; the web side is real: a verified widget user (HMAC) with two conversations."""

import hashlib
import hmac
import json
import os
import sqlite3
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check_error  # noqa: E402

PW = "correct horse battery"
SECRET = "s3cr3t-" + "q" * 33
SHOP = "https://shop.example"
ADMIN = "admin@e2e.test"
AGENT = "agent@e2e.test"
OTHER = "other@e2e.test"
USERS = [
    {"email": ADMIN, "password": PW, "roles": ["admin"], "name": "Ada Admin"},
    {"email": AGENT, "password": PW, "roles": ["agent"], "name": "Alice Agent"},
    {"email": OTHER, "password": PW, "roles": ["agent"], "name": "Oscar Other"},
    {"email": "editor@e2e.test", "password": PW, "roles": ["editor"]},
    {"email": "sup@e2e.test", "password": PW, "roles": ["supervisor"], "name": "Sam Supervisor"},
]
HOURS = {"mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]], "wed": [["09:00", "18:00"]],
         "thu": [["09:00", "18:00"]], "fri": [["09:00", "17:00"]]}


def q(x):
    return urllib.parse.quote(str(x), safe="")


def user_hash(user_id):
    return hmac.new(SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def code_of(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None


def message_of(body):
    return body.get("error", {}).get("message", "") if isinstance(body, dict) and isinstance(body.get("error"), dict) else ""


def before_start(server):
    rc, out, err = server.cli("site", "add", "shop", "--name", "The shop", "--origin", SHOP,
                              "--secret", SECRET, "--data", server.data)
    assert rc == 0, (rc, out, err)
    hours = os.path.join(server.data, "hours.json")
    with open(hours, "w") as f:
        json.dump(HOURS, f)
    rc, out, err = server.cli("team", "add", "support", "--name", "Support", "--timezone", "Europe/Lisbon",
                              "--hours", hours, "--data", server.data)
    assert rc == 0, (rc, out, err)


class AgentsAdminTests(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(users=USERS, before_start=before_start)
        cls.server.start_for_class()
        s = cls.server
        cls.admin = s.login(ADMIN, PW)
        cls.agent = s.login(AGENT, PW)
        cls.other = s.login(OTHER, PW)

    # -- helpers
    def db(self):
        return sqlite3.connect(os.path.join(self.server.data, "switchboard.db"), timeout=10)

    def ok(self, sess, method, path, body=None, expect=200):
        st, _, b = sess.request(method, path, body)
        self.assertEqual(st, expect, "%s %s %r -> %s %r" % (method, path, body, st, b))
        return b

    def bad(self, sess, method, path, body, field, status=400, code="invalid_field"):
        st, h, b = sess.request(method, path, body)
        check_error(self, (st, h, b), status, "%s %s %r" % (method, path, body))
        self.assertEqual(code_of(b), code, b)
        if field:
            self.assertTrue(message_of(b).startswith(field), "%s %s %r: the error does not name %r: %r"
                            % (method, path, body, field, b))
        return b

    def verified_conversation(self, uid, text):
        st, _, conv = self.server.request("POST", "/api/v1/conversations",
                                          {"locale": "en", "site": "shop", "user_id": uid,
                                           "user_hash": user_hash(uid)}, headers={"Origin": SHOP})
        self.assertEqual(st, 201, conv)
        self.assertTrue(conv["verified"], conv)
        self.server.send(conv, text)
        return conv

    def audit_actions(self):
        b = self.ok(self.admin, "GET", "/api/v1/admin/audit?limit=1000")
        return [(e["action"], e.get("target"), e["actor"]) for e in b["entries"]]

    # -- the customer card
    def test_contact_card_across_two_channels(self):
        s = self.server
        first = self.verified_conversation("cust-42", "where is my order?")
        # the web conversation goes to a person, and an agent of its team writes a note on it
        self.assertEqual(s.send(first, "I want to talk to a human")["status"], "queued")
        self.ok(self.admin, "PUT", "/api/v1/admin/agents/%d" % int(s.user_ids[AGENT]), {"teams": ["default"]})
        self.ok(self.agent, "POST", "/api/v1/agent/conversations/%s/notes" % q(first["id"]),
                {"text": "asked about order 1234"})
        time.sleep(0.01)
        second = self.verified_conversation("cust-42", "thanks, and how do I return an item?")
        # the whole card is the supervisor's (admin's) view; an agent's is cut to what they may see
        st, _, card = self.admin.get("/api/v1/agent/contacts/%s" % q(second["id"]))
        self.assertEqual(st, 200, card)
        contact = card["contact"]
        cid = contact["id"]
        self.assertRegex(cid, r"^[0-9a-f]{32}$", "a contact id is random, not a row number")
        # the Telegram side: identity, a conversation assigned to Oscar with a message, and
        # notes by two agents, as a channel's inbound and the agent API store them
        now = int(time.time() * 1000) + 5000
        other_id = int(s.user_ids[OTHER])
        con = self.db()
        try:
            with con:
                con.execute("UPDATE contacts SET name = 'Maria Costa', attrs = ? WHERE public_id = ?",
                            (json.dumps({"plan": "pro", "country": "PT"}), cid))
                row = con.execute("SELECT id FROM contacts WHERE public_id = ?", (cid,)).fetchone()[0]
                con.execute("INSERT INTO identities(contact_id, channel, external_id, created_at)"
                            " VALUES(?, 'telegram', 'tg:777001', ?)", (row, now))
                cur = con.execute("INSERT INTO conversations(public_id, contact_id, channel, locale, status,"
                                  " team, assignee, created_at, updated_at)"
                                  " VALUES('tgconv0001', ?, 'telegram', 'pt-BR', 'assigned', 'support', ?, ?, ?)",
                                  (row, other_id, now, now))
                tg = cur.lastrowid
                con.execute("INSERT INTO messages(conversation_id, direction, author, channel, body, created_at)"
                            " VALUES(?, 'in', 'customer', 'telegram', ?, ?)", (tg, "olá, " + "é" * 300, now))
                con.execute("INSERT INTO notes(conversation_id, author, text, created_at) VALUES(?, ?, ?, ?)",
                            (tg, other_id, "VIP: answer in Portuguese", now))
        finally:
            con.close()
        for path in ("/api/v1/agent/contacts/%s" % cid, "/api/v1/agent/contacts/%s" % q(first["id"]),
                     "/api/v1/agent/contacts/tgconv0001"):
            st, _, card = self.admin.get(path)
            self.assertEqual(st, 200, "%s -> %s %r" % (path, st, card))
            c = card["contact"]
            self.assertEqual(c["id"], cid)
        self.assertEqual(c["name"], "Maria Costa")
        self.assertEqual(c["attributes"], {"plan": "pro", "country": "PT"})
        idents = {(i["channel"], i["external_id"]): i for i in c["identities"]}
        self.assertEqual(set(idents), {("web", "shop:cust-42"), ("telegram", "tg:777001")}, c["identities"])
        self.assertEqual(idents[("web", "shop:cust-42")]["verified_by"], "hmac")
        self.assertTrue(idents[("web", "shop:cust-42")]["verified"])
        self.assertIsNone(idents[("telegram", "tg:777001")]["verified_by"])
        convs = c["conversations"]
        self.assertEqual([x["id"] for x in convs], ["tgconv0001", second["id"], first["id"]],
                         "every conversation on every channel, newest first: %r" % convs)
        tgc = convs[0]
        self.assertEqual((tgc["channel"], tgc["status"], tgc["team"]), ("telegram", "assigned", "support"))
        self.assertEqual(tgc["assignee"], {"id": other_id, "name": "Oscar Other"})
        self.assertTrue(tgc["last_message"]["text"].startswith("olá, é"), tgc)
        self.assertLessEqual(len(tgc["last_message"]["text"].encode()), 200, "the preview is cut")
        self.assertEqual(tgc["last_message"]["author"], "customer")
        for x in convs[1:]:
            self.assertEqual(x["channel"], "web")
            self.assertIsNone(x["assignee"])
            self.assertIsInstance(x["last_message"]["text"], str)
            for k in ("created_at", "updated_at", "status"):
                self.assertIn(k, x)
        notes = c["notes"]
        self.assertEqual([(n["text"], n["author"]["name"], n["conversation_id"]) for n in notes],
                         [("VIP: answer in Portuguese", "Oscar Other", "tgconv0001"),
                          ("asked about order 1234", "Alice Agent", first["id"])])
        # the agent (team default) sees the web conversation of their team and its note; not Oscar's
        # Telegram conversation of team support, nor the bot's conversation that no team has
        for path in ("/api/v1/agent/contacts/%s" % cid, "/api/v1/agent/contacts/%s" % q(first["id"])):
            st, _, card = self.agent.get(path)
            self.assertEqual(st, 200, "%s -> %s %r" % (path, st, card))
            mine = card["contact"]
            self.assertEqual(mine["id"], cid)
            self.assertEqual([x["id"] for x in mine["conversations"]], [first["id"]])
            self.assertEqual([n["text"] for n in mine["notes"]], ["asked about order 1234"])
            self.assertEqual(len(mine["identities"]), 2)
        for ref in ("tgconv0001", second["id"]):
            st, h, b = self.agent.get("/api/v1/agent/contacts/%s" % q(ref))
            check_error(self, (st, h, b), 404, "the agent reads the card through %s" % ref)
        # another customer's card is another contact
        stranger = s.start_conversation("en")
        st, _, other_card = self.admin.get("/api/v1/agent/contacts/%s" % q(stranger["id"]))
        self.assertEqual(st, 200)
        self.assertNotEqual(other_card["contact"]["id"], cid)
        self.assertEqual(other_card["contact"]["notes"], [])
        for bad in ("999999", "no-such-conversation", "0", "-1"):
            st, h, b = self.agent.get("/api/v1/agent/contacts/%s" % bad)
            check_error(self, (st, h, b), 404, "contact %s" % bad)

    # -- canned responses
    def test_canned_crud_team_filter_and_render(self):
        s = self.server
        base = "/api/v1/admin/canned"
        greet = self.ok(self.admin, "POST", base, {
            "shortcut": "greet", "locale": "en", "title": "Greeting",
            "text": "Hi {{customer.name}}, {{ agent.name }} here about {{conversation.id}}. {{order.id}}?"},
            expect=201)["canned"]
        self.assertEqual((greet["shortcut"], greet["locale"], greet["team"]), ("greet", "en", None))
        pt = self.ok(self.admin, "POST", base, {"shortcut": "greet", "locale": "pt-BR", "title": "Saudação",
                                                "text": "Olá {{customer.name}}!"}, expect=201)["canned"]
        self.ok(self.admin, "PUT", "/api/v1/admin/teams/billing", {"name": "Billing"}, expect=201)
        billing = self.ok(self.admin, "POST", base, {"shortcut": "refund", "locale": "en", "title": "Refunds",
                                                     "text": "Refunds take 5 days.", "team": "billing"},
                          expect=201)["canned"]
        # bad input names the field
        good = {"shortcut": "ok", "locale": "en", "title": "t", "text": "x"}
        for change, field in ((dict(shortcut="Not OK!"), "shortcut"), (dict(shortcut="a" * 41), "shortcut"),
                              (dict(locale="xx-XX"), "locale"), (dict(locale=5), "locale"),
                              (dict(title="t" * 101), "title"), (dict(title=""), "title"),
                              (dict(text="x" * 4001), "text"), (dict(text=None), "text"),
                              (dict(team="Bad Team"), "team"), (dict(team="no-such-team"), "team")):
            self.bad(self.admin, "POST", base, {k: v for k, v in dict(good, **change).items() if v is not None},
                     field + ":")
        # the same shortcut, locale and team twice: conflict
        st, h, b = self.admin.request("POST", base, {"shortcut": "greet", "locale": "en", "title": "x", "text": "y"})
        check_error(self, (st, h, b), 409, "a second /greet in en")
        # replace
        b = self.ok(self.admin, "PUT", "%s/%d" % (base, pt["id"]), {"shortcut": "ola", "locale": "pt-BR",
                                                                    "title": "Saudação", "text": "Olá {{customer.name}}!"})
        self.assertEqual(b["canned"]["shortcut"], "ola")
        self.bad(self.admin, "PUT", "%s/999999" % base, good, None, 404, "not_found")
        self.assertEqual(self.ok(self.admin, "GET", "%s/%d" % (base, greet["id"]))["canned"]["title"], "Greeting")
        # the agent sees global responses of the locale; q matches shortcut, title or text
        ids = [c["id"] for c in self.ok(self.agent, "GET", "/api/v1/agent/canned?locale=en")["canned"]]
        self.assertIn(greet["id"], ids)
        self.assertNotIn(pt["id"], ids, "another locale")
        self.assertNotIn(billing["id"], ids, "another team's response")
        for term in ("gree", "GREETING", "here about"):
            got = self.ok(self.agent, "GET", "/api/v1/agent/canned?locale=en&q=" + q(term))["canned"]
            self.assertEqual([c["id"] for c in got], [greet["id"]], term)
        self.assertEqual(self.ok(self.agent, "GET", "/api/v1/agent/canned?q=zzzz")["canned"], [])
        # rendering: variables filled, the nameless customer greeted in their language, the unknown one kept;
        # for conversations of the agent's team (docs/agents.md, "Who sees what")
        self.ok(self.admin, "PUT", "/api/v1/admin/agents/%d" % int(s.user_ids[AGENT]), {"teams": ["default"]})
        conv = s.start_conversation("en")
        s.send(conv, "hello")
        s.send(conv, "I want to talk to a human")
        r = self.ok(self.agent, "POST", "/api/v1/agent/canned/render", {"canned_id": greet["id"], "conversation_id": conv["id"]})
        self.assertEqual(r["text"], "Hi there, Alice Agent here about %s. {{order.id}}?" % conv["id"])
        self.assertEqual(r["missing"], ["order.id"])
        conv_pt = s.start_conversation("pt-BR")
        s.send(conv_pt, "falar com um atendente")
        r = self.ok(self.agent, "POST", "/api/v1/agent/canned/render", {"canned_id": pt["id"], "conversation_id": conv_pt["id"]})
        self.assertEqual((r["text"], r["missing"]), ("Olá cliente!", []))
        con = self.db()
        try:
            with con:
                con.execute("UPDATE contacts SET name = 'Rui' WHERE id = (SELECT contact_id FROM conversations"
                            " WHERE public_id = ?)", (conv_pt["id"],))
        finally:
            con.close()
        r = self.ok(self.agent, "POST", "/api/v1/agent/canned/render", {"canned_id": pt["id"], "conversation_id": conv_pt["id"]})
        self.assertEqual(r["text"], "Olá Rui!")
        # another team's response: not rendered for this agent, until they join the team
        st, h, b = self.agent.request("POST", "/api/v1/agent/canned/render", {"canned_id": billing["id"], "conversation_id": conv["id"]})
        check_error(self, (st, h, b), 403, "render another team's response")
        self.ok(self.admin, "PUT", "/api/v1/admin/agents/%d" % int(s.user_ids[AGENT]), {"teams": ["billing", "default"]})
        ids = [c["id"] for c in self.ok(self.agent, "GET", "/api/v1/agent/canned?locale=en")["canned"]]
        self.assertIn(billing["id"], ids)
        r = self.ok(self.agent, "POST", "/api/v1/agent/canned/render", {"canned_id": billing["id"], "conversation_id": conv["id"]})
        self.assertEqual(r["text"], "Refunds take 5 days.")
        ids = [c["id"] for c in self.ok(self.other, "GET", "/api/v1/agent/canned?locale=en")["canned"]]
        self.assertNotIn(billing["id"], ids)
        # render errors name the field
        for body, field, status in (({"conversation_id": conv["id"]}, "canned_id", 400),
                                    ({"canned_id": "1", "conversation_id": conv["id"]}, "canned_id", 400),
                                    ({"canned_id": greet["id"]}, "conversation_id", 400),
                                    ({"canned_id": 999999, "conversation_id": conv["id"]}, None, 404),
                                    ({"canned_id": greet["id"], "conversation_id": "nope"}, None, 404)):
            st, h, b = self.agent.request("POST", "/api/v1/agent/canned/render", body)
            check_error(self, (st, h, b), status, "render %r" % body)
            if field:
                self.assertTrue(message_of(b).startswith(field + ":"), b)
        # the team cannot go while its responses exist; delete them, then it
        st, h, b = self.admin.request("DELETE", "/api/v1/admin/teams/billing")
        check_error(self, (st, h, b), 409, "delete a team with canned responses")
        self.ok(self.admin, "DELETE", "%s/%d" % (base, billing["id"]))
        self.bad(self.admin, "DELETE", "%s/%d" % (base, billing["id"]), None, None, 404, "not_found")
        self.ok(self.admin, "PUT", "/api/v1/admin/agents/%d" % int(s.user_ids[AGENT]), {"teams": ["default"]})
        self.ok(self.admin, "DELETE", "/api/v1/admin/teams/billing")
        self.bad(self.admin, "GET", "/api/v1/admin/teams/billing", None, None, 404, "not_found")
        actions = self.audit_actions()
        for a in (("canned.create", str(greet["id"]), ADMIN), ("canned.replace", str(pt["id"]), ADMIN),
                  ("canned.delete", str(billing["id"]), ADMIN), ("team.delete", "billing", ADMIN)):
            self.assertIn(a, actions)

    # -- the answer engine's search for "insert article link"
    def test_kb_search_shape(self):
        b = self.ok(self.agent, "GET", "/api/v1/agent/kb/search?q=%s&locale=en" % q("how do I track my order"))
        self.assertEqual(b["locale"], "en")
        hits = b["hits"]
        self.assertTrue(hits, b)
        top = hits[0]
        for k, t in (("title", str), ("url", str), ("summary", str), ("confidence", float), ("slug", str)):
            self.assertIsInstance(top.get(k), t, top)
        self.assertEqual(top["slug"], "track-order", hits)
        self.assertTrue(top["url"].endswith("/help/en/track-order"), top)
        self.assertTrue(top["url"].startswith("http"), top)
        self.assertTrue(0 < top["confidence"] <= 1, top)
        st, _, page = self.server.get(urllib.parse.urlsplit(top["url"]).path)
        self.assertEqual(st, 200, "the link leads to the help-center article")
        self.assertLessEqual(len(self.ok(self.agent, "GET", "/api/v1/agent/kb/search?q=order&limit=2")["hits"]), 2)
        b = self.ok(self.agent, "GET", "/api/v1/agent/kb/search?q=" + q('"order" OR (NEAR x* ^'))
        self.assertIsInstance(b["hits"], list)
        for path, field in (("/api/v1/agent/kb/search", "q"), ("/api/v1/agent/kb/search?q=%20", "q"),
                            ("/api/v1/agent/kb/search?q=x&locale=english!", "locale"),
                            ("/api/v1/agent/kb/search?q=x&limit=0", "limit")):
            self.bad(self.agent, "GET", path, None, field + ":")

    # -- the supervisor overview
    def test_supervisor_overview_counts(self):
        s = self.server
        agent_id = int(s.user_ids[AGENT])
        self.ok(self.admin, "PUT", "/api/v1/admin/agents/%d" % agent_id,
                {"status": "online", "capacity": 3, "teams": ["default", "support"]})
        convs = []
        for i in range(3):
            conv = s.start_conversation("en")
            b = s.send(conv, "I want to talk to a human")
            self.assertIn(b["status"], ("queued", "assigned"), b)
            convs.append(conv)
        # SLA states as the timers record them: one warned, one breached, one overdue whose
        # breach timer has not run yet; and one conversation assigned to the agent
        now = int(time.time() * 1000)
        con = self.db()
        try:
            with con:
                con.execute("UPDATE conversations SET status = 'queued', offered_to = NULL, assignee = NULL,"
                            " team = 'support', sla_warned = 0, sla_breached = 0, first_response_due = NULL,"
                            " first_response_at = NULL, queued_at = ? WHERE public_id IN (?, ?, ?)",
                            (now - 90000, *[c["id"] for c in convs]))
                con.execute("UPDATE conversations SET sla_warned = 1 WHERE public_id = ?", (convs[0]["id"],))
                con.execute("UPDATE conversations SET sla_warned = 1, sla_breached = 1 WHERE public_id = ?",
                            (convs[1]["id"],))
                con.execute("UPDATE conversations SET status = 'assigned', assignee = ?, first_response_due = ?"
                            " WHERE public_id = ?", (agent_id, now - 1000, convs[2]["id"]))
                before = dict(con.execute("SELECT CASE WHEN sla_breached != 0 OR (first_response_due <= ? AND"
                                          " first_response_at IS NULL) THEN 'breached' WHEN sla_warned != 0 THEN"
                                          " 'warning' ELSE 'ok' END AS s, count(*) FROM conversations"
                                          " WHERE status IN ('queued','assigned') GROUP BY s", (now,)).fetchall())
        finally:
            con.close()
        o = self.ok(self.admin, "GET", "/api/v1/supervisor/overview")
        self.assertEqual(o["sla"], {"ok": before.get("ok", 0), "warning": before.get("warning", 0),
                                    "breached": before.get("breached", 0)})
        self.assertGreaterEqual(o["sla"]["breached"], 2)
        self.assertGreaterEqual(o["sla"]["warning"], 1)
        agents = {a["id"]: a for a in o["agents"]}
        a = agents[agent_id]
        self.assertEqual((a["name"], a["status"], a["capacity"], a["teams"]),
                         ("Alice Agent", "online", 3.0, ["default", "support"]))
        self.assertEqual(a["load"], 1.0, "one web conversation assigned: weight 1")
        self.assertIn(agents[int(s.user_ids[OTHER])]["status"], ("online", "away", "offline"))
        self.assertNotIn(int(s.user_ids[ADMIN]), agents, "only users with the agent role")
        queues = {x["team"]: x for x in o["queues"]}
        self.assertIn("default", queues)
        sup = queues["support"]
        self.assertEqual((sup["name"], sup["waiting"], sup["offered"]), ("Support", 2, 0))
        self.assertGreaterEqual(sup["oldest_wait_s"], 89)
        st, h, b = self.agent.get("/api/v1/supervisor/overview")
        check_error(self, (st, h, b), 403, "an agent asks for the overview")
        con = self.db()
        try:
            with con:
                con.execute("UPDATE conversations SET status = 'resolved' WHERE public_id IN (?, ?, ?)",
                            tuple(c["id"] for c in convs))
        finally:
            con.close()

    def test_admin_sets_agent_offline_and_offers_go_back_to_the_queue(self):
        s = self.server
        me, other = int(s.user_ids[AGENT]), int(s.user_ids[OTHER])
        self.ok(self.admin, "PUT", "/api/v1/admin/agents/%d" % other, {"status": "offline"})
        self.ok(self.admin, "PUT", "/api/v1/admin/agents/%d" % me, {"status": "online", "capacity": 5, "teams": ["default"]})
        conv = s.start_conversation("en")
        self.assertEqual(s.send(conv, "I want to talk to a human")["status"], "queued")

        def offered_to():
            con = self.db()
            try:
                return con.execute("SELECT offered_to FROM conversations WHERE public_id = ?", (conv["id"],)).fetchone()[0]
            finally:
                con.close()
        self.assertEqual(offered_to(), me, "routing offers the hand-off to the one online agent")
        o = self.ok(self.admin, "GET", "/api/v1/supervisor/overview")
        self.assertGreaterEqual({x["team"]: x for x in o["queues"]}["default"]["offered"], 1)
        self.assertGreaterEqual({a["id"]: a for a in o["agents"]}[me]["load"], 1.0, "an offer counts in the load")
        self.ok(self.admin, "PUT", "/api/v1/admin/agents/%d" % me, {"status": "offline"})
        self.assertIsNone(offered_to(), "the offer to an agent set offline goes back to the queue")
        o = self.ok(self.admin, "GET", "/api/v1/supervisor/overview")
        self.assertEqual({a["id"]: a for a in o["agents"]}[me]["status"], "offline")
        self.assertGreaterEqual({x["team"]: x for x in o["queues"]}["default"]["waiting"], 1)
        self.ok(self.admin, "POST", "/api/v1/agent/conversations/%s/return-to-bot" % q(conv["id"]), {})

    # -- teams, profiles, rules, SLA policies
    def test_teams_validation_and_round_trip(self):
        base = "/api/v1/admin/teams"
        team = {"name": "Sales", "timezone": "America/Sao_Paulo", "hours": HOURS, "holidays": ["2026-12-25"],
                "allow_pick": False, "outside_hours": {"pt-br": "Voltamos às 9h."}}
        b = self.ok(self.admin, "PUT", base + "/sales", team, expect=201)["team"]
        self.assertEqual((b["id"], b["timezone"], b["hours"], b["holidays"], b["allow_pick"], b["outside_hours"]),
                         ("sales", "America/Sao_Paulo", HOURS, ["2026-12-25"], False, {"pt-BR": "Voltamos às 9h."}))
        self.ok(self.admin, "PUT", base + "/sales", dict(team, name="Sales team"))
        listed = {t["id"]: t for t in self.ok(self.admin, "GET", base)["teams"]}
        self.assertEqual(listed["sales"]["name"], "Sales team")
        self.assertEqual(listed["support"]["timezone"], "Europe/Lisbon", "made by `team add`")
        self.assertEqual(listed["support"]["hours"], HOURS)
        self.assertIsNone(listed["default"]["hours"], "the default team is always open")
        for body, field in (({"name": "X", "timezone": "Mars/Olympus_Mons"}, "timezone:"),
                            ({"name": "X", "timezone": "../../../etc/passwd"}, "timezone:"),
                            ({"name": "X", "timezone": 3}, "timezone:"),
                            ({"name": "X", "hours": {"mon": [["09:00", "25:00"]]}}, "hours.mon[0]"),
                            ({"name": "X", "hours": {"mon": [["18:00", "09:00"]]}}, "hours.mon[0]"),
                            ({"name": "X", "hours": {"someday": []}}, "hours"),
                            ({"name": "X", "holidays": ["2026-02-30"]}, "holidays"),
                            ({"name": "X", "allow_pick": "no"}, "allow_pick:"),
                            ({"name": ""}, "name:"), ({}, "name:"), ({"name": "X", "colour": "red"}, "colour:"),
                            ({"name": "X", "id": "other"}, "id:")):
            self.bad(self.admin, "PUT", base + "/sales", body, field)
        self.bad(self.admin, "PUT", base + "/Bad%20Id", {"name": "X"}, "id:")
        self.assertEqual(self.ok(self.admin, "GET", base + "/sales")["team"]["name"], "Sales team", "unchanged by bad input")
        st, h, b = self.admin.request("DELETE", base + "/default")
        check_error(self, (st, h, b), 409, "delete the default team")
        self.bad(self.admin, "DELETE", base + "/nope", None, None, 404, "not_found")
        actions = self.audit_actions()
        self.assertIn(("team.create", "sales", ADMIN), actions)
        self.assertIn(("team.replace", "sales", ADMIN), actions)
        self.assertIn(("team.create", "support", "cli"), actions)

    def test_agent_profile_validation(self):
        s = self.server
        uid = int(s.user_ids[OTHER])
        path = "/api/v1/admin/agents/%d" % uid
        p = self.ok(self.admin, "GET", path)["agent"]
        self.assertEqual((p["user_id"], p["email"], p["status"], p["capacity"]), (uid, OTHER, "offline", 4.0))
        p = self.ok(self.admin, "PUT", path, {"capacity": 6, "skills": ["lang:pt-BR", "topic:billing", "lang:pt-BR"],
                                              "teams": ["support"], "status": "away"})["agent"]
        self.assertEqual((p["capacity"], p["skills"], p["teams"], p["status"]),
                         (6.0, ["lang:pt-BR", "topic:billing"], ["support"], "away"))
        p = self.ok(self.admin, "PUT", path, {"capacity": 2})["agent"]
        self.assertEqual((p["capacity"], p["skills"], p["teams"]), (2.0, ["lang:pt-BR", "topic:billing"], ["support"]),
                         "fields not given are kept")
        for body, field in (({"capacity": 0}, "capacity:"), ({"capacity": 51}, "capacity:"),
                            ({"capacity": "5"}, "capacity:"), ({"skills": ["billing"]}, "skills[0]"),
                            ({"skills": ["topic:ok", "lang:pt BR"]}, "skills[1]"),
                            ({"skills": ["topic:t%d" % i for i in range(51)]}, "skills:"),
                            ({"teams": ["no-such-team"]}, "teams[0]"), ({"teams": "support"}, "teams:"),
                            ({"status": "busy"}, "status:"), ({"role": "admin"}, "role:")):
            self.bad(self.admin, "PUT", path, body, field)
        self.assertEqual(self.ok(self.admin, "GET", path)["agent"]["capacity"], 2.0, "unchanged by bad input")
        for who in (int(s.user_ids[ADMIN]), int(s.user_ids["editor@e2e.test"]), 999999):
            self.bad(self.admin, "GET", "/api/v1/admin/agents/%d" % who, None, None, 404, "not_found")
            self.bad(self.admin, "PUT", "/api/v1/admin/agents/%d" % who, {"capacity": 3}, None, 404, "not_found")
        self.assertIn(("agent.update", str(uid), ADMIN), self.audit_actions())

    def test_routing_rules_and_sla_policies(self):
        rules = [{"match": {"channel": "web", "locale": "pt-BR", "topic": "billing", "attrs": {"plan": "pro"}},
                  "team": "support", "priority": 1, "skills": ["lang:pt-BR"]},
                 {"match": {"topic": "refund"}, "team": "default"}]
        got = self.ok(self.admin, "PUT", "/api/v1/admin/routing-rules", {"rules": rules})["rules"]
        self.assertEqual([(r["position"], r["team"], r["priority"], r["match"], r["skills"]) for r in got],
                         [(0, "support", 1, rules[0]["match"], ["lang:pt-BR"]), (1, "default", 0, {"topic": "refund"}, [])])
        self.assertEqual(self.ok(self.admin, "GET", "/api/v1/admin/routing-rules")["rules"], got)
        for body, field in (({"rules": [{"team": "nope"}]}, "rules[0].team"),
                            ({"rules": [rules[0], {"team": "support", "priority": 3}]}, "rules[1].priority"),
                            ({"rules": [{"team": "support", "match": {"country": "PT"}}]}, "rules[0].match.country"),
                            ({"rules": [{"team": "support", "skills": ["x"]}]}, "rules[0].skills[0]"),
                            ({"rules": "all"}, "rules:")):
            self.bad(self.admin, "PUT", "/api/v1/admin/routing-rules", body, field)
        self.assertEqual(len(self.ok(self.admin, "GET", "/api/v1/admin/routing-rules")["rules"]), 2, "kept")
        st, h, b = self.admin.request("DELETE", "/api/v1/admin/teams/support")
        check_error(self, (st, h, b), 409, "delete a team a rule routes to")
        pol = [{"channel": "*", "priority": 0, "first_response_min": 10, "next_response_min": 30, "resolution_min": None},
               {"channel": "email", "priority": 1, "first_response_min": 60, "next_response_min": 120,
                "resolution_min": 2880}]
        got = self.ok(self.admin, "PUT", "/api/v1/admin/sla-policies", {"policies": pol})["policies"]
        self.assertEqual(sorted(got, key=lambda p: p["channel"]), sorted(pol, key=lambda p: p["channel"]))
        for body, field in (({"policies": [dict(pol[0], first_response_min=0)]}, "policies[0].first_response_min"),
                            ({"policies": [pol[0], pol[0]]}, "policies[1]"),
                            ({"policies": [dict(pol[0], priority=7)]}, "policies[0].priority"),
                            ({"policies": [{"channel": "*", "priority": 0}]}, "policies[0].first_response_min")):
            self.bad(self.admin, "PUT", "/api/v1/admin/sla-policies", body, field)
        self.assertEqual(len(self.ok(self.admin, "GET", "/api/v1/admin/sla-policies")["policies"]), 2)
        actions = [a[0] for a in self.audit_actions()]
        self.assertIn("routing_rules.replace", actions)
        self.assertIn("sla_policies.replace", actions)
        self.ok(self.admin, "PUT", "/api/v1/admin/routing-rules", {"rules": []})

    # -- who may call what
    def test_agents_and_editors_cannot_reach_admin_or_supervisor_routes(self):
        s = self.server
        editor = s.login("editor@e2e.test", PW)
        admin_calls = [("GET", "/api/v1/admin/teams"), ("PUT", "/api/v1/admin/teams/x"),
                       ("DELETE", "/api/v1/admin/teams/support"), ("GET", "/api/v1/admin/agents/1"),
                       ("PUT", "/api/v1/admin/agents/1"), ("GET", "/api/v1/admin/routing-rules"),
                       ("PUT", "/api/v1/admin/routing-rules"), ("GET", "/api/v1/admin/sla-policies"),
                       ("PUT", "/api/v1/admin/sla-policies"), ("GET", "/api/v1/admin/canned"),
                       ("POST", "/api/v1/admin/canned"), ("PUT", "/api/v1/admin/canned/1"),
                       ("DELETE", "/api/v1/admin/canned/1"), ("GET", "/api/v1/supervisor/overview")]
        for method, path in admin_calls:
            body = {} if method in ("PUT", "POST") else None
            for who, sess in (("agent", self.agent), ("editor", editor)):
                st, h, b = sess.request(method, path, body)
                check_error(self, (st, h, b), 403, "%s %s %s" % (who, method, path))
                self.assertEqual(code_of(b), "forbidden", b)
            st, h, b = s.request(method, path, body)
            check_error(self, (st, h, b), 401, "anonymous %s %s" % (method, path))
        for method, path in (("GET", "/api/v1/agent/contacts/1"), ("GET", "/api/v1/agent/canned"),
                             ("POST", "/api/v1/agent/canned/render"), ("GET", "/api/v1/agent/kb/search?q=x")):
            st, h, b = editor.request(method, path, {} if method == "POST" else None)
            check_error(self, (st, h, b), 403, "editor %s %s" % (method, path))
            st, h, b = s.request(method, path, {} if method == "POST" else None)
            check_error(self, (st, h, b), 401, "anonymous %s %s" % (method, path))
        # a supervisor sees the overview and every team's canned responses, but is no admin
        sup = s.login("sup@e2e.test", PW)
        o = self.ok(sup, "GET", "/api/v1/supervisor/overview")
        for k in ("agents", "queues", "sla"):
            self.assertIn(k, o)
        self.ok(self.admin, "PUT", "/api/v1/admin/teams/vip", {"name": "VIP"}, expect=201)
        vip = self.ok(self.admin, "POST", "/api/v1/admin/canned", {"shortcut": "vip", "locale": "en", "title": "VIP",
                                                                   "text": "Hello VIP", "team": "vip"}, expect=201)["canned"]
        self.assertIn(vip["id"], [c["id"] for c in self.ok(sup, "GET", "/api/v1/agent/canned?q=vip")["canned"]])
        self.assertNotIn(vip["id"], [c["id"] for c in self.ok(self.agent, "GET", "/api/v1/agent/canned?q=vip")["canned"]])
        self.ok(self.admin, "DELETE", "/api/v1/admin/canned/%d" % vip["id"])
        self.ok(self.admin, "DELETE", "/api/v1/admin/teams/vip")
        for method, path in (("GET", "/api/v1/admin/teams"), ("PUT", "/api/v1/admin/routing-rules")):
            st, h, b = sup.request(method, path, {} if method == "PUT" else None)
            check_error(self, (st, h, b), 403, "supervisor %s %s" % (method, path))
        # nothing was changed by the refused calls
        self.assertNotIn("x", [t["id"] for t in self.ok(self.admin, "GET", "/api/v1/admin/teams")["teams"]])

    # -- the operators' CLI
    def test_cli_agent_set_and_team_list(self):
        s = self.server
        rc, out, err = s.cli("agent", "set", OTHER, "--team", "support", "--team", "default", "--capacity", "7",
                             "--skills", "lang:en,topic:returns", "--status", "online", "--data", s.data)
        self.assertEqual(rc, 0, err)
        p = json.loads(out)
        self.assertEqual((p["capacity"], p["skills"], p["teams"], p["status"]),
                         (7.0, ["lang:en", "topic:returns"], ["default", "support"], "online"))
        p = self.ok(self.admin, "GET", "/api/v1/admin/agents/%d" % int(s.user_ids[OTHER]))["agent"]
        self.assertEqual(p["capacity"], 7.0)
        for args, needle in ((("--capacity", "0"), "capacity:"), (("--skills", "billing"), "skills[0]"),
                             (("--team", "nope"), "teams[0]"), (("--status", "busy"), "status:")):
            rc, out, err = s.cli("agent", "set", OTHER, *args, "--data", s.data)
            self.assertEqual(rc, 1, (args, out, err))
            self.assertIn(needle, err, args)
        rc, out, err = s.cli("agent", "set", "editor@e2e.test", "--capacity", "3", "--data", s.data)
        self.assertEqual(rc, 1, err)
        self.assertIn("agent role", err)
        rc, out, err = s.cli("team", "add", "night", "--name", "Night", "--timezone", "Nowhere/Atlantis",
                             "--data", s.data)
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("timezone:", err)
        bad = os.path.join(s.data, "bad-hours.json")
        with open(bad, "w") as f:
            json.dump({"mon": [["9", "17"]]}, f)
        rc, out, err = s.cli("team", "add", "night", "--name", "Night", "--hours", bad, "--data", s.data)
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("hours.mon[0]", err)
        rc, out, err = s.cli("team", "add", "support", "--name", "Again", "--data", s.data)
        self.assertEqual(rc, 1, (out, err))
        rc, out, err = s.cli("team", "list", "--data", s.data)
        self.assertEqual(rc, 0, err)
        teams = {t["id"]: t for t in json.loads(out)}
        self.assertNotIn("night", teams)
        self.assertEqual(teams["support"]["timezone"], "Europe/Lisbon")
        self.assertIn(int(s.user_ids[OTHER]), [m["id"] for m in teams["support"]["members"]])
        rc, out, err = s.cli("team", "frobnicate", "--data", s.data)
        self.assertEqual(rc, 2)
        self.assertIn(("agent.update", OTHER, "cli"), self.audit_actions())


if __name__ == "__main__":
    harness.main()

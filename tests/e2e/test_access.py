#!/usr/bin/env python3
"""Access control, table-driven from `switchboard routes`: every non-public route refuses anonymous
callers with 401, and every route class (agent, editor, admin, user) is checked against every kind
of principal (cookie sessions of agent / editor / admin / agent+editor users, and API tokens scoped
to each role): allowed -> anything but 401/403 (and no 5xx), not allowed -> 403 forbidden.
Also: customers cannot reach each other's conversations, revoked tokens stop working, editors'
article saves reach the bot, and the audit log records who did what from where."""

import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agents_common  # noqa: E402
import harness  # noqa: E402
from harness import check_error  # noqa: E402

PW = "correct horse battery"
ACCESS = ("public", "visitor", "user", "agent", "editor", "admin", "supervisor")
STAFF_CLASSES = ("user", "agent", "editor", "admin", "supervisor")

# Routes the contract names (method, pattern, access); the table may have more.
EXPECTED_ROUTES = [
    ("POST", "/api/v1/conversations", "public"),
    ("POST", "/api/v1/conversations/{}/messages", "visitor"),
    ("GET", "/api/v1/conversations/{}/messages", "visitor"),
    ("GET", "/api/v1/conversations/{}/events", "visitor"),
    ("POST", "/api/v1/auth/login", "public"),
    ("POST", "/api/v1/auth/logout", "user"),
    ("GET", "/api/v1/auth/me", "user"),
    ("POST", "/api/v1/auth/password", "user"),
    ("GET", "/api/v1/agent/conversations", "agent"),
    ("GET", "/api/v1/agent/conversations/{}", "agent"),
    ("GET", "/api/v1/agent/conversations/{}/templates", "agent"),
    ("GET", "/api/v1/agent/conversations/{}/attachments/{}", "agent"),
    ("GET", "/api/v1/kb/articles", "editor"),
    ("PUT", "/api/v1/kb/articles/{}/{}", "editor"),
    ("GET", "/api/v1/admin/users", "admin"),
    ("POST", "/api/v1/admin/users", "admin"),
    ("POST", "/api/v1/admin/users/{}/disable", "admin"),
    ("POST", "/api/v1/admin/users/{}/enable", "admin"),
    ("POST", "/api/v1/admin/users/{}/password", "admin"),
    ("GET", "/api/v1/admin/tokens", "admin"),
    ("POST", "/api/v1/admin/tokens", "admin"),
    ("DELETE", "/api/v1/admin/tokens/{}", "admin"),
    ("GET", "/api/v1/admin/audit", "admin"),
    ("GET", "/api/v1/admin/channels", "admin"),
]

USERS = [
    {"email": "admin@e2e.test", "password": PW, "roles": ["admin"], "name": "Ada Admin"},
    {"email": "agent@e2e.test", "password": PW, "roles": ["agent"]},
    {"email": "editor@e2e.test", "password": PW, "roles": ["editor"]},
    {"email": "both@e2e.test", "password": PW, "roles": ["agent", "editor"]},
    {"email": "victim@e2e.test", "password": PW, "roles": ["agent"]},
]

ARTICLE = {
    "title": "Can you gift wrap my order?",
    "summary": "Yes: tick Gift wrap at checkout and we wrap every item in recycled zebrafoil paper for 3 euros.",
    "body": "## Gift wrap\n\nTick **Gift wrap** at checkout. We use recycled zebrafoil paper.",
    "status": "published",
    "examples": ["can you gift wrap my order", "do you offer gift wrapping", "zebrafoil wrapping paper",
                 "wrap my present please"],
    "tags": ["gifts", "wrapping"],
    "category": "orders",
}


def q(x):
    return urllib.parse.quote(str(x), safe="")


def load_routes():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    p = subprocess.run([harness.BIN, "routes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, cwd=harness.SRC, env=env, timeout=30)
    if p.returncode != 0:
        raise AssertionError("`switchboard routes` exited %s: %s" % (p.returncode, p.stderr.decode()))
    try:
        routes = json.loads(p.stdout.decode("utf-8"))
    except ValueError as e:
        raise AssertionError("`switchboard routes` printed no JSON (%s): %r" % (e, p.stdout[:300]))
    if not isinstance(routes, list) or not routes:
        raise AssertionError("`switchboard routes`: expected a non-empty JSON array, got %r" % (routes,))
    return routes


def error_code(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None


class AccessTests(harness.ServerTestCase):
    server_users = USERS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.routes = load_routes()
        cls.admin = s.login("admin@e2e.test", PW)
        cls.tokens = {role: s.create_token(cls.admin, "matrix-" + role, role) for role in ("agent", "editor", "admin")}
        cls.victim_token = s.create_token(cls.admin, "victim-token", "agent")
        cls.conv_a = s.start_conversation("en")
        s.send(cls.conv_a, "how can I track my order?")
        cls.conv_b = s.start_conversation("en")
        s.send(cls.conv_b, "hello from customer B")

    # -- helpers
    def fill(self, pattern):
        """The route pattern with plausible ids for its {} segments."""
        s = self.server
        subs = [
            ("/help/{}/{}", ["en", "track-order"]),
            ("/api/v1/conversations/{}", [self.conv_a["id"]]),
            ("/api/v1/agent/conversations/{}", [self.conv_a["id"]]),
            ("/api/v1/kb/articles/{}/{}", ["en", "track-order"]),
            ("/api/v1/admin/users/{}", [s.user_ids["victim@e2e.test"]]),
            ("/api/v1/admin/tokens/{}", [self.victim_token["id"]]),
        ]
        values = ["1"] * pattern.count("{}")
        for prefix, vals in subs:
            if pattern.startswith(prefix):
                values = vals + ["1"] * (pattern.count("{}") - len(vals))
                break
        out = pattern
        for v in values:
            out = out.replace("{}", q(v), 1)
        return out

    def body_for(self, method):
        return {} if method in ("POST", "PUT", "PATCH") else None

    def principals(self):
        """name -> (kind, credential, roles); fresh sessions so a logout in the matrix is harmless."""
        s = self.server
        out = {}
        for email, name in (("agent@e2e.test", "agent-user"), ("editor@e2e.test", "editor-user"),
                            ("admin@e2e.test", "admin-user"), ("both@e2e.test", "agent+editor-user")):
            roles = {u["email"]: set(u["roles"]) for u in USERS}[email]
            out[name] = ("cookie", s.login(email, PW), roles)
        for role, tok in self.tokens.items():
            out["%s-token" % role] = ("token", tok["token"], {role})
        return out

    def call(self, principal, method, path, body=None):
        kind, cred, _ = principal
        if kind == "cookie":
            return cred.request(method, path, body)
        return self.server.request(method, path, body, token=cred)

    # -- the route table
    def test_route_table(self):
        for r in self.routes:
            self.assertIsInstance(r, dict, r)
            self.assertIn(r.get("method"), ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"), r)
            self.assertTrue(str(r.get("pattern", "")).startswith("/"), r)
            self.assertIn(r.get("access"), ACCESS, r)
        table = {(r["method"], r["pattern"]): r["access"] for r in self.routes}
        self.assertEqual(len(table), len(self.routes), "duplicate routes in the table")
        for method, pattern, access in EXPECTED_ROUTES:
            self.assertIn((method, pattern), table, "route %s %s missing from `switchboard routes`" % (method, pattern))
            self.assertEqual(table[(method, pattern)], access, "%s %s" % (method, pattern))
        for (method, pattern), access in table.items():
            if pattern.startswith("/api/v1/admin/"):
                self.assertEqual(access, "admin", "%s %s is under /api/v1/admin/ but %s" % (method, pattern, access))

    # -- anonymous callers
    def test_anonymous(self):
        s = self.server
        failures = []
        for r in self.routes:
            method, pattern, access = r["method"], r["pattern"], r["access"]
            path = self.fill(pattern)
            body = self.body_for(method)
            if access == "public":
                if pattern == "/api/v1/auth/login":
                    body = {"email": "agent@e2e.test", "password": PW}
                st, _, b = s.request(method, path, body)
                if st in (401, 403) or st >= 500:
                    failures.append("public %s %s -> %s %r" % (method, path, st, b))
                continue
            for label, headers in (("no credentials", {}),
                                   ("unknown cookie", {"Cookie": "sb_session=" + "0" * 64}),
                                   ("unknown staff token", {"Authorization": "Bearer sbt_" + "0" * 43})):
                if access == "visitor" and label == "unknown staff token":
                    want = (401, 403)  # a wrong conversation token may be 403
                else:
                    want = (401,)
                st, _, b = s.request(method, path, body, headers=headers)
                codes = ("unauthorized",) if st == 401 else ("forbidden", "unauthorized")
                if st not in want or error_code(b) not in codes:
                    failures.append("%s %s %s (%s) -> %s %r, expected %s"
                                    % (access, method, path, label, st, b, "/".join(map(str, want))))
        self.assertEqual(failures, [], "\n".join(failures))

    # -- the role matrix
    def test_role_matrix(self):
        principals = self.principals()
        staff = [r for r in self.routes if r["access"] in STAFF_CLASSES]
        # logout last: it ends the cookie session the later calls would use
        staff.sort(key=lambda r: r["pattern"] == "/api/v1/auth/logout")
        failures = []
        checked = 0
        for pname, p in principals.items():
            kind, _, roles = p
            for r in staff:
                method, pattern, access = r["method"], r["pattern"], r["access"]
                if "admin" in roles:
                    allowed = True
                elif access == "user":
                    allowed = True if kind == "cookie" else None
                else:
                    allowed = access in roles
                if kind == "token" and access == "user" and pattern != "/api/v1/auth/me":
                    continue  # logout / own password: only meaningful for a signed-in person
                if allowed is None and pattern != "/api/v1/auth/me":
                    continue
                if kind == "token" and pattern == "/api/v1/auth/me":
                    allowed = True  # the contract: /auth/me answers cookie or Bearer
                if allowed and pattern == "/api/v1/agent/events":
                    continue  # an endless stream: test_agents_routing.py reads it
                path = self.fill(pattern)
                st, _, b = self.call(p, method, path, self.body_for(method))
                checked += 1
                if allowed and st == 403 and error_code(b) == "not_yours":
                    pass  # the role may; this conversation is someone else's (docs/agents.md)
                elif allowed and (st in (401, 403) or st >= 500):
                    failures.append("%s may call %s %s (%s) but got %s %r" % (pname, method, path, access, st, b))
                elif not allowed and (st != 403 or error_code(b) != "forbidden"):
                    failures.append("%s must not call %s %s (%s) but got %s %r, expected 403 forbidden"
                                    % (pname, method, path, access, st, b))
        self.assertGreater(checked, 50)
        self.assertEqual(failures, [], "\n".join(failures))

    def test_agent_cannot_save_article(self):
        s = self.server
        agent = s.login("agent@e2e.test", PW)
        path = "/api/v1/kb/articles/en/agent-was-here"
        st, _, b = agent.request("PUT", path, dict(ARTICLE, title="Agent article"))
        check_error(self, (st, {}, b), 403, "PUT %s as an agent" % path)
        self.assertEqual(error_code(b), "forbidden", b)
        st, _, b = s.request("PUT", path, dict(ARTICLE, title="Agent article"), token=self.tokens["agent"]["token"])
        check_error(self, (st, {}, b), 403, "PUT %s with an agent token" % path)
        st, _, b = agent.get("/api/v1/kb/articles?locale=en")
        check_error(self, (st, {}, b), 403, "GET /api/v1/kb/articles as an agent")
        editor = s.login("editor@e2e.test", PW)
        st, _, b = editor.get("/api/v1/kb/articles?locale=en")
        self.assertEqual(st, 200, b)
        self.assertNotIn("agent-was-here", [a["slug"] for a in b["articles"]], "the agent's article was saved")
        st, _, b = s.get("/help/en/agent-was-here")
        self.assertEqual(st, 404, "the agent's article has a help page: %s" % st)

    def test_editor_saves_article_and_bot_answers(self):
        s = self.server
        editor = s.login("editor@e2e.test", PW)
        path = "/api/v1/kb/articles/en/gift-wrap"
        st, _, b = editor.request("PUT", path, ARTICLE)
        self.assertEqual(st, 201, "PUT %s -> %s %r" % (path, st, b))
        self.assertEqual(b.get("change"), "added", b)
        rev = b["article"]["revision"]
        st, _, b = editor.request("PUT", path, ARTICLE)
        self.assertEqual((st, error_code(b)), (409, "conflict"), "an update without the revision: %r" % b)
        st, _, b = editor.request("PUT", path, dict(ARTICLE, revision=rev))
        self.assertEqual((st, b.get("change")), (200, "unchanged"), b)
        st, _, b = editor.get("/api/v1/kb/articles?locale=en")
        self.assertEqual(st, 200, b)
        arts = {a["slug"]: a for a in b["articles"]}
        self.assertIn("gift-wrap", arts, b)
        self.assertIn("track-order", arts, b)
        for k in ("slug", "locale", "title", "status", "updated_at"):
            self.assertIn(k, arts["gift-wrap"], arts["gift-wrap"])
        self.assertEqual(arts["gift-wrap"]["title"], ARTICLE["title"])
        self.assertEqual(arts["gift-wrap"]["status"], "published")
        conv = s.start_conversation("en")
        body = s.send(conv, "do you offer gift wrapping with zebrafoil paper?")
        urls = [l["url"] for r in body["replies"] for l in r["links"]]
        self.assertTrue(any(u.endswith("/help/en/gift-wrap") for u in urls),
                        "the bot does not answer from the saved article: %r" % body)
        st, _, page = s.get("/help/en/gift-wrap")
        self.assertEqual(st, 200)
        self.assertIn("gift wrap", page.lower())
        # a change by an editor-scoped token
        st, _, b = s.request("PUT", path, dict(ARTICLE, title="Gift wrapping (zebrafoil)", revision=rev),
                             token=self.tokens["editor"]["token"])
        self.assertEqual((st, b.get("change")), (200, "changed"), b)

    def test_agent_conversations(self):
        s = self.server
        queued = s.start_conversation("en")
        body = s.send(queued, "I want to talk to a human")
        self.assertEqual(body["status"], "queued", body)
        # an agent sees their teams' conversations (docs/agents.md, "Who sees what")
        st, _, b = self.admin.request("PUT", "/api/v1/admin/agents/%s" % q(s.user_ids["agent@e2e.test"]),
                                      {"teams": ["default"]})
        self.assertEqual(st, 200, b)
        # an agent-scoped token is nobody's: no team, nothing handled, so it sees no conversation
        tok = self.tokens["agent"]["token"]
        st, _, b = s.request("GET", "/api/v1/agent/conversations?status=queued", token=tok)
        self.assertEqual((st, b), (200, {"conversations": []}), "an agent token lists conversations")
        st, _, b = s.request("GET", "/api/v1/agent/conversations/%s" % q(queued["id"]), token=tok)
        self.assertEqual((st, error_code(b)), (404, "not_found"), "an agent token reads a conversation")
        for label, call in (("agent user", s.login("agent@e2e.test", PW).get),
                            ("admin token", lambda p: s.request("GET", p, token=self.tokens["admin"]["token"]))):
            st, _, b = call("/api/v1/agent/conversations?status=queued")
            self.assertEqual(st, 200, "%s: %s %r" % (label, st, b))
            ids = [c["id"] for c in b["conversations"]]
            self.assertIn(queued["id"], ids, b)
            self.assertNotIn(self.conv_a["id"], ids, "a bot conversation in the queued list")
            c = next(c for c in b["conversations"] if c["id"] == queued["id"])
            for k in ("id", "status", "locale", "channel", "created_at", "updated_at"):
                self.assertIn(k, c, c)
            self.assertEqual(c["status"], "queued")
            st, _, b = call("/api/v1/agent/conversations/%s" % q(queued["id"]))
            self.assertEqual(st, 200, "%s: %s %r" % (label, st, b))
            self.assertEqual((b["id"], b["status"], b["locale"]), (queued["id"], "queued", "en"))
            self.assertIn("I want to talk to a human", [m.get("text") for m in b["messages"]])
        for label, call in (("editor user", s.login("editor@e2e.test", PW).get),
                            ("editor token", lambda p: s.request("GET", p, token=self.tokens["editor"]["token"]))):
            for p in ("/api/v1/agent/conversations?status=queued", "/api/v1/agent/conversations/%s" % q(queued["id"])):
                st, _, b = call(p)
                check_error(self, (st, {}, b), 403, "%s GET %s" % (label, p))
                self.assertEqual(error_code(b), "forbidden", b)

    def test_only_admin_reaches_admin(self):
        s = self.server
        admin_routes = [r for r in self.routes if r["pattern"].startswith("/api/v1/admin/")]
        self.assertGreaterEqual(len(admin_routes), 9, admin_routes)
        callers = {"agent": s.login("agent@e2e.test", PW), "editor": s.login("editor@e2e.test", PW),
                   "agent+editor": s.login("both@e2e.test", PW)}
        for r in admin_routes:
            path = self.fill(r["pattern"])
            for name, sess in callers.items():
                st, _, b = sess.request(r["method"], path, self.body_for(r["method"]))
                self.assertEqual((st, error_code(b)), (403, "forbidden"), "%s %s %s -> %s %r" % (name, r["method"], path, st, b))
            for role in ("agent", "editor"):
                st, _, b = s.request(r["method"], path, self.body_for(r["method"]), token=self.tokens[role]["token"])
                self.assertEqual((st, error_code(b)), (403, "forbidden"), "%s token %s %s -> %s %r" % (role, r["method"], path, st, b))
        st, _, b = self.admin.get("/api/v1/admin/users")
        self.assertEqual(st, 200, b)
        st, _, b = s.request("GET", "/api/v1/admin/users", token=self.tokens["admin"]["token"])
        self.assertEqual(st, 200, b)

    def test_customer_isolation(self):
        s = self.server
        a, bconv = self.conv_a, self.conv_b
        before = len(s.transcript(a)["messages"])
        path = s.conv_path(a, "/messages")
        st, _, b = s.request("GET", path, token=bconv["token"])
        check_error(self, (st, {}, b), (403, 404), "GET %s with customer B's token" % path)
        st, _, b = s.request("POST", path, {"text": "B writing into A"}, token=bconv["token"])
        check_error(self, (st, {}, b), (403, 404), "POST %s with customer B's token" % path)
        c = s.sse(a, token=bconv["token"])
        try:
            self.assertIn(c.status, (403, 404), "GET %s with customer B's token -> %s" % (c.path, c.status))
        finally:
            c.close()
        # staff cookies (even an admin's) do not open customer routes
        admin = s.login("admin@e2e.test", PW)
        st, _, b = admin.get(path)
        self.assertIn(st, (401, 403), "GET %s with an admin cookie -> %s %r" % (path, st, b))
        st, _, b = admin.request("POST", path, {"text": "admin writing as the customer"})
        self.assertIn(st, (401, 403), "POST %s with an admin cookie -> %s %r" % (path, st, b))
        c = harness.SSEClient(s.port, timeout=3)
        try:
            c.open(s.conv_path(a, "/events"), admin.headers())
            self.assertIn(c.status, (401, 403), "GET events with an admin cookie -> %s" % c.status)
        finally:
            c.close()
        tr = s.transcript(a)
        self.assertEqual(len(tr["messages"]), before, "a refused message was stored: %r" % tr["messages"][before:])
        texts = [m["text"] for m in tr["messages"]]
        self.assertNotIn("B writing into A", texts)
        # and B's own conversation is fine
        self.assertEqual(s.transcript(bconv)["id"], bconv["id"])

    def test_revoked_token(self):
        s = self.server
        tok = s.create_token(self.admin, "to-revoke", "agent")
        for k in ("id", "name", "role", "token"):
            self.assertIn(k, tok, tok)
        self.assertEqual((tok["name"], tok["role"]), ("to-revoke", "agent"))
        st, _, b = s.request("GET", "/api/v1/agent/conversations", token=tok["token"])
        self.assertEqual(st, 200, b)
        st, _, b = self.admin.get("/api/v1/admin/tokens")
        self.assertEqual(st, 200, b)
        self.assertNotIn(tok["token"], json.dumps(b), "the token list shows the secret")
        listed = {str(t["id"]): t for t in b["tokens"]}
        t = listed.get(str(tok["id"]))
        self.assertIsNotNone(t, "new token not listed: %r" % b)
        for k in ("id", "name", "role", "created_at", "revoked"):
            self.assertIn(k, t, t)
        self.assertFalse(t["revoked"], t)
        st, _, b = self.admin.request("DELETE", "/api/v1/admin/tokens/%s" % q(tok["id"]))
        self.assertEqual(st, 200, "DELETE token -> %s %r" % (st, b))
        for p in ("/api/v1/agent/conversations", "/api/v1/auth/me"):
            st, _, b = s.request("GET", p, token=tok["token"])
            check_error(self, (st, {}, b), 401, "GET %s with a revoked token" % p)
            self.assertEqual(error_code(b), "unauthorized", b)
        st, _, b = self.admin.get("/api/v1/admin/tokens")
        t = {str(t["id"]): t for t in b["tokens"]}.get(str(tok["id"]))
        self.assertTrue(t and t["revoked"], "revoked token listed as %r" % t)
        # a scope that is not a role is refused
        st, _, b = self.admin.request("POST", "/api/v1/admin/tokens", {"name": "bad", "role": "superuser"})
        self.assertTrue(400 <= st < 500, "token with role superuser -> %s %r" % (st, b))

    def test_audit_log(self):
        s = self.server
        admin = s.login("admin@e2e.test", PW)
        s.login("admin@e2e.test", "definitely wrong", expect=None)
        st, _, b = admin.request("POST", "/api/v1/admin/users",
                                 {"email": "audited@e2e.test", "name": "Audited", "password": "audited pw 1",
                                  "roles": ["agent"], "locale": "en"})
        self.assertEqual(st, 201, b)
        uid = b["user"]["id"]
        for action in ("disable", "enable"):
            st, _, b = admin.request("POST", "/api/v1/admin/users/%s/%s" % (q(uid), action), {})
            self.assertEqual(st, 200, "%s -> %s %r" % (action, st, b))
        st, _, b = admin.request("POST", "/api/v1/admin/users/%s/password" % q(uid), {"password": "audited pw 2"})
        self.assertEqual(st, 200, b)
        tok = s.create_token(admin, "audit-token", "admin")
        st, _, b = admin.request("DELETE", "/api/v1/admin/tokens/%s" % q(tok["id"]))
        self.assertEqual(st, 200, b)
        tok2 = s.create_token(self.tokens["admin"]["token"], "made-by-token", "agent")
        editor = s.login("editor@e2e.test", PW)
        st, _, b = editor.request("PUT", "/api/v1/kb/articles/en/audit-article",
                                  dict(ARTICLE, title="Audit article", examples=["audit me"]))
        self.assertEqual(st, 201, b)

        st, _, b = admin.get("/api/v1/admin/audit?limit=200")
        self.assertEqual(st, 200, b)
        entries = b.get("entries")
        self.assertIsInstance(entries, list, b)
        for e in entries:
            for k in ("id", "at", "actor", "action", "target", "ip", "detail"):
                self.assertIn(k, e, e)
        # newest first
        ats = [e["at"] for e in entries]
        self.assertEqual(ats, sorted(ats, reverse=True), "not newest first: %s" % [(e["id"], e["at"]) for e in entries])
        if all(isinstance(e["id"], int) for e in entries):
            self.assertEqual([e["id"] for e in entries], sorted((e["id"] for e in entries), reverse=True))

        def find(action, actor, target=None):
            for e in entries:
                if e["action"] == action and e["actor"] == actor and \
                        (target is None or str(target) in str(e["target"])):
                    return e
            self.fail("no audit entry %s by %s%s in %s" % (action, actor, " on %s" % target if target else "",
                                                            [(e["action"], e["actor"], e["target"]) for e in entries]))

        want = [("auth.login", "admin@e2e.test", None),
                ("user.add", "admin@e2e.test", None),
                ("user.disable", "admin@e2e.test", None),
                ("user.enable", "admin@e2e.test", None),
                ("user.password", "admin@e2e.test", None),
                ("token.create", "admin@e2e.test", None),
                ("token.revoke", "admin@e2e.test", None),
                ("token.create", "token:matrix-admin", None),
                ("kb.article.save", "editor@e2e.test", "audit-article")]
        for action, actor, target in want:
            e = find(action, actor, target)
            self.assertEqual(e["ip"], "127.0.0.1", "audit ip of %r" % e)
        for action in ("user.disable", "user.enable", "user.password"):
            e = find(action, "admin@e2e.test")
            self.assertTrue(str(uid) in str(e["target"]) or "audited@e2e.test" in str(e["target"]),
                            "target of %r does not name the user" % e)
        failed = [e for e in entries if e["action"] == "auth.login_failed"
                  and "admin@e2e.test" in json.dumps([e["actor"], e["target"], e["detail"]])]
        self.assertTrue(failed, "no auth.login_failed entry for admin@e2e.test")
        self.assertEqual(failed[0]["ip"], "127.0.0.1", failed[0])
        # the audit never holds secrets
        text = json.dumps(entries)
        for secret in ("audited pw 1", "audited pw 2", "definitely wrong", tok["token"], tok2["token"], PW):
            self.assertNotIn(secret, text, "the audit log contains a secret")
        # limit
        st, _, b = admin.get("/api/v1/admin/audit?limit=2")
        self.assertEqual(st, 200, b)
        self.assertEqual([e["id"] for e in b["entries"]], [e["id"] for e in entries[:2]])
        # nobody else reads it
        for email in ("agent@e2e.test", "editor@e2e.test", "both@e2e.test"):
            st, _, b = s.login(email, PW).get("/api/v1/admin/audit")
            self.assertEqual((st, error_code(b)), (403, "forbidden"), "%s: %s %r" % (email, st, b))
        for role in ("agent", "editor"):
            st, _, b = s.request("GET", "/api/v1/admin/audit", token=self.tokens[role]["token"])
            self.assertEqual((st, error_code(b)), (403, "forbidden"), "%s token: %s %r" % (role, st, b))
        st, _, b = s.request("GET", "/api/v1/admin/audit")
        self.assertEqual(st, 401, b)


class AgentReachTests(harness.ServerTestCase):
    """Regression (issue 14): an agent of team t1 listed the conversations of every team, read t2's
    transcripts and walked contacts by sequential id. Now an agent sees their teams' conversations
    and those they handled; supervisors see all; what an agent may not see is 404 on every route
    (not 403: its existence is not theirs to know); contact ids are random."""

    @classmethod
    def setUpClass(cls):
        agents = [{"email": e, "teams": t, "status": "offline", "roles": r} for e, t, r in (
            ("a1@e2e.test", ["t1"], ("agent",)), ("a1b@e2e.test", ["t1"], ("agent",)),
            ("a2@e2e.test", ["t2"], ("agent",)), ("sup@e2e.test", [], ("supervisor",)),
            ("admin@e2e.test", [], ("admin",)))]
        cls.server = agents_common.clock_server(
            agents, teams=[{"id": "t1"}, {"id": "t2"}],
            rules=[(1, {"locale": "pt"}, "t2", 0, []), (2, {"locale": "en"}, "t1", 0, [])])
        cls.server.start_for_class()
        s, pw = cls.server, agents_common.PASSWORD
        cls.a1, cls.a1b = s.login("a1@e2e.test", pw), s.login("a1b@e2e.test", pw)
        cls.a2, cls.sup = s.login("a2@e2e.test", pw), s.login("sup@e2e.test", pw)
        cls.admin = s.login("admin@e2e.test", pw)
        cls.routes = load_routes()
        cls.t1 = agents_common.ask_human(s, "en")
        cls.t2 = agents_common.ask_human(s, "pt-BR")
        cls.bot = s.start_conversation("en")
        s.send(cls.bot, "hello there")
        # handled before: t2's conversation offered to a1 by the supervisor, accepted, sent back to t2
        cls.handled = agents_common.ask_human(s, "pt-BR")
        base = "/api/v1/agent/conversations/%s" % q(cls.handled["id"])
        for sess, path, body in ((cls.sup, "/transfer", {"agent_id": int(s.user_ids["a1@e2e.test"])}),
                                 (cls.a1, "/accept", {}), (cls.a1, "/transfer", {"team": "t2"})):
            st, _, b = sess.request("POST", base + path, body)
            assert st == 200, (path, st, b)

    def test_transfer_to_an_agent_names_the_agent(self):
        """Regression: conversation/transferred packed a json_t pointer as the integer to_agent
        (and leaked it), found by this file under ASan."""
        import sqlite3
        db = sqlite3.connect(os.path.join(self.server.data, "switchboard.db"), timeout=10)
        try:
            rows = db.execute("SELECT json_extract(e.data, '$.to_agent') FROM events e JOIN conversations c"
                              " ON c.id = e.conversation_id WHERE c.public_id = ? AND"
                              " e.type = 'conversation/transferred' ORDER BY e.id",
                              (self.handled["id"],)).fetchall()
        finally:
            db.close()
        self.assertEqual([r[0] for r in rows], [int(self.server.user_ids["a1@e2e.test"]), None])

    def listed(self, sess, query=""):
        st, _, b = sess.get("/api/v1/agent/conversations" + query)
        self.assertEqual(st, 200, b)
        return {c["id"] for c in b["conversations"]}

    def test_lists_hold_only_visible_conversations(self):
        ids = {k: getattr(self, k)["id"] for k in ("t1", "t2", "bot", "handled")}
        self.assertEqual(self.listed(self.a1) & set(ids.values()), {ids["t1"], ids["handled"]})
        self.assertEqual(self.listed(self.a1, "?status=queued") & set(ids.values()), {ids["t1"], ids["handled"]})
        self.assertEqual(self.listed(self.a1b) & set(ids.values()), {ids["t1"]})
        self.assertEqual(self.listed(self.a2) & set(ids.values()), {ids["t2"], ids["handled"]})
        self.assertEqual(self.listed(self.sup) & set(ids.values()), set(ids.values()))
        self.assertEqual(self.listed(self.admin) & set(ids.values()), set(ids.values()))
        st, _, b = self.a1.get("/api/v1/agent/queue")
        self.assertEqual(st, 200, b)
        self.assertNotIn(ids["t2"], [c["id"] for c in b["queue"]])

    def test_every_conversation_route_answers_404_to_another_team(self):
        routes = [r for r in self.routes if r["pattern"].startswith("/api/v1/agent/conversations/{}")]
        self.assertGreaterEqual(len(routes), 11, routes)
        for label, sess, conv, visible in (("a1 on t2's", self.a1, self.t2, False),
                                           ("a1b on one t1 handed to t2", self.a1b, self.handled, False),
                                           ("a1 on the one it handled", self.a1, self.handled, True),
                                           ("a1 on a bot conversation", self.a1, self.bot, False),
                                           ("the supervisor on t2's", self.sup, self.t2, True)):
            for r in routes:
                if visible and r["method"] != "GET":
                    continue  # acting on it would change what the other tests see
                path = r["pattern"].replace("{}", q(conv["id"]), 1)
                st, _, b = sess.request(r["method"], path, {} if r["method"] == "POST" else None)
                if visible and "{}" in path:
                    # a route naming something inside it (an attachment): that one is not found
                    self.assertNotEqual((b.get("error") or {}).get("message"), "no such conversation",
                                        "%s: %s %s -> %s %r" % (label, r["method"], path, st, b))
                    self.assertLess(st, 500, b)
                elif visible:
                    self.assertNotEqual(st, 404, "%s: %s %s -> %s %r" % (label, r["method"], path, st, b))
                    self.assertLess(st, 500, b)
                else:
                    self.assertEqual((st, error_code(b)), (404, "not_found"),
                                     "%s: %s %s -> %s %r, expected 404" % (label, r["method"], path, st, b))
            st, _, b = sess.request("POST", "/api/v1/agent/canned/render",
                                    {"canned_id": 999999, "conversation_id": conv["id"]})
            self.assertEqual(st, 404, b)  # no such canned response comes first
        st, _, b = self.a1.get("/api/v1/agent/conversations/%s" % q(self.t2["id"]))
        self.assertNotIn(self.t2["id"], json.dumps(b), "the 404 names the conversation")
        # what a1 may see, it reads in full
        st, _, b = self.a1.get("/api/v1/agent/conversations/%s" % q(self.handled["id"]))
        self.assertEqual(st, 200, b)
        self.assertIn(agents_common.ASK_HUMAN["pt-BR"], [m.get("text") for m in b["messages"]])

    def test_contacts_are_not_guessable_nor_visible_across_teams(self):
        st, _, conv = self.sup.get("/api/v1/agent/conversations/%s" % q(self.t2["id"]))
        self.assertEqual(st, 200, conv)
        cid = conv["contact_id"]
        self.assertIsInstance(cid, str, conv)
        self.assertRegex(cid, r"^[0-9a-f]{32}$", "contact ids must be random, not a counter")
        st, _, card = self.sup.get("/api/v1/agent/contacts/%s" % q(cid))
        self.assertEqual((st, card.get("contact", {}).get("id")), (200, cid), card)
        for ref in (cid, self.t2["id"]):
            st, _, b = self.a1.get("/api/v1/agent/contacts/%s" % q(ref))
            self.assertEqual((st, error_code(b)), (404, "not_found"), "a1 reads t2's contact via %s: %r" % (ref, b))
        for n in range(1, 8):  # walking row ids finds nothing, even for a supervisor
            for sess in (self.a1, self.sup):
                st, _, b = sess.get("/api/v1/agent/contacts/%d" % n)
                self.assertEqual(st, 404, "contact %d -> %s %r" % (n, st, b))
        # a1's own team's customer: the card holds only what a1 may see
        st, _, card = self.a1.get("/api/v1/agent/contacts/%s" % q(self.t1["id"]))
        self.assertEqual(st, 200, card)
        self.assertEqual([c["id"] for c in card["contact"]["conversations"]], [self.t1["id"]])


if __name__ == "__main__":
    harness.main()

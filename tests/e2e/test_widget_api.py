#!/usr/bin/env python3
"""The server side of the website widget (docs/widget.md): sites (admin API and CLI), CORS and
preflight, identity verification, widget sessions, the conversation state with its queue
position, attachments, and receipts/typing over a real event stream."""

import hashlib
import hmac
import json
import os
import sqlite3
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check_error  # noqa: E402

PW = "correct horse battery"
SECRET = "s3cr3t-" + "k" * 33
SHOP = "https://shop.example"
OTHER = "https://other.example:8443"
EVIL = "https://evil.example"
MAX_ATTACHMENT = 4096

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
GIF = b"GIF89a" + b"\x01" * 30
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 30
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def user_hash(user_id, secret=SECRET):
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def make_sites(server):
    rc, out, err = server.cli("site", "add", "shop", "--name", "The shop", "--origin", SHOP,
                              "--origin", "http://LOCALHOST:9999", "--secret", SECRET,
                              "--data", server.data)
    assert rc == 0, (rc, out, err)
    rc, out, err = server.cli("site", "add", "other", "--name", "Another", "--origin", OTHER,
                              "--data", server.data)
    assert rc == 0, (rc, out, err)


def error_code(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


class WidgetTestCase(harness.ServerTestCase):
    server_config = {"max_attachment": MAX_ATTACHMENT}
    server_users = [{"email": "admin@e2e.test", "password": PW, "roles": ["admin"]}]

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(config=cls.server_config, users=cls.server_users,
                                    before_start=make_sites)
        cls.server.start_for_class()

    def create(self, body=None, origin=None, expect=201):
        h = {"Origin": origin} if origin else {}
        st, hd, b = self.server.request("POST", "/api/v1/conversations", body or {}, headers=h)
        if expect is not None:
            self.assertEqual(st, expect, "POST /api/v1/conversations %r -> %s %r" % (body, st, b))
        return st, hd, b

    def db_count(self, sql, *args):
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.server.data, "switchboard.db"),
                              uri=True, timeout=5)
        try:
            return con.execute(sql, args).fetchone()[0]
        finally:
            con.close()


class CorsTests(WidgetTestCase):

    def test_allowed_origin_gets_cors_headers(self):
        s = self.server
        for origin in (SHOP, OTHER, s.url, "http://localhost:9999"):
            with self.subTest(origin=origin):
                st, h, b = self.create({"locale": "en"}, origin=origin)
                self.assertEqual(h.get("access-control-allow-origin"), origin, h)
                self.assertIn("origin", h.get("vary", "").lower(), h)
                self.assertNotIn("access-control-allow-credentials", h)
        st, h, b = s.request("GET", "/api/v1/widget/sites/shop", headers={"Origin": SHOP})
        self.assertEqual(st, 200, b)
        self.assertEqual(h.get("access-control-allow-origin"), SHOP, h)

    def test_refused_origin_gets_no_cors_headers(self):
        s = self.server
        st, h, b = self.create({"locale": "en"}, origin=EVIL)
        self.assertNotIn("access-control-allow-origin", h)
        for origin in (EVIL, OTHER, "null"):
            with self.subTest(origin=origin):
                before = self.db_count("SELECT count(*) FROM conversations")
                st, h, b = self.create({"site": "shop"}, origin=origin, expect=None)
                check_error(self, (st, h, b), 403, "site shop from %s" % origin)
                self.assertEqual(error_code(b), "origin_not_allowed", b)
                self.assertEqual(self.db_count("SELECT count(*) FROM conversations"), before)
        self.assertNotIn("access-control-allow-origin",
                         self.create({"site": "shop"}, origin=EVIL, expect=None)[1])
        # the site's own origins and the server itself may name it
        self.assertEqual(self.create({"site": "shop"}, origin=SHOP)[2]["site"], "shop")
        self.assertEqual(self.create({"site": "shop"}, origin=s.url)[2]["site"], "shop")
        # a page of this server under another name (localhost): the Host the browser asked for
        local = "http://localhost:%d" % s.port
        st, h, b = s.request("POST", "/api/v1/conversations", {"site": "shop"},
                             headers={"Origin": local, "Host": "localhost:%d" % s.port})
        self.assertEqual(st, 201, b)
        self.assertEqual(h.get("access-control-allow-origin"), local)
        st, h, b = s.request("POST", "/api/v1/conversations", {"site": "shop"},
                             headers={"Origin": local, "Host": "127.0.0.1:%d" % s.port})
        check_error(self, (st, h, b), 403, "localhost origin sent to 127.0.0.1")
        # not CORS paths: no headers even for a site origin
        st, h, b = s.get("/healthz", headers={"Origin": SHOP})
        self.assertNotIn("access-control-allow-origin", h)

    def test_preflight(self):
        s = self.server
        conv = s.start_conversation("en")
        paths = ["/api/v1/conversations", s.conv_path(conv, "/messages"),
                 s.conv_path(conv, "/attachments"), s.conv_path(conv, "/events"),
                 "/api/v1/widget/session", "/api/v1/widget/sites/shop"]
        req = {"Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "authorization, content-type"}
        for path in paths:
            with self.subTest(path=path):
                st, h, b = s.request("OPTIONS", path, headers=dict(req, Origin=SHOP))
                self.assertEqual(st, 204, "%s -> %s %r" % (path, st, b))
                self.assertEqual(h.get("access-control-allow-origin"), SHOP)
                self.assertEqual(h.get("access-control-allow-methods"), "GET, POST")
                self.assertEqual(h.get("access-control-allow-headers"),
                                 "Authorization, Content-Type, Last-Event-ID, X-Filename")
                self.assertEqual(h.get("access-control-max-age"), "600")
                st, h, b = s.request("OPTIONS", path, headers=dict(req, Origin=EVIL))
                check_error(self, (st, h, b), 403, "preflight from %s" % EVIL)
                self.assertEqual(error_code(b), "origin_not_allowed")
                self.assertNotIn("access-control-allow-origin", h)
        # staff routes are not for other sites
        st, h, b = s.request("OPTIONS", "/api/v1/admin/users", headers=dict(req, Origin=SHOP))
        self.assertEqual(st, 405, b)

    def test_event_stream_carries_cors_headers(self):
        s = self.server
        conv = s.start_conversation("en")
        c = harness.SSEClient(s.port)
        try:
            c.open(s.conv_path(conv, "/events"), {"Authorization": "Bearer " + conv["token"],
                                                  "Origin": SHOP})
            self.assertEqual(c.status, 200)
            self.assertEqual(c.headers.get("access-control-allow-origin"), SHOP, c.headers)
        finally:
            c.close()

    def test_html_pages_may_be_framed_by_site_origins(self):
        s = self.server
        for path in ("/help/en/track-order",):
            st, h, b = s.get(path)
            self.assertEqual(st, 200)
            csp = h.get("content-security-policy", "")
            fa = [d for d in csp.split(";") if d.strip().startswith("frame-ancestors")]
            self.assertEqual(len(fa), 1, csp)
            sources = fa[0].split()[1:]
            self.assertEqual(sorted(sources), sorted(["'self'", SHOP, OTHER, "http://localhost:9999"]),
                             csp)


class SiteAdminTests(WidgetTestCase):

    def admin(self):
        return self.server.login("admin@e2e.test", PW)

    def test_put_get_delete(self):
        a = self.admin()
        site = {"name": "Blog", "origins": ["https://Blog.Example"], "color": "#AABBCC",
                "greeting": {"en": "Hi!", "pt-br": "Olá!"},
                "proactive": [{"url": "*/pricing*", "after_s": 5, "message": {"en": "Questions?"},
                               "article": "payment-methods"}]}
        st, h, b = a.request("PUT", "/api/v1/admin/sites/blog", site)
        self.assertEqual(st, 201, b)
        secret = b.get("secret")
        self.assertIsInstance(secret, str)
        self.assertGreaterEqual(len(secret), 32)
        got = b["site"]
        self.assertEqual(got["origins"], ["https://blog.example"])
        self.assertEqual(got["color"], "#aabbcc")
        self.assertEqual(got["title"], "Support")
        self.assertEqual(got["position"], "right")
        self.assertEqual(got["greeting"], {"en": "Hi!", "pt-BR": "Olá!"})
        self.assertNotIn(secret, json.dumps(got))
        # replacing keeps the secret and answers 200, without showing it
        site["title"] = "Blog help"
        st, h, b = a.request("PUT", "/api/v1/admin/sites/blog", site)
        self.assertEqual(st, 200, b)
        self.assertNotIn("secret", b)
        st, h, b = a.get("/api/v1/admin/sites")
        self.assertEqual(st, 200)
        blog = [x for x in b["sites"] if x["id"] == "blog"][0]
        self.assertEqual(blog["title"], "Blog help")
        self.assertNotIn(secret, json.dumps(b))
        self.assertNotIn(SECRET, json.dumps(b))
        self.assertTrue(blog["secret"].endswith(secret[-4:]))
        # public settings
        st, h, pub = self.server.get("/api/v1/widget/sites/blog")
        self.assertEqual(st, 200)
        self.assertEqual(set(pub), {"id", "title", "color", "position", "locale", "greeting",
                                    "proactive", "locales", "texts", "answer_locales"})
        self.assertEqual(pub["locales"], ["en", "pt-BR", "pt-PT", "ro"])
        # the locale each widget locale sends its messages in: the knowledge base's
        # (en, pt-BR, ro) by the one rule, so pt-PT asks in pt-BR
        self.assertEqual(pub["answer_locales"], {"en": "en", "pt-BR": "pt-BR", "pt-PT": "pt-BR", "ro": "ro"})
        # the site's texts per widget locale, by the server's fallback rule:
        # pt-PT takes pt-BR's greeting, ro (none of its own) the default's
        # (en); the only proactive message, en, is everyone's
        texts = pub["texts"]
        self.assertEqual(set(texts), {"en", "pt-BR", "pt-PT", "ro"})
        self.assertEqual(texts["pt-PT"]["greeting"], "Olá!")
        self.assertEqual(texts["ro"]["greeting"], "Hi!")
        self.assertEqual(texts["pt-BR"]["proactive"], ["Questions?"])
        self.assertEqual(pub["proactive"][0]["article"], "payment-methods")
        # the identity still verifies with the secret made at creation
        st, h, b = self.create({"site": "blog", "user_id": "u1", "user_hash": user_hash("u1", secret)},
                               origin="https://blog.example")
        self.assertTrue(b["verified"], b)
        st, h, b = a.request("DELETE", "/api/v1/admin/sites/blog")
        self.assertEqual(st, 200, b)
        st, h, b = a.request("DELETE", "/api/v1/admin/sites/blog")
        check_error(self, (st, h, b), 404)
        st, h, b = self.server.get("/api/v1/widget/sites/blog")
        check_error(self, (st, h, b), 404)
        self.assertEqual(error_code(b), "not_found")
        st, h, b = a.get("/api/v1/admin/audit")
        actions = [e.get("action") for e in b["entries"] if e.get("target") == "blog"]
        self.assertEqual(sorted(actions), ["site.create", "site.delete", "site.replace"], actions)

    def test_bad_input_names_the_field(self):
        a = self.admin()
        good = {"name": "X", "origins": ["https://x.example"]}
        cases = [
            ("x", {"origins": []}, "name"),
            ("x", {"name": "X"}, "origins"),
            ("x", dict(good, origins=["https://ok.example", "ftp://x"]), "origins[1]"),
            ("x", dict(good, origins=["https://x.example/path"]), "origins[0]"),
            ("x", dict(good, origins=["https://x.example", "https://X.example"]), "origins[1]"),
            ("x", dict(good, origins="https://x.example"), "origins"),
            ("x", dict(good, color="blue"), "color"),
            ("x", dict(good, position="top"), "position"),
            ("x", dict(good, title="t" * 61), "title"),
            ("x", dict(good, name="n" * 101), "name"),
            ("x", dict(good, secret="short"), "secret"),
            ("x", dict(good, locale="english!"), "locale"),
            ("x", dict(good, greeting={"en": "g" * 501}), "greeting.en"),
            ("x", dict(good, greeting={"not a locale": "hi"}), "greeting.not a locale"),
            ("x", dict(good, proactive=[{"url": "*", "after_s": 0, "message": {"en": "m"}}]),
             "proactive[0].after_s"),
            ("x", dict(good, proactive=[{"url": "*", "after_s": 5, "message": {"en": "m"}},
                                        {"url": "*", "after_s": 5}]), "proactive[1].message"),
            ("x", dict(good, proactive=[{"url": "*", "after_s": 5, "message": {"en": "m"},
                                         "article": "Bad Slug"}]), "proactive[0].article"),
            ("x", dict(good, proactive=[{"url": "*", "after_s": 5, "message": {}}]),
             "proactive[0].message"),
            ("x", dict(good, proactive=[{"url": "*", "after_s": 5, "message": {"en": "m"}}] * 21),
             "proactive"),
            ("x", dict(good, colour="#000000"), "colour"),
            ("x", dict(good, id="y"), "id"),
            ("Bad_Id", good, "id"),
            ("a" * 41, good, "id"),
        ]
        for sid, body, field in cases:
            with self.subTest(site=sid, field=field):
                st, h, b = a.request("PUT", "/api/v1/admin/sites/" + urllib.parse.quote(sid), body)
                check_error(self, (st, h, b), 400, "PUT %s %r" % (sid, body))
                self.assertEqual(error_code(b), "invalid_field", b)
                self.assertTrue(b["error"]["message"].startswith(field + ":"),
                                "%r should name %s" % (b["error"]["message"], field))
        st, h, b = a.request("PUT", "/api/v1/admin/sites/x", raw=b"{not json")
        check_error(self, (st, h, b), 400)
        st, h, b = a.get("/api/v1/admin/sites")
        self.assertNotIn("x", [x["id"] for x in b["sites"]])

    def test_cli_add_set_list(self):
        s = self.server
        rc, out, err = s.cli("site", "add", "cli", "--name", "C", "--origin", "notaurl",
                             "--data", s.data)
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("origins[0]", err)
        rc, out, err = s.cli("site", "add", "cli", "--name", "C", "--origin", "https://c.example",
                             "--data", s.data)
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"[0-9a-f]{64}")
        secret = out.split()[-1]
        rc, out2, err = s.cli("site", "add", "cli", "--name", "C", "--origin", "https://c.example",
                              "--data", s.data)
        self.assertEqual(rc, 1, "adding an existing site must fail: %s" % out2)
        path = os.path.join(s.data, "cli-site.json")
        with open(path, "w") as f:
            json.dump({"name": "C2", "origins": ["https://c.example", "https://d.example"],
                       "title": "Help"}, f)
        rc, out, err = s.cli("site", "set", "cli", path, "--data", s.data)
        self.assertEqual(rc, 0, err)
        with open(path, "w") as f:
            json.dump({"name": "C2", "origins": ["https://c.example"], "position": "middle"}, f)
        rc, out, err = s.cli("site", "set", "cli", path, "--data", s.data)
        self.assertEqual(rc, 1)
        self.assertIn("position", err)
        rc, out, err = s.cli("site", "list", "--data", s.data)
        self.assertEqual(rc, 0, err)
        sites = {x["id"]: x for x in json.loads(out)}
        self.assertEqual(sites["cli"]["origins"], ["https://c.example", "https://d.example"])
        self.assertEqual(sites["cli"]["title"], "Help")
        self.assertNotIn(secret, out)
        self.assertNotIn(SECRET, out)
        # the running server sees the change at once (no cache to go stale)
        st, h, b = self.create({"site": "cli"}, origin="https://d.example")
        self.assertEqual(h.get("access-control-allow-origin"), "https://d.example")


class IdentityTests(WidgetTestCase):

    def session(self, body, origin=SHOP):
        return self.server.request("POST", "/api/v1/widget/session", body, headers={"Origin": origin})

    def test_valid_hash_links_and_session_returns_new_tokens(self):
        s = self.server
        uid = "customer-42"
        ident = {"site": "shop", "user_id": uid, "user_hash": user_hash(uid)}
        st, h, c1 = self.create(dict(ident, locale="en", page_url="https://shop.example/cart?x=1"),
                                origin=SHOP)
        self.assertTrue(c1["verified"], c1)
        self.assertEqual(c1["site"], "shop")
        s.send(c1, "hello", client_id="one")
        time.sleep(0.01)
        # upper-case hex is the same number
        st, h, c2 = self.create(dict(ident, user_hash=user_hash(uid).upper()), origin=SHOP)
        self.assertTrue(c2["verified"])
        st, h, b = self.session(ident)
        self.assertEqual(st, 200, b)
        self.assertEqual(h.get("access-control-allow-origin"), SHOP)
        convs = b["conversations"]
        self.assertEqual([c["id"] for c in convs], [c2["id"], c1["id"]], "newest first")
        for c in convs:
            self.assertEqual(set(c), {"id", "token", "status", "locale", "updated_at", "last_message"})
            self.assertNotIn(c["token"], (c1["token"], c2["token"]))
        self.assertIsNone(convs[0]["last_message"])
        self.assertEqual(convs[1]["last_message"]["direction"], "out", convs[1])
        # the new token works, and so does the old one (another device)
        tr = s.transcript({"id": c1["id"], "token": convs[1]["token"]})
        self.assertEqual(tr["messages"][0]["text"], "hello")
        s.transcript(c1)
        st, h, one = s.request("GET", s.conv_path(c1), token=convs[1]["token"])
        self.assertEqual(st, 200, one)
        self.assertTrue(one["verified"])
        self.assertEqual(one["site"], "shop")
        # another session: yet another token
        st, h, again = self.session(ident)
        self.assertNotEqual(again["conversations"][1]["token"], convs[1]["token"])
        # agents see where the customer started and that the identity was checked
        staff = s.login("admin@e2e.test", PW)
        st, h, ag = staff.get("/api/v1/agent/conversations/" + c1["id"])
        self.assertEqual(st, 200, ag)
        self.assertEqual((ag["site"], ag["page_url"], ag["verified"]),
                         ("shop", "https://shop.example/cart?x=1", True))
        st, h, ag = staff.get("/api/v1/agent/conversations/" + s.start_conversation("en")["id"])
        self.assertEqual((ag["site"], ag["page_url"], ag["verified"]), (None, None, False))

    def test_wrong_hash_is_refused_and_stores_nothing(self):
        uid = "mallory"
        before = self.db_count("SELECT count(*) FROM conversations")
        for bad in (user_hash(uid, "x" * 40), user_hash("someone-else"), "00" * 32, "zz", ""):
            with self.subTest(hash=bad):
                st, h, b = self.create({"site": "shop", "user_id": uid, "user_hash": bad},
                                       origin=SHOP, expect=None)
                check_error(self, (st, h, b), 403)
                self.assertEqual(error_code(b), "identity_invalid", b)
                st, h, b = self.session({"site": "shop", "user_id": uid, "user_hash": bad})
                check_error(self, (st, h, b), 403)
                self.assertEqual(error_code(b), "identity_invalid", b)
        self.assertEqual(self.db_count("SELECT count(*) FROM conversations"), before)
        self.assertEqual(self.db_count("SELECT count(*) FROM identities WHERE external_id LIKE ?",
                                       "%mallory%"), 0)
        # the hash of another site's secret does not verify here
        st, h, b = self.create({"site": "other", "user_id": uid, "user_hash": user_hash(uid)},
                               origin=OTHER, expect=None)
        self.assertEqual(error_code(b), "identity_invalid")

    def test_unverified_user_id_never_links(self):
        uid = "carol"
        st, h, b = self.create({"site": "shop", "user_id": uid}, origin=SHOP)
        self.assertFalse(b["verified"])
        st, h, b2 = self.create({"site": "shop", "user_id": uid, "user_hash": None}, origin=SHOP)
        self.assertFalse(b2["verified"])
        st, h, s = self.session({"site": "shop", "user_id": uid, "user_hash": user_hash(uid)})
        self.assertEqual(st, 200, s)
        self.assertEqual(s["conversations"], [], "unverified conversations must never be listed")
        self.assertEqual(self.db_count("SELECT count(*) FROM identities WHERE external_id = ?",
                                       "shop:" + uid), 0)

    def test_bad_fields(self):
        cases = [
            ({"site": "nope"}, 400, "invalid_field"),
            ({"site": 5}, 400, "invalid_field"),
            ({"site": "../x"}, 400, "invalid_field"),
            ({"page_url": "javascript:alert(1)"}, 400, "invalid_field"),
            ({"page_url": "https://x/" + "a" * 2000}, 400, "invalid_field"),
            ({"page_url": "https://x/a b"}, 400, "invalid_field"),
            ({"page_url": 7}, 400, "invalid_field"),
            ({"user_id": "u", "user_hash": user_hash("u")}, 400, "invalid_field"),
            ({"site": "shop", "user_hash": user_hash("u")}, 400, "invalid_field"),
            ({"site": "shop", "user_id": "", "user_hash": user_hash("")}, 400, "invalid_field"),
            ({"site": "shop", "user_id": "u" * 201, "user_hash": user_hash("u" * 201)}, 400,
             "invalid_field"),
            ({"site": "shop", "user_id": "u", "user_hash": 12}, 400, "invalid_field"),
        ]
        for body, status, code in cases:
            with self.subTest(body=body):
                st, h, b = self.create(body, origin=SHOP, expect=None)
                check_error(self, (st, h, b), status, repr(body))
                self.assertEqual(error_code(b), code, b)
        for body in ({}, {"site": "shop"}, {"site": "shop", "user_id": "u"},
                     {"site": "nope", "user_id": "u", "user_hash": user_hash("u")}):
            with self.subTest(session=body):
                st, h, b = self.session(body)
                check_error(self, (st, h, b), 400, repr(body))
        st, h, b = self.session({"site": "shop", "user_id": "u", "user_hash": user_hash("u")},
                                origin=EVIL)
        check_error(self, (st, h, b), 403)
        self.assertEqual(error_code(b), "origin_not_allowed")


class ConversationStateTests(WidgetTestCase):

    def test_state_and_queue_position(self):
        s = self.server
        st, h, a = self.create({"site": "shop"}, origin=SHOP)
        st, h, one = s.request("GET", s.conv_path(a), token=a["token"])
        self.assertEqual(st, 200, one)
        self.assertEqual(one, {"id": a["id"], "status": "bot", "locale": "en", "site": "shop",
                               "verified": False, "agent": None, "queue": None,
                               "read_up_to": {"customer": 0, "agent": 0}})
        b = s.start_conversation("en")
        for conv in (a, b):
            body = s.send(conv, "talk to a person")
            self.assertEqual(body["status"], "queued", body)
        st, h, qa = s.request("GET", s.conv_path(a), token=a["token"])
        st, h, qb = s.request("GET", s.conv_path(b), token=b["token"])
        self.assertEqual(qa["status"], "queued")
        self.assertIsInstance(qa["queue"]["position"], int)
        self.assertGreaterEqual(qa["queue"]["position"], 1)
        self.assertEqual(qb["queue"]["position"], qa["queue"]["position"] + 1, (qa, qb))
        self.assertIsNone(qa["queue"]["expected_wait_s"], "nobody has left the queue yet")
        self.assertIsNone(qb["site"])
        # another conversation's token
        st, h, e = s.request("GET", s.conv_path(a), token=b["token"])
        check_error(self, (st, h, e), 403)


class AttachmentTests(WidgetTestCase):

    def upload(self, conv, data, ctype="image/png", name="photo.png", token=None):
        h = {"Content-Type": ctype}
        if name is not None:
            h["X-Filename"] = urllib.parse.quote(name)
        return self.server.request("POST", self.server.conv_path(conv, "/attachments"), raw=data,
                                   token=conv["token"] if token is None else token, headers=h)

    def stored_files(self):
        root = os.path.join(self.server.data, "attachments")
        return sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)

    def test_upload_download_and_message(self):
        s = self.server
        conv = s.start_conversation("en")
        st, h, a = self.upload(conv, PNG, name="Ação 1.png")
        self.assertEqual(st, 201, a)
        self.assertEqual(set(a), {"id", "name", "type", "size", "url"})
        self.assertRegex(a["id"], r"^att_[0-9a-f]{32}$")
        self.assertEqual((a["name"], a["type"], a["size"]), ("Ação 1.png", "image/png", len(PNG)))
        self.assertEqual(a["url"], "/api/v1/conversations/%s/attachments/%s" % (conv["id"], a["id"]))
        digest = hashlib.sha256(PNG).hexdigest()
        self.assertIn(os.path.join(s.data, "attachments", digest[:2], digest), self.stored_files())
        for auth in ("header", "query"):
            path = a["url"] + ("?token=" + conv["token"] if auth == "query" else "")
            st, h, body = s.request("GET", path, token=conv["token"] if auth == "header" else None)
            self.assertEqual(st, 200, body)
            self.assertEqual(h.get("content-type"), "image/png")
            self.assertEqual(h.get("x-content-type-options"), "nosniff")
            self.assertEqual(h.get("content-security-policy"), "sandbox")
            self.assertTrue(h.get("content-disposition", "").startswith("inline"), h)
            self.assertIn("filename*=UTF-8''A%C3%A7%C3%A3o%201.png", h.get("content-disposition"))
            self.assertEqual(h.get("cache-control"), "private, max-age=86400")
        # the bytes come back unchanged, also for a file near the cap
        big = PNG + bytes(i % 251 for i in range(MAX_ATTACHMENT - len(PNG)))
        st, h, ab = self.upload(conv, big, name="big.png")
        self.assertEqual(st, 201, ab)
        for att, data in ((a, PNG), (ab, big)):
            req = urllib.request.Request(s.url + att["url"],
                                         headers={"Authorization": "Bearer " + conv["token"]})
            with urllib.request.urlopen(req, timeout=10) as resp:
                self.assertEqual(resp.read(), data)
                self.assertEqual(resp.headers["Content-Length"], str(len(data)))
        st, h, p = self.upload(conv, PDF, "application/pdf", "invoice.pdf")
        self.assertEqual(st, 201, p)
        st, h, body = s.request("GET", p["url"], token=conv["token"])
        self.assertTrue(h.get("content-disposition", "").startswith("attachment"), h)
        self.assertEqual(h.get("content-type"), "application/pdf")
        for data, ctype in ((JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp; x=1")):
            st, h, b = self.upload(conv, data, ctype, "f")
            self.assertEqual(st, 201, (ctype, b))
        # a message with files and no text; the transcript and the event carry them
        st, h, body = s.request("POST", s.conv_path(conv, "/messages"),
                                {"text": "", "attachments": [a["id"], p["id"]], "client_id": "f1"},
                                token=conv["token"])
        self.assertEqual(st, 200, body)
        st, h, body2 = s.request("POST", s.conv_path(conv, "/messages"),
                                 {"attachments": [a["id"]], "client_id": "f2"}, token=conv["token"])
        self.assertEqual(st, 200, body2)
        tr = s.transcript(conv)
        m = [x for x in tr["messages"] if x["client_id"] == "f1"][0]
        self.assertEqual([x["id"] for x in m["attachments"]], [a["id"], p["id"]])
        self.assertEqual(m["attachments"][0], a)
        self.assertEqual(m["text"], "")
        others = [x for x in tr["messages"] if x["client_id"] != "f1"]
        self.assertTrue(all(x["attachments"] == [] for x in others if x["client_id"] != "f2"))
        events, _ = s.all_events(conv)
        inbound = [e for e in events if e["event"] == "message/inbound"
                   and e["data"]["message"]["client_id"] == "f1"]
        self.assertEqual(inbound[0]["data"]["message"]["attachments"], [a, p])
        # a retry of the same message is answered as a duplicate
        st, h, dup = s.request("POST", s.conv_path(conv, "/messages"),
                               {"text": "", "attachments": [a["id"], p["id"]], "client_id": "f1"},
                               token=conv["token"])
        self.assertEqual(st, 200, dup)
        self.assertTrue(dup["duplicate"])

    def test_bad_uploads_store_nothing(self):
        s = self.server
        conv = s.start_conversation("en")
        other = s.start_conversation("en")
        files = self.stored_files()
        rows = self.db_count("SELECT count(*) FROM attachments")
        cases = [
            (PNG, "image/jpeg", 415, "unsupported_type"),
            (b"GIF87b" + b"x" * 20, "image/gif", 415, "unsupported_type"),
            (b"RIFF\x00\x00\x00\x00WAVE", "image/webp", 415, "unsupported_type"),
            (b"<html><script>alert(1)</script>", "image/png", 415, "unsupported_type"),
            (PDF, "text/html", 415, "unsupported_type"),
            (PDF, "application/octet-stream", 415, "unsupported_type"),
            (b"\x89PNG\r\n\x1a\n" + b"x" * MAX_ATTACHMENT, "image/png", 413, "too_large"),
            (b"", "image/png", 400, "invalid_field"),
        ]
        for data, ctype, status, code in cases:
            with self.subTest(ctype=ctype, size=len(data)):
                st, h, b = self.upload(conv, data, ctype)
                check_error(self, (st, h, b), status, ctype)
                self.assertEqual(error_code(b), code, b)
        st, h, b = s.request("POST", s.conv_path(conv, "/attachments"), raw=PNG,
                             headers={"Content-Type": "image/png"})
        check_error(self, (st, h, b), 401)
        # refused before the body is read, yet readable by the widget's page (CORS)
        st, h, b = s.request("POST", s.conv_path(conv, "/attachments"), raw=PNG * 100,
                             token=conv["token"], headers={"Content-Type": "image/png", "Origin": SHOP})
        check_error(self, (st, h, b), 413)
        self.assertEqual(h.get("access-control-allow-origin"), SHOP, h)
        for name in ("a%ZZ", "%00x.png", "n" * 201, "%FF%FE.png"):
            with self.subTest(name=name):
                st, h, b = s.request("POST", s.conv_path(conv, "/attachments"), raw=PNG,
                                     token=conv["token"],
                                     headers={"Content-Type": "image/png", "X-Filename": name})
                check_error(self, (st, h, b), 400, name)
        self.assertEqual(self.stored_files(), files)
        self.assertEqual(self.db_count("SELECT count(*) FROM attachments"), rows)
        # attachments of messages: only this conversation's, at most five, none twice
        st, h, mine = self.upload(conv, PNG)
        st, h, theirs = self.upload(other, PNG)
        self.assertEqual(st, 201)
        for atts in ([theirs["id"]], ["att_" + "0" * 32], [mine["id"]] * 2, [mine["id"]] * 6,
                     "att_x", [5], {"a": 1}):
            with self.subTest(attachments=atts):
                st, h, b = s.request("POST", s.conv_path(conv, "/messages"),
                                     {"text": "see", "attachments": atts}, token=conv["token"])
                check_error(self, (st, h, b), 400, repr(atts))
        st, h, b = s.request("POST", s.conv_path(conv, "/messages"), {"text": " "},
                             token=conv["token"])
        check_error(self, (st, h, b), 400, "blank text without files")
        # someone else's file is not reachable with this token, nor with theirs through us
        st, h, b = s.request("GET", theirs["url"], token=conv["token"])
        check_error(self, (st, h, b), 403)
        st, h, b = s.request("GET", s.conv_path(conv, "/attachments/" + theirs["id"]),
                             token=conv["token"])
        check_error(self, (st, h, b), 404)


class ReceiptTests(WidgetTestCase):

    def test_delivered_read_and_typing_events(self):
        s = self.server
        conv = s.start_conversation("en")
        c = s.sse(conv)
        try:
            self.assertEqual(c.status, 200)
            c.read_events(1)  # conversation/started
            body = s.send(conv, "how can I track my order?", client_id="q1")
            got = c.drain(idle=0.5)
            types = [e["event"] for e in got]
            self.assertIn("message/delivered", types, types)
            d = got[types.index("message/delivered")]
            self.assertEqual(d["data"]["up_to"], body["message_id"])
            self.assertIsInstance(d["id"], int)
            reply = body["replies"][0]["id"]
            st, h, r = s.request("POST", s.conv_path(conv, "/read"), {"up_to": reply},
                                 token=conv["token"])
            self.assertEqual(st, 200, r)
            self.assertEqual(r["read_up_to"], {"customer": reply, "agent": 0})
            ev = c.read_events(1)[0]
            self.assertEqual(ev["event"], "message/read")
            self.assertEqual((ev["data"]["up_to"], ev["data"]["by"]), (reply, "customer"))
            last_id = ev["id"]
            # reads only move forward
            st, h, r = s.request("POST", s.conv_path(conv, "/read"), {"up_to": body["message_id"]},
                                 token=conv["token"])
            self.assertEqual(st, 200, r)
            self.assertEqual(r["read_up_to"]["customer"], reply)
            st, h, one = s.request("GET", s.conv_path(conv), token=conv["token"])
            self.assertEqual(one["read_up_to"]["customer"], reply)
            # typing: an event without id, at most one a second
            st, h, t = s.request("POST", s.conv_path(conv, "/typing"), {"typing": True},
                                 token=conv["token"])
            self.assertEqual((st, t), (200, {"forwarded": True}))
            st, h, t2 = s.request("POST", s.conv_path(conv, "/typing"), {"typing": False},
                                  token=conv["token"])
            self.assertEqual((st, t2), (200, {"forwarded": False}))
            got = c.drain(idle=0.5)
            self.assertEqual([(e["event"], e["id"]) for e in got], [("typing", None)], got)
            self.assertEqual(got[0]["data"]["author"], "customer")
            self.assertIs(got[0]["data"]["typing"], True)
            self.assertNotIn("id:", got[0]["raw"])
            time.sleep(1.05)
            st, h, t3 = s.request("POST", s.conv_path(conv, "/typing"), {"typing": False},
                                  token=conv["token"])
            self.assertEqual(t3, {"forwarded": True})
            self.assertEqual([e["event"] for e in c.drain(idle=0.5)], ["typing"])
        finally:
            c.close()
        # a resumed stream replays stored events only: no typing
        c = s.sse(conv, last_event_id=0)
        try:
            events = c.drain(idle=0.5)
        finally:
            c.close()
        self.assertNotIn("typing", [e["event"] for e in events])
        self.assertTrue(all(isinstance(e["id"], int) for e in events), events)
        self.assertEqual(events[-1]["id"], last_id)
        harness.check_event_stream(self, events)

    def test_bad_receipts(self):
        s = self.server
        conv = s.start_conversation("en")
        other = s.start_conversation("en")
        body = s.send(other, "hello")
        for payload in ({}, {"up_to": "1"}, {"up_to": 0}, {"up_to": -3},
                        {"up_to": body["message_id"]}, {"up_to": 10 ** 12}):
            with self.subTest(read=payload):
                st, h, b = s.request("POST", s.conv_path(conv, "/read"), payload, token=conv["token"])
                check_error(self, (st, h, b), 400, repr(payload))
        for payload in ({}, {"typing": "yes"}, {"typing": 1}):
            with self.subTest(typing=payload):
                st, h, b = s.request("POST", s.conv_path(conv, "/typing"), payload,
                                     token=conv["token"])
                check_error(self, (st, h, b), 400, repr(payload))
        st, h, b = s.request("POST", s.conv_path(conv, "/typing"), {"typing": True})
        check_error(self, (st, h, b), 401)


class WidgetFilesTests(WidgetTestCase):

    def check_widget_words(self, body):
        """widget.js carries the widget's words from web/locales, each key
        resolved by the server's fallback rule: pt-PT has its own where it
        differs, pt-BR's where its catalogue has no such key, and en last."""
        text = body.decode() if isinstance(body, bytes) else body
        self.assertNotIn("/*sb:words*/", text)
        start = text.index("const STR = ") + len("const STR = ")
        words, _ = json.JSONDecoder().raw_decode(text[start:])
        cat = {}
        for loc in ("en", "pt-BR", "pt-PT", "ro"):
            with open(os.path.join(harness.WEB, "locales", loc + ".json"), encoding="utf-8") as f:
                cat[loc] = json.load(f)
        en_keys = {k[len("widget."):] for k in cat["en"] if k.startswith("widget.")}
        self.assertEqual(set(words), {"en", "pt-BR", "pt-PT", "ro"})
        for loc in words:
            self.assertEqual(set(words[loc]), en_keys, loc)
        self.assertNotIn("widget.send", cat["pt-PT"])  # the case the rule fills in
        self.assertEqual(words["pt-PT"]["send"], cat["pt-BR"]["widget.send"])
        self.assertEqual(words["pt-PT"]["title"], cat["pt-PT"]["widget.title"])
        self.assertNotEqual(words["pt-PT"]["title"], words["pt-BR"]["title"])
        self.assertEqual(words["ro"]["send"], cat["ro"]["widget.send"])
        # the locales it offers, their names from the catalogues, and the table of what
        # any tag stands for (base/words.c's rule: the tag, else its language)
        self.assertNotIn("/*sb:locales*/", text)
        start = text.index("const LOC = ") + len("const LOC = ")
        loc, _ = json.JSONDecoder().raw_decode(text[start:])
        self.assertEqual(loc["offered"], ["en", "pt-BR", "pt-PT", "ro"])
        self.assertEqual(loc["names"], {"en": "English", "pt-BR": "Português (Brasil)",
                                        "pt-PT": "Português (Portugal)", "ro": "Română"})
        self.assertEqual(loc["of"], {"en": "en", "pt": "pt-BR", "pt-br": "pt-BR", "pt-pt": "pt-PT",
                                     "ro": "ro"})
        self.assertEqual(loc["last"], "en")

    def test_widget_js_and_demo_pages(self):
        s = self.server
        st, h, body = s.get("/widget.js")
        if not os.path.exists(os.path.join(harness.WEB, "widget", "widget.js")):
            check_error(self, (st, h, body), 404)
            return
        self.assertEqual(st, 200)
        self.assertIn("javascript", h.get("content-type", ""))
        self.assertEqual(h.get("cache-control"), "public, max-age=300")
        etag = h.get("etag")
        self.assertRegex(etag or "", r'^"[0-9a-f]{32}"$')
        st, h2, b2 = s.get("/widget.js", headers={"If-None-Match": etag})
        self.assertEqual(st, 304)
        self.assertEqual(h2.get("etag"), etag)
        self.check_widget_words(body)
        # the same script, with its words, from the static folder
        st, h, body = s.get("/static/widget/widget.js")
        self.assertEqual(st, 200)
        self.check_widget_words(body)
        for path, name in (("/", "index.html"), ("/demo/checkout", "checkout.html")):
            with self.subTest(path=path):
                st, h, b = s.get(path)
                if os.path.exists(os.path.join(harness.WEB, "demo", name)):
                    self.assertEqual(st, 200)
                    self.assertIn("text/html", h.get("content-type"))
                    self.assertIn(SHOP, h.get("content-security-policy", ""))
                else:
                    check_error(self, (st, h, b), 404)


if __name__ == "__main__":
    harness.main()

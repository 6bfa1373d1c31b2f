#!/usr/bin/env python3
"""Staff accounts and sign-in: login/logout, bad credentials, lockouts (per account and per IP),
CSRF, idle and absolute session expiry, password changes and admin actions revoking sessions,
cookie attributes, and the `switchboard user ...` command line.

Timing: lockouts use login_lockout_s 2 and sessions session_idle_s 2 / session_max_s 3, so the
file sleeps about 12 s in total."""

import http.client
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check_error, parse_set_cookie, retry_after  # noqa: E402

PW = "correct horse battery"
ROLES = ("agent", "editor", "admin")
ME = "/api/v1/auth/me"
LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
PASSWORD = "/api/v1/auth/password"


def user(email, *roles, **kw):
    d = {"email": email, "password": PW, "roles": roles or ("agent",)}
    d.update(kw)
    return d


def q(x):
    return urllib.parse.quote(str(x), safe="")


def error_code(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None


def login_from(server, source_ip, email, password, cookie=None, remember=False):
    """POST /api/v1/auth/login from client address source_ip (Linux routes all of 127/8 to lo, so
    127.0.0.2 reaches a server on 127.0.0.1 as a second client). -> (status, [Set-Cookie...], body)."""
    body = {"email": email, "password": password}
    if remember:
        body["remember_device"] = True
    h = {"Content-Type": "application/json"}
    if cookie:
        h["Cookie"] = cookie
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10, source_address=(source_ip, 0))
    try:
        conn.request("POST", LOGIN, body=json.dumps(body).encode(), headers=h)
        resp = conn.getresponse()
        payload = resp.read()
        cookies = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"]
        return resp.status, cookies, json.loads(payload or b"null")
    finally:
        conn.close()


class AuthTestCase(harness.ServerTestCase):

    def login_fails(self, email, password, status=401, code="invalid_credentials", headers=None):
        resp = self.server.login(email, password, headers=headers, expect=None)
        check_error(self, resp, status, "login %s / %r" % (email, password))
        self.assertEqual(error_code(resp[2]), code, "login %s: %r" % (email, resp[2]))
        return resp

    def assert_no_session_cookie(self, headers):
        name, value, _ = parse_set_cookie(headers.get("set-cookie", ""))
        self.assertFalse(name == "sb_session" and value, "a refused login set a session cookie: %r" % headers)

    def assert_me(self, sess, status, what=""):
        st, _, b = sess.me()
        self.assertEqual(st, status, "%s: GET %s with the cookie -> %s %r, expected %s" % (what, ME, st, b, status))
        if status == 401:
            check_error(self, (st, {}, b), 401, what)
        return b

    def check_user(self, u, email, roles=None):
        self.assertIsInstance(u, dict, u)
        for k in ("id", "email", "name", "locale", "roles"):
            self.assertIn(k, u, "user object without %r: %r" % (k, u))
        self.assertEqual(u["email"], email, u)
        self.assertIsInstance(u["roles"], list, u)
        if roles is not None:
            self.assertEqual(sorted(u["roles"]), sorted(roles), u)

    def admin_users(self, admin):
        st, _, b = admin.get("/api/v1/admin/users")
        self.assertEqual(st, 200, "GET /api/v1/admin/users -> %s %r" % (st, b))
        return {u["email"]: u for u in b["users"]}


class AuthTests(AuthTestCase):
    server_config = {"login_ip_max_failures": 1000}
    server_users = [
        user("admin@e2e.test", "admin", name="Ada Admin"),
        user("agent@e2e.test", "agent", name="Alex Agent", locale="pt-BR"),
        user("agent2@e2e.test", "agent"),
        user("multi@e2e.test", "agent", "editor"),
        user("off@e2e.test", "agent"),
        user("pw@e2e.test", "agent"),
        user("victim@e2e.test", "agent"),
        user("reset@e2e.test", "agent"),
    ]

    @classmethod
    def setUpClass(cls):
        def hook(server):
            # the before_start hook: the CLI disables an account between `user add` and the start
            rc, out, err = server.user_cli("disable", "--email", "off@e2e.test")
            if rc != 0:
                raise AssertionError("user disable exited %s: %s %s" % (rc, out, err))
        cls.server = harness.Server(config=cls.server_config, users=cls.server_users, before_start=hook)
        cls.server.start_for_class()

    def setUp(self):
        super().setUp()
        self.admin = self.server.login("admin@e2e.test", PW)

    def test_login_me_logout(self):
        s = self.server
        sess = s.login("agent@e2e.test", PW)
        self.check_user(sess.user, "agent@e2e.test", ["agent"])
        self.assertEqual(sess.user["name"], "Alex Agent")
        self.assertEqual(sess.user["locale"], "pt-BR")
        self.assertIsInstance(sess.csrf, str)
        self.assertGreaterEqual(len(sess.csrf or ""), 16, "csrf_token too short: %r" % sess.csrf)
        self.assertNotEqual(sess.csrf, sess.cookie)
        self.assertGreaterEqual(len(sess.cookie), 32, "session cookie too short to be unguessable")
        me = self.assert_me(sess, 200, "fresh session")
        self.check_user(me.get("user"), "agent@e2e.test", ["agent"])
        self.assertEqual(me["user"]["id"], sess.user["id"], me)
        self.assertEqual(me.get("csrf_token"), sess.csrf, "GET /auth/me csrf_token: %r" % me)
        # two logins give two independent sessions
        other = s.login("agent@e2e.test", PW)
        self.assertNotEqual(other.cookie, sess.cookie)
        # logout needs the CSRF header ...
        st, _, b = sess.request("POST", LOGOUT, {}, csrf=False)
        check_error(self, (st, {}, b), 403, "POST %s with cookie, no X-CSRF-Token" % LOGOUT)
        self.assertEqual(error_code(b), "csrf", b)
        self.assert_me(sess, 200, "after the refused logout")
        # ... and then ends exactly this session
        st, _, b = sess.request("POST", LOGOUT, {})
        self.assertEqual(st, 200, "POST %s -> %s %r" % (LOGOUT, st, b))
        self.assert_me(sess, 401, "after logout")
        st, _, b = sess.request("POST", LOGOUT, {})
        self.assertEqual(st, 401, "POST %s again with the dead cookie -> %s %r" % (LOGOUT, st, b))
        self.assert_me(other, 200, "the other session after logout")

    def test_multi_role_user(self):
        sess = self.server.login("multi@e2e.test", PW)
        self.check_user(sess.user, "multi@e2e.test", ["agent", "editor"])

    def test_bad_credentials(self):
        s = self.server
        wrong = self.login_fails("agent2@e2e.test", PW + "x")
        unknown = self.login_fails("nobody@e2e.test", PW)
        disabled = self.login_fails("off@e2e.test", PW)  # disabled by the CLI before the start
        self.login_fails("agent2@e2e.test", "")
        self.login_fails("agent2@e2e.test", PW.upper())
        # the answers must not tell which part was wrong
        msgs = {r[2]["error"].get("message") for r in (wrong, unknown, disabled)}
        self.assertEqual(len(msgs), 1, "different messages reveal which accounts exist: %s" % msgs)
        for r in (wrong, unknown, disabled):
            self.assert_no_session_cookie(r[1])
        s.login("agent2@e2e.test", PW)  # still fine afterwards

    def test_login_bad_body(self):
        s = self.server
        for body in ({}, {"email": "agent@e2e.test"}, {"password": PW}, {"email": 5, "password": PW},
                     {"email": "agent@e2e.test", "password": None}):
            check_error(self, s.request("POST", LOGIN, body), (400, 401), "POST %s %r" % (LOGIN, body))
        check_error(self, s.request("POST", LOGIN, raw=b"{nope"), 400, "POST %s malformed JSON" % LOGIN)

    def test_login_csrf(self):
        """Regression (issue 14): a text/plain form post from a foreign Origin signed the browser in."""
        s = self.server
        creds = json.dumps({"email": "agent@e2e.test", "password": PW})
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
            headers = {"Origin": "https://evil.example"}
            if ctype:
                headers["Content-Type"] = ctype
            st, h, b = s.request("POST", LOGIN, raw=creds, headers=dict(headers, **({} if ctype else {"Content-Type": ""})))
            check_error(self, (st, h, b), 415, "login as %s from a foreign origin" % ctype)
            self.assertEqual(error_code(b), "unsupported_media_type", b)
            self.assert_no_session_cookie(h)
        # JSON from another origin (a CORS preflight would fail, but refuse it outright) or a sandboxed frame
        for origin in ("https://evil.example", "http://127.0.0.1:1", "null"):
            st, h, b = s.request("POST", LOGIN, {"email": "agent@e2e.test", "password": PW}, headers={"Origin": origin})
            check_error(self, (st, h, b), 403, "JSON login from Origin %s" % origin)
            self.assertEqual(error_code(b), "origin_not_allowed", b)
            self.assert_no_session_cookie(h)
        # this server's own pages, and clients that are not browsers (no Origin), sign in
        sess = s.login("agent@e2e.test", PW, headers={"Origin": "http://127.0.0.1:%d" % s.port})
        self.assert_me(sess, 200, "login from the server's own origin")
        sess = s.login("agent@e2e.test", PW, headers={"Content-Type": "application/json; charset=utf-8"})
        self.assert_me(sess, 200, "login with a charset parameter")

    def test_weak_passwords_refused(self):
        """Regression (issue 14): "password" and "12345678" were accepted."""
        s = self.server
        weak = ("password", "12345678", "short pw", "password123", "P@ssw0rd2024!", "qwertyuiop", "1111111111111")
        for pw in weak:
            st, _, b = self.admin.request("POST", "/api/v1/admin/users",
                                          {"email": "weak@e2e.test", "password": pw, "roles": ["agent"]})
            check_error(self, (st, {}, b), 400, "admin creates a user with password %r" % pw)
            self.assertEqual(error_code(b), "weak_password", b)
            self.assertIn("password", b["error"]["message"])
            st, _, b = self.admin.request("POST", "/api/v1/admin/users/%s/password" % q(s.user_ids["reset@e2e.test"]),
                                          {"password": pw})
            check_error(self, (st, {}, b), 400, "admin resets a password to %r" % pw)
            self.assertEqual(error_code(b), "weak_password", b)
        sess = s.login("reset@e2e.test", PW)
        for pw in weak:
            st, _, b = sess.request("POST", PASSWORD, {"current_password": PW, "new_password": pw})
            check_error(self, (st, {}, b), 400, "own password changed to %r" % pw)
            self.assertEqual(error_code(b), "weak_password", b)
        self.assert_me(sess, 200, "after refused password changes")
        self.assertNotIn("weak@e2e.test", self.admin_users(self.admin))
        s.login("reset@e2e.test", PW)

    def test_no_credentials(self):
        s = self.server
        for headers in ({}, {"Cookie": "sb_session=" + "0" * 64}, {"Cookie": "sb_session=garbage"},
                        {"Authorization": "Bearer sbt_" + "0" * 40}, {"Authorization": "Bearer nonsense"}):
            st, _, b = s.request("GET", ME, headers=headers)
            check_error(self, (st, {}, b), 401, "GET %s with %r" % (ME, headers))
            self.assertEqual(error_code(b), "unauthorized", b)

    def test_csrf(self):
        s = self.server
        admin = self.admin
        other = s.login("admin@e2e.test", PW)
        path = "/api/v1/admin/tokens"
        refused = []
        for label, csrf in (("no header", False), ("wrong token", "x" * len(admin.csrf or "x")),
                            ("empty", ""), ("another session's token", other.csrf)):
            name = "csrf-refused-%d" % len(refused)
            refused.append(name)
            st, _, b = admin.request("POST", path, {"name": name, "role": "agent"}, csrf=csrf)
            check_error(self, (st, {}, b), 403, "POST %s with cookie, %s" % (path, label))
            self.assertEqual(error_code(b), "csrf", "%s: %r" % (label, b))
        for method, p, body in (("POST", "/api/v1/admin/users/%s/disable" % q(s.user_ids["victim@e2e.test"]), {}),
                                ("PUT", "/api/v1/kb/articles/en/csrf-test", {"title": "CSRF", "summary": "x",
                                                                            "body": "x", "status": "published"}),
                                ("DELETE", "/api/v1/admin/tokens/1", None),
                                ("POST", PASSWORD, {"current_password": PW, "new_password": PW + "!"})):
            st, _, b = admin.request(method, p, body, csrf=False)
            check_error(self, (st, {}, b), 403, "%s %s with cookie, no X-CSRF-Token" % (method, p))
            self.assertEqual(error_code(b), "csrf", b)
        # nothing happened
        self.assertTrue(self.admin_users(admin)["victim@e2e.test"]["active"], "disable went through without CSRF")
        st, _, b = admin.get(path)
        self.assertEqual(st, 200, b)
        names = [t["name"] for t in b["tokens"]]
        for n in refused:
            self.assertNotIn(n, names, "a token was created by a request refused for CSRF")
        s.login("admin@e2e.test", PW)  # password unchanged
        # GET needs no CSRF header
        st, _, b = admin.request("GET", "/api/v1/admin/users", csrf=False)
        self.assertEqual(st, 200, "GET /api/v1/admin/users without X-CSRF-Token -> %s %r" % (st, b))
        # the right header works
        st, _, b = admin.request("POST", path, {"name": "csrf-ok", "role": "admin"})
        self.assertEqual(st, 201, "POST %s with cookie + X-CSRF-Token -> %s %r" % (path, st, b))
        tok = b["token"]
        # Bearer requests need no CSRF header
        st, _, b = s.request("POST", path, {"name": "csrf-bearer", "role": "agent"}, token=tok)
        self.assertEqual(st, 201, "POST %s with an admin API token, no X-CSRF-Token -> %s %r" % (path, st, b))
        st, _, b = s.request("GET", ME, token=tok)
        self.assertEqual(st, 200, "GET %s with an API token -> %s %r" % (ME, st, b))
        self.assertNotIn("csrf_token", b, "csrf_token is only for cookie sessions: %r" % b)

    def test_password_change_revokes_sessions(self):
        s = self.server
        a = s.login("pw@e2e.test", PW)
        b2 = s.login("pw@e2e.test", PW)
        st, _, b = a.request("POST", PASSWORD, {"current_password": "not it at all", "new_password": "N3w password!"})
        self.assertTrue(400 <= st < 500, "wrong current_password -> %s %r, expected 4xx" % (st, b))
        self.assert_me(a, 200, "after a refused password change")
        s.login("pw@e2e.test", PW)
        st, _, b = a.request("POST", PASSWORD, {"current_password": PW, "new_password": "N3w password!"},
                             csrf=False)
        self.assertEqual(st, 403, "password change without CSRF -> %s %r" % (st, b))
        st, _, b = a.request("POST", PASSWORD, {"current_password": PW, "new_password": "N3w password!"})
        self.assertEqual(st, 200, "POST %s -> %s %r" % (PASSWORD, st, b))
        self.assert_me(a, 401, "the session that changed the password")
        self.assert_me(b2, 401, "another session of the same user")
        self.login_fails("pw@e2e.test", PW)
        c = s.login("pw@e2e.test", "N3w password!")
        self.assert_me(c, 200, "a session with the new password")

    def test_admin_disable_and_password_revoke_sessions(self):
        s = self.server
        admin = self.admin
        uid = s.user_ids["victim@e2e.test"]
        v1 = s.login("victim@e2e.test", PW)
        v2 = s.login("victim@e2e.test", PW)
        st, _, b = admin.request("POST", "/api/v1/admin/users/%s/disable" % q(uid), {})
        self.assertEqual(st, 200, "disable -> %s %r" % (st, b))
        self.assert_me(v1, 401, "session of a disabled user")
        self.assert_me(v2, 401, "second session of a disabled user")
        self.login_fails("victim@e2e.test", PW)
        self.assertFalse(self.admin_users(admin)["victim@e2e.test"]["active"])
        st, _, b = admin.request("POST", "/api/v1/admin/users/%s/enable" % q(uid), {})
        self.assertEqual(st, 200, "enable -> %s %r" % (st, b))
        self.assertTrue(self.admin_users(admin)["victim@e2e.test"]["active"])
        self.assert_me(v1, 401, "re-enabling must not bring old sessions back")
        v3 = s.login("victim@e2e.test", PW)
        # admin sets a new password: sessions go, only the new password works
        st, _, b = admin.request("POST", "/api/v1/admin/users/%s/password" % q(uid), {"password": "Admin-set pw 1"})
        self.assertEqual(st, 200, "admin password -> %s %r" % (st, b))
        self.assert_me(v3, 401, "session after an admin password reset")
        self.login_fails("victim@e2e.test", PW)
        s.login("victim@e2e.test", "Admin-set pw 1")

    def test_admin_create_user(self):
        s = self.server
        body = {"email": "new@e2e.test", "name": "New Person", "password": "fresh password 9",
                "roles": ["editor"], "locale": "ro"}
        st, _, b = self.admin.request("POST", "/api/v1/admin/users", body)
        self.assertEqual(st, 201, "POST /api/v1/admin/users -> %s %r" % (st, b))
        self.check_user(b.get("user"), "new@e2e.test", ["editor"])
        self.assertNotIn("password", b["user"])
        self.assertNotIn("password_hash", b["user"])
        sess = s.login("new@e2e.test", "fresh password 9")
        self.assertEqual(sess.user["name"], "New Person")
        self.assertEqual(sess.user["locale"], "ro")
        st, _, b = self.admin.request("POST", "/api/v1/admin/users", body)
        self.assertTrue(400 <= st < 500 and st not in (401, 403), "duplicate e-mail -> %s %r, expected 4xx" % (st, b))
        listing = self.admin_users(self.admin)
        self.assertTrue(listing["new@e2e.test"]["active"])
        for u in listing.values():
            for k in ("id", "email", "name", "locale", "roles", "active"):
                self.assertIn(k, u, u)
            self.assertNotIn("password_hash", u)

    def test_cookie_attributes(self):
        sess = self.server.login("agent@e2e.test", PW)
        a = sess.cookie_attrs
        self.assertIs(a.get("httponly"), True, "no HttpOnly: %r" % sess.set_cookie)
        self.assertEqual(str(a.get("samesite", "")).lower(), "strict", "SameSite: %r" % sess.set_cookie)
        self.assertEqual(a.get("path"), "/", "Path: %r" % sess.set_cookie)
        self.assertNotIn("secure", a, "Secure without trust_proxy: %r" % sess.set_cookie)
        self.assertTrue(str(a.get("max-age", "")).isdigit() and int(a["max-age"]) > 0,
                        "Max-Age: %r" % sess.set_cookie)
        self.assertLessEqual(int(a["max-age"]), 43200, "Max-Age beyond session_max_s: %r" % sess.set_cookie)
        # without trust_proxy, X-Forwarded-Proto is ignored
        sess = self.server.login("agent@e2e.test", PW, headers={"X-Forwarded-Proto": "https"})
        self.assertNotIn("secure", sess.cookie_attrs,
                         "Secure from X-Forwarded-Proto with trust_proxy 0: %r" % sess.set_cookie)


class TrustProxyTests(AuthTestCase):
    server_config = {"trust_proxy": 1, "login_ip_max_failures": 1000}
    server_users = [user("agent@e2e.test", "agent")]

    def test_secure_cookie_behind_https_proxy(self):
        s = self.server
        sess = s.login("agent@e2e.test", PW, headers={"X-Forwarded-Proto": "https"})
        self.assertIn("secure", sess.cookie_attrs, "no Secure with trust_proxy 1 + X-Forwarded-Proto https: %r"
                      % sess.set_cookie)
        self.assertIs(sess.cookie_attrs.get("httponly"), True, sess.set_cookie)
        self.assertEqual(str(sess.cookie_attrs.get("samesite", "")).lower(), "strict", sess.set_cookie)
        sess = s.login("agent@e2e.test", PW)
        self.assertNotIn("secure", sess.cookie_attrs, "Secure on a plain-http request: %r" % sess.set_cookie)
        sess = s.login("agent@e2e.test", PW, headers={"X-Forwarded-Proto": "http"})
        self.assertNotIn("secure", sess.cookie_attrs, "Secure with X-Forwarded-Proto http: %r" % sess.set_cookie)


class AccountLockoutTests(AuthTestCase):
    server_config = {"login_max_failures": 3, "login_lockout_s": 2, "login_ip_max_failures": 1000}
    server_users = [user("lock@e2e.test", "agent"), user("bystander@e2e.test", "agent")]

    def test_lockout_after_failures(self):
        s = self.server
        for i in range(3):
            self.login_fails("lock@e2e.test", "wrong password %d" % i)
        # locked now: even the right password gets 429
        resp = self.login_fails("lock@e2e.test", PW, status=429, code="rate_limited")
        ra = retry_after(resp[1])
        self.assertIsNotNone(ra, "429 without an integer Retry-After: %r" % resp[1])
        self.assertTrue(1 <= ra <= 4, "Retry-After %s, expected about login_lockout_s (2)" % ra)
        self.assert_no_session_cookie(resp[1])
        resp = self.login_fails("lock@e2e.test", "another wrong one", status=429, code="rate_limited")
        ra = retry_after(resp[1]) or ra
        # the lockout is per account: someone else on the same IP signs in fine
        s.login("bystander@e2e.test", PW)
        # e-mail case does not escape the lockout
        st, h, b = s.login("LOCK@e2e.test", PW, expect=None)
        self.assertNotEqual(st, 200, "the lockout is bypassed by changing the e-mail's case: %s %r" % (st, b))
        if st == 429:
            ra = retry_after(h) or ra
        time.sleep(ra + 0.3)
        sess = s.login("lock@e2e.test", PW)
        self.assert_me(sess, 200, "after the lockout expired")


class AddressLockoutTests(AuthTestCase):
    """Regression (issue 14): failing from anywhere locked the staff member out everywhere."""
    server_config = {"login_max_failures": 3, "login_lockout_s": 2, "login_ip_max_failures": 1000}
    server_users = [user("target@e2e.test", "agent")]

    def test_failures_lock_only_the_address_that_failed(self):
        s = self.server
        # the staff member's browser signed in before and was remembered
        st, cookies, b = login_from(s, "127.0.0.3", "target@e2e.test", PW, remember=True)
        self.assertEqual(st, 200, b)
        # an attacker at 127.0.0.2 fails three times: 127.0.0.2 is locked out of the account
        for i in range(3):
            st, _, b = login_from(s, "127.0.0.2", "target@e2e.test", "wrong guess %d" % i)
            self.assertEqual((st, error_code(b)), (401, "invalid_credentials"), b)
        st, _, b = login_from(s, "127.0.0.2", "target@e2e.test", PW)
        self.assertEqual((st, error_code(b)), (429, "rate_limited"), "right password from the locked address: %r" % b)
        # e-mail case does not escape it
        st, _, b = login_from(s, "127.0.0.2", "TARGET@e2e.test", PW)
        self.assertEqual(st, 429, b)
        # the staff member at another address signs in
        st, _, b = login_from(s, "127.0.0.1", "target@e2e.test", PW)
        self.assertEqual(st, 200, "another address is locked out too: %r" % b)
        # the remembered browser signs in even from the attacker's address (a shared NAT)
        full = [c for c in cookies if c.startswith("sb_device=")]
        self.assertEqual(len(full), 1, "no device cookie: %r" % cookies)
        self.assertIn("httponly", full[0].lower())
        self.assertIn("path=/api/v1/auth/login", full[0].lower())
        device = [full[0].split(";")[0]]
        st, _, b = login_from(s, "127.0.0.2", "target@e2e.test", PW, cookie=device[0])
        self.assertEqual(st, 200, "the known device is locked out: %r" % b)
        # a forged device cookie does not
        forged = device[0][:-4] + ("0000" if not device[0].endswith("0000") else "1111")
        st, _, b = login_from(s, "127.0.0.2", "target@e2e.test", PW, cookie=forged)
        self.assertEqual(st, 429, "a forged device cookie skipped the lockout: %r" % b)
        # and the locked address works again after the lockout
        time.sleep(2.3)
        st, _, b = login_from(s, "127.0.0.2", "target@e2e.test", PW)
        self.assertEqual(st, 200, "after the lockout expired: %r" % b)


class IpLockoutTests(AuthTestCase):
    server_config = {"login_max_failures": 100, "login_lockout_s": 2, "login_ip_max_failures": 4}
    server_users = [user("real@e2e.test", "agent")]

    def test_ip_lockout(self):
        s = self.server
        for i in range(4):
            self.login_fails("nobody%d@e2e.test" % i, "guess %d" % i)
        resp = self.login_fails("real@e2e.test", PW, status=429, code="rate_limited")
        ra = retry_after(resp[1])
        self.assertIsNotNone(ra, "429 without an integer Retry-After: %r" % resp[1])
        self.assertTrue(1 <= ra <= 4, "Retry-After %s, expected about login_lockout_s (2)" % ra)
        # without trust_proxy, X-Forwarded-For does not give a fresh IP
        resp = self.login_fails("real@e2e.test", PW, status=429, code="rate_limited",
                                headers={"X-Forwarded-For": "198.51.100.7"})
        ra = retry_after(resp[1]) or ra
        time.sleep(ra + 0.3)
        sess = s.login("real@e2e.test", PW)
        self.assert_me(sess, 200, "after the IP lockout expired")


class ClockedAuthTestCase(AuthTestCase):
    """A server on the test clock (--test-clock): session ages move by advance(), not by
    sleeping, so a slow or busy machine cannot turn a request into an expiry (or spare one).
    An admin API token moves the clock: tokens do not expire with the sessions under test."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(config=cls.server_config,
                                    users=cls.server_users + [user("clock@e2e.test", "admin")])
        cls.server.extra_args = ["--test-clock"]
        cls.server.extra_env = {"SWITCHBOARD_TEST": "1"}
        try:
            cls.server.start()
            cls.clock_token = cls.server.create_token(cls.server.login("clock@e2e.test", PW), "clock", "admin")["token"]
        except BaseException:
            cls.server.failed = True
            cls.server.cleanup()
            raise

    def advance(self, seconds):
        st, _, b = self.server.request("POST", "/api/v1/test/clock", {"advance_s": seconds}, token=self.clock_token)
        self.assertEqual(st, 200, "POST /api/v1/test/clock -> %s %r" % (st, b))


class IdleExpiryTests(ClockedAuthTestCase):
    server_config = {"session_idle_s": 60, "session_max_s": 3600, "login_ip_max_failures": 1000}
    server_users = [user("idle@e2e.test", "agent")]

    def test_idle_expiry(self):
        """Two sessions from the same moment: the one used every 20 s of the server's clock
        outlives session_idle_s (60 s), the untouched one is gone after 120 s."""
        s = self.server
        quiet = s.login("idle@e2e.test", PW)
        busy = s.login("idle@e2e.test", PW)
        for step in range(1, 7):
            self.advance(20)
            st, _, b = busy.me()
            self.assertEqual(st, 200, "a session used every 20 s (idle limit 60 s) -> %s %r after %d s"
                             % (st, b, 20 * step))
        self.assert_me(quiet, 401, "a session unused for 120 s with session_idle_s 60")
        st, _, b = quiet.request("POST", LOGOUT, {})
        self.assertEqual(st, 401, "POST %s with an idle-expired session -> %s %r" % (LOGOUT, st, b))


class AbsoluteExpiryTests(ClockedAuthTestCase):
    server_config = {"session_idle_s": 1000, "session_max_s": 60, "login_ip_max_failures": 1000}
    server_users = [user("abs@e2e.test", "agent")]

    def test_absolute_expiry(self):
        s = self.server
        sess = s.login("abs@e2e.test", PW)
        for at in (20, 40):
            self.advance(20)
            self.assert_me(sess, 200, "%d s into a session with session_max_s 60" % at)
        self.advance(30)
        self.assert_me(sess, 401, "a session in constant use must end after session_max_s (60 s): at 70 s")
        self.advance(10)
        self.assert_me(sess, 401, "the expired session does not come back (80 s)")
        ma = sess.cookie_attrs.get("max-age")
        self.assertTrue(str(ma).isdigit() and 0 < int(ma) <= 60,
                        "cookie Max-Age %r outlives session_max_s 60: %r" % (ma, sess.set_cookie))


class CliTests(AuthTestCase):
    """`switchboard user add|list|disable|reset-password` on a stopped server's data directory."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(config={"login_ip_max_failures": 1000})
        cls.server.prepare()

    def listing(self):
        rc, out, err = self.server.user_cli("list")
        self.assertEqual(rc, 0, "user list exited %s: %s" % (rc, err))
        return {line.split()[1] if len(line.split()) > 1 else line: line
                for line in out.splitlines() if "@" in line}

    def test_cli_users(self):
        s = self.server
        ida = s.add_user("cli-agent@e2e.test", "cli password 1", ["agent"], name="Cli Agent", locale="ro")
        self.assertTrue(ida, "user add printed no id")
        idb = s.add_user("cli-boss@e2e.test", "cli password 2", ["editor", "admin"])
        self.assertTrue(idb and idb != ida, (ida, idb))
        s.add_user("cli-off@e2e.test", "cli password 3", ["agent"])
        s.add_user("cli-reset@e2e.test", "cli password 4", ["agent"])
        # failures: duplicate e-mail, unknown role, no password on stdin
        for args, pw, what in (
                (("--email", "cli-agent@e2e.test", "--role", "agent"), "other password 1\n", "duplicate e-mail"),
                (("--email", "cli-new@e2e.test", "--role", "superuser"), "other password 1\n", "unknown role"),
                (("--email", "cli-new2@e2e.test", "--role", "agent"), "", "empty stdin (no password)"),
                (("--email", "cli-new3@e2e.test"), "other password 1\n", "no --role"),
                (("--email", "cli-new4@e2e.test", "--role", "agent"), "password\n", "the password 'password'"),
                (("--email", "cli-new4@e2e.test", "--role", "agent"), "12345678\n", "the password '12345678'"),
                (("--email", "cli-new4@e2e.test", "--role", "agent"), "letmein2024\n", "a common password")):
            rc, out, err = s.user_cli("add", *args, input=pw)
            self.assertNotEqual(rc, 0, "user add with %s exited 0 (stdout %r)" % (what, out))
        lst = self.listing()
        self.assertEqual(set(k for k in lst if k.startswith("cli-")),
                         {"cli-agent@e2e.test", "cli-boss@e2e.test", "cli-off@e2e.test", "cli-reset@e2e.test"},
                         "user list: %r" % lst)
        self.assertIn(ida, lst["cli-agent@e2e.test"].split(), lst["cli-agent@e2e.test"])
        self.assertIn("agent", lst["cli-agent@e2e.test"])
        self.assertIn("editor", lst["cli-boss@e2e.test"])
        self.assertIn("admin", lst["cli-boss@e2e.test"])
        before = lst["cli-off@e2e.test"]
        rc, out, err = s.user_cli("disable", "--email", "cli-off@e2e.test")
        self.assertEqual(rc, 0, "user disable: %s %s" % (out, err))
        rc, out, err = s.user_cli("disable", "--email", "nobody@e2e.test")
        self.assertNotEqual(rc, 0, "user disable of an unknown e-mail exited 0")
        after = self.listing()["cli-off@e2e.test"]
        self.assertNotEqual(before, after, "user list does not show the disabled state: %r" % after)
        self.assertNotEqual(after.split()[-1], self.listing()["cli-agent@e2e.test"].split()[-1],
                            "active and disabled users look the same in user list")
        rc, out, err = s.user_cli("reset-password", "--email", "cli-reset@e2e.test", input="password1\n")
        self.assertNotEqual(rc, 0, "user reset-password to 'password1' exited 0")
        self.assertIn("password", err, "no reason given: %r" % err)
        rc, out, err = s.user_cli("reset-password", "--email", "cli-reset@e2e.test", input="brand new pass 5\n")
        self.assertEqual(rc, 0, "user reset-password: %s %s" % (out, err))
        rc, out, err = s.user_cli("reset-password", "--email", "nobody@e2e.test", input="brand new pass 5\n")
        self.assertNotEqual(rc, 0, "reset-password of an unknown e-mail exited 0")

        s.start()
        try:
            sess = s.login("cli-agent@e2e.test", "cli password 1")  # the newline is not part of it
            self.check_user(sess.user, "cli-agent@e2e.test", ["agent"])
            self.assertEqual(str(sess.user["id"]), ida)
            self.assertEqual(sess.user["name"], "Cli Agent")
            self.assertEqual(sess.user["locale"], "ro")
            self.login_fails("cli-agent@e2e.test", "cli password 1\n")
            boss = s.login("cli-boss@e2e.test", "cli password 2")
            self.check_user(boss.user, "cli-boss@e2e.test", ["editor", "admin"])
            self.login_fails("cli-off@e2e.test", "cli password 3")
            self.login_fails("cli-reset@e2e.test", "cli password 4")
            s.login("cli-reset@e2e.test", "brand new pass 5")
            for email in ("cli-new@e2e.test", "cli-new2@e2e.test", "cli-new3@e2e.test"):
                self.login_fails(email, "other password 1")
            # the admin sees the CLI's accounts, and the CLI as the actor in the audit log
            st, _, b = boss.get("/api/v1/admin/users")
            self.assertEqual(st, 200, b)
            users = {u["email"]: u for u in b["users"]}
            self.assertFalse(users["cli-off@e2e.test"]["active"], users["cli-off@e2e.test"])
            self.assertTrue(users["cli-agent@e2e.test"]["active"])
            st, _, b = boss.get("/api/v1/admin/audit?limit=100")
            self.assertEqual(st, 200, b)
            adds = [e for e in b["entries"] if e.get("action") == "user.add"]
            self.assertTrue(adds and all(e.get("actor") == "cli" for e in adds),
                            "user.add entries by the CLI: %r" % adds)
        finally:
            rc = s.close()
        self.assertEqual(rc, 0, "exit code on SIGTERM")
        # and after the server: one more user on the same data directory, then start again
        s.add_user("cli-later@e2e.test", "later password 6", ["agent"])
        s.start()
        try:
            s.login("cli-later@e2e.test", "later password 6")
            s.login("cli-reset@e2e.test", "brand new pass 5")
        finally:
            rc = s.close()
        self.assertEqual(rc, 0, "exit code on SIGTERM")

    @classmethod
    def tearDownClass(cls):
        if cls.server.alive():
            cls.server.close()


if __name__ == "__main__":
    harness.main()

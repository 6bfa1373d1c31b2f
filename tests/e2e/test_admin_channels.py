#!/usr/bin/env python3
"""GET /api/v1/admin/channels (docs/operating.md, "Channels"): every channel a plugin provides,
whether it is active and its settings with secrets shown as "set", for admins only. The server
reads the config file's "channels" object and SWITCHBOARD_CHANNEL_<NAME>_<KEY> overrides; a
secret's value never appears in the answer or in the server log.

The settings' values themselves (defaults filled in, "set" for secrets, inactive channels) are
pinned by tests/plugins/test_settings.c on sb_host_channels_json(); here the route, its access and
that nothing secret leaves the server."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PW = "correct horse battery"
TOKEN = "987654:e2e-bot-token-never-shown"
ENV_SECRET = "env-secret-never-shown-either"

CHANNEL_LUA = r'''
sb.channel{
  name = "e2e",
  settings = {
    token    = { type = "string", required = true, secret = true },
    hook_key = { type = "string", secret = true },
    api_base = { type = "string", default = "http://127.0.0.1:9" },
  },
  inbound = function(req) return nil, "not used" end,
  deliver = function(msg) return true end,
}
sb.log("info", "e2e channel loaded")
'''


class AdminChannelsTests(harness.SwitchboardTestCase):
    @classmethod
    def setUpClass(cls):
        cls.plugins = tempfile.mkdtemp(prefix="sb-plugins-")
        shutil.copytree(harness.PLUGINS, cls.plugins, dirs_exist_ok=True)
        with open(os.path.join(cls.plugins, "channels", "e2e.lua"), "w") as f:
            f.write(CHANNEL_LUA)
        cls.server = harness.Server(
            config={"channels": {"e2e": {"token": TOKEN}}},
            users=[{"email": "admin@e2e.test", "password": PW, "roles": ["admin"]},
                   {"email": "agent@e2e.test", "password": PW, "roles": ["agent"]}])
        cls.server.plugins = cls.plugins
        cls.server.extra_env = {"SWITCHBOARD_CHANNEL_E2E_HOOK_KEY": ENV_SECRET}
        cls.server.start_for_class()
        cls.admin = cls.server.login("admin@e2e.test", PW)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.close()
        shutil.rmtree(cls.plugins, ignore_errors=True)
        if rc != 0:
            raise AssertionError("switchboard exited with %r on SIGTERM, expected 0" % (rc,))

    def test_admin_sees_every_channel_without_secret_values(self):
        st, _, body = self.admin.get("/api/v1/admin/channels")
        self.assertEqual(st, 200, body)
        channels = {c["name"]: c for c in body["channels"]}
        self.assertIn("web", channels)
        self.assertIn("e2e", channels)
        for c in body["channels"]:
            self.assertEqual(set(c), {"name", "active", "settings"}, c)
            self.assertIsInstance(c["active"], bool, c)
            self.assertIsInstance(c["settings"], dict, c)
        self.assertTrue(channels["e2e"]["active"], channels["e2e"])
        self.assertEqual(channels["e2e"]["settings"],
                         {"token": "set", "hook_key": "set", "api_base": "http://127.0.0.1:9"})
        self.assertTrue(channels["web"]["active"], channels["web"])
        text = repr(body)
        self.assertNotIn(TOKEN, text)
        self.assertNotIn(ENV_SECRET, text)

    def test_only_admins(self):
        agent = self.server.login("agent@e2e.test", PW)
        st, _, body = agent.get("/api/v1/admin/channels")
        harness.check_error(self, (st, {}, body), 403, "agent")
        st, _, body = self.server.request("GET", "/api/v1/admin/channels")
        harness.check_error(self, (st, {}, body), 401, "anonymous")

    def test_secrets_never_reach_the_log(self):
        log = self.server.log_text(limit=1 << 20)
        self.assertIn("e2e channel loaded", log)
        self.assertNotIn(TOKEN, log)
        self.assertNotIn(ENV_SECRET, log)


if __name__ == "__main__":
    harness.main()

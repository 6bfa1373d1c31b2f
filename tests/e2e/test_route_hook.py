#!/usr/bin/env python3
"""The route hook (docs/plugins.md, "Hooks"): a plugin's sb.hook{event = "route"} sees the
conversation and the routing rules' choice and may change the team, priority and skills; a
hook that returns nil, fails, or names no team leaves the rules' choice."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from agents_common import PASSWORD, ask_human, clock_server  # noqa: E402

ROUTE_LUA = r'''
-- test plugin: Romanian customers to the romania team at the top priority; the rules'
-- choice is passed in and echoed into the contact-free fields for the test to read
sb.hook{
  event = "route",
  priority = 10,
  handler = function(c)
    if c.locale == "ro" then
      return { team = "romania", priority = 2, skills = { "vip" } }
    end
    if c.locale == "es" then error("boom") end
    if c.locale == "fr" then return { team = "no-such-team", priority = 7 } end
    return nil
  end,
}
-- a lower-priority hook that would send everyone to brasil: runs only when the first says nil
sb.hook{
  event = "route",
  priority = 1,
  handler = function(c)
    if c.locale == "de" then return { team = c.team == "default" and "brasil" or "default" } end
  end,
}
'''


class RouteHookTests(harness.SwitchboardTestCase):
    @classmethod
    def setUpClass(cls):
        cls.plugins = tempfile.mkdtemp(prefix="sb-plugins-")
        shutil.copytree(harness.PLUGINS, cls.plugins, dirs_exist_ok=True)
        with open(os.path.join(cls.plugins, "intents", "zz_route.lua"), "w") as f:
            f.write(ROUTE_LUA)
        cls.server = clock_server(
            [{"email": "boss@example.com", "roles": ("admin",), "status": "offline"}],
            teams=[{"id": "romania"}, {"id": "brasil"}, {"id": "orders"}],
            rules=[(1, {"locale": "pt"}, "brasil", 1, []), (2, {"topic": "track-order"}, "orders", 0, [])])
        cls.server.plugins = cls.plugins
        cls.server.start()
        cls.boss = cls.server.login("boss@example.com", PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        shutil.rmtree(cls.plugins, ignore_errors=True)

    def routed(self, locale, first=None):
        conv = self.server.start_conversation(locale)
        if first:
            self.server.send(conv, first, client_id="first")
        body = self.server.send(conv, "I want to talk to a human", client_id="ask")
        self.assertEqual(body["status"], "queued", body)
        st, _, d = self.boss.get("/api/v1/agent/conversations/%s" % conv["id"])
        self.assertEqual(st, 200, d)
        return d

    def test_hook_decides_team_priority_and_skills(self):
        d = self.routed("ro")
        self.assertEqual((d["team"], d["priority"]), ("romania", 2))
        self.assertIn("vip", d["skills"])

    def test_nil_keeps_the_rules_choice(self):
        d = self.routed("pt-BR")
        self.assertEqual((d["team"], d["priority"]), ("brasil", 1), "the rule for pt")
        d = self.routed("en")
        self.assertEqual(d["team"], "default")

    def test_topic_is_the_article_the_bot_last_found(self):
        # no hint from the plugin: the topic is the slug of the bot's last hit (docs/agents.md)
        d = self.routed("en", "how can I track my package?")
        self.assertEqual(d["team"], "orders", "the rule on topic track-order")

    def test_a_failing_hook_is_skipped_and_logged(self):
        offset = self.server.log_size()
        d = self.routed("es")
        self.assertEqual(d["team"], "default")
        self.assertIn("route hook (intents/zz_route) failed", self.server.log_text(offset))

    def test_invalid_values_are_ignored_one_by_one(self):
        offset = self.server.log_size()
        d = self.routed("fr")
        self.assertEqual((d["team"], d["priority"]), ("default", 0))
        log = self.server.log_text(offset)
        self.assertIn("no-such-team is not a team", log)
        self.assertIn("priority must be 0, 1 or 2", log)

    def test_next_hook_runs_when_the_first_returns_nil_and_sees_the_choice(self):
        d = self.routed("de")
        self.assertEqual(d["team"], "brasil", "the second hook saw team=default and moved it")


if __name__ == "__main__":
    harness.main()

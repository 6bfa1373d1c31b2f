#!/usr/bin/env python3
"""Hostile intent plugins in the real server (issue 14): one nests coroutines 5 deep, each
level starting many short-lived ones (with the old sandbox it spun for minutes, blocked /healthz
and ignored SIGTERM), one runs the backtracking pattern of the issue, one writes to sb.store and
then spins. The budget stops each; /healthz keeps answering while a customer's message is
handled, the customer gets the normal answer of the plugins behind them, nothing the failed
calls stored is kept, and SIGTERM stops the server (checked in tearDownClass)."""

import os
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

NESTED_LUA = r'''
-- hostile: work multiplied by 50 per level, in coroutines of less than a hook period each
local function level(depth)
  if depth == 0 then
    local n = 0
    for _ = 1, 100 do n = n + 1 end
    return
  end
  for _ = 1, 50 do
    local co = coroutine.create(level)
    coroutine.resume(co, depth - 1)
  end
end
sb.intent{ name = "zz_nested", priority = 1000, handler = function(ctx)
  level(5)
  ctx:reply("the nested coroutines escaped the budget")
end }
'''

PATTERN_LUA = r'''
sb.intent{ name = "zz_pattern", priority = 999, handler = function(ctx)
  local found = string.find(("a"):rep(300), ".-.-.-.-b")
  ctx:reply("the pattern ran to its end: " .. tostring(found))
end }
'''

STORE_LUA = r'''
sb.intent{ name = "zz_store", priority = 998, handler = function(ctx)
  for i = 1, 10 do sb.store.set("junk" .. i, string.rep("j", 50000)) end
  while true do end
end }
sb.intent{ name = "zz_store_report", payload = "zz-report", priority = 2000, handler = function(ctx)
  ctx:reply("junk1 is " .. tostring(sb.store.get("junk1")))
end }
'''


class HostilePluginTests(harness.SwitchboardTestCase):
    @classmethod
    def setUpClass(cls):
        cls.plugins = tempfile.mkdtemp(prefix="sb-plugins-")
        shutil.copytree(harness.PLUGINS, cls.plugins, dirs_exist_ok=True)
        for name, text in (("zz_nested", NESTED_LUA), ("zz_pattern", PATTERN_LUA), ("zz_store", STORE_LUA)):
            with open(os.path.join(cls.plugins, "intents", name + ".lua"), "w") as f:
                f.write(text)
        cls.server = harness.Server()
        cls.server.plugins = cls.plugins
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.close()
        shutil.rmtree(cls.plugins, ignore_errors=True)
        if rc != 0:
            raise AssertionError("switchboard exited with %r on SIGTERM, expected 0" % (rc,))

    def test_healthz_answers_while_hostile_plugins_run_and_the_customer_gets_the_normal_answer(self):
        conv = self.server.start_conversation("en")
        result = {}

        def customer():
            result["body"] = self.server.send(conv, "hello", client_id="m1")

        t = threading.Thread(target=customer)
        t.start()
        while t.is_alive():
            st, _, body = self.server.healthz()  # 5 s timeout: the old sandbox held it for minutes
            self.assertEqual(st, 200, body)
            t.join(0.05)
        t.join()
        body = result["body"]
        harness.check_send_shape(self, body)
        texts = [r["text"] for r in body["replies"]]
        self.assertTrue(texts, body)
        self.assertTrue(texts[0].startswith("Hello!"), texts)
        self.assertFalse([t for t in texts if "escaped" in t or "ran to its end" in t], texts)
        log = self.server.log_text(limit=200000)
        for name in ("zz_nested", "zz_pattern", "zz_store"):
            self.assertRegex(log, r"intent %s \(.*\) failed, skipped: plugin exceeded its time or "
                                  r"instruction budget" % name)

    def test_a_failed_calls_store_writes_are_not_kept(self):
        conv = self.server.start_conversation("en")
        self.server.send(conv, "hello", client_id="m1")
        body = self.server.send(conv, "report", client_id="m2", payload="zz-report")
        self.assertEqual([r["text"] for r in body["replies"]], ["junk1 is nil"], body)


if __name__ == "__main__":
    harness.main()

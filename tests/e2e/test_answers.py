#!/usr/bin/env python3
"""Bot answers: KB answers with help-page links per locale, intents, out-of-scope handoff."""

import html
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check_send_shape  # noqa: E402

TRACK = {
    "en": "how can I track my order?",
    "pt-BR": "como faço para rastrear meu pedido?",
    "ro": "cum urmăresc comanda mea?",
}


def article(locale, slug):
    """title and summary from the article's front matter in kb/demo (None where not found)."""
    out = {"title": None, "summary": None}
    try:
        with open(os.path.join(harness.KB_DEMO, locale, slug + ".md"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return out
    for key in out:
        m = re.search(r'^%s:\s*(".*")\s*$' % key, text, re.M)
        if m:
            try:
                out[key] = json.loads(m.group(1))
            except ValueError:
                pass
    return out


def quick_payloads(body):
    return [q["payload"] for r in body["replies"] for q in r["quick_replies"]]


def find_quick(body, payload):
    for r in body["replies"]:
        for q in r["quick_replies"]:
            if q["payload"] == payload:
                return q
    return None


def links(body):
    return [l for r in body["replies"] for l in r["links"]]


class AnswerTests(harness.ServerTestCase):

    def assert_kb_answer(self, locale, text, slug):
        s = self.server
        conv = s.start_conversation(locale)
        self.assertEqual(conv.get("locale"), locale, conv)
        self.assertEqual(conv.get("status"), "bot", conv)
        body = s.send(conv, text)
        check_send_shape(self, body)
        self.assertEqual(body["status"], "bot", body)
        self.assertFalse(body["duplicate"], body)
        answer = next((r for r in body["replies"] if r["links"]), None)
        self.assertIsNotNone(answer, "%s %r: no reply with a link: %r" % (locale, text, body))
        link = answer["links"][0]
        want_url = "%s/help/%s/%s" % (s.url, locale, slug)
        self.assertEqual(link["url"], want_url, "%s %r: %r" % (locale, text, body))
        self.assertTrue(link["title"].strip(), link)
        art = article(locale, slug)
        if art["summary"]:
            self.assertEqual(answer["text"], art["summary"], "the answer text must be the article summary")
        payloads = quick_payloads(body)
        for p in ("/helped", "/not_helped"):
            self.assertIn(p, payloads, "%s %r: quick replies %r" % (locale, text, body))
        # the link serves the article as HTML
        path = urllib.parse.urlsplit(link["url"]).path
        st, h, page = s.get(path)
        self.assertEqual(st, 200, "GET %s -> %s" % (path, st))
        self.assertIn("text/html", h.get("content-type", ""), h)
        self.assertIsInstance(page, str)
        title = art["title"] or link["title"]
        self.assertTrue(title in page or html.escape(title) in page or html.escape(title, quote=False) in page,
                        "GET %s: page does not contain the article title %r" % (path, title))
        return conv, body, answer

    def test_en_track_order(self):
        conv, body, answer = self.assert_kb_answer("en", TRACK["en"], "track-order")
        self.assertIn("/human", quick_payloads(body), body)
        self.assertIn("tracking number", answer["text"], answer)

    def test_pt_br_track_order(self):
        self.assert_kb_answer("pt-BR", TRACK["pt-BR"], "track-order")

    def test_ro_track_order(self):
        self.assert_kb_answer("ro", TRACK["ro"], "track-order")

    def test_other_articles(self):
        self.assert_kb_answer("en", "which payment methods do you accept?", "payment-methods")
        self.assert_kb_answer("en", "I forgot my password", "reset-password")
        self.assert_kb_answer("pt-BR", "quero devolver um produto", "return-item")

    def test_default_locale_is_en(self):
        s = self.server
        conv = s.start_conversation(None)
        self.assertEqual(conv.get("locale"), "en", conv)
        self.assertEqual(conv.get("status"), "bot", conv)

    def test_greeting(self):
        s = self.server
        for locale, text in (("en", "hi"), ("pt-BR", "olá"), ("ro", "bună ziua")):
            conv = s.start_conversation(locale)
            body = s.send(conv, text)
            check_send_shape(self, body)
            self.assertEqual(body["status"], "bot", "%s %r: %r" % (locale, text, body))
            self.assertTrue(body["replies"], "%s %r: no reply" % (locale, text))

    def test_thanks(self):
        s = self.server
        for locale, text in (("en", "thanks"), ("pt-BR", "obrigado"), ("ro", "mulțumesc")):
            conv = s.start_conversation(locale)
            body = s.send(conv, text)
            check_send_shape(self, body)
            self.assertIn(body["status"], ("bot", "resolved"), "%s %r: %r" % (locale, text, body))
            self.assertTrue(body["replies"], "%s %r: no reply" % (locale, text))

    def test_gibberish_hands_off_at_once(self):
        # nothing in the knowledge base comes close: out of scope, a person at once (the
        # clarify-then-handoff of vague questions is in test_answer_policy.py)
        s = self.server
        conv = s.start_conversation("en")
        first = s.send(conv, "qwzx vbnm plok")
        check_send_shape(self, first)
        self.assertEqual(first["status"], "queued", "an unanswerable message must hand off: %r" % first)
        self.assertTrue(first["replies"], "handoff must tell the customer: %r" % first)
        self.assertEqual(s.transcript(conv)["status"], "queued")
        # the bot is silent from now on
        third = s.send(conv, "how can I track my order?")
        self.assertEqual(third["replies"], [], third)
        self.assertEqual(third["status"], "queued", third)

    def test_off_topic_questions_are_rarely_answered_on_a_small_kb(self):
        # The demo knowledge base has 14 English articles: over so few, the learned model is
        # sure of almost anything, and the in-scope check (kb_search.c, in_scope) has to say
        # "we have not seen this". Before it, 5 of these 12 were answered (conf >= 0.5).
        off_topic = ["what's the weather like today", "who won the football game", "tell me a joke",
                     "how tall is mount everest", "what is the capital of france",
                     "recommend a good restaurant nearby", "how do I bake sourdough bread",
                     "what time is it in tokyo", "play some music for me",
                     "how many calories are in an apple", "is it going to rain tomorrow",
                     "translate hello into spanish"]
        answered = []
        for q in off_topic:
            rc, out, err = self.server.cli("kb", "search", q, "--locale", "en", "--data", self.server.data)
            self.assertEqual(rc, 0, err)
            hits = [line for line in out.splitlines() if line[:1].isdigit()]
            if hits and float(hits[0].split()[0]) >= 0.5:
                answered.append((q, hits[0]))
        self.assertLessEqual(len(answered), 3, answered)
        # ... while a paraphrase of an article is still answered
        rc, out, _ = self.server.cli("kb", "search", "how long until my parcel arrives", "--locale", "en",
                                     "--data", self.server.data)
        hits = [line for line in out.splitlines() if line[:1].isdigit()]
        self.assertGreaterEqual(float(hits[0].split()[0]), 0.5, out)

    def test_not_helped_twice_hands_off(self):
        s = self.server
        conv = s.start_conversation("en")
        a1 = s.send(conv, TRACK["en"])
        q = find_quick(a1, "/not_helped")
        self.assertIsNotNone(q, a1)
        r1 = s.send(conv, q["title"], payload="/not_helped")
        check_send_shape(self, r1)
        self.assertEqual(r1["status"], "bot", "one /not_helped must not hand off yet: %r" % r1)
        a2 = s.send(conv, "which payment methods do you accept?")
        self.assertEqual(a2["status"], "bot", a2)
        q2 = find_quick(a2, "/not_helped") or q
        r2 = s.send(conv, q2["title"], payload="/not_helped")
        check_send_shape(self, r2)
        self.assertEqual(r2["status"], "queued", "second /not_helped must hand off: %r" % r2)
        self.assertTrue(r2["replies"], r2)

    def test_helped(self):
        s = self.server
        conv = s.start_conversation("en")
        a = s.send(conv, TRACK["en"])
        q = find_quick(a, "/helped")
        self.assertIsNotNone(q, a)
        r = s.send(conv, q["title"], payload="/helped")
        check_send_shape(self, r)
        self.assertIn(r["status"], ("bot", "resolved"), r)

    def test_transcript_shape(self):
        s = self.server
        conv = s.start_conversation("en")
        body = s.send(conv, TRACK["en"], client_id="shape-1")
        tr = s.transcript(conv)
        self.assertEqual(tr.get("id"), conv["id"], tr)
        self.assertEqual(tr.get("locale"), "en", tr)
        self.assertEqual(tr.get("status"), "bot", tr)
        msgs = tr["messages"]
        self.assertEqual(len(msgs), 1 + len(body["replies"]), tr)
        for m in msgs:
            for k in ("id", "direction", "author", "text", "links", "quick_replies", "client_id", "created_at"):
                self.assertIn(k, m, m)
        ids = [m["id"] for m in msgs]
        self.assertEqual(ids, sorted(ids), "messages not in order: %r" % ids)
        first = msgs[0]
        self.assertEqual((first["id"], first["direction"], first["author"], first["text"], first["client_id"]),
                         (body["message_id"], "in", "customer", TRACK["en"], "shape-1"), first)
        for m, r in zip(msgs[1:], body["replies"]):
            self.assertEqual((m["id"], m["direction"], m["author"], m["text"]), (r["id"], "out", "bot", r["text"]))
            self.assertEqual(m["links"], r["links"])
            self.assertEqual(m["quick_replies"], r["quick_replies"])

    def test_help_page_unknown_and_traversal(self):
        s = self.server
        st, _, _ = s.get("/help/en/no-such-article")
        self.assertEqual(st, 404)
        for path in ("/help/en/..%2F..%2F..%2Fetc%2Fpasswd", "/help/../../etc/passwd",
                     "/help/..%2f..%2fetc/passwd", "/help/%2e%2e/%2e%2e%2fswitchboard.db"):
            st, _, page = s.get(path)
            self.assertIn(st, (400, 404), "GET %s -> %s" % (path, st))
            self.assertNotIn("root:", str(page))
        st, _, page = s.get("/help/en/track-order%00/../../../etc/passwd")
        self.assertLess(st, 500)
        self.assertNotIn("root:", str(page))


class PublicUrlTests(harness.ServerTestCase):
    server_config = {"public_url": "https://help.example.test:8443"}

    def test_links_use_public_url(self):
        s = self.server
        conv = s.start_conversation("en")
        body = s.send(conv, TRACK["en"])
        urls = [l["url"] for l in links(body)]
        self.assertTrue(urls, body)
        self.assertEqual(urls[0], "https://help.example.test:8443/help/en/track-order", body)


if __name__ == "__main__":
    harness.main()

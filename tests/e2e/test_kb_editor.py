#!/usr/bin/env python3
"""The editors' knowledge-base API (docs/kb-api.md) against the real server: create, update with
the revision, concurrent edits refused with 409, publish/unpublish reaching the bot, history, diff
and revert, validation errors naming the field, sanitised preview, try-a-question, categories,
the content-gap report fed by real customer conversations, helpfulness votes from the bot, and
bulk export/import that applies all or nothing."""

import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import html_inert  # noqa: E402
from harness import check_error  # noqa: E402

PW = "correct horse battery"

NEW = {
    "slug": "loyalty-points",
    "locale": "en",
    "title": "How do loyalty points work?",
    "summary": "Every dollar you spend earns one Pinecone point; 100 points give a $5 voucher.",
    "body": "## Points\n\nYou earn **one point** per dollar.\n\n- 100 points: $5 voucher\n",
    "category": "payments",
    "tags": ["loyalty"],
    "examples": ["how do pinecone points work", "what are loyalty points"],
}


def error_code(b):
    return b.get("error", {}).get("code") if isinstance(b, dict) else None


class EditorApiTests(harness.ServerTestCase):
    server_users = [
        {"email": "editor@e2e.test", "password": PW, "roles": ["editor"]},
        {"email": "second@e2e.test", "password": PW, "roles": ["editor"]},
    ]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ed = cls.server.login("editor@e2e.test", PW)
        cls.ed2 = cls.server.login("second@e2e.test", PW)

    def create(self, **over):
        art = dict(NEW, **over)
        st, _, b = self.ed.request("POST", "/api/v1/kb/articles", art)
        self.assertEqual(st, 201, b)
        return b["article"]

    def bot_links(self, text, locale="en"):
        conv = self.server.start_conversation(locale)
        body = self.server.send(conv, text)
        return [l["url"] for r in body["replies"] for l in r.get("links", [])]

    def test_create_update_publish_reaches_the_bot(self):
        a = self.create(slug="points-1")
        self.assertEqual((a["revision"], a["status"], a["group"], a["author"]),
                         (1, "draft", "points-1", "editor@e2e.test"))
        self.assertFalse(any("/points-1" in u for u in self.bot_links("how do pinecone points work")),
                         "a draft reached the bot")
        st, _, b = self.ed.request("POST", "/api/v1/kb/articles/%d/publish" % a["id"], {"revision": 1})
        self.assertEqual(st, 200, b)
        self.assertEqual((b["article"]["status"], b["article"]["revision"]), ("published", 2))
        self.assertTrue(any(u.endswith("/help/en/points-1") for u in self.bot_links("how do pinecone points work")),
                        "the published article does not reach the bot")
        st, _, page = self.server.get("/help/en/points-1")
        self.assertEqual(st, 200)
        st, _, b = self.ed.request("POST", "/api/v1/kb/articles/%d/unpublish" % a["id"], {"revision": 2})
        self.assertEqual((st, b["article"]["status"]), (200, "draft"), b)
        self.assertFalse(any("/points-1" in u for u in self.bot_links("how do pinecone points work")),
                         "an unpublished article still reaches the bot")

    def test_concurrent_edit_is_refused_not_overwritten(self):
        a = self.create(slug="points-2")
        path = "/api/v1/kb/articles/%d" % a["id"]
        st, _, b = self.ed.request("PUT", path, {"revision": 1, "summary": "First editor's text."})
        self.assertEqual((st, b.get("change"), b["article"]["revision"]), (200, "changed", 2), b)
        st, _, b = self.ed2.request("PUT", path, {"revision": 1, "summary": "Second editor's text."})
        check_error(self, (st, {}, b), 409, "a save based on an old revision")
        self.assertEqual(error_code(b), "conflict")
        self.assertIn("editor@e2e.test", b["error"]["message"], "the conflict does not say who saved")
        self.assertEqual(b["current"]["summary"], "First editor's text.")
        st, _, b = self.ed.get(path)
        self.assertEqual(b["article"]["summary"], "First editor's text.", "the first save was overwritten")
        st, _, b = self.ed2.request("PUT", path, {"summary": "No revision given."})
        check_error(self, (st, {}, b), 400, "a save without a revision")

    def test_history_diff_and_revert(self):
        a = self.create(slug="points-3", body="line one\nline two\nline three\n")
        path = "/api/v1/kb/articles/%d" % a["id"]
        st, _, b = self.ed.request("PUT", path, {"revision": 1, "body": "line one\nline 2\nline three\n",
                                                 "examples": NEW["examples"] + ["points balance"]})
        self.assertEqual(st, 200, b)
        st, _, b = self.ed.get(path + "/revisions")
        self.assertEqual([r["revision"] for r in b["revisions"]], [2, 1])
        st, _, b = self.ed.get(path + "/diff?from=1&to=2")
        self.assertEqual(st, 200, b)
        fields = {f["field"]: f for f in b["fields"]}
        self.assertFalse(fields["title"]["changed"])
        self.assertTrue(fields["body"]["changed"])
        self.assertEqual([(l["op"], l["text"]) for l in fields["body"]["lines"]],
                         [(" ", "line one"), ("-", "line two"), ("+", "line 2"), (" ", "line three")])
        self.assertIn(("+", "points balance"), [(l["op"], l["text"]) for l in fields["examples"]["lines"]])
        st, _, b = self.ed.get(path + "/revisions/1")
        self.assertEqual(b["revision"]["body"], "line one\nline two\nline three\n")
        st, _, b = self.ed.request("POST", path + "/revert", {"to": 1, "revision": 2})
        self.assertEqual(st, 200, b)
        self.assertEqual((b["article"]["revision"], b["article"]["body"]), (3, "line one\nline two\nline three\n"))
        self.assertEqual(b["article"]["examples"], NEW["examples"])
        st, _, b = self.ed.request("POST", path + "/revert", {"to": 99, "revision": 3})
        check_error(self, (st, {}, b), 404, "revert to a missing revision")
        st, _, b = self.ed.get(path + "/diff?from=1&to=99")
        check_error(self, (st, {}, b), 404, "diff with a missing revision")

    def test_bad_input_names_the_field_and_stores_nothing(self):
        cases = [
            (dict(NEW, slug="bad-1", title=""), "title"),
            (dict(NEW, slug="bad-2", locale="xx-YY"), "locale"),
            (dict(NEW, slug="bad-3", title="<script>alert(1)</script>"), "title"),
            (dict(NEW, slug="bad-4", summary="see <img src=x onerror=alert(1)>"), "summary"),
            (dict(NEW, slug="bad-5", body="x" * (64 * 1024 + 1)), "body"),
            (dict(NEW, slug="Bad Slug"), "slug"),
            (dict(NEW, slug="bad-9", examples="not a list"), "examples"),
            (dict(NEW, slug="bad-10", examples=["ok", 5]), "examples[1]"),
            (dict(NEW, slug="bad-11", title=42), "title"),
            (dict(NEW, slug="bad-12", status="live"), "status"),
        ]
        for art, field in cases:
            st, _, b = self.ed.request("POST", "/api/v1/kb/articles", art)
            check_error(self, (st, {}, b), 400, "field %s" % field)
            self.assertTrue(b["error"]["message"].startswith(field + ":"),
                            "the error does not name %s first: %r" % (field, b))
        raw = b'{"slug":"bad-utf8","locale":"en","title":"caf\xc3"}'
        st, _, b = self.ed.request("POST", "/api/v1/kb/articles", raw=raw)
        check_error(self, (st, {}, b), 400, "invalid UTF-8")
        st, _, b = self.ed.get("/api/v1/kb/articles?q=bad")
        self.assertEqual([a["slug"] for a in b["articles"] if a["slug"].startswith("bad")], [],
                         "a refused article was stored")
        self.create(slug="dup-1")
        st, _, b = self.ed.request("POST", "/api/v1/kb/articles", dict(NEW, slug="dup-1"))
        check_error(self, (st, {}, b), 409, "a duplicate slug")
        st, _, b = self.ed.get("/api/v1/kb/articles/abc")
        check_error(self, (st, {}, b), 404, "a non-numeric id")
        other = self.create(slug="dup-2")
        st, _, b = self.ed.request("PUT", "/api/v1/kb/articles/%d" % other["id"], {"revision": 1, "slug": "dup-1"})
        check_error(self, (st, {}, b), 409, "renaming onto a taken slug")
        self.assertEqual(error_code(b), "exists", b)

    def test_list_filters_and_translations(self):
        en = self.create(slug="points-4", status="published", tags=["loyalty", "vip"])
        st, _, b = self.ed.request("POST", "/api/v1/kb/articles",
                                   dict(NEW, slug="pontos-fidelidade", locale="pt-BR", group="points-4",
                                        title="Como funcionam os pontos?", examples=["como funcionam os pontos"]))
        self.assertEqual(st, 201, b)
        st, _, b = self.ed.get("/api/v1/kb/articles/%d" % en["id"])
        self.assertEqual(sorted(t["locale"] for t in b["translations"]), ["en", "pt-BR"])
        self.assertIn("<strong>one point</strong>", b["html"])
        st, _, b = self.ed.get("/api/v1/kb/articles?locale=pt-BR&q=pontos")
        self.assertIn("pontos-fidelidade", [a["slug"] for a in b["articles"]])
        self.assertNotIn("points-4", [a["slug"] for a in b["articles"]])
        st, _, b = self.ed.get("/api/v1/kb/articles?tag=vip")
        self.assertEqual([a["slug"] for a in b["articles"]], ["points-4"])
        st, _, b = self.ed.get("/api/v1/kb/articles?status=published&locale=en")
        self.assertTrue(all(a["status"] == "published" and a["locale"] == "en" for a in b["articles"]))
        self.assertGreaterEqual(len(b["articles"]), 14, "the demo KB has 14 published English articles")
        st, _, b = self.ed.get("/api/v1/kb/articles?status=bogus")
        check_error(self, (st, {}, b), 400, "an unknown status filter")

    def test_preview_is_sanitised(self):
        st, _, b = self.ed.request("POST", "/api/v1/kb/preview",
                                   {"body": "**bold** <script>alert(1)</script> <img src=x onerror=alert(1)>"
                                            "\n\n[x](javascript:alert(1)) [ok](https://example.com)"})
        self.assertEqual(st, 200, b)
        html = b["html"]
        self.assertIn("<strong>bold</strong>", html)
        for bad in ("<script", "onerror", "javascript:", "<img"):
            self.assertNotIn(bad, html.lower(), "preview let %s through: %s" % (bad, html))
        self.assertIn('href="https://example.com"', html)

    def rendered_everywhere(self, art):
        """The rendered body of a published article wherever it is shown: the editor's article
        view, its preview, and the help-center page's article body."""
        st, _, b = self.ed.get("/api/v1/kb/articles/%d" % art["id"])
        self.assertEqual(st, 200, b)
        out = {"editor": b["html"]}
        st, _, b = self.ed.request("POST", "/api/v1/kb/preview", {"body": art["body"]})
        self.assertEqual(st, 200, b)
        out["preview"] = b["html"]
        st, _, page = self.server.get("/help/en/" + art["slug"])
        self.assertEqual(st, 200)
        page = page.decode() if isinstance(page, bytes) else page
        start = page.index('<div class="article-body">')
        out["help center"] = page[start:page.index("</article>", start)]
        return out

    def test_hostile_bodies_save_but_render_inert_everywhere(self):
        """Issue 14: the body blocklist let these through ("&#106;avascript:", "onerror\t=",
        <iframe>). They are Markdown like any other; what counts is their rendered HTML."""
        for i, body in enumerate(html_inert.HOSTILE_BODIES):
            art = self.create(slug="hostile-%d" % i, status="published", body=body,
                              examples=["hostile probe number %d" % i])
            for where, html in self.rendered_everywhere(art).items():
                self.assertEqual(html_inert.problems(html), [],
                                 "%s renders %r as %s" % (where, body, html))
        # the bot answers with the summary (plain text) and the article's own help-center link
        conv = self.server.start_conversation("en")
        reply = self.server.send(conv, "hostile probe number 0")["replies"][0]
        self.assertEqual([l["url"].rsplit("/", 3)[1:] for l in reply["links"]],
                         [["help", "en", "hostile-0"]], reply)
        self.assertEqual(reply["text"], NEW["summary"])

    def test_harmless_text_about_scripts_is_accepted_and_shown_as_text(self):
        """Issue 14: the blocklist refused "Note on JavaScript: enable it" and a code block
        showing the widget's <script> embed."""
        for i, (body, shown) in enumerate(html_inert.HARMLESS_BODIES):
            art = self.create(slug="harmless-%d" % i, status="published", body=body,
                              title="Note on JavaScript: enable it (%d)" % i)
            for where, html in self.rendered_everywhere(art).items():
                self.assertIn(shown, html, where)
                self.assertEqual(html_inert.problems(html), [], where)

    def test_try_a_question(self):
        st, _, b = self.ed.request("POST", "/api/v1/kb/try", {"text": "how do I reset my password", "locale": "en"})
        self.assertEqual(st, 200, b)
        self.assertEqual(b["answer"]["slug"], "reset-password", b)
        self.assertGreaterEqual(b["answer"]["confidence"], b["threshold"])
        self.assertGreater(len(b["hits"]), 1, "no runners-up")
        confs = [h["confidence"] for h in b["hits"]]
        self.assertEqual(confs, sorted(confs, reverse=True))
        st, _, b = self.ed.request("POST", "/api/v1/kb/try", {"text": "zzqx flurbo", "locale": "en"})
        self.assertEqual((st, b["answer"]), (200, None), b)
        st, _, b = self.ed.request("POST", "/api/v1/kb/try", {"text": ""})
        check_error(self, (st, {}, b), 400, "an empty question")

    def test_categories(self):
        st, _, b = self.ed.get("/api/v1/kb/categories?locale=pt-BR")
        self.assertEqual(st, 200, b)
        cats = {c["slug"]: c for c in b["categories"]}
        self.assertIn("orders", cats)
        st, _, b = self.ed.request("PUT", "/api/v1/kb/categories/pt-BR/orders",
                                   {"name": "Pedidos e entregas", "description": "Tudo sobre pedidos", "position": 1})
        self.assertEqual(st, 200, b)
        cats = {c["slug"]: c for c in b["categories"]}
        self.assertEqual(cats["orders"]["name"], "Pedidos e entregas")
        self.assertGreater(cats["orders"]["articles"], 0)
        st, _, b = self.ed.request("PUT", "/api/v1/kb/categories/pt-BR/orders", {"name": "<b>x</b>"})
        check_error(self, (st, {}, b), 400, "HTML in a category name")
        self.assertTrue(b["error"]["message"].startswith("name:"), b)

    def test_gap_report_and_add_as_example(self):
        s = self.server
        question = "is the zorblex festival suitable for toddlers"
        for _ in range(2):
            conv = s.start_conversation("en")
            s.send(conv, question)
        conv = s.start_conversation("en")
        s.send(conv, "my frobnicator widget exploded")
        s.send(conv, "my frobnicator widget exploded again")  # second miss: handed off
        st, _, b = self.ed.get("/api/v1/kb/gaps?locale=en")
        self.assertEqual(st, 200, b)
        gaps = {g["question"]: g for g in b["gaps"]}
        self.assertIn(question, gaps, b)
        self.assertEqual(gaps[question]["count"], 2)
        handed = [g for g in b["gaps"] if "frobnicator" in g["question"]]
        self.assertTrue(any(g["outcomes"]["handoff"] >= 1 for g in handed), handed)
        # "add as example question" on an article makes the bot answer it with that article
        st, _, lst = self.ed.get("/api/v1/kb/articles?locale=en&q=opening-hours-contact")
        art = next(a for a in lst["articles"] if a["slug"] == "opening-hours-contact")
        st, _, full = self.ed.get("/api/v1/kb/articles/%d" % art["id"])
        st, _, b = self.ed.request("PUT", "/api/v1/kb/articles/%d" % art["id"],
                                   {"revision": full["article"]["revision"],
                                    "examples": full["article"]["examples"] + [question]})
        self.assertEqual(st, 200, b)
        st, _, b = self.ed.request("POST", "/api/v1/kb/try", {"text": question, "locale": "en"})
        self.assertEqual((b["answer"] or {}).get("slug"), "opening-hours-contact", b)

    def test_helpfulness_votes_from_the_bot(self):
        s = self.server
        conv = s.start_conversation("en")
        body = s.send(conv, "how do I reset my password")
        self.assertTrue(any("/reset-password" in l["url"] for r in body["replies"] for l in r["links"]), body)
        st, _, lst = self.ed.get("/api/v1/kb/articles?locale=en&q=reset-password")
        art = next(a for a in lst["articles"] if a["slug"] == "reset-password")
        link = next(l for r in body["replies"] for l in r["links"] if "/reset-password" in l["url"])
        self.assertEqual(link.get("article_id"), art["id"], "the bot's link does not name its article")
        st, _, b = s.request("POST", s.conv_path(conv, "/feedback"), {"article_id": art["id"], "helpful": "yes"},
                             token=conv["token"])
        check_error(self, (st, {}, b), 400, "helpful must be a boolean")
        st, _, b = s.request("POST", s.conv_path(conv, "/feedback"), {"article_id": 999999, "helpful": True},
                             token=conv["token"])
        check_error(self, (st, {}, b), 404, "a vote for a missing article")
        # the legitimate vote counts
        st, _, b = s.request("POST", s.conv_path(conv, "/feedback"), {"article_id": art["id"], "helpful": True},
                             token=conv["token"])
        self.assertEqual(st, 200, b)
        st, _, b = self.ed.get("/api/v1/kb/helpfulness?locale=en")
        row = next(r for r in b["articles"] if r["slug"] == "reset-password")
        self.assertEqual((row["bot_up"], row["bot_down"]), (1, 0), row)

    def votes_of(self, slug):
        st, _, b = self.ed.get("/api/v1/kb/helpfulness?locale=en")
        self.assertEqual(st, 200, b)
        return next((r for r in b["articles"] if r["slug"] == slug),
                    {"bot_up": 0, "bot_down": 0, "help_up": 0, "help_down": 0})

    def test_customer_votes_only_on_articles_shown_to_them_once(self):
        """Issue 14, feedback poisoning: a customer voted on articles never shown (a draft, even),
        as often as they liked."""
        s = self.server
        draft = self.create(slug="poison-draft", examples=["when is the secret sale"])
        st, _, lst = self.ed.get("/api/v1/kb/articles?locale=en&q=payment-methods")
        unshown = next(a for a in lst["articles"] if a["slug"] == "payment-methods")
        conv = s.start_conversation("en")
        body = s.send(conv, "how can I track my order")
        shown = next(l["article_id"] for r in body["replies"] for l in r["links"])
        before = {slug: self.votes_of(slug) for slug in ("poison-draft", "payment-methods")}

        def vote(article_id, helpful, c=conv):
            return s.request("POST", s.conv_path(c, "/feedback"),
                             {"article_id": article_id, "helpful": helpful}, token=c["token"])

        for article_id in (draft["id"], unshown["id"]):
            resp = vote(article_id, False)
            check_error(self, resp, 404, "a vote on article %d, never shown" % article_id)
            self.assertEqual(resp[2]["error"]["code"], "not_shown", resp)
        self.assertEqual({slug: self.votes_of(slug) for slug in before}, before, "a refused vote was stored")
        # the shown article: the first vote counts, the next ones do not
        track_before = self.votes_of("track-order")
        st, _, b = vote(shown, False)
        self.assertEqual(st, 200, b)
        for helpful in (False, False, True):
            resp = vote(shown, helpful)
            check_error(self, resp, 409, "a second vote in one conversation")
            self.assertEqual(resp[2]["error"]["code"], "already_voted", resp)
        after = self.votes_of("track-order")
        self.assertEqual((after["bot_up"], after["bot_down"]), (track_before["bot_up"], track_before["bot_down"] + 1))
        # typed answers go the same way: "yes" after a vote is not a second one
        s.send(conv, "Yes, that helped", payload="/helped")
        self.assertEqual(self.votes_of("track-order")["bot_up"], track_before["bot_up"])
        # another conversation was not shown it
        other = s.start_conversation("en")
        check_error(self, vote(shown, False, other), 404, "a vote from a conversation never shown it")

    def test_export_import_all_or_nothing(self):
        st, _, b = self.ed.get("/api/v1/kb/export?locale=ro")
        self.assertEqual(st, 200)
        arts = b["articles"]
        self.assertGreaterEqual(len(arts), 14)
        self.assertTrue(all("body" in a and "examples" in a for a in arts))
        st, _, b = self.ed.request("POST", "/api/v1/kb/import", {"articles": arts})
        self.assertEqual((st, b.get("added"), b.get("changed"), b.get("unchanged")), (200, 0, 0, len(arts)), b)
        items = [dict(NEW, slug="imp-ok"), dict(NEW, slug="imp-bad", title="")]
        st, _, b = self.ed.request("POST", "/api/v1/kb/import", {"articles": items})
        check_error(self, (st, {}, b), 400, "an import with a bad item")
        self.assertTrue(b["error"]["message"].startswith("articles[1].title:"), b)
        st, _, b = self.ed.get("/api/v1/kb/articles?q=imp-ok")
        self.assertEqual(b["articles"], [], "half an import was applied")

    def test_synonyms_widen_the_search(self):
        # no word of the question says "refund": only the synonym can lead there
        question = "how do I get my zwiebelbox"
        st, _, before = self.ed.request("POST", "/api/v1/kb/try", {"text": question, "locale": "en"})
        self.assertNotEqual([h["slug"] for h in before["hits"]][:1], ["refund-status"], before)
        st, _, b = self.ed.request("PUT", "/api/v1/kb/synonyms/en/zwiebelbox", {"synonyms": ["money back", "refund"]})
        self.assertEqual(st, 200, b)
        self.assertIn({"term": "zwiebelbox", "synonyms": ["money back", "refund"]},
                      [{"term": x["term"], "synonyms": x["synonyms"]} for x in b["synonyms"]])
        st, _, after = self.ed.request("POST", "/api/v1/kb/try", {"text": question, "locale": "en"})
        self.assertEqual(after["hits"][0]["slug"], "refund-status", after)
        # other locales are untouched, and an empty list removes the term
        st, _, b = self.ed.get("/api/v1/kb/synonyms?locale=pt-BR")
        self.assertEqual(b["synonyms"], [])
        st, _, b = self.ed.request("PUT", "/api/v1/kb/synonyms/en/zwiebelbox", {"synonyms": []})
        self.assertEqual((st, [x["term"] for x in b["synonyms"]]), (200, []), b)
        for bad, field in (({"synonyms": "refund"}, "synonyms"), ({"synonyms": ["<b>x</b>"]}, "synonyms[0]")):
            st, _, b = self.ed.request("PUT", "/api/v1/kb/synonyms/en/zwiebelbox", bad)
            check_error(self, (st, {}, b), 400, "bad synonyms %r" % bad)
            self.assertTrue(b["error"]["message"].startswith(field + ":"), b)
        st, _, b = self.ed.request("PUT", "/api/v1/kb/synonyms/xx/zwiebelbox", {"synonyms": ["a"]})
        check_error(self, (st, {}, b), 400, "an unknown locale")

    def test_delete(self):
        a = self.create(slug="points-del", status="published")
        st, _, b = self.ed.request("DELETE", "/api/v1/kb/articles/%d" % a["id"])
        self.assertEqual((st, b.get("deleted")), (200, a["id"]), b)
        st, _, b = self.ed.get("/api/v1/kb/articles/%d" % a["id"])
        check_error(self, (st, {}, b), 404, "a deleted article")
        db = sqlite3.connect(os.path.join(self.server.data, "switchboard.db"))
        try:
            n = db.execute("SELECT COUNT(*) FROM kb_revisions WHERE article_id=?", (a["id"],)).fetchone()[0]
            # kb_fts_content: kb_fts itself needs the server's tokenizer
            fts = db.execute("SELECT COUNT(*) FROM kb_fts_content WHERE id=?",
                             (a["id"],)).fetchone()[0]
        finally:
            db.close()
        self.assertEqual((n, fts), (0, 0), "revisions or the index entry outlived the article")


if __name__ == "__main__":
    harness.main()

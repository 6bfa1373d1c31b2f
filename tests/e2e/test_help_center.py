#!/usr/bin/env python3
"""The public help center: server-rendered HTML pages per locale (home, category, search,
article), the redirect from /help by Accept-Language, locale and translation fallbacks, the
"was this helpful?" form, HTML error pages, escaping of hostile article text, and hostile search
input."""

import html
import html.parser
import json
import os
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PW = "correct horse battery"
LOCALES = ("en", "pt-BR", "ro")
EDITOR = {"email": "editor@help.test", "password": PW, "roles": ["editor"]}

EN_ONLY = """---
title: "Can I pay with zebracoins?"
slug: only-english
locale: en
category: payments
status: published
summary: "Zebracoins are not accepted yet; pay by card or bank transfer."
examples:
  - can I pay with zebracoins
---
# Zebracoins

We do not accept zebracoins yet. Pay by card or bank transfer.
"""

DRAFT = """---
title: "Secret upcoming quokka sale"
slug: draft-article
locale: en
category: orders
status: draft
summary: "The quokka sale starts next month."
examples:
  - when is the quokka sale
---
Not public yet: the quokka sale.
"""

HOSTILE_TITLE = "Tricky <script>alert(1)</script> & \"quotes\" 'apos'"
HOSTILE_SUMMARY = "Summary with <b>bold</b> & \"double\" 'single' <script>alert(3)</script>"
HOSTILE_BODY = ("Hello <img src=x onerror=alert(1)>\n\n"
                "[click me](javascript:alert(1)) and <a href=\"javascript:alert(2)\">raw</a>\n\n"
                "<script>alert(2)</script>\n\n"
                "![pic](javascript:alert(4))\n")


def view_token(page, required=True):
    """The page view's token in an article page's feedback form (None when there is none and
    not required)."""
    views = [a.get("value") for t, a in page.tags if t == "input" and a.get("name") == "view"]
    assert len(views) == 1 or (not views and not required), views
    return views[0] if views else None


def demo_front(locale, slug):
    """title and summary from kb/demo/<locale>/<slug>.md."""
    with open(os.path.join(harness.KB_DEMO, locale, slug + ".md"), encoding="utf-8") as f:
        text = f.read()
    out = {}
    for key in ("title", "summary"):
        m = re.search(r'^%s:\s*(".*")\s*$' % key, text, re.M)
        out[key] = json.loads(m.group(1)) if m else None
    return out


def demo_category_name(locale, slug):
    """The name of a category in kb/demo/<locale>/_categories.yaml (None when absent)."""
    try:
        with open(os.path.join(harness.KB_DEMO, locale, "_categories.yaml"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    m = re.search(r'^%s:\s*\n\s+name:\s*(".*")\s*$' % re.escape(slug), text, re.M)
    return json.loads(m.group(1)) if m else None


class Page(html.parser.HTMLParser):
    """The parts of a page the tests look at."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.html_lang = None
        self.title = ""
        self.metas = []
        self.links = []
        self.anchors = []
        self.forms = []
        self.buttons = []
        self.tags = []
        self.h1 = []
        self._in = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "html":
            self.html_lang = a.get("lang")
        elif tag == "meta":
            self.metas.append(a)
        elif tag == "link":
            self.links.append(a)
        elif tag == "a":
            self.anchors.append(a)
        elif tag == "form":
            self.forms.append(a)
        elif tag == "button":
            self.buttons.append(a)
        if tag in ("title", "h1"):
            self._in = tag
            if tag == "h1":
                self.h1.append("")

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.h1[-1] += data

    def meta(self, name):
        for m in self.metas:
            if m.get("name") == name:
                return m.get("content")
        return None

    def rel(self, rel):
        return [l for l in self.links if l.get("rel") == rel]

    def hrefs(self):
        return [a.get("href") for a in self.anchors]

    def has(self, tag, **attrs):
        return any(t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
                   for t, a in self.tags)


class HelpCenterTests(harness.SwitchboardTestCase):

    @classmethod
    def setUpClass(cls):
        cls.extra = tempfile.mkdtemp(prefix="switchboard-help-kb-")
        os.makedirs(os.path.join(cls.extra, "en"))
        for name, text in (("only-english.md", EN_ONLY), ("draft-article.md", DRAFT)):
            with open(os.path.join(cls.extra, "en", name), "w", encoding="utf-8") as f:
                f.write(text)

        def import_extra(server):
            rc, out, err = server.cli("kb", "import", cls.extra, "--data", server.data)
            if rc != 0:
                raise AssertionError("kb import %s: exit %s\n%s%s" % (cls.extra, rc, out, err))

        # the votes of every test here come from one address: HelpCenterVoteFloodTests has the
        # default per-address limit
        cls.server = harness.Server(users=[EDITOR], before_start=import_extra,
                                    config={"help_vote_burst": 100000})
        cls.server.start_for_class()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.extra, ignore_errors=True)
        rc = cls.server.close()
        if rc != 0:
            cls.server.dump_log("(bad exit in tearDownClass)")
            raise AssertionError("switchboard exited with %r on SIGTERM, expected 0" % (rc,))

    # -- helpers
    def page(self, path, status=200, headers=None):
        st, h, body = self.server.get(path, headers=headers)
        self.assertEqual(st, status, "GET %s -> %s %r" % (path, st, str(body)[:300]))
        self.assertIn("text/html", h.get("content-type", ""), "GET %s: %r" % (path, h))
        self.assertIsInstance(body, str)
        self.assert_shell(path, body, h)
        return body, Page(body)

    def assert_shell(self, path, body, headers):
        """What every page has: doctype, lang, viewport, landmarks, one h1, skip link, the
        stylesheet, the search form, and the CSP header."""
        p = Page(body)
        self.assertTrue(body.lstrip().lower().startswith("<!doctype html>"), path)
        self.assertTrue(p.html_lang, "%s: no <html lang>" % path)
        self.assertIn("width=device-width", p.meta("viewport") or "", path)
        for tag in ("header", "main", "footer"):
            self.assertTrue(p.has(tag), "%s: no <%s>" % (path, tag))
        navs = [a for t, a in p.tags if t == "nav"]
        self.assertTrue(navs and all(a.get("aria-label") for a in navs), "%s: nav without aria-label" % path)
        self.assertEqual(len(p.h1), 1, "%s: %d h1 elements" % (path, len(p.h1)))
        self.assertTrue(p.has("a", href="#main"), "%s: no skip link" % path)
        self.assertTrue(p.has("main", id="main"), "%s: the skip link has no target" % path)
        self.assertTrue(any(l.get("href") == "/static/help/help.css" for l in p.rel("stylesheet")), path)
        self.assertTrue(any(f.get("method") == "get" and f.get("action", "").endswith("/search")
                            for f in p.forms), "%s: no search form" % path)
        csp = headers.get("content-security-policy", "")
        self.assertIn("script-src 'self'", csp, "%s: CSP %r" % (path, csp))
        self.assertNotIn("unsafe-inline", csp)
        self.assertFalse(re.search(r"<script|style=|<style", body, re.I), "%s: inline script or style" % path)

    def redirect(self, path, status=302, headers=None):
        st, h, body = self.server.get(path, headers=headers)
        self.assertEqual(st, status, "GET %s -> %s %r" % (path, st, str(body)[:200]))
        return h.get("location")

    def db(self):
        return sqlite3.connect(os.path.join(self.server.data, "switchboard.db"), timeout=10)

    def editor(self):
        return self.server.login(EDITOR["email"], EDITOR["password"])

    # -- home and category pages
    def test_home_lists_categories_and_articles_per_locale(self):
        for loc in LOCALES:
            body, p = self.page("/help/" + loc)
            self.assertEqual(p.html_lang, loc)
            self.assertIn("/help/%s/track-order" % loc, p.hrefs(), loc)
            self.assertIn("/help/%s/category/orders" % loc, p.hrefs(), loc)
            title = demo_front(loc, "track-order")["title"]
            self.assertIn(html.escape(title, quote=False), body, "%s: title %r" % (loc, title))
            name = demo_category_name(loc, "orders")
            if name:
                self.assertIn(html.escape(name, quote=False), body, "%s: category %r" % (loc, name))
            # the switcher links every locale's home, and hreflang says the same
            for other in LOCALES:
                self.assertIn("/help/" + other, p.hrefs(), loc)
            self.assertEqual(sorted(l["hreflang"] for l in p.rel("alternate")),
                             sorted(list(LOCALES) + ["x-default"]), loc)
        en = self.page("/help/en")[0]
        self.assertIn("/help/en/only-english", en, "the en-only article is not listed")
        self.assertNotIn("/help/ro/only-english", self.page("/help/ro")[0])

    def test_categories_follow_their_position(self):
        body, p = self.page("/help/en")
        order = [h for h in p.hrefs() if "/category/" in h]
        self.assertEqual(order[:2], ["/help/en/category/orders", "/help/en/category/shipping"], order)

    def test_category_page(self):
        body, p = self.page("/help/pt-BR/category/orders")
        name = demo_category_name("pt-BR", "orders") or "Orders"
        self.assertEqual(p.h1[0].strip(), name)
        self.assertIn("/help/pt-BR/track-order", p.hrefs())
        self.assertNotIn("/help/pt-BR/payment-methods", p.hrefs())
        summary = demo_front("pt-BR", "track-order")["summary"]
        self.assertIn(html.escape(summary[:40], quote=False), body)
        self.page("/help/en/category/no-such-category", 404)
        self.page("/help/en/category/Bad%20Category!", 404)

    # -- article pages
    def test_article_head_and_links(self):
        s = self.server
        body, p = self.page("/help/en/track-order")
        art = demo_front("en", "track-order")
        self.assertEqual(p.html_lang, "en")
        self.assertIn(art["title"], p.title)
        self.assertEqual(p.h1[0].strip(), art["title"])
        self.assertEqual(p.meta("description"), art["summary"])
        canon = p.rel("canonical")
        self.assertEqual([l["href"] for l in canon], [s.url + "/help/en/track-order"])
        alt = {l["hreflang"]: l["href"] for l in p.rel("alternate")}
        for loc in LOCALES:
            self.assertEqual(alt.get(loc), "%s/help/%s/track-order" % (s.url, loc), alt)
        self.assertEqual(alt.get("x-default"), s.url + "/help/en/track-order", alt)
        # breadcrumbs: home > category > article
        self.assertIn("/help/en", p.hrefs())
        self.assertIn("/help/en/category/orders", p.hrefs())
        self.assertTrue(p.has("li", aria_current="page"))
        # the body is rendered Markdown
        self.assertIn("<h2>Find your tracking number</h2>", body)
        self.assertIn("<strong>My account &gt; Orders</strong>", body)
        # the feedback form
        self.assertIn({"method": "post", "action": "/help/en/track-order/feedback"},
                      [{k: f.get(k) for k in ("method", "action")} for f in p.forms])
        self.assertEqual(sorted((b.get("name"), b.get("value")) for b in p.buttons if b.get("name")),
                         [("helpful", "no"), ("helpful", "yes")])
        # with the page view's token, a new one on every view
        self.assertRegex(view_token(p), r"^[0-9]+\.[0-9a-f]{16}\.[0-9a-f]{32}$")
        self.assertNotEqual(view_token(p), view_token(self.page("/help/en/track-order")[1]))

    def test_article_in_each_locale(self):
        for loc in LOCALES:
            body, p = self.page("/help/%s/track-order" % loc)
            self.assertEqual(p.html_lang, loc)
            self.assertEqual(p.h1[0].strip(), demo_front(loc, "track-order")["title"])
            for other in LOCALES:
                self.assertIn("/help/%s/track-order" % other, p.hrefs(), "%s: switcher" % loc)

    def test_public_url_in_canonical(self):
        with harness.Server(config={"public_url": "https://help.example.test"}) as s:
            st, h, body = s.get("/help/ro/track-order")
            self.assertEqual(st, 200)
            p = Page(body)
            self.assertEqual([l["href"] for l in p.rel("canonical")],
                             ["https://help.example.test/help/ro/track-order"])

    # -- locales
    def test_accept_language_picks_the_locale(self):
        cases = [
            ("pt-PT,pt;q=0.9", "/help/pt-BR"),
            ("pt", "/help/pt-BR"),
            ("ro-RO,ro;q=0.9,en;q=0.8", "/help/ro"),
            ("de, ro;q=0.8, en;q=0.5", "/help/ro"),
            ("en;q=0.2, ro;q=0.9", "/help/ro"),
            ("ro;q=0, pt-BR;q=0.3", "/help/pt-BR"),
            ("fr, de", "/help/en"),
            ("*", "/help/en"),
            ("%%%;q=zzz, ;;;, q=1", "/help/en"),
            ("ro;q=1.5, pt-BR", "/help/pt-BR"),
            (",".join(["xx"] * 500) + ",ro", "/help/en"),
        ]
        for header, want in cases:
            self.assertEqual(self.redirect("/help", headers={"Accept-Language": header}), want, header)
        self.assertEqual(self.redirect("/help"), "/help/en")
        self.assertEqual(self.redirect("/help/"), "/help/en")

    def test_resolvable_locales_redirect(self):
        cases = [
            ("/help/pt-PT", "/help/pt-BR"),
            ("/help/pt", "/help/pt-BR"),
            ("/help/PT-br/track-order", "/help/pt-BR/track-order"),
            ("/help/pt-PT/track-order", "/help/pt-BR/track-order"),
            ("/help/de/track-order", "/help/en/track-order"),
            ("/help/ro-MD/category/orders", "/help/ro/category/orders"),
            ("/help/pt-PT/search?q=cad%C3%AA+meu+pedido", "/help/pt-BR/search?q=cad%C3%AA%20meu%20pedido"),
        ]
        for path, want in cases:
            self.assertEqual(self.redirect(path), want, path)
        body, p = self.page(self.redirect("/help/pt-PT/track-order"))
        self.assertEqual(p.html_lang, "pt-BR")
        self.assertEqual(p.h1[0].strip(), demo_front("pt-BR", "track-order")["title"])

    def test_garbage_locale_is_a_404_page(self):
        for path in ("/help/!!!", "/help/x", "/help/search", "/help/favicon.ico", "/help/en_US",
                     "/help/a-very-long-subtag/track-order", "/help/%ff%fe", "/help/12/track-order",
                     "/help/" + "a" * 300):
            body, p = self.page(path, 404)
            self.assertIn("/help/en", p.hrefs(), path)

    # -- fallbacks
    def test_article_only_in_en_is_shown_in_ro_with_a_note(self):
        s = self.server
        body, p = self.page("/help/ro/only-english")
        self.assertEqual(p.html_lang, "en", "the content is English")
        self.assertEqual(p.h1[0].strip(), "Can I pay with zebracoins?")
        self.assertIn("We do not accept zebracoins yet", body)
        self.assertIn("Acest articol nu este încă disponibil în limba română.", body)
        self.assertTrue(re.search(r'<p class="note"[^>]*lang="ro"', body), "the note is not marked Romanian")
        self.assertEqual([l["href"] for l in p.rel("canonical")], [s.url + "/help/en/only-english"])
        # the form posts back to the page asked for, in the visitor's locale
        self.assertIn("/help/ro/only-english/feedback", [f.get("action") for f in p.forms])
        body, p = self.page("/help/pt-BR/only-english")
        self.assertIn("Este artigo ainda não está disponível em português.", body)
        # the article's Markdown "# Zebracoins" does not make a second h1 (checked by page())
        self.assertIn("<h2>Zebracoins</h2>", body)

    def test_the_switcher_names_each_locale_in_itself(self):
        body, p = self.page("/help/en")
        for loc, name in (("en", "English"), ("pt-BR", "Português (Brasil)"), ("ro", "Română")):
            self.assertIn('hreflang="%s" lang="%s"' % (loc, loc), body)
            self.assertTrue(re.search(r'lang="%s"( aria-current="true")?>%s</a>' % (loc, re.escape(name)),
                                      body), "%s is named %r (web/locales)" % (loc, name))

    def test_missing_notes_name_the_language_from_the_catalogues(self):
        # A knowledge base in more locales than the demo's: pt-PT and de have no articles and no
        # help.* words of their own (pt-PT takes pt-BR's, de English's).
        with harness.Server(config={"locales": "en,pt-BR,pt-PT,ro,de"}) as s:
            def get(path):
                st, h, body = s.get(path)
                self.assertEqual(st, 200, path)
                return body, Page(body)
            # another region of the same language: named with its region
            body, p = get("/help/pt-PT/track-order")
            self.assertEqual(p.html_lang, "pt-BR", "the pt-BR article by the rule")
            self.assertIn("Este artigo ainda não está disponível em Português (Portugal).", body)
            # a language whose words are another's: named by its own name, in English words
            body, p = get("/help/de/track-order")
            self.assertEqual(p.html_lang, "en")
            self.assertIn("This article is not available in Deutsch yet.", body)
            # the home's switcher lists every locale, each named by its catalogue
            body, p = get("/help/de")
            for loc, name in (("pt-PT", "Português (Portugal)"), ("de", "Deutsch")):
                self.assertTrue(re.search(r'lang="%s"( aria-current="true")?>%s</a>' % (loc, re.escape(name)),
                                          body), name)

    def insert(self, slug, locale, title, summary, body, group, category="orders"):
        """Writes a published article straight into the database, around the validation."""
        now = int(time.time() * 1000)
        con = self.db()
        try:
            with con:
                con.execute(
                    "INSERT INTO kb_articles(slug, locale, title, summary, body, category, status,"
                    " created_at, updated_at, group_key) VALUES(?,?,?,?,?,?,?,?,?,?)",
                    (slug, locale, title, summary, body, category, "published", now, now, group))
        finally:
            con.close()

    def test_translation_under_another_slug_is_found(self):
        self.insert("zebra-wrap", "en", "Zebra gift wrap", "We wrap gifts in zebra paper.", "Zebra.",
                    "zebra-wrap")
        self.insert("embrulho-zebra", "pt-BR", "Embrulho de zebra", "Embrulhamos em papel de zebra.",
                    "Zebra.", "zebra-wrap")
        body, p = self.page("/help/pt-BR/zebra-wrap")
        self.assertEqual(p.html_lang, "pt-BR")
        self.assertEqual(p.h1[0].strip(), "Embrulho de zebra")
        self.assertNotIn("ainda não está disponível", body)
        self.assertEqual([l["href"] for l in p.rel("canonical")],
                         [self.server.url + "/help/pt-BR/embrulho-zebra"])
        body, p = self.page("/help/en/zebra-wrap")
        self.assertIn("/help/pt-BR/embrulho-zebra", p.hrefs(), "switcher")
        alt = {l["hreflang"]: l["href"] for l in p.rel("alternate")}
        self.assertEqual(alt.get("pt-BR"), self.server.url + "/help/pt-BR/embrulho-zebra")
        self.assertEqual(sorted(alt), ["en", "pt-BR", "x-default"])
        # ro has neither: the default locale's, with the note
        body, p = self.page("/help/ro/embrulho-zebra")
        self.assertEqual(p.html_lang, "en")
        self.assertIn("Acest articol nu este încă disponibil", body)

    def test_a_page_over_its_cap_is_a_plain_500_in_the_visitors_words(self):
        # an article whose page would pass the 4 MiB cap, written around the validation
        self.insert("huge-zebra", "ro", "Zebră uriașă", "Prea lungă.", "zebră " * 900000, "huge-zebra")
        st, h, body = self.server.get("/help/ro/huge-zebra")
        self.assertEqual(st, 500)
        self.assertIn("text/html", h.get("content-type", ""))
        p = Page(body)
        self.assertEqual(p.html_lang, "ro")
        self.assertEqual(p.h1[0].strip(), "Ceva nu a mers bine", "ro.json's help.error_h1")
        self.assertIn("Pagina nu poate fi afișată acum.", body)
        self.assertNotIn("Something went wrong", body)
        # the one 500 this test asks for (tearDown fails a test on any other)
        self.server.statuses.remove(("GET", "/help/ro/huge-zebra", 500))

    def test_drafts_are_not_shown(self):
        body, p = self.page("/help/en/draft-article", 404)
        self.assertNotIn("quokka", body.lower())
        self.page("/help/ro/draft-article", 404)
        self.assertNotIn("draft-article", self.page("/help/en")[0])
        body, _ = self.page("/help/en/search?q=when+is+the+quokka+sale")
        self.assertNotIn("draft-article", body)

    def test_unknown_slug_is_a_404_page(self):
        body, p = self.page("/help/ro/no-such-article", 404)
        self.assertEqual(p.html_lang, "ro")
        self.assertIn("/help/ro", p.hrefs())
        self.assertIn("/help/ro/search", [f.get("action") for f in p.forms])
        for path in ("/help/en/Track-Order", "/help/en/%3Cscript%3E", "/help/en/" + "x" * 200):
            self.page(path, 404)

    # -- search
    def test_search_finds_what_the_bot_finds(self):
        body, p = self.page("/help/en/search?q=where+is+my+package")
        self.assertIn("/help/en/track-order", p.hrefs()[:40])
        results = re.findall(r'<ol class="results">.*?</ol>', body, re.S)
        self.assertTrue(results and "/help/en/track-order" in results[0], body[-2000:])
        self.assertTrue(p.has("input", name="q", value="where is my package"))
        body, p = self.page("/help/pt-BR/search?q=" + urllib.parse.quote("cadê meu pedido"))
        self.assertIn('href="/help/pt-BR/track-order"', body)
        self.assertEqual(p.meta("robots"), "noindex")

    def test_search_without_results_and_empty(self):
        body, p = self.page("/help/en/search?q=zzyzx+qqqq")
        self.assertIn("No articles match your search", body)
        self.assertIn("/help/en", p.hrefs())
        body, p = self.page("/help/ro/search?q=")
        self.assertIn("Scrie o întrebare", body)
        body, p = self.page("/help/ro/search")
        self.assertIn("Scrie o întrebare", body)

    def test_hostile_search_text(self):
        rnd = random.Random(7)
        alphabet = "abc \"'()*:^-+NEAR OR AND{}[]<>&;%$#@!~`\\/.,?|=\t"
        garbage = "".join(rnd.choice(alphabet) for _ in range(2048))
        body, p = self.page("/help/en/search?q=" + urllib.parse.quote(garbage))
        box = [a.get("value") for t, a in p.tags if t == "input" and a.get("name") == "q"]
        self.assertEqual(box, [garbage[:200]], "the search text is kept, cut to 200 bytes")
        # 2 KB of random bytes: not UTF-8, so 400, or valid by chance, so 200
        raw = bytes(rnd.randrange(256) for _ in range(2048))
        st, h, _ = self.server.get("/help/en/search?q=" + urllib.parse.quote(raw))
        self.assertIn(st, (200, 400))
        self.assertIn("text/html", h.get("content-type", ""))
        self.page("/help/en/search?q=%ff%fe", 400)
        self.page("/help/en/search?q=caf%C3", 400)
        self.page("/help/en/search?q=a%00b", 400)
        body, _ = self.page("/help/en/search?q=%zz%2%", 200)
        body, _ = self.page("/help/en/search?q=" + urllib.parse.quote("<script>alert(1)</script>"))
        self.assertNotIn("<script>alert(1)", body)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", body)
        long_word = "é" * 150  # 300 bytes: cut between characters
        body, p = self.page("/help/en/search?q=" + urllib.parse.quote(long_word))
        box = [a.get("value") for t, a in p.tags if t == "input" and a.get("name") == "q"]
        self.assertEqual(box, ["é" * 100])
        st, _, _ = self.server.healthz()
        self.assertEqual(st, 200)

    # -- feedback
    def helpfulness(self, slug, locale="en"):
        st, _, b = self.editor().get("/api/v1/kb/helpfulness?locale=" + locale)
        self.assertEqual(st, 200, b)
        for a in b["articles"]:
            if a["slug"] == slug and a["locale"] == locale:
                return a
        return {"help_up": 0, "help_down": 0}

    def post_form(self, path, data):
        return self.server.request("POST", path, raw=data,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})

    def viewed(self, page_path):
        """The view token of a fresh view of the article page, as its form carries it."""
        return "view=" + urllib.parse.quote(view_token(self.page(page_path)[1]))

    def vote(self, page_path, helpful):
        return self.post_form(page_path + "/feedback", "helpful=%s&%s" % (helpful, self.viewed(page_path)))

    def test_feedback_vote_is_stored(self):
        before = self.helpfulness("payment-methods")
        st, h, _ = self.vote("/help/en/payment-methods", "yes")
        self.assertEqual(st, 303)
        self.assertEqual(h.get("location"), "/help/en/payment-methods?voted=1")
        body, p = self.page(h["location"])
        self.assertIn("Thanks for your feedback!", body)
        self.assertFalse([f for f in p.forms if f.get("method") == "post"], "the form is still there")
        st, h, _ = self.post_form("/help/en/payment-methods/feedback",
                                  "x=1&helpful=no&" + self.viewed("/help/en/payment-methods"))
        self.assertEqual(st, 303)
        after = self.helpfulness("payment-methods")
        self.assertEqual((after["help_up"], after["help_down"]),
                         (before["help_up"] + 1, before["help_down"] + 1), after)
        # in another locale the thanks is localised
        st, h, _ = self.vote("/help/ro/payment-methods", "yes")
        self.assertEqual((st, h.get("location")), (303, "/help/ro/payment-methods?voted=1"))
        self.assertIn("Mulțumim pentru feedback!", self.page(h["location"])[0])
        self.assertEqual(self.helpfulness("payment-methods", "ro")["help_up"], 1)

    def test_feedback_on_a_fallback_counts_for_the_article_shown(self):
        st, h, _ = self.vote("/help/ro/only-english", "no")
        self.assertEqual((st, h.get("location")), (303, "/help/ro/only-english?voted=1"))
        self.assertGreaterEqual(self.helpfulness("only-english")["help_down"], 1)

    def test_feedback_bad_input(self):
        for data in ("helpful=maybe", "", "helpful=", "helpful=yess", "helpful=%79es%", "x" * 5000,
                     '{"helpful": true}'):
            st, h, body = self.post_form("/help/en/track-order/feedback", data)
            self.assertEqual(st, 400, "%r -> %s" % (data[:40], st))
            self.assertIn("text/html", h.get("content-type", ""))
        st, _, _ = self.post_form("/help/en/track-order/feedback",
                                  "helpful=%79es&" + self.viewed("/help/en/track-order"))
        self.assertEqual(st, 303, "percent-encoded yes")
        st, _, _ = self.post_form("/help/en/no-such-article/feedback", "helpful=yes")
        self.assertEqual(st, 404)
        st, _, _ = self.post_form("/help/en/draft-article/feedback", "helpful=yes")
        self.assertEqual(st, 404)
        st, _, _ = self.post_form("/help/!!/track-order/feedback", "helpful=yes")
        self.assertEqual(st, 404)

    def test_a_vote_needs_its_page_view_and_counts_once(self):
        """Issue 14, feedback poisoning: votes nobody was shown the form for, as many as wanted."""
        path = "/help/en/return-item"
        before = self.helpfulness("return-item")
        refused = [
            lambda: "helpful=no",  # no view: the old forged vote
            lambda: "helpful=no&view=",
            lambda: "helpful=no&view=1.0123456789abcdef.0123456789abcdef0123456789abcdef",  # forged
            lambda: "helpful=no&" + self.viewed("/help/en/track-order"),  # another article's view
        ]
        for make in refused:
            data = make()
            st, h, body = self.post_form(path + "/feedback", data)
            self.assertEqual(st, 400, "%s -> %s" % (data, st))
            self.assertIn("text/html", h.get("content-type", ""))
            self.assertIn("Your vote was not counted", body)
        view = self.viewed(path)
        st, h, _ = self.post_form(path + "/feedback", "helpful=no&" + view)
        self.assertEqual((st, h.get("location")), (303, path + "?voted=1"))
        for helpful in ("no", "no", "yes"):  # the same view again
            st, h, body = self.post_form(path + "/feedback", "helpful=%s&%s" % (helpful, view))
            self.assertEqual(st, 409)
            self.assertIn("Your vote was not counted", body)
        after = self.helpfulness("return-item")
        self.assertEqual((after["help_up"], after["help_down"]), (before["help_up"], before["help_down"] + 1))
        # a Romanian visitor is told in Romanian
        st, _, body = self.post_form("/help/ro/return-item/feedback", "helpful=no")
        self.assertEqual(st, 400)
        self.assertIn("Votul tău nu a fost numărat", body)

    # -- hostile article text
    def test_hostile_article_text_is_escaped(self):
        self.insert("xss-probe", "en", HOSTILE_TITLE, HOSTILE_SUMMARY, HOSTILE_BODY, "xss-probe")
        body, p = self.page("/help/en/xss-probe")
        self.assertEqual(p.h1[0].strip(), HOSTILE_TITLE)
        self.assertIn(HOSTILE_TITLE, p.title)
        self.assertEqual(p.meta("description"), HOSTILE_SUMMARY)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", body)
        self.assertIn("&quot;quotes&quot; &#39;apos&#39;", body)
        for bad in ("<script", "onerror", "javascript:", "<b>bold", "<img src=x"):
            self.assertNotIn(bad, body.lower(), "article page contains %r" % bad)
        self.assertIn("Hello", body)
        body, p = self.page("/help/en")
        self.assertIn("/help/en/xss-probe", p.hrefs())
        self.assertNotIn("<script", body)
        body, p = self.page("/help/en/category/orders")
        self.assertNotIn("<script", body)
        body, p = self.page("/help/en/search?q=tricky+quotes+apos")
        self.assertIn("/help/en/xss-probe", p.hrefs())
        self.assertNotIn("<script", body)

    # -- the rest of the site
    def test_stylesheet_and_landing_link(self):
        st, h, body = self.server.get("/static/help/help.css")
        self.assertEqual(st, 200)
        self.assertIn("text/css", h.get("content-type", ""))
        self.assertIn("max-width", body)
        st, h, body = self.server.get("/")
        self.assertEqual(st, 200)
        self.assertIn('href="/help"', body)

    def test_old_article_route_still_answers(self):
        """The bot's links (public_url/help/{locale}/{slug}) keep working."""
        body, p = self.page("/help/en/track-order")
        self.assertIn("How do I track my order?", body)
        st, _, _ = self.server.request("HEAD", "/help/en/track-order")
        self.assertEqual(st, 200)


class HelpCenterVoteFloodTests(harness.ServerTestCase):
    """Issue 14: 700 forged "not helpful" votes on the help center pushed a correct article to the
    ranking floor. Here the server has the default per-address vote limit."""
    server_users = [EDITOR]

    def adjustment(self, question, slug):
        ed = self.server.login(EDITOR["email"], EDITOR["password"])
        st, _, b = ed.request("POST", "/api/v1/kb/try", {"text": question, "locale": "en"})
        self.assertEqual(st, 200, b)
        self.assertEqual((b["answer"] or {}).get("slug"), slug, b)
        return b["answer"]["adjustment"]

    def test_700_forged_votes_do_not_move_the_ranking(self):
        s = self.server
        question = "how can I track my order"
        self.assertEqual(self.adjustment(question, "track-order"), 0)
        statuses = []
        for i in range(700):
            data = "helpful=no"
            if i % 2:  # half of them even carry a fresh, genuine page view
                st, _, body = s.get("/help/en/track-order")
                self.assertEqual(st, 200)
                data += "&view=" + urllib.parse.quote(view_token(Page(body), required=False) or "")
            st, h, body = s.request("POST", "/help/en/track-order/feedback", raw=data,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
            statuses.append(st)
            if st == 429:
                self.assertIn("text/html", h.get("content-type", ""))
                self.assertGreaterEqual(int(h.get("retry-after", "0")), 1, h)
        # the learned adjustment is computed afresh from the stored votes after a restart: at most
        # one half-weight signal from one address, so the article keeps its place
        s.restart()
        adj = self.adjustment(question, "track-order")
        self.assertGreater(adj, -0.01, "the forged votes moved the article by %s" % adj)
        self.assertGreater(statuses.count(429), 600, "no per-address limit")
        self.assertLessEqual(statuses.count(303), 10, "more votes counted than the burst allows")


if __name__ == "__main__":
    harness.main()

/*
 * kb_schema.c - the knowledge base's tables, as a part of the store's
 * schema (struct sb_store_part in sb_store.h): the steps that created and
 * changed them, on the store's version numbers, and the FTS5 tokenizer
 * every connection needs before it touches kb_fts. sb_store_open() opens
 * the server's database: the store's tables and these.
 */
#include <stddef.h>

#include "sb_kb.h"
#include "sb_store.h"

/* Step v moves the knowledge base's tables to store version v. Never edit
 * a shipped step; add one with the store's next version. */
static const char *const steps[SB_STORE_SCHEMA_VERSION + 1] = {
    [1] = "CREATE TABLE kb_articles("
          "  id INTEGER PRIMARY KEY,"
          "  slug TEXT NOT NULL,"
          "  locale TEXT NOT NULL,"
          "  title TEXT NOT NULL,"
          "  summary TEXT NOT NULL,"
          "  body TEXT NOT NULL,"
          "  category TEXT NOT NULL DEFAULT '',"
          "  tags TEXT NOT NULL DEFAULT '[]',"
          "  examples TEXT NOT NULL DEFAULT '[]',"
          "  status TEXT NOT NULL DEFAULT 'draft'"
          "    CHECK(status IN ('draft','published','archived')),"
          "  created_at INTEGER NOT NULL,"
          "  updated_at INTEGER NOT NULL,"
          "  UNIQUE(locale, slug));"
          /* Only published articles are indexed; rowid = kb_articles.id. */
          "CREATE VIRTUAL TABLE kb_fts USING fts5("
          "  title, summary, body, examples, locale UNINDEXED,"
          "  tokenize = 'unicode61 remove_diacritics 2');"
          /* rank = BM25 with column weights title 4, summary 2, body 1, example
           * questions 3; ORDER BY rank lets FTS5 sort inside the index. */
          "INSERT INTO kb_fts(kb_fts, rank) VALUES('rank', 'bm25(4.0, 2.0, 1.0, 3.0)');",
    [3] =
        /* 3: the editors' knowledge base: translation groups, authors and
         * revision numbers on articles, every save kept as a revision,
         * category names per locale, "did this help?" votes, and what the bot
         * was asked with how it went (the content-gap report). */
    "ALTER TABLE kb_articles ADD COLUMN group_key TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE kb_articles ADD COLUMN author TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE kb_articles ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;"
    "UPDATE kb_articles SET group_key = slug WHERE group_key = '';"
    "CREATE INDEX kb_articles_group ON kb_articles(group_key);"
    "CREATE INDEX kb_articles_status ON kb_articles(status, locale);"
    "CREATE TABLE kb_revisions("
    "  id INTEGER PRIMARY KEY,"
    "  article_id INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,"
    "  revision INTEGER NOT NULL,"
    "  slug TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  summary TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  category TEXT NOT NULL,"
    "  tags TEXT NOT NULL,"
    "  examples TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  author TEXT NOT NULL,"
    "  note TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE(article_id, revision));"
    "INSERT INTO kb_revisions(article_id, revision, slug, title, summary, body, category, tags,"
    "  examples, status, author, note, created_at)"
    "  SELECT id, 1, slug, title, summary, body, category, tags, examples, status, '',"
    "    'before revisions', updated_at FROM kb_articles;"
    "CREATE TABLE kb_categories("
    "  locale TEXT NOT NULL,"
    "  slug TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  position INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(locale, slug)) WITHOUT ROWID;"
    "CREATE TABLE kb_feedback("
    "  id INTEGER PRIMARY KEY,"
    "  article_id INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,"
    "  source TEXT NOT NULL CHECK(source IN ('bot', 'help')),"
    "  helpful INTEGER NOT NULL CHECK(helpful IN (0, 1)),"
    "  conversation_id INTEGER,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX kb_feedback_article ON kb_feedback(article_id);"
    "CREATE TABLE kb_queries("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL,"
    "  locale TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  norm TEXT NOT NULL,"
    "  article_id INTEGER,"
    "  confidence REAL NOT NULL DEFAULT 0,"
    "  outcome TEXT NOT NULL CHECK(outcome IN ('answered', 'unsure', 'none', 'handoff')),"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX kb_queries_outcome ON kb_queries(outcome, created_at);"
    "CREATE INDEX kb_queries_conv ON kb_queries(conversation_id);",
    [4] =
        /* 4: the answer engine: a per-article confidence threshold overriding
         * the knowledge base's, and synonyms per locale kept by editors
         * ("parcel" -> "package, order"). */
    "ALTER TABLE kb_articles ADD COLUMN answer_threshold REAL"
    "  CHECK(answer_threshold IS NULL OR (answer_threshold >= 0 AND answer_threshold <= 1));"
    "CREATE TABLE kb_synonyms("
    "  locale TEXT NOT NULL,"
    "  term TEXT NOT NULL,"
    "  synonyms TEXT NOT NULL DEFAULT '[]',"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY(locale, term)) WITHOUT ROWID;",
    [5] =
        /* 5: kb_fts indexes the answer engine's search terms: the "sb"
         * tokenizer (kb/kb_fts_tokenizer.c) stems by the row's language, which
         * each indexed column carries as char(31) locale char(31) before its
         * text; so the published articles go back in here, in SQL (examples
         * one per line, as kb.c writes them). */
    "DROP TABLE kb_fts;"
    "CREATE VIRTUAL TABLE kb_fts USING fts5("
    "  title, summary, body, examples, locale UNINDEXED,"
    "  tokenize = 'sb');"
    "INSERT INTO kb_fts(kb_fts, rank) VALUES('rank', 'bm25(4.0, 2.0, 1.0, 3.0)');"
    "INSERT INTO kb_fts(rowid, title, summary, body, examples, locale)"
    "  SELECT id, char(31) || locale || char(31) || title,"
    "    char(31) || locale || char(31) || summary,"
    "    char(31) || locale || char(31) || body,"
    "    char(31) || locale || char(31) || CASE WHEN json_valid(examples) THEN"
    "      ifnull((SELECT group_concat(value, char(10)) FROM json_each(examples)"
    "              WHERE type = 'text'), '') ELSE '' END,"
    "    locale"
    "  FROM kb_articles WHERE status = 'published' ORDER BY id;",
    [8] =
        /* 8: an agent resolving a conversation may name the article that
         * solved it (source 'agent'): a signal for the answer engine and the
         * customer's questions become suggested example questions. SQLite
         * cannot change a CHECK, so the table is copied. */
    "CREATE TABLE kb_feedback_new("
    "  id INTEGER PRIMARY KEY,"
    "  article_id INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,"
    "  source TEXT NOT NULL CHECK(source IN ('bot', 'help', 'agent')),"
    "  helpful INTEGER NOT NULL CHECK(helpful IN (0, 1)),"
    "  conversation_id INTEGER,"
    "  created_at INTEGER NOT NULL);"
    "INSERT INTO kb_feedback_new SELECT id, article_id, source, helpful, conversation_id,"
    "  created_at FROM kb_feedback;"
    "DROP TABLE kb_feedback;"
    "ALTER TABLE kb_feedback_new RENAME TO kb_feedback;"
    "CREATE INDEX kb_feedback_article ON kb_feedback(article_id);"
    "CREATE INDEX kb_feedback_conversation ON kb_feedback(conversation_id)"
    "  WHERE conversation_id IS NOT NULL;"
    "ALTER TABLE conversations ADD COLUMN resolved_article INTEGER;",
    [9] =
        /* 9: a vote counts only for what the customer was shown, once. The
         * articles the bot answered with, per conversation; a help-center
         * vote names the page view it came from (unique: one vote per view)
         * and a digest of the voter's address, so the answer engine counts
         * one signal per address and article (kb_learn.c). */
    "CREATE TABLE kb_shown("
    "  conversation_id INTEGER NOT NULL,"
    "  article_id INTEGER NOT NULL REFERENCES kb_articles(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY(conversation_id, article_id)) WITHOUT ROWID;"
    "CREATE INDEX kb_shown_article ON kb_shown(article_id);"
    "ALTER TABLE kb_feedback ADD COLUMN view TEXT;"
    "ALTER TABLE kb_feedback ADD COLUMN voter TEXT;"
    "CREATE UNIQUE INDEX kb_feedback_view ON kb_feedback(view) WHERE view IS NOT NULL;",
};

static const char *kb_step(int version)
{
    return version > 0 && version <= SB_STORE_SCHEMA_VERSION ? steps[version] : NULL;
}

const struct sb_store_part sb_kb_store_part = {"knowledge base", sb_kb_register_tokenizer, kb_step};

enum sb_err sb_store_open(const char *path, const char *synchronous, struct sb_store **out,
                          struct sb_errbuf *eb)
{
    static const struct sb_store_part *const parts[] = {&sb_kb_store_part, NULL};
    return sb_store_open_parts(path, synchronous, parts, out, eb);
}

/*
 * sb_kb.h - the knowledge base: articles, the FTS5 index of the published
 * ones, search with a confidence score, and import of Markdown files.
 *
 * struct sb_kb borrows the sqlite3 handle of the store (same thread) and
 * keeps its own prepared statements. Strings passed in are borrowed.
 */
#ifndef SB_KB_H
#define SB_KB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "sb.h"

struct sb_kb;

enum sb_err sb_kb_open(sqlite3 *db, struct sb_kb **out, struct sb_errbuf *eb);
void sb_kb_close(struct sb_kb *kb); /* NULL-safe */

/* The locales articles may be written in, comma-separated, the first one
 * being the default ("en,pt-BR,ro"). Until set: "en,pt-BR,ro". */
enum sb_err sb_kb_set_locales(struct sb_kb *kb, const char *list, struct sb_errbuf *eb);
/* From now on, a rebuild of the search index that is expected to be slow
 * (the last one took in_place_ms or more) runs on a thread of its own,
 * and searches answer from the previous index until it is done; the
 * first build starts now, on the thread too, and a search before it is
 * done waits for it up to in_place_ms, then answers from FTS5
 * (sb_kb_search_fts). Quicker rebuilds stay in the search, so an edit is
 * answered from at once. The server calls this: its event loop must not
 * stall. */
void sb_kb_background_rebuilds(struct sb_kb *kb, int in_place_ms);
/* With background rebuilds on, the owner's periodic tick (the server's,
 * once a second): takes in a finished background build, and starts one on
 * the thread as soon as another process changed the database (PRAGMA
 * data_version moved, as after `kb import` beside the server), so the
 * index is rebuilt without waiting for a question to notice. Cheap when
 * nothing changed: one PRAGMA. Does nothing without background rebuilds. */
void sb_kb_tick(struct sb_kb *kb);
bool sb_kb_locale_known(const struct sb_kb *kb, const char *locale);
const char *sb_kb_default_locale(const struct sb_kb *kb);
/* The known locales as a JSON array of strings. */
json_t *sb_kb_locales_json(const struct sb_kb *kb);
/* The best known locale for a wish ("pt-PT" -> "pt-BR" when only that pt
 * is known; unknown languages -> the default) into out[cap]. */
void sb_kb_resolve_locale(const struct sb_kb *kb, const char *wish, char *out, size_t cap);

/* Caps on article fields, checked by sb_kb_validate. */
#define SB_KB_MAX_TITLE 300
#define SB_KB_MAX_SUMMARY 2000
#define SB_KB_MAX_BODY (64 * 1024)
#define SB_KB_MAX_SLUG 120
#define SB_KB_MAX_CATEGORY 64
#define SB_KB_MAX_LIST 100      /* tags */
#define SB_KB_MAX_EXAMPLES 1000 /* example questions: intent datasets have hundreds */
#define SB_KB_MAX_ITEM 300      /* one tag or example question */

/* What a save does to an article's own answer threshold (kb_articles.
 * answer_threshold, which overrides the knowledge base's). KEEP, the zero
 * value, leaves the stored one (a new article: none), so imports that do
 * not know the field never drop it. Revisions do not hold it: a revert
 * leaves it as it is. */
enum sb_kb_threshold_op { SB_KB_THRESHOLD_KEEP, SB_KB_THRESHOLD_SET, SB_KB_THRESHOLD_NONE };

struct sb_kb_article {
    const char *slug, *locale, *title, *summary, *body, *category, *status;
    json_t *tags;       /* array of strings, borrowed, may be NULL */
    json_t *examples;   /* array of strings, borrowed, may be NULL */
    const char *group;  /* translation group; NULL = keep (new: the slug) */
    const char *author; /* who saves, for the revision; NULL = "" */
    const char *note;   /* revision note; NULL = "" */
    /* The article's own answer threshold, see enum sb_kb_threshold_op. */
    enum sb_kb_threshold_op threshold_op;
    double answer_threshold; /* 0..1, with SB_KB_THRESHOLD_SET */
};

/* Checks every field of a; on error eb names the field first, e.g.
 * "title: is required", "body: is over 65536 bytes", "locale: 'xx' is not
 * one of en, pt-BR, ro", "summary: HTML is not allowed". Plain-text fields
 * (title, summary, category, tags, examples, slug, group) refuse HTML tags
 * and javascript: URLs; the body is Markdown and refuses <script>,
 * event-handler attributes and javascript: links (other raw HTML is
 * dropped when rendered). All text must be valid UTF-8. */
enum sb_err sb_kb_validate(const struct sb_kb *kb, const struct sb_kb_article *a,
                           struct sb_errbuf *eb);

enum sb_kb_change { SB_KB_UNCHANGED, SB_KB_ADDED, SB_KB_CHANGED };

struct sb_kb_saved {
    int64_t id;
    int64_t revision; /* the article's revision after the save */
    enum sb_kb_change change;
};

/* Validates and saves an article with its index entry and, when anything
 * changed, a new revision (revision numbers count up from 1 per article).
 * id > 0 updates that article (its slug and locale may change); id == 0
 * creates the article (locale, slug) or updates it when it exists.
 * expect_revision > 0 refuses the update with SB_ERR_CONFLICT when the
 * article's current revision is another one (someone saved in between);
 * 0 skips the check (imports). Errors: SB_ERR_INVAL (eb names the field),
 * SB_ERR_NOT_FOUND (id), SB_ERR_EXISTS (slug taken in that locale),
 * SB_ERR_CONFLICT, SB_ERR_DB. Runs inside the caller's transaction. */
enum sb_err sb_kb_save(struct sb_kb *kb, const struct sb_kb_article *a, int64_t id,
                       int64_t expect_revision, struct sb_kb_saved *out, struct sb_errbuf *eb);

/* sb_kb_save(kb, a, 0, 0, ...) reporting only the change. */
enum sb_err sb_kb_upsert(struct sb_kb *kb, const struct sb_kb_article *a, enum sb_kb_change *change,
                         struct sb_errbuf *eb);

/* Deletes an article, its revisions and votes. */
enum sb_err sb_kb_delete(struct sb_kb *kb, int64_t id, struct sb_errbuf *eb);

/* One article for editors, any status, as JSON: {id, slug, locale, group,
 * title, summary, body, category, tags[], examples[], status, author,
 * revision, created_at, updated_at, answer_threshold (number or null)};
 * NULL when there is none. */
json_t *sb_kb_article_json(struct sb_kb *kb, int64_t id);
int64_t sb_kb_article_id(struct sb_kb *kb, const char *locale, const char *slug); /* 0: none */

/* Article lists for editors: every filter may be NULL. q matches title,
 * summary, body and example questions (words, any order). Items are the
 * article JSON without body and examples. */
struct sb_kb_filter {
    const char *locale, *status, *category, *tag, *q, *group;
    int limit; /* 0 = 500 */
};
json_t *sb_kb_find(struct sb_kb *kb, const struct sb_kb_filter *f);

/* The articles of a translation group: [{id, locale, slug, title, status}]. */
json_t *sb_kb_translations(struct sb_kb *kb, const char *group);

/* Revisions: the list (newest first) as [{revision, author, note, status,
 * title, created_at}], one whole revision (the article JSON as it was), a
 * diff between two, and a revert that saves an old revision as a new one. */
json_t *sb_kb_revisions(struct sb_kb *kb, int64_t id);
json_t *sb_kb_revision(struct sb_kb *kb, int64_t id, int64_t revision);
/* {from, to, fields:[{field, changed, lines:[{op:" "|"-"|"+", text}]}]} for
 * title, slug, status, category, summary, tags, examples and body, by lines
 * (longest common subsequence). NULL when either revision is missing. */
json_t *sb_kb_diff(struct sb_kb *kb, int64_t id, int64_t from, int64_t to);
enum sb_err sb_kb_revert(struct sb_kb *kb, int64_t id, int64_t to_revision, int64_t expect_revision,
                         const char *author, struct sb_kb_saved *out, struct sb_errbuf *eb);

/* Category names per locale: [{slug, name, description, position,
 * articles (published count)}], including categories articles use that
 * have no name yet (name = slug). */
json_t *sb_kb_categories(struct sb_kb *kb, const char *locale);
enum sb_err sb_kb_category_set(struct sb_kb *kb, const char *locale, const char *slug,
                               const char *name, const char *description, int position,
                               struct sb_errbuf *eb);

/* Synonyms per locale, kept by editors: [{locale, term, synonyms[],
 * updated_at}] (locale NULL = every locale), and setting one term's list
 * (an empty list removes the term). A question containing the term is
 * searched with its synonyms added. Errors name the field. */
json_t *sb_kb_synonyms(struct sb_kb *kb, const char *locale);
enum sb_err sb_kb_synonyms_set(struct sb_kb *kb, const char *locale, const char *term,
                               json_t *synonyms, struct sb_errbuf *eb);

/* Markdown to HTML with cmark, safe mode (the one renderer every page
 * showing a body uses): raw HTML is dropped and
 * javascript:/vbscript:/file:/data: links are emptied. Returns malloc'd
 * text, NULL on allocation failure. */
char *sb_kb_render_markdown(const char *md, size_t len);

/* "Did this help?" votes. Customers' votes count only for what they were
 * shown, once, so nobody can vote an article up or down without having
 * seen it or vote again and again:
 *
 * source "bot" (a customer in conversation_id): counted only for an
 *   article the bot answered with in that conversation (sb_kb_note_shown)
 *   and only the conversation's first vote on it. SB_ERR_NOT_FOUND when
 *   the article was not shown there (unknown ids and drafts never are),
 *   SB_ERR_EXISTS when the conversation already voted on it.
 * source "agent": an agent resolving conversation_id with the article;
 *   SB_ERR_NOT_FOUND for an unknown article.
 * Anything else is SB_ERR_INVAL; help-center votes go through
 * sb_kb_vote_view. Nothing is stored when it fails. */
enum sb_err sb_kb_vote(struct sb_kb *kb, int64_t article_id, const char *source, bool helpful,
                       int64_t conversation_id, struct sb_errbuf *eb);

/* Notes that the bot answered conversation_id with article_id, which
 * lets the conversation vote on it once. Unpublished or unknown articles
 * are not noted (SB_OK all the same: there is nothing to vote on). */
enum sb_err sb_kb_note_shown(struct sb_kb *kb, int64_t conversation_id, int64_t article_id);

/* A help-center vote from one page view: view (borrowed) names the view
 * and may vote once, voter (borrowed, may be NULL) is a digest of the
 * visitor's address, by which the answer engine counts one signal per
 * address and article. SB_ERR_NOT_FOUND when the article is not
 * published, SB_ERR_EXISTS when the view already voted. The caller
 * checks that the view is genuine (core/help/help_view.c). */
enum sb_err sb_kb_vote_view(struct sb_kb *kb, int64_t article_id, bool helpful, const char *view,
                            const char *voter, struct sb_errbuf *eb);
/* [{id, slug, locale, title, up, down, bot_up, bot_down, help_up,
 * help_down}] for articles with votes, most down-votes first. */
json_t *sb_kb_helpfulness(struct sb_kb *kb, const char *locale);

/* What customers asked the bot and how it went, for the content-gap
 * report. outcome: "answered", "unsure" (an answer below the confidence
 * threshold), "none" (nothing found), "handoff" (set afterwards by
 * sb_kb_mark_handoff on the conversation's last question). */
enum sb_err sb_kb_log_query(struct sb_kb *kb, int64_t conversation_id, const char *locale,
                            const char *text, int64_t article_id, double confidence,
                            const char *outcome);
enum sb_err sb_kb_mark_handoff(struct sb_kb *kb, int64_t conversation_id);
/* Questions that were not answered confidently or ended in a hand-off
 * since since_ms, grouped by their folded text: [{question, norm, count,
 * locale, outcomes:{unsure,none,handoff}, last_at, best:{id,slug,title,
 * confidence}|null}], most asked first. */
json_t *sb_kb_gaps(struct sb_kb *kb, const char *locale, int64_t since_ms, int limit);

/* The customer chose article_id from the choices the bot offered when it
 * was unsure ("did you mean one of these?"). When the conversation's last
 * logged question was one the bot was unsure about, a copy of it is
 * logged answered with that article (same text and confidence; the
 * unsure row stays, the question was a gap): a question followed at once
 * by itself answered is how sb_kb_suggestions tells a choice. */
enum sb_err sb_kb_log_choice(struct sb_kb *kb, int64_t conversation_id, int64_t article_id);

/* Customers' phrasings that found article id, for editors to adopt as
 * example questions: questions answered with it and then voted helpful
 * (source bot, same conversation) and questions asked right before the
 * customer chose it from the bot's choices, since since_ms, grouped by
 * their folded words (sb_kb_gaps' norm) and counted once per
 * conversation, minus groups an example question of the article already
 * has: [{question (the latest wording), norm, count, helpful, chosen,
 * last_at}], most conversations first. NULL when the article does not
 * exist. */
json_t *sb_kb_suggestions(struct sb_kb *kb, int64_t id, int64_t since_ms, int limit);

#define SB_KB_MAX_HITS 10

struct sb_kb_hit {
    int64_t id;
    char slug[128];
    char locale[36];
    char title[256];
    char *summary;     /* owned */
    double bm25;       /* higher is better */
    double coverage;   /* share of query terms found in the article, 0..1 */
    double confidence; /* 0..1 */
    double score;      /* the fused score confidence is calibrated from */
    double neighbours; /* the example questions' vote for it (0..1) */
    double in_scope;   /* P(the question is about this KB) confidence includes */
    bool exact_locale; /* in the locale asked for, not a fallback region */
};

struct sb_kb_result {
    int n;
    int terms; /* number of search terms taken from the text */
    struct sb_kb_hit hit[SB_KB_MAX_HITS];
};

/* Searches published articles in locale (falling back to other regions of
 * the same language) for customer text, from an in-memory index that is
 * rebuilt when articles change. Any text is safe: it is only ever cut
 * into words. Hits are sorted: the exact locale first, then confidence. */
enum sb_err sb_kb_search(struct sb_kb *kb, const char *text, const char *locale, int limit,
                         struct sb_kb_result *out);
void sb_kb_result_cleanup(struct sb_kb_result *r);

/* The same search answered by SQLite FTS5 (BM25 with the same column
 * weights): the baseline the answer engine is measured against. */
enum sb_err sb_kb_search_fts(struct sb_kb *kb, const char *text, const char *locale, int limit,
                             struct sb_kb_result *out);

/* Turns customer text into an FTS5 query of quoted search terms (stems,
 * stop words dropped: the terms the "sb" tokenizer indexes) joined by OR.
 * Returns the number of terms (0 = nothing searchable). out is always
 * NUL-terminated. Exposed for tests. */
int sb_kb_build_query(const char *text, const char *locale, char *out, size_t cap);

/* Registers the "sb" FTS5 tokenizer, which kb_fts is created with, on
 * db's connection (once; later calls do nothing). Every connection that
 * touches kb_fts needs it first: sb_store_open calls it before migrating.
 * SB_ERR_DB when SQLite has no FTS5. */
enum sb_err sb_kb_register_tokenizer(sqlite3 *db);

/* ---- Answer policy and learning from outcomes (kb_learn.c) ----
 *
 * The bot answers when the best hit's confidence reaches the hit's
 * threshold (the article's own, else the knowledge base's answer
 * threshold); offers the best hits at or above the clarify threshold as
 * choices when it is below; and hands off when no hit reaches the clarify
 * threshold: the question is out of scope. sb_kb_decide is the one place
 * this is decided: plugins/intents/kb_answer.lua gets it from sb.kb.search.
 *
 * Outcomes adjust each article's confidence within [-0.15, +0.10]: "did
 * this help?" votes (bot and help center) and hand-offs right after the
 * bot answered with the article (a question logged with it at or above
 * its threshold, then outcome "handoff"). A conversation counts once per
 * article, with its latest signal; a help-center vote counts half, and
 * once per article and voter address (its latest). Each signal decays with
 * the half-life; the sum of the helpful (U) and unhelpful (D) weights
 * goes through a Beta(5, 5) prior, m = (U - D) / (U + D + 10), scaled so
 * that 50 consistent signals reach the bound: one vote moves an article
 * by about 0.01, ten consistent ones by about 0.06 (up) or 0.09 (down).
 */

#define SB_KB_ADJUST_MIN (-0.15)
#define SB_KB_ADJUST_MAX 0.10
/* A hit below this confidence is never offered as a choice. */
#define SB_KB_CHOICE_FLOOR 0.05

struct sb_kb_policy {
    double answer_threshold;  /* 0..1, default 0.5 */
    double clarify_threshold; /* 0..answer_threshold, default 0.25 */
    double half_life_days;    /* > 0, default 30 */
    int refresh_s;            /* >= 1, default 60 */
};

/* Sets the thresholds and learning settings (the server passes its
 * kb_* config). SB_ERR_INVAL, naming the value, when one is out of range
 * or the clarify threshold is above the answer threshold. */
enum sb_err sb_kb_set_policy(struct sb_kb *kb, const struct sb_kb_policy *p, struct sb_errbuf *eb);
void sb_kb_get_policy(struct sb_kb *kb, struct sb_kb_policy *out);

/* The answer threshold of article_id: its own, else the knowledge base's.
 * O(1), from the same cache as sb_kb_adjustment; an article saved through
 * this handle is seen at the next call, one changed by another process
 * (kb import) within a second. */
double sb_kb_threshold(struct sb_kb *kb, int64_t article_id);

/* The learned adjustment of article_id's confidence, in
 * [SB_KB_ADJUST_MIN, SB_KB_ADJUST_MAX]; 0 for an article without signals
 * (or an unknown id). Meant to be added to a hit's confidence (clamped to
 * 0..1) before hits are sorted and compared with thresholds.
 *
 * O(1): a hash lookup in an in-memory table of every article's
 * adjustment. The table is recomputed from kb_feedback and kb_queries
 * (one query, signals older than ten half-lives ignored) when signals
 * changed, at most once per policy.refresh_s seconds: a vote or hand-off
 * recorded through this handle marks it changed, as does a change of
 * PRAGMA data_version (another process wrote), which is looked at no more
 * than once a second; and at least hourly, so decay moves on. Never
 * fails: on a database error the last table stays. Event-loop thread
 * only, like the rest of struct sb_kb. */
double sb_kb_adjustment(struct sb_kb *kb, int64_t article_id);

/* Recomputes the thresholds and adjustments now, as of the wall-clock
 * time now_ms (decay is measured from it): for tests and tools. */
enum sb_err sb_kb_learn_refresh(struct sb_kb *kb, int64_t now_ms);

enum sb_kb_decision { SB_KB_ANSWER, SB_KB_CLARIFY, SB_KB_HANDOFF };

/* The bot's decision on a search result (the policy above). *nchoices
 * gets how many of the first hits to offer when clarifying: those at or
 * above the clarify threshold, at most 3; 0 for a question with no
 * search terms at all ("?", "..."), which is asked to rephrase rather
 * than handed off. */
enum sb_kb_decision sb_kb_decide(struct sb_kb *kb, const struct sb_kb_result *r, int *nchoices);
const char *sb_kb_decision_name(enum sb_kb_decision d); /* "answer", "clarify", "handoff" */

/* A published article as JSON {slug, locale, title, summary, body,
 * category}, or NULL. Falls back within the language like search. */
json_t *sb_kb_article_get(struct sb_kb *kb, const char *locale, const char *slug);

/* ---- Import and export (kb_import.c, kb_export.c, kb_import_faq.c) ----
 *
 * Docs as code: a folder of Markdown files with YAML front matter is the
 * source of the articles (formats in docs/operating.md, "Knowledge base as
 * files"). Every import is all or nothing: files are read and checked
 * first, then saved with sb_kb_save in one BEGIN IMMEDIATE transaction
 * (the store's busy timeout lets it wait for a running server), so a bad
 * file or row commits nothing. eb then names the file, the line when
 * known, and the field: "en/x.md: title: is required",
 * "faq.csv:7: answer: is required". Only real changes make a revision. */

struct sb_kb_import_stats {
    int added, changed, unchanged; /* articles */
    int categories;                /* category names added or changed */
};

/* Progress: done of total steps (each item is read, then saved). */
typedef void (*sb_kb_progress_fn)(void *arg, int done, int total);
/* After the commit, once per article: where it came from ("en/x.md",
 * "faq.csv:7"), which article it is and what the import did to it. */
typedef void (*sb_kb_item_fn)(void *arg, const char *where, const char *locale, const char *slug,
                              enum sb_kb_change change);

struct sb_kb_import_opts {
    const char *author;         /* of the revisions; NULL = "cli" */
    sb_kb_progress_fn progress; /* may be NULL */
    sb_kb_item_fn item;         /* may be NULL */
    void *arg;
    /* FAQ only: the locale of every row (required), the category of rows
     * without one (NULL = none) and the status (NULL = "published"). */
    const char *locale, *category, *status;
};

/* Imports every *.md file under dir (recursive, sorted by name; README.md
 * and dot files skipped) and each folder's _categories.yaml. out and opts
 * may be NULL. Errors: SB_ERR_INVAL (a bad file), SB_ERR_LIMIT (a file over
 * 1 MiB, more than 100,000 articles), SB_ERR_IO, SB_ERR_DB. */
enum sb_err sb_kb_import_tree(struct sb_kb *kb, const char *dir,
                              const struct sb_kb_import_opts *opts, struct sb_kb_import_stats *out,
                              struct sb_errbuf *eb);

/* sb_kb_import_tree reporting only the article counts. */
enum sb_err sb_kb_import_dir(struct sb_kb *kb, const char *dir, int *added, int *changed,
                             int *unchanged, struct sb_errbuf *eb);

/* Imports questions and answers from a CSV file (RFC 4180, header row
 * with question and answer, optional title, slug, category, tags) or,
 * when path ends in .jsonl, JSON lines ({question, answer, title?, slug?,
 * category?, tags?, examples?}). A row becomes an article whose summary
 * and body are the answer and whose first example is the question. */
enum sb_err sb_kb_import_faq(struct sb_kb *kb, const char *path,
                             const struct sb_kb_import_opts *opts, struct sb_kb_import_stats *out,
                             struct sb_errbuf *eb);

struct sb_kb_export_stats {
    int articles, category_files; /* exported */
    int written;                  /* files whose content changed */
};

/* Writes dir/{locale}/{slug}.md for every article (filtered by locale and
 * status when not NULL) in the format the import reads, and
 * dir/{locale}/_categories.yaml for the named categories. Each file is
 * replaced atomically (temporary file, then rename) and only when its
 * content changed; files of articles that no longer exist are left. */
enum sb_err sb_kb_export_dir(struct sb_kb *kb, const char *dir, const char *locale,
                             const char *status, struct sb_kb_export_stats *out,
                             struct sb_errbuf *eb);

/* ---- Public reads for the help center (kb_public.c) ----
 *
 * Only published articles. The statements are prepared on first use and
 * kept with the handle. Strings passed in are borrowed; the JSON handed
 * out is owned by the caller. Text is returned as stored, so callers that
 * print it must escape it. */

/* The known locale a visitor's wish stands for, in its known spelling: the
 * same locale ignoring case ("pt-br" -> "pt-BR"), else another region of
 * the same language ("pt-PT", "pt" -> "pt-BR"). False, with out untouched,
 * when the language is not known: unlike sb_kb_resolve_locale this never
 * falls back to the default by itself, so callers can try the next wish. */
bool sb_kb_match_locale(const struct sb_kb *kb, const char *wish, char *out, size_t cap);

/* The categories of locale with their published articles, for the help
 * center's home (category NULL) or a category's page: [{slug, name,
 * description, articles: [{slug, title, summary}]}], by the category's
 * position, then name; articles by title. name and description are ""
 * when the category has none in this locale; articles without a category
 * come last, under slug "". A category with no article in locale that is
 * still known (named in locale, or used by a published article in another
 * locale) is one item without articles. Errors: SB_ERR_NOT_FOUND (unknown
 * category), SB_ERR_DB, SB_ERR_NOMEM. */
enum sb_err sb_kb_public_categories(struct sb_kb *kb, const char *locale, const char *category,
                                    json_t **out);

/* The published article to show a visitor asking for (locale, slug): that
 * article, else one of its translations (the group of the articles with
 * that slug, the one in locale first): in locale under another slug, in
 * another region of locale's language, in the default locale, in any
 * locale. *out = {id, slug, locale, group, title, summary, body, category,
 * category_name, updated_at, translations: [{locale, slug, title}]}, where
 * locale says which one was found, category_name is locale's name for the
 * category (else the article's locale's, else "") and translations are
 * the published articles of the group, this one included. Errors:
 * SB_ERR_NOT_FOUND (nothing published under that slug), SB_ERR_DB,
 * SB_ERR_NOMEM. */
enum sb_err sb_kb_public_article(struct sb_kb *kb, const char *locale, const char *slug,
                                 json_t **out);

#endif

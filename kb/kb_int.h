/*
 * kb_int.h - private to kb/: the handle and helpers shared between files.
 */
#ifndef KB_INT_H
#define KB_INT_H

#include "sb_kb.h"

enum kb_stmt {
    KB_FIND,
    KB_LOAD,
    KB_INSERT,
    KB_UPDATE,
    KB_FTS_DELETE,
    KB_FTS_INSERT,
    KB_SEARCH,
    KB_GET,
    KB_DATA_VERSION,
    KB_REV_INSERT,
    KB_REV_LIST,
    KB_REV_LOAD,
    KB_DELETE,
    KB_TRANSLATIONS,
    KB_CATEGORIES,
    KB_CATEGORY_SET,
    KB_VOTE,
    KB_VOTE_SHOWN,
    KB_VOTE_VIEW,
    KB_SHOWN_ADD,
    KB_HELPFULNESS,
    KB_QUERY_LOG,
    KB_QUERY_HANDOFF,
    KB_GAPS,
    KB__COUNT
};

#define KB_MAX_LOCALES 32

/* ------- kb_stem.c's stemmer set, embedded below ------- */

#define KB_STEM_LANGS 16

/* Snowball stemmers by language, made on first use and owned by whoever
 * embeds this (zeroed = empty). libstemmer's stemmers are not
 * thread-safe: one set per owner, used by one thread at a time. */
struct sb_stemmer;
struct kb_stemmers {
    struct sb_stemmer *stemmer[KB_STEM_LANGS];
    bool unavailable[KB_STEM_LANGS];
};

struct sb_kb {
    sqlite3 *db; /* borrowed from the store */
    sqlite3_stmt *stmt[KB__COUNT];
    struct kb_index *index; /* built on first search, rebuilt on change */
    bool index_stale;       /* this connection changed articles */
    int64_t data_version;   /* PRAGMA data_version when the index was built */
    /* Slow rebuilds on a thread (kb_rebuild.c), when the owner asks for it
     * (sb_kb_background_rebuilds): the build under way, the data_version
     * it started at, and how long the last build took. */
    bool background;
    int in_place_ms;              /* a build that took less is redone in place */
    bool fts_fallback;            /* waited for the first build once: FTS5 answers until it is in */
    struct kb_disposal *disposal; /* the index replaced last, being freed */
    struct kb_rebuild *rebuild;
    int64_t rebuild_version;
    /* A quick build sb_kb_tick started: the next search waits for it (up
     * to in_place_ms) as it would have built it in place, once. */
    bool rebuild_awaited;
    double build_ms;
    /* known locales, the first is the default */
    int nlocales;
    char locale[KB_MAX_LOCALES][36];
    /* help center: kb_public.c's statements, prepared on first use */
    struct kb_public *pub;
    /* thresholds and learned adjustments (kb_learn.c), made on first use */
    struct kb_learn *learn;
    /* stemmers for customers' questions (kb_stem.c) */
    struct kb_stemmers stem;
    /* editors' synonyms (kb_synonyms.c), read on first use */
    struct kb_synonyms *synonyms;
    bool synonyms_stale;
};

/* ------- Interface to code in kb.c ------- */

/* The columns of an article row, in the order KB_LOAD and KB_REV_LOAD
 * return them. */
enum kb_col {
    KC_ID,
    KC_SLUG,
    KC_LOCALE,
    KC_TITLE,
    KC_SUMMARY,
    KC_BODY,
    KC_CATEGORY,
    KC_TAGS,
    KC_EXAMPLES,
    KC_STATUS,
    KC_GROUP,
    KC_AUTHOR,
    KC_REVISION,
    KC_CREATED,
    KC_UPDATED,
    KC_THRESHOLD, /* KB_LOAD only: revisions do not keep it */
};

/* The article JSON of the row s is on (KB_LOAD or KB_REV_LOAD). */
json_t *kb_row_json(sqlite3_stmt *s, bool with_body);
/* Steps a write statement and resets it. */
enum sb_err kb_step(struct sb_kb *kb, sqlite3_stmt *s, struct sb_errbuf *eb);

/* ------- Interface to code in kb_validate.c ------- */

bool kb_valid_slug(const char *s);
bool kb_valid_status(const char *s);

/* ------- Interface to code in kb_diff.c ------- */

/* Line diff of a and b as a JSON array of {op, text}; *changed is set. */
json_t *kb_diff_lines(const char *a, const char *b, bool *changed);

/* "pt-BR" -> "pt" into lang[cap]. */
void kb_language_of(const char *locale, char *lang, size_t cap);

/* ------- Interface to code in kb_locale.c ------- */
/* The index in kb->locale of the best locale for wish by the fallback rule
 * (words.h), last (may be NULL) the last resort; false: none fits. */
bool kb_locale_best(const struct sb_kb *kb, const char *wish, const char *last, int *best);

/* ------- Interface to code in kb_stopwords.c ------- */

/* True when the folded word w (len bytes) is a stop word in the language
 * of locale (en, pt, ro, es, fr, de, it) or in English, which customers
 * mix in everywhere. Thread-safe. */
bool kb_is_stopword(const char *locale, const char *w, size_t len);

/* ------- Interface to code in kb_stem.c ------- */

/* struct kb_stemmers (defined above struct sb_kb, which holds one). */
void kb_stemmers_cleanup(struct kb_stemmers *st); /* NULL-safe; leaves it empty */

/* The stem of the folded word[0..wl) by the Snowball stemmer of locale's
 * language into out[cap], the accents of its ending put back first
 * ("devolucao" is stemmed as "devolução"); the word itself for a
 * language without one. Returns the length written (not folded). */
size_t kb_stem(struct kb_stemmers *st, const char *locale, const char *word, size_t wl, char *out,
               size_t cap);
/* True when locale's language has a stemmer. */
bool kb_stem_known(const char *locale);

/* ------- Interface to code in kb_text.c ------- */

#define KB_MAX_TERMS 32
#define KB_MAX_TERM_BYTES 64

/* The next word of text[0..len) from *pos, folded (lowercase, diacritics
 * removed) into word[cap]; false at the end. Words that do not fit in cap
 * are skipped. For exact phrasings and n-grams; search terms come from
 * kb_next_term. */
bool kb_next_word(const char *text, size_t len, size_t *pos, char *word, size_t cap, size_t *wl);

/* kb_next_word lowercasing only (what a stemmer wants), with the byte
 * offset of the word's first character in *start. */
bool kb_next_lower(const char *text, size_t len, size_t *pos, size_t *start, char *word, size_t cap,
                   size_t *wl);

/* Folds in[0..len) into out[cap]; returns the length written. */
size_t kb_fold(const char *in, size_t len, char *out, size_t cap);

/* The search term of a word from kb_next_lower, in locale's language,
 * into out[cap]: 0 for a stop word, else the folded stem (its length).
 * Articles, questions and the FTS5 tokenizer all go through here, so they
 * meet on the same terms. */
size_t kb_term(struct kb_stemmers *st, const char *locale, const char *word, size_t wl, char *out,
               size_t cap);

/* The next word of text as a search term (kb_term) into term[cap]; *tl is
 * 0 for a stop word, which still counts as a word. False at the end. */
bool kb_next_term(struct kb_stemmers *st, const char *locale, const char *text, size_t len,
                  size_t *pos, char *term, size_t cap, size_t *tl);

/* The search terms of a customer's question: distinct terms in order, at
 * most KB_MAX_TERMS. Returns how many. */
struct kb_terms {
    int n;
    char term[KB_MAX_TERMS][KB_MAX_TERM_BYTES + 1];
};
int kb_query_terms(struct kb_stemmers *st, const char *text, const char *locale,
                   struct kb_terms *out);

/* ------- Interface to code in kb_fts_tokenizer.c ------- */

/* The FTS5 tokenizer kb_fts uses (sb_kb_register_tokenizer in sb_kb.h).
 * Each indexed column of kb_fts is stored as KB_FTS_MARK locale
 * KB_FTS_MARK text (in SQL: char(31) || locale || char(31) || text), so
 * the tokenizer knows the row's language. */
#define KB_FTS_TOKENIZER "sb"
#define KB_FTS_MARK '\x1F'
#define KB_FTS_MAX_LOCALE 35

/* The FTS5 API of db's connection, NULL when FTS5 is missing. */
fts5_api *kb_fts5_api(sqlite3 *db);

/* ------- Interface to code in kb_index.c ------- */

struct kb_index;

/* An indexed article; strings owned by the index. */
struct kb_doc {
    int64_t id;
    char *slug, *locale, *title, *summary;
    char lang[16];
    uint32_t len; /* words in all fields */
};

struct kb_ix_hit {
    uint32_t doc;
    double bm25;
    double coverage;
};

/* Builds the index of the published articles in db. */
enum sb_err kb_index_build(sqlite3 *db, struct kb_index **out);
/* The same in two steps: reading the articles (on the connection's
 * thread) and building from what was read (on any thread; the rows are
 * left for kb_rows_free). */
struct kb_rows;
enum sb_err kb_rows_read(sqlite3 *db, struct kb_rows **out);
enum sb_err kb_index_build_rows(struct kb_rows *rows, struct kb_index **out);
void kb_rows_free(struct kb_rows *r);    /* NULL-safe */
void kb_index_free(struct kb_index *ix); /* NULL-safe */

/* ------- Interface to code in kb_rebuild.c ------- */

/* Starts building the index of rows (kb_rows_read) on a new thread; the
 * rows are its own from now on, even when it fails to start. */
struct kb_rebuild;
enum sb_err kb_rebuild_start(struct kb_rows *rows, struct kb_rebuild **out);
/* When the build has finished, waiting up to wait_ms for it (-1: as long
 * as it takes), gives its index (NULL on failure), error and duration in
 * ms, frees b and returns true. */
bool kb_rebuild_finish(struct kb_rebuild *b, int wait_ms, struct kb_index **ix, enum sb_err *rc,
                       double *ms);
/* Frees ix on a thread; *slot keeps it to be joined (the previous one is
 * joined first). NULL-safe. */
struct kb_disposal;
void kb_dispose(struct kb_disposal **slot, struct kb_index *ix);
void kb_dispose_wait(struct kb_disposal **slot); /* NULL-safe, *slot may be NULL */
/* In kb_search.c: waits for the background build under way, if any, and
 * takes its index (sb_kb_close does, so no thread outlives the handle). */
void kb_rebuild_wait(struct sb_kb *kb);
const struct kb_doc *kb_index_doc(const struct kb_index *ix, uint32_t doc);

/* A question as a phrase: its folded words, stop words kept, joined by
 * one space, into out[cap]. Returns the length; 0 for no words or a
 * phrase that does not fit. */
#define KB_MAX_PHRASE_BYTES 512
size_t kb_phrase(const char *text, char *out, size_t cap);

/* The documents of language lang with an example question that is this
 * phrase (at most max, into docs); returns how many. */
int kb_index_phrase_docs(const struct kb_index *ix, const char *phrase, const char *lang,
                         uint32_t *docs, int max);

/* ------- Interface to code in kb_select.c ------- */

struct kb_scored {
    uint32_t id;
    float score;
};
/* Reorders a[0..n) so that a[0..k) hold k of the best scores (in no
 * particular order; ties at the k-th score are broken arbitrarily). */
void kb_select_best(struct kb_scored *a, uint32_t n, uint32_t k);

/* ------- Interface to code in kb_featmap.c ------- */

/* Feature keys to dense ids in the order they are first added (zeroed =
 * empty). kb_featmap_add returns the key's id, new or old, or -1 when out
 * of memory; a new id is always the previous n. *values is the caller's
 * array of per-feature records of size bytes, grown with the keys: a new
 * id's record is zeroed. */
struct kb_featmap {
    uint64_t *keys; /* by id */
    uint32_t n;
    uint32_t *slot; /* open addressing: id + 1, 0 = empty */
    uint32_t slot_cap;
};
int32_t kb_featmap_find(const struct kb_featmap *fm, uint64_t key);
/* Whether two maps give every key the same id (the same keys added in
 * the same order). */
bool kb_featmap_same(const struct kb_featmap *a, const struct kb_featmap *b);
int32_t kb_featmap_add(struct kb_featmap *fm, uint64_t key, void **values, size_t size);
void kb_featmap_free(struct kb_featmap *fm);

/* ------- Interface to code in kb_synonyms.c ------- */

struct kb_synonyms;
void kb_synonyms_free(struct kb_synonyms *s); /* NULL-safe */
/* text with the synonyms of every term it contains (language lang)
 * appended, as new malloc'd text; NULL when there is nothing to add. */
char *kb_synonyms_expand(struct sb_kb *kb, const char *text, const char *lang);

/* ------- Interface to code in kb_vec.c ------- */

/* A text's features: word unigrams, word bigrams and character 3-5-grams
 * of its folded words, as 64-bit FNV-1a hashes with raw weights (counts
 * times the kind's weight), at most KB_MAX_FEATURES distinct ones.
 * kb_vec.c and kb_model.c read questions the same way. */
#define KB_MAX_FEATURES 1024
struct kb_features {
    uint64_t key[KB_MAX_FEATURES];
    float w[KB_MAX_FEATURES];
    uint16_t slot[2 * KB_MAX_FEATURES]; /* building: hash of key -> index + 1 */
    int n;
    /* The keys' ids in id_map (-1: not there), once a search has looked
     * them up; kb_features sets id_map to NULL. The model reads the ids
     * the neighbour search found when its map is the same. */
    const struct kb_featmap *id_map;
    int32_t id[KB_MAX_FEATURES];
};
void kb_features(const char *text, struct kb_features *out);

/* Nearest neighbours among example questions (TF-IDF over word and
 * character n-grams). Add every example with its document, finish once,
 * then search: for the documents of language lang (doc_lang[d] == lang)
 * the mean cosine of their best 5 examples goes into doc_score[d] (which
 * must be all zero on entry; only the documents written to docs_out, at
 * most max_docs, are touched; doc_count is scratch of the same length).
 * Returns how many documents were written. */
struct kb_vec;
struct kb_vec *kb_vec_new(void);
void kb_vec_free(struct kb_vec *v); /* NULL-safe */
enum sb_err kb_vec_add(struct kb_vec *v, uint32_t doc, const char *text);
enum sb_err kb_vec_finish(struct kb_vec *v);
/* The search's cost bounds (kb_vec.c): postings walked before the rest
 * of a question's features are finished only for the best candidates.
 * The defaults serve every knowledge base; tests compare against
 * UINT32_MAX (exact scoring). */
void kb_vec_set_budget(struct kb_vec *v, uint32_t postings, uint32_t candidates);
int kb_vec_search(struct kb_vec *v, const char *text, const uint8_t *doc_lang, uint8_t lang,
                  uint32_t ndocs, double *doc_score, uint8_t *doc_count, uint32_t *docs_out,
                  int max_docs);
/* The same for a question already read by kb_features (a search reads it
 * once for both the neighbours and the model); writes b's ids in the
 * index's feature map (kb_vec_featmap). */
int kb_vec_search_features(struct kb_vec *v, struct kb_features *b, const uint8_t *doc_lang,
                           uint8_t lang, uint32_t ndocs, double *doc_score, uint8_t *doc_count,
                           uint32_t *docs_out, int max_docs);
const struct kb_featmap *kb_vec_featmap(const struct kb_vec *v);

/* The example-question neighbours of a question in language lang: up to
 * max documents with their best cosine, best first. */
struct kb_nn_hit {
    uint32_t doc;
    double cosine;
};
int kb_index_neighbours(struct kb_index *ix, struct kb_features *q, const char *lang,
                        struct kb_nn_hit *hits, int max);

/* The learned model's view of a question in language lang (kb_model.c):
 * up to max documents with their probability (in .cosine), best first. */
int kb_index_model(struct kb_index *ix, const struct kb_features *q, const char *lang,
                   struct kb_nn_hit *hits, int max);

/* Scores the articles of language lang for the query terms; writes the
 * best max by BM25 (highest first) into hits and returns how many. */
int kb_index_search(struct kb_index *ix, const struct kb_terms *q, const char *lang,
                    struct kb_ix_hit *hits, int max);

/* ------- Interface to code in kb_model.c ------- */

/* A multiclass linear model from questions to documents over
 * kb_features: add every example with its document, train once, then
 * search. Deterministic: the same examples in the same order give the
 * same model. */
struct kb_model;
struct kb_model *kb_model_new(void);
void kb_model_free(struct kb_model *m); /* NULL-safe */
/* text is borrowed; an example without features is ignored. */
enum sb_err kb_model_add(struct kb_model *m, uint32_t doc, const char *text);
/* doc_lang[d] is document d's language (borrowed, at least as long as
 * the highest document added): an example competes only with documents
 * of its own language. Frees the examples. */
enum sb_err kb_model_train(struct kb_model *m, const uint8_t *doc_lang);
/* How many examples training learned from, once per epoch each: fewer
 * than all epochs' when its budget ran out. */
uint64_t kb_model_examples_seen(const struct kb_model *m);
/* The best documents of language lang for text: up to max into hits,
 * best first, with the softmax probability of their scores among those
 * max in .cosine. Returns how many; 0 for nothing known. */
int kb_model_search(struct kb_model *m, const char *text, const uint8_t *doc_lang, uint8_t lang,
                    struct kb_nn_hit *hits, int max);
/* Declares that fm gives every feature the model's id (kb_featmap_same):
 * kb_model_search_features then takes a question's ids from its id
 * array when they were looked up in fm, instead of looking them up. */
void kb_model_share_ids(struct kb_model *m, const struct kb_featmap *fm);
const struct kb_featmap *kb_model_featmap(const struct kb_model *m);
/* The same for a question already read by kb_features. */
int kb_model_search_features(struct kb_model *m, const struct kb_features *b,
                             const uint8_t *doc_lang, uint8_t lang, struct kb_nn_hit *hits,
                             int max);

/* ------- Interface to code in kb_search.c ------- */

/* Registers the sb_coverage() FTS5 auxiliary function on db. */
enum sb_err kb_register_functions(sqlite3 *db);

/* ------- Interface to code in kb_learn.c ------- */

/* What kb_learn.c caches went stale through this handle: an article's
 * threshold may have changed (sb_kb_save, sb_kb_delete), or a vote or a
 * hand-off was recorded. Cheap; the work happens at the next lookup. */
void kb_learn_articles_changed(struct sb_kb *kb);
void kb_learn_signals_changed(struct sb_kb *kb);
/* Frees the cache and its statements; sb_kb_close calls it. NULL-safe. */
void kb_learn_free(struct kb_learn *l);

/* ------- Interface to code in kb_public.c ------- */

struct kb_public;

/* Finalizes the help center's statements; sb_kb_close calls it. NULL-safe. */
void kb_public_free(struct kb_public *pub);

#endif

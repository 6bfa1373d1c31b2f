/*
 * kb_fts_tokenizer.c - the "sb" FTS5 tokenizer, so kb_fts (store.c,
 * migration 5) indexes the same search terms as the in-memory index and
 * customer questions: kb_term() of kb_text.c, stop words dropped, stemmed
 * by the language of the row's locale, folded.
 *
 * The language of a row. kb_fts holds every locale in one table, and FTS5
 * gives a tokenizer the text of one column, never its row. So the
 * language travels inside the text: each indexed column is stored as
 * KB_FTS_MARK + locale + KB_FTS_MARK + text (kb.c's KB_FTS_INSERT, the
 * repopulation in migration 5), and the tokenizer stems what follows the
 * mark by that locale and indexes no part of it. Because the mark is part
 * of the stored content, every later pass over a row makes the same
 * tokens: the delete FTS5 does by tokenizing a row's old content again,
 * 'rebuild', 'integrity-check'. A language kept in connection state
 * would have to be right at each of those moments, including an update
 * that moves an article to another locale. Text without a mark is stemmed
 * by the tokenizer's argument (tokenize = 'sb pt-BR'), or not at all.
 *
 * Queries (FTS5_TOKENIZE_QUERY) are terms already: sb_kb_build_query
 * turns the customer's words into stems, and stemming a stem again can
 * cut it further. Query text is only lowercased and folded here.
 *
 * sb_store_open registers the tokenizer on its connection before the
 * migrations run (creating kb_fts needs it); sb_kb_open does for
 * connections opened elsewhere. The tokenizer has no per-connection
 * state: each FTS5 table instance gets its own stemmers (xCreate), freed
 * with the instance (xDelete) when its connection closes.
 */
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"

struct sb_fts_tok {
    struct kb_stemmers stem;
    char locale[KB_FTS_MAX_LOCALE + 1]; /* for text without a mark; "" = none */
};

fts5_api *kb_fts5_api(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *s = NULL;

    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &s, NULL) != SQLITE_OK) return NULL;
    sqlite3_bind_pointer(s, 1, &api, "fts5_api_ptr", NULL);
    sqlite3_step(s);
    sqlite3_finalize(s);
    return api;
}

/* A locale as kb_articles holds them: letters, digits, '-' and '_'. */
static bool valid_locale(const char *s, size_t n)
{
    if (n == 0 || n > KB_FTS_MAX_LOCALE) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static int tok_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
    struct sb_fts_tok *t;

    (void)ctx;
    if (argc > 1 || (argc == 1 && !valid_locale(argv[0], strlen(argv[0])))) return SQLITE_ERROR;
    t = calloc(1, sizeof(*t));
    if (!t) return SQLITE_NOMEM;
    if (argc == 1) memcpy(t->locale, argv[0], strlen(argv[0]) + 1);
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static void tok_delete(Fts5Tokenizer *tok)
{
    struct sb_fts_tok *t = (struct sb_fts_tok *)tok;
    if (!t) return;
    kb_stemmers_cleanup(&t->stem);
    free(t);
}

/* The locale of a marked text into locale[KB_FTS_MAX_LOCALE + 1]; returns
 * the bytes the mark takes, 0 when text has none (a lone 0x1F is only a
 * separator). */
static size_t read_mark(const char *text, size_t len, char *locale)
{
    size_t end = 1;

    if (len < 2 || text[0] != KB_FTS_MARK) return 0;
    while (end < len && end <= KB_FTS_MAX_LOCALE + 1 && text[end] != KB_FTS_MARK)
        end++;
    if (end >= len || text[end] != KB_FTS_MARK || !valid_locale(text + 1, end - 1)) return 0;
    memcpy(locale, text + 1, end - 1);
    locale[end - 1] = '\0';
    return end + 1;
}

typedef int (*token_fn)(void *ctx, int flags, const char *token, int len, int start, int end);

static int tok_tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int ntext,
                        token_fn emit)
{
    struct sb_fts_tok *t = (struct sb_fts_tok *)tok;
    char locale[KB_FTS_MAX_LOCALE + 1], word[KB_MAX_TERM_BYTES + 1], term[KB_MAX_TERM_BYTES + 1];
    size_t len = ntext > 0 ? (size_t)ntext : 0, pos, start, wl, tl;
    bool query = (flags & FTS5_TOKENIZE_QUERY) != 0;
    int rc = SQLITE_OK;

    memcpy(locale, t->locale, sizeof(locale));
    pos = read_mark(text, len, locale);
    while (rc == SQLITE_OK && kb_next_lower(text, len, &pos, &start, word, sizeof(word), &wl)) {
        tl = query ? kb_fold(word, wl, term, sizeof(term))
                   : kb_term(&t->stem, locale, word, wl, term, sizeof(term));
        if (tl) rc = emit(ctx, 0, term, (int)tl, (int)start, (int)pos);
    }
    /* SQLITE_DONE from the callback asks to stop early, not an error. */
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

enum sb_err sb_kb_register_tokenizer(sqlite3 *db)
{
    static fts5_tokenizer tokenizer = {tok_create, tok_delete, tok_tokenize};
    fts5_api *api = kb_fts5_api(db);
    fts5_tokenizer existing;
    void *ud;

    if (!api) return SB_ERR_DB;
    /* Once per connection: sb_kb_open calls this again on the store's. */
    if (api->xFindTokenizer(api, KB_FTS_TOKENIZER, &ud, &existing) == SQLITE_OK) return SB_OK;
    if (api->xCreateTokenizer(api, KB_FTS_TOKENIZER, NULL, &tokenizer, NULL) != SQLITE_OK)
        return SB_ERR_DB;
    return SB_OK;
}

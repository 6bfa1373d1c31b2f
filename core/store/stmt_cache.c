/*
 * stmt_cache.c - the store's one way to prepare and cache statements.
 *
 * A statement is asked for by its SQL text, which must be a string
 * literal: the cache is keyed by the literal's address, so finding a
 * statement costs a pointer hash, not a string compare or a parse
 * (parsing was a tenth of a hand-off's cost before statements were kept).
 * It is prepared once per connection (SQLITE_PREPARE_PERSISTENT) the first
 * time it is asked for, and store_release() resets it and clears its
 * bindings for the next caller. A statement still in use when the same
 * text is asked for again (a nested call) gets a one-off copy that
 * release finalizes. SQL built at run time goes through store_prep_built()
 * and is never cached (an address on the stack may hold other text later).
 *
 * The message path's numbered statements (store_int.h's enums) live in
 * the same cache: store_prep_table() enters a table of them at open (so a
 * bad statement fails the open) and fills an array indexed by the enum,
 * their callers' O(1) way in; such a statement is reset when it is taken
 * (store_stmt() and its kin), not released, since none of them nests.
 * Every statement is finalized in one place, store_stmt_cache_free().
 * A second backend provides the same typed functions over its own
 * prepared statements.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "store_int.h"

struct store_cached {
    const char *sql; /* NULL: free slot */
    sqlite3_stmt *stmt;
    bool busy;
};

#define STORE_BUSY_MAX 32

struct store_stmt_cache {
    struct store_cached *slot;
    size_t cap, n;
    /* Slots handed out and not yet released: few at a time (a statement
     * is stepped, then released), so release scans these, not the table. */
    size_t busy[STORE_BUSY_MAX];
    int nbusy;
};

static size_t slot_of(const struct store_stmt_cache *c, const char *sql)
{
    uint64_t h = (uint64_t)(uintptr_t)sql;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (size_t)h & (c->cap - 1);
}

static enum sb_err cache_grow(struct store_stmt_cache *c)
{
    struct store_stmt_cache bigger = {.cap = c->cap ? c->cap * 2 : 256};
    bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
    if (!bigger.slot) return SB_ERR_NOMEM;
    for (size_t i = 0; i < c->cap; i++) {
        size_t j;
        if (!c->slot[i].sql) continue;
        for (j = slot_of(&bigger, c->slot[i].sql); bigger.slot[j].sql;
             j = (j + 1) & (bigger.cap - 1))
            ;
        bigger.slot[j] = c->slot[i];
    }
    bigger.n = c->n;
    /* grown only when nothing is handed out (below): no busy index moves */
    free(c->slot);
    *c = bigger;
    return SB_OK;
}

static sqlite3_stmt *prepare(struct sb_store *st, const char *sql, bool persistent)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(st->db, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL) !=
        SQLITE_OK) {
        sb_error("store: %s: %s", sqlite3_errmsg(st->db), sql);
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

sqlite3_stmt *store_prep(struct sb_store *st, const char *sql)
{
    struct store_stmt_cache *c = st->cache;
    size_t i;
    if (!c && !(c = st->cache = calloc(1, sizeof(*c)))) return NULL;
    if ((c->n + 1) * 2 > c->cap && (c->nbusy || cache_grow(c))) return prepare(st, sql, false);
    if (c->nbusy == STORE_BUSY_MAX) return prepare(st, sql, false);
    for (i = slot_of(c, sql); c->slot[i].sql; i = (i + 1) & (c->cap - 1)) {
        if (c->slot[i].sql != sql) continue;
        if (c->slot[i].busy) return prepare(st, sql, false); /* nested: a one-off */
        c->slot[i].busy = true;
        c->busy[c->nbusy++] = i;
        return c->slot[i].stmt;
    }
    c->slot[i].stmt = prepare(st, sql, true);
    if (!c->slot[i].stmt) return NULL;
    c->slot[i].sql = sql;
    c->slot[i].busy = true;
    c->busy[c->nbusy++] = i;
    c->n++;
    return c->slot[i].stmt;
}

enum sb_err store_prep_table(struct sb_store *st, const char *const *sql, int n, sqlite3_stmt **out,
                             struct sb_errbuf *eb)
{
    for (int k = 0; k < n; k++) {
        struct store_stmt_cache *c;
        out[k] = store_prep(st, sql[k]);
        if (!out[k]) return sb_fail(eb, SB_ERR_DB, "prepare: %s", sqlite3_errmsg(st->db));
        c = st->cache;
        if (!c->nbusy || c->slot[c->busy[c->nbusy - 1]].stmt != out[k]) {
            /* a one-off (no room in the cache): nobody would finalize it */
            sqlite3_finalize(out[k]);
            out[k] = NULL;
            return sb_fail(eb, SB_ERR_NOMEM, "prepare: out of memory");
        }
        /* taken once, never released: the table is its callers' index */
        c->slot[c->busy[--c->nbusy]].busy = false;
    }
    return SB_OK;
}

sqlite3_stmt *store_prep_built(struct sb_store *st, const char *sql)
{
    return prepare(st, sql, false);
}

void store_release(struct sb_store *st, sqlite3_stmt *s)
{
    struct store_stmt_cache *c = st->cache;
    if (!s) return;
    for (int k = c ? c->nbusy - 1 : -1; k >= 0; k--) {
        struct store_cached *e = &c->slot[c->busy[k]];
        if (e->stmt != s) continue;
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        e->busy = false;
        c->busy[k] = c->busy[--c->nbusy];
        return;
    }
    sqlite3_finalize(s); /* a one-off */
}

enum sb_err store_done(struct sb_store *st, sqlite3_stmt *s)
{
    int r;
    if (!s) return SB_ERR_DB;
    r = sqlite3_step(s);
    if (r != SQLITE_DONE && r != SQLITE_ROW) sb_error("store: %s", sqlite3_errmsg(st->db));
    store_release(st, s);
    return r == SQLITE_DONE || r == SQLITE_ROW ? SB_OK : SB_ERR_DB;
}

const char *store_col(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? (const char *)t : "";
}

void store_stmt_cache_free(struct sb_store *st)
{
    struct store_stmt_cache *c = st->cache;
    if (!c) return;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slot[i].sql) sqlite3_finalize(c->slot[i].stmt);
    free(c->slot);
    free(c);
    st->cache = NULL;
}

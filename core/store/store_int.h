/*
 * store_int.h - private to core/store*.c: the handle and its statements.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include "sb_store.h"

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_PLUGIN_SAVEPOINT,
    ST_PLUGIN_RELEASE,
    ST_PLUGIN_ROLLBACK_TO,
    ST_CONTACT_ADD,
    ST_IDENTITY_FIND,
    ST_IDENTITY_ADD,
    ST_CONV_ADD,
    ST_CONV_GET,
    ST_CONV_GET_ID,
    ST_CONV_GET_VISITOR,
    ST_CONV_STATUS,
    ST_CONV_ATTRS,
    ST_HANDOFF_ADD,
    ST_MSG_ADD,
    ST_MSG_FIND,
    ST_MSG_GET,
    ST_MSG_LIST,
    ST_MSG_REPLIES,
    ST_EVENT_ADD,
    ST_EVENT_SINCE,
    ST_EVENT_MAX,
    ST_KV_GET,
    ST_KV_SET,
    ST_KV_DEL,
    ST_KV_USAGE,
    ST_KV_SIZE,
    ST__COUNT
};

struct store_checkpointer;
struct store_stmt_cache;

/* Statements of store_users.c. */
enum user_stmt_id {
    US_USER_ADD,
    US_USER_BY_EMAIL,
    US_USER_BY_ID,
    US_USER_ACTIVE,
    US_USER_PASSWORD,
    US_USER_LIST,
    US_SESSION_ADD,
    US_SESSION_GET,
    US_SESSION_TOUCH,
    US_SESSION_DELETE,
    US_SESSION_REVOKE_USER,
    US_TOKEN_ADD,
    US_TOKEN_GET,
    US_TOKEN_REVOKE,
    US_TOKEN_LIST,
    US_AUDIT_ADD,
    US_AUDIT_LIST,
    US__COUNT
};

/* Statements of store_sites.c. */
enum site_stmt_id {
    SS_SITE_GET,
    SS_SITE_PUT,
    SS_SITE_IDS,
    SS_SITE_DELETE,
    SS_ORIGINS_CLEAR,
    SS_ORIGIN_ADD,
    SS_ORIGINS_OF,
    SS_ORIGIN_ALLOWED,
    SS_ORIGINS_ALL,
    SS__COUNT
};

/* Statements of store_web.c. */
enum web_stmt_id {
    WS_TOKEN_ADD,
    WS_CONV_WEB,
    WS_IDENTITY_VERIFIED,
    WS_CONV_INFO,
    WS_QUEUE_POS,
    WS_QUEUE_WAITS,
    WS_READ_CUSTOMER,
    WS_READ_AGENT,
    WS_MSG_OF_CONV,
    WS_ATT_ADD,
    WS_ATT_GET,
    WS_ATT_LINK,
    WS_USER_CONVS,
    WS_LAST_MSG,
    WS__COUNT
};

/* Effects queued by a unit of work (core/store/unit.c). */
struct store_effect {
    sb_effect_fn fn;
    void *arg;
    int64_t key;
    sb_effect_free_fn free_arg;
    enum sb_effect_when when;
};

struct store_effects {
    struct store_effect *v;
    size_t n, cap;
};

#define STORE_PLUGIN_DEPTH 8

struct sb_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST__COUNT];
    bool batch_open; /* BEGIN issued, COMMIT not yet */
    bool in_unit;    /* SAVEPOINT open */
    /* Highest events.id known durable: readers inside an open batch stop
     * there, so they never send what a failed COMMIT could take back. */
    int64_t committed_event_id;
    struct store_checkpointer *checkpointer;
    sqlite3_stmt *ustmt[US__COUNT];
    sqlite3_stmt *sstmt[SS__COUNT];
    sqlite3_stmt *wstmt[WS__COUNT];
    /* The open unit's effects, then those of its committed units waiting
     * for the batch to be durable. */
    struct store_effects unit_fx, batch_fx;
    /* unit_fx.n when each open plugin call began (innermost last). */
    size_t plugin_mark[STORE_PLUGIN_DEPTH];
    int plugin_depth;
    /* Plugin calls open (in a unit or not), and how many of them, the
     * outermost first, have their savepoint open: a call's savepoint is
     * opened at its first write (sb_store_plugin_write), since most calls
     * only read. */
    int pcall_depth, pcall_open;
#ifndef NDEBUG
    /* sqlite3_total_changes64 when each call began: a call that wrote
     * without sb_store_plugin_write is a bug (checked at its end). */
    int64_t pcall_changes[STORE_PLUGIN_DEPTH];
#endif
    sb_store_event_hook on_event;
    void *on_event_arg;
    sb_store_lost_hook on_lost;
    void *on_lost_arg;
    sb_store_event_hook on_outbox; /* store_channel.h */
    void *on_outbox_arg;
    struct store_stmt_cache *cache; /* store/stmt_cache.c */
};

/* The prepared statement id, reset and with its bindings cleared, ready to
 * bind and step. */
sqlite3_stmt *store_stmt(struct sb_store *st, enum stmt_id id);

/* Steps a statement that returns no rows we need; logs and maps errors. */
enum sb_err store_step_done(struct sb_store *st, sqlite3_stmt *s);

/* Records the highest durable event id (when a batch begins). */
void store_note_committed(struct sb_store *st);

/* ------- Interface to code in store/unit.c ------- */

/* An event of conv_id was stored: tells the event hook. */
void store_event_added(struct sb_store *st, int64_t conv_id);
/* Drops every queued effect without running it (closing the store). */
void store_effects_drop_all(struct sb_store *st);

/* ------- Interface to code in store/stmt_cache.c ------- */

/* The statement for sql, a string literal (cached by its address):
 * prepared once per connection, handed out ready to bind; NULL on error
 * (logged). Every one goes back with store_release() or store_done(). */
sqlite3_stmt *store_prep(struct sb_store *st, const char *sql);
/* Enters the n literals of a numbered table into the cache and fills
 * out[] (indexed like sql[]); the statements stay the cache's. */
enum sb_err store_prep_table(struct sb_store *st, const char *const *sql, int n, sqlite3_stmt **out,
                             struct sb_errbuf *eb);
/* For SQL built at run time: prepared for this use only. */
sqlite3_stmt *store_prep_built(struct sb_store *st, const char *sql);
/* Resets a cached statement for the next caller, finalizes a one-off. */
void store_release(struct sb_store *st, sqlite3_stmt *s); /* NULL-safe */
/* Steps once and releases; SB_ERR_DB for NULL or a failed step (logged). */
enum sb_err store_done(struct sb_store *st, sqlite3_stmt *s);
/* A text column, "" for NULL (borrowed until the next step). */
const char *store_col(sqlite3_stmt *s, int i);
void store_stmt_cache_free(struct sb_store *st);

/* ------- Interface to code in store_users.c ------- */

enum sb_err store_users_prepare(struct sb_store *st, struct sb_errbuf *eb);

/* ------- Interface to code in store_sites.c and store_web.c ------- */

enum sb_err store_sites_prepare(struct sb_store *st, struct sb_errbuf *eb);
enum sb_err store_web_prepare(struct sb_store *st, struct sb_errbuf *eb);
/* A store_web.c statement, reset and with its bindings cleared. */
sqlite3_stmt *store_wstmt(struct sb_store *st, enum web_stmt_id id);

/* ------- Interface to code in store_checkpoint.c ------- */

/* Starts a thread that checkpoints the WAL of the database at path every
 * interval_ms, and turns off checkpoints on st's own connection. */
enum sb_err store_checkpointer_start(struct sb_store *st, const char *path, int interval_ms);
void store_checkpointer_stop(struct sb_store *st); /* no-op when not started */

#endif

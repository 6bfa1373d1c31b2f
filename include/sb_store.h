/*
 * sb_store.h - the durable state of Switchboard in one SQLite file.
 *
 * WAL mode; every statement is prepared once per connection by the store's
 * statement cache (core/store/stmt_cache.c) and reused; schema changes are
 * numbered migrations applied by PRAGMA user_version. The event loop thread
 * owns the handle; nothing here locks. Callers see typed functions, rows
 * and JSON, never a statement: this interface (with store_handoff.h and
 * store_agent.h) is what a second backend would implement.
 *
 * Ownership: struct sb_store is owned by whoever called sb_store_open().
 * Strings passed in are borrowed. json_t results are owned by the caller
 * (json_decref). Strings inside struct sb_conv are copies owned by it.
 */
#ifndef SB_STORE_H
#define SB_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "sb.h"

struct sb_store;

#define SB_STORE_SCHEMA_VERSION 11

/* A part of the schema kept by the code that owns those tables (the
 * knowledge base's: kb/kb_schema.c), not by the store. Its steps use the
 * store's version numbers: step v of every part runs after the store's own
 * step v, in the transaction that moves the database to version v. */
struct sb_store_part {
    const char *name;
    /* Prepares each new connection before the part's tables are touched
     * (an FTS5 tokenizer, SQL functions); may be NULL. */
    enum sb_err (*connect)(sqlite3 *db);
    /* The SQL of step version (1..SB_STORE_SCHEMA_VERSION), NULL if none. */
    const char *(*step)(int version);
};

/* Opens (creating if needed) the database at path with the store's tables
 * and those of parts (NULL-terminated) and migrates it. */
enum sb_err sb_store_open_parts(const char *path, const char *synchronous,
                                const struct sb_store_part *const *parts, struct sb_store **out,
                                struct sb_errbuf *eb);
/* The server's database: the store's tables and the knowledge base's
 * (defined by kb/kb_schema.c, which knows both). */
enum sb_err sb_store_open(const char *path, const char *synchronous, struct sb_store **out,
                          struct sb_errbuf *eb);
void sb_store_close(struct sb_store *st); /* NULL-safe */

/* The engine behind the store and its version, for `switchboard version`
 * ("SQLite 3.40.1"): static text. */
const char *sb_store_engine(void);

/* Moves WAL checkpoints off the caller's thread (the server's event loop)
 * to a background thread with its own connection. */
enum sb_err sb_store_background_checkpoints(struct sb_store *st, int interval_ms);

/* The raw handle, for the knowledge base which keeps its own statements. */
sqlite3 *sb_store_db(struct sb_store *st);

/* Units of work and group commit (core/store/unit.c).
 *
 * Writes happen in units: sb_store_begin() opens a SAVEPOINT inside a batch
 * transaction (BEGIN IMMEDIATE, opened on demand), sb_store_commit()
 * releases it and sb_store_rollback() undoes just that unit. Nothing is
 * durable until sb_store_flush() commits the batch: the event loop calls it
 * once per turn, after every ready request was handled and before any of
 * their answers is sent (Redis writes its AOF before replies the same way),
 * so one WAL write covers many messages. Units do not nest.
 *
 * sb_store_begin() fails (SB_ERR_DB when the batch cannot start, SB_ERR_INVAL
 * inside a unit); its result must be checked: writes made after a failed
 * begin belong to no unit. */
enum sb_err sb_store_begin(struct sb_store *st);
enum sb_err sb_store_commit(struct sb_store *st);
void sb_store_rollback(struct sb_store *st);
/* Commits the batch. On failure the whole batch is rolled back and the
 * error returned: none of its units may be acknowledged. */
enum sb_err sb_store_flush(struct sb_store *st);
/* True between sb_store_begin() and its commit or rollback. */
bool sb_store_in_unit(const struct sb_store *st);

/* For code reached both inside a unit and outside one (a channel's
 * sb.accept inside a route's plugin call, a delivery's outcome): begins a
 * unit unless one is open, *own telling which. sb_store_end_own() ends an
 * own unit by rc (commit on SB_OK, else rollback) and returns the result;
 * a joined unit is left to its owner. */
enum sb_err sb_store_begin_own(struct sb_store *st, bool *own);
enum sb_err sb_store_end_own(struct sb_store *st, bool own, enum sb_err rc);

/* Effects of a unit of work.
 *
 * What must happen because of a unit's writes (wake the event streams of a
 * conversation, the agents' feed, change the router's in-memory copy, later
 * the outbox dispatcher) is queued in the unit instead of done at once: a
 * rollback then leaves nothing behind, and nobody outside is told of a
 * change a failed COMMIT takes back. An effect is fn(arg, key), queued with
 * the function that releases arg (free_arg, may be NULL; called once,
 * after fn ran or when the effect is dropped). Effects run once, in the
 * order they were queued:
 *   SB_EFFECT_UNIT_COMMIT  when the unit commits: later units of the batch
 *                          read its writes, so an in-memory mirror of the
 *                          store they consult (the router) follows here;
 *   SB_EFFECT_DURABLE      when the batch holding the unit is durable
 *                          (sb_store_flush succeeded): what others see.
 * A rollback drops the unit's effects; a failed flush drops the batch's
 * durable effects and calls the batch-lost hook. A plugin call whose writes
 * are undone (sb_store_plugin_call_end with keep false) drops the effects
 * queued during it. Queued outside a unit, an effect runs at once (a
 * durable one waits for the open batch, if any). The same effect (fn, arg,
 * key, no free_arg) queued twice in one unit runs once.
 * SB_ERR_NOMEM when it cannot be queued (free_arg has been called). */
typedef void (*sb_effect_fn)(void *arg, int64_t key);
typedef void (*sb_effect_free_fn)(void *arg);
enum sb_effect_when { SB_EFFECT_UNIT_COMMIT, SB_EFFECT_DURABLE };
enum sb_err sb_store_effect(struct sb_store *st, enum sb_effect_when when, sb_effect_fn fn,
                            void *arg, int64_t key, sb_effect_free_fn free_arg);

/* Called (synchronously, inside the unit) after every event stored with
 * sb_store_event_add(), with the conversation's id: the server queues the
 * durable effects that wake whoever follows it. One hook; NULL removes it. */
typedef void (*sb_store_event_hook)(void *arg, int64_t conv_id);
void sb_store_on_event(struct sb_store *st, sb_store_event_hook fn, void *arg);
/* Called after a failed sb_store_flush() undid a batch whose units had
 * already committed: in-memory mirrors that followed those units (at
 * SB_EFFECT_UNIT_COMMIT) reload from the store. One hook; NULL removes it. */
typedef void (*sb_store_lost_hook)(void *arg);
void sb_store_on_batch_lost(struct sb_store *st, sb_store_lost_hook fn, void *arg);
/* True while a batch holds writes that are not yet durable. */
bool sb_store_pending(const struct sb_store *st);
/* The highest event id (events.id) that is durable. Event readers bound
 * their reads by it, so they may run while a batch is open. */
int64_t sb_store_committed_event_id(const struct sb_store *st);

/* Conversation status values, stored as text. */
#define SB_STATUS_BOT "bot"
#define SB_STATUS_QUEUED "queued"
#define SB_STATUS_ASSIGNED "assigned"
#define SB_STATUS_RESOLVED "resolved"

struct sb_conv {
    int64_t id;
    int64_t contact_id;
    char public_id[40];
    char channel[32];
    char locale[36];
    char status[16];
    char token_hash[65];
    int64_t last_seq; /* highest event sequence number */
    json_t *attrs;    /* owned object */
};
void sb_conv_cleanup(struct sb_conv *c);

/* Creates a contact, its identity (channel, external_id) if new, and a
 * conversation in status "bot". token_hash is the SHA-256 hex of the
 * access token (NULL for channels that authenticate by identity). */
enum sb_err sb_store_conv_create(struct sb_store *st, const char *channel, const char *external_id,
                                 const char *locale, const char *token_hash, struct sb_conv *out);

enum sb_err sb_store_conv_get(struct sb_store *st, const char *public_id, struct sb_conv *out);
/* sb_store_conv_get and the visitor token check in one statement (every
 * customer request asks both): *token_ok tells whether token_hash (NULL:
 * no) grants access to the conversation found. */
enum sb_err sb_store_conv_get_visitor(struct sb_store *st, const char *public_id,
                                      const char *token_hash, struct sb_conv *out, bool *token_ok);
enum sb_err sb_store_conv_get_by_id(struct sb_store *st, int64_t id, struct sb_conv *out);
enum sb_err sb_store_conv_set_status(struct sb_store *st, int64_t conv_id, const char *status);
enum sb_err sb_store_conv_set_attrs(struct sb_store *st, int64_t conv_id, json_t *attrs);

/* Records a handoff: reason, team and a copy of the transcript so far. */
enum sb_err sb_store_handoff(struct sb_store *st, int64_t conv_id, const char *reason,
                             const char *team);

struct sb_msg_in {
    int64_t conv_id;
    const char *direction; /* "in" or "out" */
    const char *author;    /* customer, bot, agent, system */
    const char *channel;
    const char *text;
    const char *extra;       /* JSON text with links/quick_replies/payload, or NULL */
    const char *provider_id; /* unique per channel, or NULL */
    const char *client_id;   /* shown back to the client, or NULL */
    int64_t reply_to;        /* inbound message this answers, or 0 */
    int64_t created_at;      /* ms since epoch; 0 = now */
};

/* Inserts a message. When (channel, provider_id) already exists nothing is
 * written, *dup is set and *id is the existing message's id. */
enum sb_err sb_store_msg_add(struct sb_store *st, const struct sb_msg_in *m, int64_t *id,
                             bool *dup);

/* One message as the JSON the API shows. */
json_t *sb_store_msg_json(struct sb_store *st, int64_t msg_id);

/* All messages of a conversation, oldest first, as a JSON array (at most
 * limit, 0 = all). */
json_t *sb_store_transcript(struct sb_store *st, int64_t conv_id, int limit);

/* The outbound messages of conversation conv_id answering inbound message
 * inbound_id, as a JSON array. */
json_t *sb_store_replies(struct sb_store *st, int64_t conv_id, int64_t inbound_id);

/* Appends an event with the next per-conversation sequence number,
 * conv->last_seq + 1, and advances conv->last_seq. The number comes from
 * the conversation as loaded (one writer: the event loop); the primary key
 * (conversation, seq) refuses a duplicate should two writers ever race.
 * payload (borrowed) is an object made for this event: seq, type and at
 * are added to it. */
enum sb_err sb_store_event_add(struct sb_store *st, struct sb_conv *conv, const char *type,
                               json_t *payload);
/* The same with the payload already written: members is the inside of
 * its object (for example "\"message\":{...}", len bytes, may be empty),
 * so a message serialized once for its answer is not serialized again.
 * type is one of the core's own names (it is not escaped). */
enum sb_err sb_store_event_add_raw(struct sb_store *st, struct sb_conv *conv, const char *type,
                                   const char *members, size_t len);

/* Events with seq > after_seq, oldest first, at most limit. Calls fn for
 * each; stops early when fn returns non-zero. data is the JSON text. */
typedef int (*sb_event_fn)(void *arg, int64_t seq, const char *type, const char *data);
enum sb_err sb_store_events_since(struct sb_store *st, int64_t conv_id, int64_t after_seq,
                                  int limit, sb_event_fn fn, void *arg);

/* ------- Sites (store_sites.c; the fields are checked by core/conv/site.c) -------
 *
 * A site is a JSON object {id, name, origins, secret, title, color,
 * position, locale, greeting, proactive}. */

/* Creates or replaces the site site["id"] (already validated, with a
 * secret); *created says which. */
enum sb_err sb_store_site_put(struct sb_store *st, json_t *site, bool *created);
/* The whole site, secret included; SB_ERR_NOT_FOUND when unknown. */
enum sb_err sb_store_site_get(struct sb_store *st, const char *id, json_t **out);
/* Every site, by id, secrets included. */
json_t *sb_store_site_list(struct sb_store *st);
enum sb_err sb_store_site_delete(struct sb_store *st, const char *id);
/* True when origin (normalised, "https://host[:port]") is one of site_id's
 * origins, or of any site's when site_id is NULL. */
bool sb_store_origin_allowed(struct sb_store *st, const char *origin, const char *site_id);
/* Every site origin once, as a JSON array of strings. */
json_t *sb_store_origins_all(struct sb_store *st);

/* ------- The web channel's conversations (store_web.c) ------- */

/* Adds another visitor token (its SHA-256 hex) to a conversation. */
enum sb_err sb_store_conv_token_add(struct sb_store *st, int64_t conv_id, const char *token_hash);
/* Whether a token is one of a conversation's: sb_store_conv_get_visitor. */

/* Records the site, page and whether the identity was verified. */
enum sb_err sb_store_conv_set_web(struct sb_store *st, int64_t conv_id, const char *site_id,
                                  const char *page_url, bool verified);
/* Marks an identity as verified (how: "hmac"). */
enum sb_err sb_store_identity_verified(struct sb_store *st, const char *channel,
                                       const char *external_id, const char *how);

/* What the widget shows about a conversation beside its messages. */
struct sb_conv_web {
    char site_id[48];    /* "" when none */
    char page_url[2001]; /* where the visitor started; "" when unknown */
    bool verified;
    int64_t read_customer, read_agent; /* message ids */
    char agent_name[128];              /* "" when nobody is assigned */
    int64_t queue_position;            /* 1 = next; 0 when not queued */
    int64_t expected_wait_ms;          /* median of the last 50 waits; -1 when none */
};
enum sb_err sb_store_conv_web(struct sb_store *st, int64_t conv_id, struct sb_conv_web *out);

/* Moves a read mark forward (who: "customer" or "agent"); *moved says
 * whether it changed (a smaller up_to changes nothing). */
enum sb_err sb_store_read_mark(struct sb_store *st, int64_t conv_id, const char *who, int64_t up_to,
                               bool *moved);
/* True when message msg_id belongs to conversation conv_id. */
bool sb_store_msg_in_conv(struct sb_store *st, int64_t conv_id, int64_t msg_id);

/* A verified web user's conversations on a site, newest activity first, at
 * most limit: [{db_id, id, status, locale, updated_at, last_message}]. */
json_t *sb_store_user_convs(struct sb_store *st, const char *external_id, const char *site_id,
                            int limit);

/* One uploaded file of a conversation. */
struct sb_attachment {
    char id[40]; /* "att_" + 32 hex */
    char name[256];
    char type[32];
    int64_t size;
    char sha256[65];
    int64_t message_id; /* 0 until a message carries it */
};
enum sb_err sb_store_att_add(struct sb_store *st, int64_t conv_id, const struct sb_attachment *a);
enum sb_err sb_store_att_get(struct sb_store *st, int64_t conv_id, const char *id,
                             struct sb_attachment *out);
/* Links an attachment to the first message that carries it. */
enum sb_err sb_store_att_link(struct sb_store *st, int64_t conv_id, const char *id, int64_t msg_id);

/* Per-plugin key/value store. get returns SB_ERR_NOT_FOUND when absent;
 * *value is malloc'd and owned by the caller. set with value NULL deletes. */
enum sb_err sb_store_kv_get(struct sb_store *st, const char *plugin, const char *key, char **value,
                            size_t *len);
enum sb_err sb_store_kv_set(struct sb_store *st, const char *plugin, const char *key,
                            const char *value, size_t len);
/* Bytes plugin stores (keys + values) in *bytes: all of them, or only
 * key's (0 when absent) when key is not NULL. */
enum sb_err sb_store_kv_usage(struct sb_store *st, const char *plugin, const char *key,
                              uint64_t *bytes);

/* One plugin call's writes: a savepoint (nested in the open unit, or a
 * transaction of its own outside one), opened by sb_store_plugin_write()
 * before the call's first write, not by begin: a call that only reads
 * costs no SQL. end releases it, after undoing everything written since
 * begin unless keep. A failed plugin call leaves nothing behind (issue
 * 14). Whatever a plugin call can write calls sb_store_plugin_write()
 * first (debug builds assert it at end). */
enum sb_err sb_store_plugin_call_begin(struct sb_store *st);
enum sb_err sb_store_plugin_write(struct sb_store *st);
void sb_store_plugin_call_end(struct sb_store *st, bool keep);

#endif

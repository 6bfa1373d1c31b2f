/*
 * test_store.c - core/store/store.c and core/store/store_conv.c: opening and migrating
 * the SQLite file (WAL, user_version, refusing newer schemas),
 * conversations, message insert with provider-id dedupe, transcripts and
 * replies as JSON, the per-conversation event log, handoffs, the plugin
 * key/value store and transactions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sb_log.h"
#include "sb_store.h"

struct env {
    char dir[64];
    char path[128];
    struct sb_store *st;
};

static void remove_db_files(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[160];
    for (size_t i = 0; i < SB_ARRAY_LEN(suffix); i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        unlink(p);
    }
}

static int setup_dir(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    if (!e) return -1;
    sb_log_set_level(SB_LOG_WARN);
    snprintf(e->dir, sizeof(e->dir), "/tmp/sb-store-test-XXXXXX");
    if (!mkdtemp(e->dir)) {
        free(e);
        return -1;
    }
    snprintf(e->path, sizeof(e->path), "%s/test.db", e->dir);
    *state = e;
    return 0;
}

static int setup_store(void **state)
{
    struct env *e;
    struct sb_errbuf eb = {{0}};

    if (setup_dir(state)) return -1;
    e = *state;
    if (sb_store_open(e->path, "NORMAL", &e->st, &eb) != SB_OK) {
        fprintf(stderr, "open: %s\n", eb.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    sb_store_close(e->st);
    remove_db_files(e->path);
    rmdir(e->dir);
    free(e);
    return 0;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* Copies the first column of the first row into out. */
static void query_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *s = NULL;
    out[0] = '\0';
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        snprintf(out, cap, "%s", t ? (const char *)t : "");
    }
    sqlite3_finalize(s);
}

static void new_conv(struct sb_store *st, const char *external_id, struct sb_conv *c)
{
    assert_int_equal(sb_store_conv_create(st, "web", external_id, "en", NULL, c), SB_OK);
}

static int64_t add_msg(struct sb_store *st, int64_t conv, const char *direction, const char *text,
                       const char *provider_id, int64_t reply_to)
{
    struct sb_msg_in m = {
        .conv_id = conv,
        .direction = direction,
        .author = strcmp(direction, "in") == 0 ? "customer" : "bot",
        .channel = "web",
        .text = text,
        .provider_id = provider_id,
        .reply_to = reply_to,
    };
    int64_t id = 0;
    bool dup = true;
    assert_int_equal(sb_store_msg_add(st, &m, &id, &dup), SB_OK);
    assert_false(dup);
    assert_true(id > 0);
    return id;
}

static bool msg_exists(struct sb_store *st, int64_t id)
{
    json_t *j = sb_store_msg_json(st, id);
    json_decref(j);
    return j != NULL;
}

/* ---- open and migrations ---- */

static void open_creates_schema_at_current_version_in_wal_mode(void **state)
{
    struct env *e = *state;
    sqlite3 *db = sb_store_db(e->st);
    char mode[32];

    assert_non_null(db);
    assert_int_equal(query_int(db, "PRAGMA user_version"), SB_STORE_SCHEMA_VERSION);
    query_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
    assert_string_equal(mode, "wal");
    assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN"
                                   " ('contacts','identities','conversations','handoffs',"
                                   "  'messages','events','plugin_kv','kb_articles','kb_fts')"),
                     9);
}

static void open_rejects_bad_synchronous_value(void **state)
{
    struct env *e = *state;
    struct sb_store *st = NULL;
    struct sb_errbuf eb = {{0}};

    assert_int_equal(sb_store_open(e->path, "OFF", &st, &eb), SB_ERR_INVAL);
    assert_null(st);
    assert_non_null(strstr(eb.msg, "synchronous"));
    assert_int_equal(sb_store_open(e->path, "FULL", &st, &eb), SB_OK);
    assert_int_equal(query_int(sb_store_db(st), "PRAGMA synchronous"), 2);
    sb_store_close(st);
}

/* The store's own tables come without the knowledge base's: those are a
 * part of the schema kept by kb/ (kb_schema.c), at the same version. */
static void store_alone_has_no_kb_tables_and_the_kb_part_adds_them(void **state)
{
    struct env *e = *state;
    struct sb_store *st = NULL;
    struct sb_errbuf eb = {{0}};
    char other[128];
    const char *kb_tables =
        "SELECT count(*) FROM sqlite_master WHERE name LIKE 'kb\\_%' ESCAPE '\\'";

    assert_int_equal(sb_store_open_parts(e->path, "NORMAL", NULL, &st, &eb), SB_OK);
    assert_int_equal(query_int(sb_store_db(st), "PRAGMA user_version"), SB_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(sb_store_db(st), kb_tables), 0);
    assert_int_equal(query_int(sb_store_db(st), "SELECT count(*) FROM sqlite_master WHERE name IN"
                                                " ('contacts','conversations','users','sites',"
                                                "  'teams','conversation_agents')"),
                     6);
    sb_store_close(st);

    snprintf(other, sizeof(other), "%s/with-kb.db", e->dir);
    assert_int_equal(sb_store_open(other, "NORMAL", &st, &eb), SB_OK);
    assert_true(query_int(sb_store_db(st), kb_tables) >= 8);
    assert_int_equal(query_int(sb_store_db(st), "SELECT count(*) FROM sqlite_master WHERE name IN"
                                                " ('kb_articles','kb_fts','kb_revisions',"
                                                "  'kb_shown','kb_synonyms','kb_feedback')"),
                     6);
    sb_store_close(st);
}

static void open_fails_for_unwritable_path(void **state)
{
    struct env *e = *state;
    struct sb_store *st = NULL;
    struct sb_errbuf eb = {{0}};
    char path[160];

    snprintf(path, sizeof(path), "%s/no/such/dir/test.db", e->dir);
    assert_int_equal(sb_store_open(path, "NORMAL", &st, &eb), SB_ERR_DB);
    assert_null(st);
}

static void reopen_keeps_data_and_does_not_remigrate(void **state)
{
    struct env *e = *state;
    struct sb_store *st = NULL;
    struct sb_errbuf eb = {{0}};
    struct sb_conv c, again;
    char pub[40];

    assert_int_equal(sb_store_open(e->path, "NORMAL", &st, &eb), SB_OK);
    new_conv(st, "visitor-1", &c);
    snprintf(pub, sizeof(pub), "%s", c.public_id);
    add_msg(st, c.id, "in", "hello there", "p-1", 0);
    /* A marker a re-run of migration 1 would fail on or wipe. */
    assert_int_equal(sqlite3_exec(sb_store_db(st),
                                  "CREATE TABLE marker(x); INSERT INTO marker"
                                  " VALUES(7)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sb_conv_cleanup(&c);
    sb_store_close(st);

    st = NULL;
    assert_int_equal(sb_store_open(e->path, "NORMAL", &st, &eb), SB_OK);
    assert_int_equal(query_int(sb_store_db(st), "PRAGMA user_version"), SB_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(sb_store_db(st), "SELECT x FROM marker"), 7);
    assert_int_equal(sb_store_conv_get(st, pub, &again), SB_OK);
    assert_string_equal(again.public_id, pub);
    assert_int_equal(query_int(sb_store_db(st), "SELECT count(*) FROM messages"), 1);
    sb_conv_cleanup(&again);
    sb_store_close(st);
}

static void open_refuses_database_with_newer_schema(void **state)
{
    struct env *e = *state;
    struct sb_store *st = NULL;
    struct sb_errbuf eb = {{0}};
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(e->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(sb_store_open(e->path, "NORMAL", &st, &eb), SB_ERR_DB);
    assert_null(st);
    assert_non_null(strstr(eb.msg, "999"));
    assert_non_null(strstr(eb.msg, "newer"));

    /* The file is left as it was: no tables were created in it. */
    assert_int_equal(sqlite3_open(e->path, &db), SQLITE_OK);
    assert_int_equal(query_int(db, "PRAGMA user_version"), 999);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master"), 0);
    sqlite3_close(db);
}

/* ---- conversations ---- */

static void conv_create_defaults_to_bot_and_is_found_by_public_id_and_id(void **state)
{
    struct env *e = *state;
    struct sb_conv c, byp, byid;
    char hash[65];

    memset(hash, 'a', 64);
    hash[64] = '\0';
    assert_int_equal(sb_store_conv_create(e->st, "web", "visitor-42", "pt-BR", hash, &c), SB_OK);
    assert_true(c.id > 0);
    assert_true(c.contact_id > 0);
    assert_int_equal(strlen(c.public_id), 32);
    assert_string_equal(c.channel, "web");
    assert_string_equal(c.locale, "pt-BR");
    assert_string_equal(c.status, SB_STATUS_BOT);
    assert_string_equal(c.token_hash, hash);
    assert_int_equal(c.last_seq, 0);
    assert_true(json_is_object(c.attrs));
    assert_int_equal(json_object_size(c.attrs), 0);

    assert_int_equal(sb_store_conv_get(e->st, c.public_id, &byp), SB_OK);
    assert_int_equal(byp.id, c.id);
    assert_string_equal(byp.status, "bot");
    assert_int_equal(sb_store_conv_get_by_id(e->st, c.id, &byid), SB_OK);
    assert_string_equal(byid.public_id, c.public_id);
    assert_string_equal(byid.locale, "pt-BR");
    sb_conv_cleanup(&c);
    sb_conv_cleanup(&byp);
    sb_conv_cleanup(&byid);
}

static void conv_get_unknown_is_not_found(void **state)
{
    struct env *e = *state;
    struct sb_conv c;

    assert_int_equal(sb_store_conv_get(e->st, "no-such-conversation", &c), SB_ERR_NOT_FOUND);
    sb_conv_cleanup(&c);
    assert_int_equal(sb_store_conv_get_by_id(e->st, 12345, &c), SB_ERR_NOT_FOUND);
    sb_conv_cleanup(&c);
}

static void conv_create_reuses_contact_of_same_identity(void **state)
{
    struct env *e = *state;
    struct sb_conv a, b, other;

    new_conv(e->st, "visitor-1", &a);
    new_conv(e->st, "visitor-1", &b);
    new_conv(e->st, "visitor-2", &other);
    assert_int_equal(a.contact_id, b.contact_id);
    assert_int_not_equal(a.id, b.id);
    assert_string_not_equal(a.public_id, b.public_id);
    assert_int_not_equal(a.contact_id, other.contact_id);
    sb_conv_cleanup(&a);
    sb_conv_cleanup(&b);
    sb_conv_cleanup(&other);
}

/* Regression (issue 14): contacts were reachable by their row id 1, 2, 3... */
static void contacts_get_a_random_public_id(void **state)
{
    struct env *e = *state;
    sqlite3 *db = sb_store_db(e->st);
    struct sb_conv a, b;

    new_conv(e->st, "visitor-p1", &a);
    new_conv(e->st, "visitor-p2", &b);
    assert_int_equal(query_int(db, "SELECT count(*) FROM contacts WHERE public_id IS NULL"
                                   " OR length(public_id) != 32 OR public_id GLOB '*[^0-9a-f]*'"),
                     0);
    assert_int_equal(query_int(db, "SELECT count(DISTINCT public_id) FROM contacts"),
                     query_int(db, "SELECT count(*) FROM contacts"));
    sb_conv_cleanup(&a);
    sb_conv_cleanup(&b);
}

/* Who handled a conversation stays known after a transfer moves it on. */
static void every_assignee_is_remembered(void **state)
{
    struct env *e = *state;
    sqlite3 *db = sb_store_db(e->st);
    struct sb_conv a;
    char sql[200], got[32];

    new_conv(e->st, "visitor-h1", &a);
    for (int agent = 7; agent <= 8; agent++) {
        snprintf(sql, sizeof(sql), "UPDATE conversations SET assignee = %d WHERE id = %lld", agent,
                 (long long)a.id);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    snprintf(sql, sizeof(sql), "UPDATE conversations SET assignee = NULL WHERE id = %lld",
             (long long)a.id);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    snprintf(sql, sizeof(sql),
             "SELECT group_concat(user_id) FROM (SELECT user_id FROM conversation_agents"
             " WHERE conversation_id = %lld ORDER BY user_id)",
             (long long)a.id);
    query_text(db, sql, got, sizeof(got));
    assert_string_equal(got, "7,8");
    sb_conv_cleanup(&a);
}

static void conv_status_and_attrs_are_stored(void **state)
{
    struct env *e = *state;
    struct sb_conv c, got;
    json_t *attrs = json_pack("{s:s, s:i}", "plan", "gold", "orders", 3);

    new_conv(e->st, "visitor-1", &c);
    assert_int_equal(sb_store_conv_set_status(e->st, c.id, SB_STATUS_ASSIGNED), SB_OK);
    assert_int_equal(sb_store_conv_set_attrs(e->st, c.id, attrs), SB_OK);
    assert_int_equal(sb_store_conv_get_by_id(e->st, c.id, &got), SB_OK);
    assert_string_equal(got.status, "assigned");
    assert_true(json_equal(got.attrs, attrs));
    /* The CHECK constraint refuses made-up statuses. */
    assert_int_equal(sb_store_conv_set_status(e->st, c.id, "sleeping"), SB_ERR_DB);
    json_decref(attrs);
    sb_conv_cleanup(&c);
    sb_conv_cleanup(&got);
}

/* ---- messages ---- */

static void msg_add_same_channel_and_provider_id_is_a_duplicate(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    struct sb_msg_in m = {.direction = "in",
                          .author = "customer",
                          .channel = "whatsapp",
                          .text = "hi",
                          .provider_id = "wamid.1"};
    int64_t id1 = 0, id2 = 0, other = 0;
    bool dup = true;

    new_conv(e->st, "visitor-1", &c);
    m.conv_id = c.id;
    assert_int_equal(sb_store_msg_add(e->st, &m, &id1, &dup), SB_OK);
    assert_false(dup);
    /* Something else changes rows in between: dup must still be detected. */
    add_msg(e->st, c.id, "out", "unrelated", NULL, 0);
    m.text = "hi (redelivered)";
    assert_int_equal(sb_store_msg_add(e->st, &m, &id2, &dup), SB_OK);
    assert_true(dup);
    assert_int_equal(id2, id1);
    assert_int_equal(
        query_int(sb_store_db(e->st), "SELECT count(*) FROM messages WHERE provider_id='wamid.1'"),
        1);
    {
        json_t *j = sb_store_msg_json(e->st, id1);
        assert_string_equal(json_string_value(json_object_get(j, "text")), "hi");
        json_decref(j);
    }

    /* Same provider id on another channel is a different message. */
    m.channel = "telegram";
    assert_int_equal(sb_store_msg_add(e->st, &m, &other, &dup), SB_OK);
    assert_false(dup);
    assert_int_not_equal(other, id1);
    sb_conv_cleanup(&c);
}

static void msg_add_without_provider_id_never_dedupes(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    struct sb_msg_in m = {.direction = "in", .author = "customer", .channel = "web", .text = "x"};
    int64_t id1 = 0, id2 = 0;
    bool dup = true;

    new_conv(e->st, "visitor-1", &c);
    m.conv_id = c.id;
    assert_int_equal(sb_store_msg_add(e->st, &m, &id1, &dup), SB_OK);
    assert_false(dup);
    dup = true;
    assert_int_equal(sb_store_msg_add(e->st, &m, &id2, &dup), SB_OK);
    assert_false(dup);
    assert_int_not_equal(id1, id2);
    assert_int_equal(query_int(sb_store_db(e->st), "SELECT count(*) FROM messages"), 2);
    sb_conv_cleanup(&c);
}

static void msg_add_rejects_bad_direction_and_unknown_conversation(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    struct sb_msg_in m = {.direction = "sideways", .author = "bot", .channel = "web", .text = "x"};
    int64_t id = 0;
    bool dup = false;

    new_conv(e->st, "visitor-1", &c);
    m.conv_id = c.id;
    assert_int_equal(sb_store_msg_add(e->st, &m, &id, &dup), SB_ERR_DB);
    m.direction = "in";
    m.conv_id = c.id + 1000; /* foreign key */
    assert_int_equal(sb_store_msg_add(e->st, &m, &id, &dup), SB_ERR_DB);
    assert_int_equal(query_int(sb_store_db(e->st), "SELECT count(*) FROM messages"), 0);
    sb_conv_cleanup(&c);
}

static void transcript_is_oldest_first_with_all_json_fields(void **state)
{
    struct env *e = *state;
    struct sb_conv c, other;
    struct sb_msg_in in = {.direction = "in",
                           .author = "customer",
                           .channel = "web",
                           .text = "where is my order?",
                           .client_id = "c-1",
                           .created_at = 1700000000000};
    struct sb_msg_in out = {.direction = "out",
                            .author = "bot",
                            .channel = "web",
                            .text = "Here is how to track it.",
                            .extra =
                                "{\"links\":[{\"title\":\"Track\",\"url\":\"/help/en/track\"}],"
                                "\"quick_replies\":[\"Thanks\",\"Agent\"]}",
                            .created_at = 1700000000500};
    int64_t in_id, out_id;
    bool dup;
    json_t *t, *m0, *m1;

    new_conv(e->st, "visitor-1", &c);
    new_conv(e->st, "visitor-2", &other);
    in.conv_id = c.id;
    assert_int_equal(sb_store_msg_add(e->st, &in, &in_id, &dup), SB_OK);
    add_msg(e->st, other.id, "in", "another conversation", NULL, 0);
    out.conv_id = c.id;
    out.reply_to = in_id;
    assert_int_equal(sb_store_msg_add(e->st, &out, &out_id, &dup), SB_OK);

    t = sb_store_transcript(e->st, c.id, 0);
    assert_true(json_is_array(t));
    assert_int_equal(json_array_size(t), 2);
    m0 = json_array_get(t, 0);
    m1 = json_array_get(t, 1);

    assert_int_equal(json_integer_value(json_object_get(m0, "id")), in_id);
    assert_string_equal(json_string_value(json_object_get(m0, "direction")), "in");
    assert_string_equal(json_string_value(json_object_get(m0, "author")), "customer");
    assert_string_equal(json_string_value(json_object_get(m0, "text")), "where is my order?");
    assert_true(json_is_array(json_object_get(m0, "links")));
    assert_int_equal(json_array_size(json_object_get(m0, "links")), 0);
    assert_true(json_is_array(json_object_get(m0, "quick_replies")));
    assert_int_equal(json_array_size(json_object_get(m0, "quick_replies")), 0);
    assert_string_equal(json_string_value(json_object_get(m0, "client_id")), "c-1");
    assert_int_equal(json_integer_value(json_object_get(m0, "created_at")), 1700000000000);
    assert_true(json_is_array(json_object_get(m0, "attachments")));
    assert_int_equal(json_array_size(json_object_get(m0, "attachments")), 0);
    assert_int_equal(json_object_size(m0), 9);

    assert_int_equal(json_integer_value(json_object_get(m1, "id")), out_id);
    assert_string_equal(json_string_value(json_object_get(m1, "direction")), "out");
    assert_string_equal(json_string_value(json_object_get(m1, "author")), "bot");
    assert_int_equal(json_array_size(json_object_get(m1, "links")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(m1, "links"), 0), "url")),
        "/help/en/track");
    assert_int_equal(json_array_size(json_object_get(m1, "quick_replies")), 2);
    assert_true(json_is_null(json_object_get(m1, "client_id")));
    assert_int_equal(json_integer_value(json_object_get(m1, "created_at")), 1700000000500);
    json_decref(t);

    /* limit keeps the oldest messages */
    t = sb_store_transcript(e->st, c.id, 1);
    assert_int_equal(json_array_size(t), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0), "id")), in_id);
    json_decref(t);

    /* an unknown conversation has an empty transcript */
    t = sb_store_transcript(e->st, c.id + 1000, 0);
    assert_int_equal(json_array_size(t), 0);
    json_decref(t);
    sb_conv_cleanup(&c);
    sb_conv_cleanup(&other);
}

static void msg_json_of_unknown_id_is_null(void **state)
{
    struct env *e = *state;
    assert_null(sb_store_msg_json(e->st, 424242));
}

static void msg_add_with_zero_created_at_uses_now(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    int64_t before = sb_now_ms(), id;
    json_t *j;

    new_conv(e->st, "visitor-1", &c);
    id = add_msg(e->st, c.id, "in", "now", NULL, 0);
    j = sb_store_msg_json(e->st, id);
    assert_true(json_integer_value(json_object_get(j, "created_at")) >= before);
    assert_true(json_integer_value(json_object_get(j, "created_at")) <= sb_now_ms());
    json_decref(j);
    sb_conv_cleanup(&c);
}

static void replies_are_the_outbound_messages_answering_an_inbound_one(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    int64_t q1, q2, a1, a2, b1;
    json_t *r;

    new_conv(e->st, "visitor-1", &c);
    q1 = add_msg(e->st, c.id, "in", "question one", NULL, 0);
    q2 = add_msg(e->st, c.id, "in", "question two", NULL, 0);
    a1 = add_msg(e->st, c.id, "out", "answer 1a", NULL, q1);
    b1 = add_msg(e->st, c.id, "out", "answer 2", NULL, q2);
    a2 = add_msg(e->st, c.id, "out", "answer 1b", NULL, q1);

    r = sb_store_replies(e->st, c.id, q1);
    assert_int_equal(json_array_size(r), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "id")), a1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 1), "id")), a2);
    json_decref(r);
    r = sb_store_replies(e->st, c.id, q2);
    assert_int_equal(json_array_size(r), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "id")), b1);
    json_decref(r);
    r = sb_store_replies(e->st, c.id, a1);
    assert_int_equal(json_array_size(r), 0);
    json_decref(r);
    sb_conv_cleanup(&c);
}

/* ---- events ---- */

struct seen {
    int n;
    int stop_after; /* 0 = never */
    int64_t seq[64];
    char type[64][32];
    json_t *last;
};

static int collect_event(void *arg, int64_t seq, const char *type, const char *data)
{
    struct seen *s = arg;
    if (s->n < 64) {
        s->seq[s->n] = seq;
        snprintf(s->type[s->n], sizeof(s->type[0]), "%s", type);
    }
    s->n++;
    json_decref(s->last);
    s->last = json_loads(data, 0, NULL);
    return s->stop_after && s->n >= s->stop_after;
}

static void event_seq_starts_at_one_and_is_contiguous_per_conversation(void **state)
{
    struct env *e = *state;
    struct sb_conv a, b, got;

    new_conv(e->st, "visitor-1", &a);
    new_conv(e->st, "visitor-2", &b);
    assert_int_equal(a.last_seq, 0);
    for (int i = 1; i <= 5; i++) {
        assert_int_equal(sb_store_event_add(e->st, &a, "message", NULL), SB_OK);
        assert_int_equal(a.last_seq, i);
        if (i <= 3) {
            assert_int_equal(sb_store_event_add(e->st, &b, "typing", NULL), SB_OK);
            assert_int_equal(b.last_seq, i);
        }
    }
    /* A freshly loaded conversation knows where its log stands. */
    assert_int_equal(sb_store_conv_get_by_id(e->st, a.id, &got), SB_OK);
    assert_int_equal(got.last_seq, 5);
    assert_int_equal(sb_store_event_add(e->st, &got, "message", NULL), SB_OK);
    assert_int_equal(got.last_seq, 6);
    sb_conv_cleanup(&got);
    assert_int_equal(sb_store_conv_get(e->st, b.public_id, &got), SB_OK);
    assert_int_equal(got.last_seq, 3);
    sb_conv_cleanup(&got);
    assert_int_equal(query_int(sb_store_db(e->st), "SELECT count(*) FROM events"), 9);
    sb_conv_cleanup(&a);
    sb_conv_cleanup(&b);
}

static void event_add_from_stale_copy_is_refused_not_overwritten(void **state)
{
    struct env *e = *state;
    struct sb_conv a, stale;
    char type[32];

    new_conv(e->st, "visitor-1", &a);
    assert_int_equal(sb_store_conv_get_by_id(e->st, a.id, &stale), SB_OK);
    assert_int_equal(sb_store_event_add(e->st, &a, "first", NULL), SB_OK);
    /* stale still thinks the log is empty: seq 1 is taken. */
    assert_int_not_equal(sb_store_event_add(e->st, &stale, "second", NULL), SB_OK);
    assert_int_equal(stale.last_seq, 0);
    query_text(sb_store_db(e->st), "SELECT type FROM events WHERE seq=1", type, sizeof(type));
    assert_string_equal(type, "first");
    sb_conv_cleanup(&a);
    sb_conv_cleanup(&stale);
}

static void event_data_is_payload_with_seq_type_and_time(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    struct seen s = {0};
    json_t *payload = json_pack("{s:s}", "text", "hello");

    new_conv(e->st, "visitor-1", &c);
    assert_int_equal(sb_store_event_add(e->st, &c, "message", payload), SB_OK);
    /* The payload is made for the event: seq, type and at are added to it. */
    assert_int_equal(json_integer_value(json_object_get(payload, "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(payload, "type")), "message");
    assert_string_equal(json_string_value(json_object_get(payload, "text")), "hello");
    assert_int_equal(sb_store_events_since(e->st, c.id, 0, 10, collect_event, &s), SB_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.type[0], "message");
    assert_non_null(s.last);
    assert_string_equal(json_string_value(json_object_get(s.last, "text")), "hello");
    assert_int_equal(json_integer_value(json_object_get(s.last, "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(s.last, "type")), "message");
    assert_true(json_integer_value(json_object_get(s.last, "at")) > 0);
    json_decref(s.last);
    json_decref(payload);
    sb_conv_cleanup(&c);
}

static void events_since_honours_after_seq_limit_and_early_stop(void **state)
{
    struct env *e = *state;
    struct sb_conv a, b;
    struct seen s;

    new_conv(e->st, "visitor-1", &a);
    new_conv(e->st, "visitor-2", &b);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(sb_store_event_add(e->st, &a, i % 2 ? "odd" : "even", NULL), SB_OK);
        if (i < 2) assert_int_equal(sb_store_event_add(e->st, &b, "b", NULL), SB_OK);
    }

    memset(&s, 0, sizeof(s));
    assert_int_equal(sb_store_events_since(e->st, a.id, 0, 100, collect_event, &s), SB_OK);
    assert_int_equal(s.n, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(s.seq[i], i + 1);
    assert_string_equal(s.type[0], "even");
    assert_string_equal(s.type[1], "odd");
    json_decref(s.last);

    memset(&s, 0, sizeof(s));
    assert_int_equal(sb_store_events_since(e->st, a.id, 4, 3, collect_event, &s), SB_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.seq[0], 5);
    assert_int_equal(s.seq[2], 7);
    json_decref(s.last);

    memset(&s, 0, sizeof(s));
    assert_int_equal(sb_store_events_since(e->st, a.id, 10, 100, collect_event, &s), SB_OK);
    assert_int_equal(s.n, 0);

    memset(&s, 0, sizeof(s));
    s.stop_after = 2;
    assert_int_equal(sb_store_events_since(e->st, a.id, 0, 100, collect_event, &s), SB_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seq[1], 2);
    json_decref(s.last);

    /* The other conversation's log is separate. */
    memset(&s, 0, sizeof(s));
    assert_int_equal(sb_store_events_since(e->st, b.id, 0, 100, collect_event, &s), SB_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seq[0], 1);
    assert_string_equal(s.type[1], "b");
    json_decref(s.last);

    /* After an early stop the statement is reset and reusable. */
    memset(&s, 0, sizeof(s));
    assert_int_equal(sb_store_event_add(e->st, &a, "late", NULL), SB_OK);
    assert_int_equal(a.last_seq, 11);
    assert_int_equal(sb_store_events_since(e->st, a.id, 10, 100, collect_event, &s), SB_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.type[0], "late");
    json_decref(s.last);
    sb_conv_cleanup(&a);
    sb_conv_cleanup(&b);
}

static void events_stay_contiguous_after_a_rolled_back_unit(void **state)
{
    struct env *e = *state;
    struct sb_conv c, again;
    struct seen s = {0};

    new_conv(e->st, "visitor-1", &c);
    assert_int_equal(sb_store_event_add(e->st, &c, "one", NULL), SB_OK);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(sb_store_event_add(e->st, &c, "undone", NULL), SB_OK);
    sb_store_rollback(e->st);
    /* The next writer loads the conversation again, as a request does. */
    assert_int_equal(sb_store_conv_get_by_id(e->st, c.id, &again), SB_OK);
    assert_int_equal(again.last_seq, 1);
    assert_int_equal(sb_store_event_add(e->st, &again, "two", NULL), SB_OK);
    /* Readers stop at the last durable event while the batch is open. */
    assert_int_equal(sb_store_events_since(e->st, c.id, 0, 100, collect_event, &s), SB_OK);
    assert_int_equal(s.n, 1);
    json_decref(s.last);
    memset(&s, 0, sizeof(s));
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    assert_int_equal(sb_store_events_since(e->st, c.id, 0, 100, collect_event, &s), SB_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seq[0], 1);
    assert_int_equal(s.seq[1], 2);
    assert_string_equal(s.type[1], "two");
    json_decref(s.last);
    sb_conv_cleanup(&c);
    sb_conv_cleanup(&again);
}

/* ---- handoff ---- */

static void handoff_queues_conversation_and_stores_transcript(void **state)
{
    struct env *e = *state;
    struct sb_conv c, got;
    sqlite3 *db = sb_store_db(e->st);
    sqlite3_stmt *s = NULL;
    json_t *t;

    new_conv(e->st, "visitor-1", &c);
    add_msg(e->st, c.id, "in", "I want a human", NULL, 0);
    add_msg(e->st, c.id, "out", "Connecting you", NULL, 0);
    assert_int_equal(sb_store_handoff(e->st, c.id, "customer asked", "billing"), SB_OK);
    assert_int_equal(sb_store_conv_get_by_id(e->st, c.id, &got), SB_OK);
    assert_string_equal(got.status, SB_STATUS_QUEUED);
    sb_conv_cleanup(&got);

    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT conversation_id, reason, team, transcript"
                                        " FROM handoffs",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), c.id);
    assert_string_equal((const char *)sqlite3_column_text(s, 1), "customer asked");
    assert_string_equal((const char *)sqlite3_column_text(s, 2), "billing");
    t = json_loads((const char *)sqlite3_column_text(s, 3), 0, NULL);
    assert_true(json_is_array(t));
    assert_int_equal(json_array_size(t), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 0), "text")),
                        "I want a human");
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "text")),
                        "Connecting you");
    json_decref(t);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);

    /* Team is optional. */
    assert_int_equal(sb_store_handoff(e->st, c.id, "again", NULL), SB_OK);
    assert_int_equal(query_int(db, "SELECT count(*) FROM handoffs WHERE team IS NULL"), 1);
    sb_conv_cleanup(&c);
}

/* ---- key/value ---- */

static void kv_set_get_overwrite_delete(void **state)
{
    struct env *e = *state;
    char *v = NULL;
    size_t len = 0;
    static const char bin[] = {'a', '\0', 'b', '\xff'};

    assert_int_equal(sb_store_kv_get(e->st, "orders", "k", &v, &len), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_store_kv_set(e->st, "orders", "k", "v1", 2), SB_OK);
    assert_int_equal(sb_store_kv_get(e->st, "orders", "k", &v, &len), SB_OK);
    assert_int_equal(len, 2);
    assert_string_equal(v, "v1");
    free(v);

    assert_int_equal(sb_store_kv_set(e->st, "orders", "k", "second", 6), SB_OK);
    assert_int_equal(sb_store_kv_get(e->st, "orders", "k", &v, &len), SB_OK);
    assert_int_equal(len, 6);
    assert_string_equal(v, "second");
    free(v);

    /* Keys are per plugin. */
    assert_int_equal(sb_store_kv_get(e->st, "other", "k", &v, &len), SB_ERR_NOT_FOUND);

    /* Values are bytes, not C strings. */
    assert_int_equal(sb_store_kv_set(e->st, "orders", "bin", bin, sizeof(bin)), SB_OK);
    assert_int_equal(sb_store_kv_get(e->st, "orders", "bin", &v, &len), SB_OK);
    assert_int_equal(len, sizeof(bin));
    assert_memory_equal(v, bin, sizeof(bin));
    assert_int_equal(v[len], '\0');
    free(v);

    /* An empty value is a value, not a delete. */
    assert_int_equal(sb_store_kv_set(e->st, "orders", "empty", "", 0), SB_OK);
    assert_int_equal(sb_store_kv_get(e->st, "orders", "empty", &v, &len), SB_OK);
    assert_int_equal(len, 0);
    assert_string_equal(v, "");
    free(v);

    assert_int_equal(sb_store_kv_set(e->st, "orders", "k", NULL, 0), SB_OK);
    assert_int_equal(sb_store_kv_get(e->st, "orders", "k", &v, &len), SB_ERR_NOT_FOUND);
    /* Deleting what is not there is fine. */
    assert_int_equal(sb_store_kv_set(e->st, "orders", "k", NULL, 0), SB_OK);
}

/* ---- units of work and group commit ---- */

static void rollback_discards_message_added_inside_unit(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    int64_t kept, dropped;
    json_t *t;

    new_conv(e->st, "visitor-1", &c);
    kept = add_msg(e->st, c.id, "in", "kept", "p-kept", 0);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    dropped = add_msg(e->st, c.id, "in", "dropped", "p-dropped", 0);
    assert_true(dropped > kept);
    sb_store_rollback(e->st);

    t = sb_store_transcript(e->st, c.id, 0);
    assert_int_equal(json_array_size(t), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 0), "text")), "kept");
    json_decref(t);
    assert_null(sb_store_msg_json(e->st, dropped));
    /* The rolled-back provider id is free again. */
    add_msg(e->st, c.id, "in", "dropped again", "p-dropped", 0);
    /* Rollback outside a unit is a no-op. */
    sb_store_rollback(e->st);
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    assert_int_equal(query_int(sb_store_db(e->st), "SELECT count(*) FROM messages"), 2);
    sb_conv_cleanup(&c);
}

static void rollback_undoes_only_its_own_unit(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    int64_t first, second;

    new_conv(e->st, "visitor-1", &c);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    first = add_msg(e->st, c.id, "in", "unit one", NULL, 0);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    second = add_msg(e->st, c.id, "in", "unit two", NULL, 0);
    sb_store_rollback(e->st);
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    assert_true(msg_exists(e->st, first));
    assert_false(msg_exists(e->st, second));
    sb_conv_cleanup(&c);
}

static void committed_unit_is_durable_only_after_flush(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    sqlite3 *reader = NULL;
    int64_t id;
    json_t *j;

    new_conv(e->st, "visitor-1", &c);
    assert_false(sb_store_pending(e->st));
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    id = add_msg(e->st, c.id, "in", "committed", NULL, 0);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_true(sb_store_pending(e->st));
    /* Visible to this handle at once ... */
    j = sb_store_msg_json(e->st, id);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "text")), "committed");
    json_decref(j);
    /* ... but not to anyone else until the batch is flushed. */
    assert_int_equal(sqlite3_open_v2(e->path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_int(reader, "SELECT count(*) FROM messages"), 0);
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    assert_false(sb_store_pending(e->st));
    assert_int_equal(query_int(reader, "SELECT count(*) FROM messages"), 1);
    sqlite3_close(reader);
    /* Flushing with nothing pending is fine. */
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    sb_conv_cleanup(&c);
}

static void units_do_not_nest_and_commit_needs_a_unit(void **state)
{
    struct env *e = *state;

    assert_int_equal(sb_store_commit(e->st), SB_ERR_INVAL);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(sb_store_begin(e->st), SB_ERR_INVAL);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_int_equal(sb_store_commit(e->st), SB_ERR_INVAL);
    assert_int_equal(sb_store_flush(e->st), SB_OK);
}

static void flush_rolls_back_an_open_unit(void **state)
{
    struct env *e = *state;
    struct sb_conv c;
    int64_t kept, open;

    new_conv(e->st, "visitor-1", &c);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    kept = add_msg(e->st, c.id, "in", "kept", NULL, 0);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    open = add_msg(e->st, c.id, "in", "never committed", NULL, 0);
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    assert_true(msg_exists(e->st, kept));
    assert_false(msg_exists(e->st, open));
    /* A new unit can start after the flush. */
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    assert_int_equal(sb_store_flush(e->st), SB_OK);
    sb_conv_cleanup(&c);
}

static void close_flushes_committed_units(void **state)
{
    struct env *e = *state;
    struct sb_store *st = NULL;
    struct sb_errbuf eb = {{0}};
    struct sb_conv c;

    new_conv(e->st, "visitor-1", &c);
    assert_int_equal(sb_store_begin(e->st), SB_OK);
    add_msg(e->st, c.id, "in", "survives close", NULL, 0);
    assert_int_equal(sb_store_commit(e->st), SB_OK);
    sb_store_close(e->st);
    e->st = NULL;
    assert_int_equal(sb_store_open(e->path, "NORMAL", &st, &eb), SB_OK);
    e->st = st;
    assert_int_equal(query_int(sb_store_db(st), "SELECT count(*) FROM messages"), 1);
    sb_conv_cleanup(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_store, teardown)
#define TD(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(open_creates_schema_at_current_version_in_wal_mode),
        TD(open_rejects_bad_synchronous_value),
        TD(store_alone_has_no_kb_tables_and_the_kb_part_adds_them),
        TD(open_fails_for_unwritable_path),
        TD(reopen_keeps_data_and_does_not_remigrate),
        TD(open_refuses_database_with_newer_schema),
        T(conv_create_defaults_to_bot_and_is_found_by_public_id_and_id),
        T(conv_get_unknown_is_not_found),
        T(conv_create_reuses_contact_of_same_identity),
        T(contacts_get_a_random_public_id),
        T(every_assignee_is_remembered),
        T(conv_status_and_attrs_are_stored),
        T(msg_add_same_channel_and_provider_id_is_a_duplicate),
        T(msg_add_without_provider_id_never_dedupes),
        T(msg_add_rejects_bad_direction_and_unknown_conversation),
        T(transcript_is_oldest_first_with_all_json_fields),
        T(msg_json_of_unknown_id_is_null),
        T(msg_add_with_zero_created_at_uses_now),
        T(replies_are_the_outbound_messages_answering_an_inbound_one),
        T(event_seq_starts_at_one_and_is_contiguous_per_conversation),
        T(event_add_from_stale_copy_is_refused_not_overwritten),
        T(event_data_is_payload_with_seq_type_and_time),
        T(events_since_honours_after_seq_limit_and_early_stop),
        T(events_stay_contiguous_after_a_rolled_back_unit),
        T(handoff_queues_conversation_and_stores_transcript),
        T(kv_set_get_overwrite_delete),
        T(rollback_discards_message_added_inside_unit),
        T(rollback_undoes_only_its_own_unit),
        T(committed_unit_is_durable_only_after_flush),
        T(units_do_not_nest_and_commit_needs_a_unit),
        T(flush_rolls_back_an_open_unit),
        T(close_flushes_committed_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

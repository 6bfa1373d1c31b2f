/*
 * store.c - opening the SQLite database, migrations, prepared statements
 * and the per-plugin key/value store. Units of work, their effects and
 * group commit are in store/unit.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "store_int.h"

/* Each entry moves the schema from version i to i+1. Never edit a shipped
 * migration; append a new one. The parts of the schema that belong to code
 * above the store (the knowledge base's tables, kb/kb_schema.c) bring their
 * own steps for the same version numbers: a NULL here is a version that
 * only such a part changed. */
static const char *const migrations[SB_STORE_SCHEMA_VERSION] = {
    /* 1: contacts, identities, conversations, messages, events, kv */
    "CREATE TABLE contacts("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT,"
    "  attrs TEXT NOT NULL DEFAULT '{}',"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE identities("
    "  id INTEGER PRIMARY KEY,"
    "  contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    "  channel TEXT NOT NULL,"
    "  external_id TEXT NOT NULL,"
    "  verified_by TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE(channel, external_id));"
    "CREATE TABLE conversations("
    "  id INTEGER PRIMARY KEY,"
    "  public_id TEXT NOT NULL UNIQUE,"
    "  contact_id INTEGER NOT NULL REFERENCES contacts(id),"
    "  channel TEXT NOT NULL,"
    "  locale TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'bot'"
    "    CHECK(status IN ('bot','queued','assigned','resolved')),"
    "  token_hash TEXT,"
    "  team TEXT,"
    "  assignee INTEGER,"
    "  attrs TEXT NOT NULL DEFAULT '{}',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX conversations_contact ON conversations(contact_id);"
    "CREATE INDEX conversations_status ON conversations(status, updated_at);"
    "CREATE TABLE handoffs("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    "  reason TEXT NOT NULL,"
    "  team TEXT,"
    "  transcript TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE messages("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    "  direction TEXT NOT NULL CHECK(direction IN ('in','out')),"
    "  author TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  extra TEXT,"
    "  provider_id TEXT,"
    "  client_id TEXT,"
    "  reply_to INTEGER,"
    "  created_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX messages_provider ON messages(channel, provider_id)"
    "  WHERE provider_id IS NOT NULL;"
    "CREATE INDEX messages_conversation ON messages(conversation_id, id);"
    /* Rows in arrival order (appends touch the last page only); the small
     * unique index finds a conversation's events and refuses a reused seq. */
    "CREATE TABLE events("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX events_conversation ON events(conversation_id, seq);"
    "CREATE TABLE plugin_kv("
    "  plugin TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value BLOB NOT NULL,"
    "  PRIMARY KEY(plugin, key)) WITHOUT ROWID;"
    "",
    /* 2: staff accounts, their sessions, API tokens and the audit log */
    "CREATE TABLE users("
    "  id INTEGER PRIMARY KEY,"
    "  email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  name TEXT NOT NULL,"
    "  locale TEXT NOT NULL DEFAULT 'en',"
    "  roles INTEGER NOT NULL,"
    "  password_hash TEXT NOT NULL,"
    "  active INTEGER NOT NULL DEFAULT 1,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE sessions("
    "  id_hash TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id),"
    "  csrf TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  ip TEXT) WITHOUT ROWID;"
    "CREATE INDEX sessions_user ON sessions(user_id);"
    "CREATE TABLE api_tokens("
    "  id INTEGER PRIMARY KEY,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  role INTEGER NOT NULL,"
    "  created_by INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  last_used_at INTEGER,"
    "  revoked_at INTEGER);"
    "CREATE TABLE audit_log("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT,"
    "  ip TEXT,"
    "  detail TEXT);",
    NULL, /* 3: the knowledge base's (kb/kb_schema.c) */
    NULL, /* 4: the knowledge base's (kb/kb_schema.c) */
    NULL, /* 5: the knowledge base's (kb/kb_schema.c) */
    /* 6: the website widget (docs/widget.md): sites and the origins they
     * run on; a web conversation's site, page and verified identity; more
     * than one visitor token per conversation (one per device, SHA-256
     * only); read marks; a queue order (priority, then queue time, kept by
     * a trigger whatever code changes the status) and the waits of those
     * that left the queue; attachments stored by content hash. */
    "CREATE TABLE sites("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  secret TEXT NOT NULL,"
    "  settings TEXT NOT NULL DEFAULT '{}',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE site_origins("
    "  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,"
    "  origin TEXT NOT NULL,"
    "  position INTEGER NOT NULL,"
    "  PRIMARY KEY(site_id, origin)) WITHOUT ROWID;"
    "CREATE INDEX site_origins_origin ON site_origins(origin);"
    "ALTER TABLE conversations ADD COLUMN site_id TEXT;"
    "ALTER TABLE conversations ADD COLUMN page_url TEXT;"
    "ALTER TABLE conversations ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conversations ADD COLUMN queued_at INTEGER;"
    "ALTER TABLE conversations ADD COLUMN read_customer INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conversations ADD COLUMN read_agent INTEGER NOT NULL DEFAULT 0;"
    "UPDATE conversations SET queued_at = updated_at WHERE status = 'queued';"
    "CREATE INDEX conversations_site ON conversations(contact_id, site_id)"
    "  WHERE site_id IS NOT NULL;"
    "CREATE TABLE conversation_tokens("
    "  token_hash TEXT PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    "  created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO conversation_tokens(token_hash, conversation_id, created_at)"
    "  SELECT token_hash, id, created_at FROM conversations WHERE token_hash IS NOT NULL;"
    "CREATE TABLE queue_waits("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL,"
    "  waited_ms INTEGER NOT NULL,"
    "  left_at INTEGER NOT NULL);"
    "CREATE TRIGGER conversations_queue_time AFTER UPDATE OF status ON conversations"
    "  WHEN NEW.status IS NOT OLD.status BEGIN"
    "    INSERT INTO queue_waits(conversation_id, waited_ms, left_at)"
    "      SELECT NEW.id, max(0, NEW.updated_at - OLD.queued_at), NEW.updated_at"
    "      WHERE OLD.status = 'queued' AND OLD.queued_at IS NOT NULL;"
    "    UPDATE conversations SET queued_at ="
    "      CASE WHEN NEW.status = 'queued' THEN NEW.updated_at ELSE NULL END"
    "      WHERE id = NEW.id;"
    "  END;"
    "CREATE TABLE attachments("
    "  id INTEGER PRIMARY KEY,"
    "  public_id TEXT NOT NULL UNIQUE,"
    "  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    "  message_id INTEGER,"
    "  name TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX attachments_conversation ON attachments(conversation_id);",
    /* 7: live agents (docs/agents.md): teams with their hours, members,
     * agent profiles, routing rules, SLA policies, internal notes, canned
     * responses; on a conversation its offer, SLA due times (met_at when
     * met; warned/breached as bit flags per kind: 1 first_response,
     * 2 next_response, 4 resolution), the CSAT rating, when it was
     * resolved, the last assignee (for reopening) and the agent's read
     * mark per agent in agent_reads. The team 'default' is always open
     * (hours NULL) and is where unmatched handoffs go. Times are ms. */
    "CREATE TABLE teams("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  timezone TEXT NOT NULL DEFAULT 'UTC',"
    "  hours TEXT,"
    "  holidays TEXT NOT NULL DEFAULT '[]',"
    "  allow_pick INTEGER NOT NULL DEFAULT 1,"
    "  require_language INTEGER NOT NULL DEFAULT 0,"
    "  outside_hours TEXT NOT NULL DEFAULT '{}',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO teams(id, name, created_at, updated_at)"
    "  VALUES('default', 'Default', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),"
    "         CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));"
    "CREATE TABLE team_members("
    "  team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  PRIMARY KEY(team_id, user_id)) WITHOUT ROWID;"
    "CREATE INDEX team_members_user ON team_members(user_id);"
    "CREATE TABLE agent_profiles("
    "  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  status TEXT NOT NULL DEFAULT 'offline'"
    "    CHECK(status IN ('online','away','offline')),"
    "  capacity REAL NOT NULL DEFAULT 4 CHECK(capacity >= 0),"
    "  skills TEXT NOT NULL DEFAULT '[]',"
    "  last_assigned_at INTEGER NOT NULL DEFAULT 0,"
    "  status_changed_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE routing_rules("
    "  id INTEGER PRIMARY KEY,"
    "  position INTEGER NOT NULL,"
    "  match TEXT NOT NULL DEFAULT '{}',"
    "  team TEXT NOT NULL,"
    "  priority INTEGER NOT NULL DEFAULT 0 CHECK(priority BETWEEN 0 AND 2),"
    "  skills TEXT NOT NULL DEFAULT '[]',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX routing_rules_position ON routing_rules(position, id);"
    "CREATE TABLE sla_policies("
    "  id INTEGER PRIMARY KEY,"
    "  channel TEXT NOT NULL DEFAULT '*',"
    "  priority INTEGER NOT NULL CHECK(priority BETWEEN 0 AND 2),"
    "  first_response_min INTEGER CHECK(first_response_min > 0),"
    "  next_response_min INTEGER CHECK(next_response_min > 0),"
    "  resolution_min INTEGER CHECK(resolution_min > 0),"
    "  updated_at INTEGER NOT NULL,"
    "  UNIQUE(channel, priority));"
    "CREATE TABLE notes("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    "  author INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX notes_conversation ON notes(conversation_id, id);"
    "CREATE TABLE canned_responses("
    "  id INTEGER PRIMARY KEY,"
    "  shortcut TEXT NOT NULL,"
    "  locale TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  team TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  UNIQUE(shortcut, locale, team));"
    "CREATE TABLE agent_reads("
    "  conversation_id INTEGER NOT NULL,"
    "  user_id INTEGER NOT NULL,"
    "  up_to INTEGER NOT NULL,"
    "  PRIMARY KEY(conversation_id, user_id)) WITHOUT ROWID;"
    "CREATE TABLE offer_skips("
    "  conversation_id INTEGER NOT NULL,"
    "  user_id INTEGER NOT NULL,"
    "  PRIMARY KEY(conversation_id, user_id)) WITHOUT ROWID;"
    "ALTER TABLE conversations ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';"
    "ALTER TABLE conversations ADD COLUMN offered_to INTEGER;"
    "ALTER TABLE conversations ADD COLUMN offer_expires_at INTEGER;"
    "ALTER TABLE conversations ADD COLUMN last_assignee INTEGER;"
    "ALTER TABLE conversations ADD COLUMN first_response_due INTEGER;"
    "ALTER TABLE conversations ADD COLUMN first_response_at INTEGER;"
    "ALTER TABLE conversations ADD COLUMN next_response_due INTEGER;"
    "ALTER TABLE conversations ADD COLUMN resolution_due INTEGER;"
    "ALTER TABLE conversations ADD COLUMN first_response_warn INTEGER;"
    "ALTER TABLE conversations ADD COLUMN next_response_warn INTEGER;"
    "ALTER TABLE conversations ADD COLUMN resolution_warn INTEGER;"
    "ALTER TABLE conversations ADD COLUMN sla_warned INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conversations ADD COLUMN sla_breached INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conversations ADD COLUMN csat INTEGER CHECK(csat IS NULL OR csat BETWEEN 1 AND 5);"
    "ALTER TABLE conversations ADD COLUMN resolved_at INTEGER;"
    "ALTER TABLE conversations ADD COLUMN resolved_by TEXT;"
    "ALTER TABLE conversations ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX conversations_assignee ON conversations(assignee, status)"
    "  WHERE assignee IS NOT NULL;"
    "CREATE INDEX conversations_offered ON conversations(offered_to) WHERE offered_to IS NOT NULL;",
    NULL, /* 8: the knowledge base's (kb/kb_schema.c) */
    NULL, /* 9: the knowledge base's (kb/kb_schema.c) */
    /* 10: who may see what (core/agents/agent_access.h). Contacts get a random
     * public id, the only one the API shows (the row id could be walked
     * 1, 2, 3, ...); every insert gets one from the trigger. And
     * conversation_agents remembers every agent a conversation was ever
     * assigned to (last_assignee keeps only the latter), filled from the
     * past assignments and from now on by a trigger on assignee. */
    "ALTER TABLE contacts ADD COLUMN public_id TEXT;"
    "UPDATE contacts SET public_id = lower(hex(randomblob(16)));"
    "CREATE UNIQUE INDEX contacts_public_id ON contacts(public_id);"
    "CREATE TRIGGER contacts_public_id AFTER INSERT ON contacts WHEN NEW.public_id IS NULL"
    "  BEGIN UPDATE contacts SET public_id = lower(hex(randomblob(16))) WHERE id = NEW.id; END;"
    "CREATE TABLE conversation_agents("
    "  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    "  user_id INTEGER NOT NULL,"
    "  PRIMARY KEY(conversation_id, user_id)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO conversation_agents SELECT id, assignee FROM conversations"
    "  WHERE assignee IS NOT NULL;"
    "INSERT OR IGNORE INTO conversation_agents SELECT id, last_assignee FROM conversations"
    "  WHERE last_assignee IS NOT NULL;"
    "INSERT OR IGNORE INTO conversation_agents SELECT conversation_id,"
    "  json_extract(data, '$.agent.id') FROM events WHERE type = 'conversation/assigned'"
    "  AND json_extract(data, '$.agent.id') IS NOT NULL;"
    "CREATE TRIGGER conversation_agents_assign AFTER UPDATE OF assignee ON conversations"
    "  WHEN NEW.assignee IS NOT NULL BEGIN INSERT OR IGNORE INTO conversation_agents"
    "  VALUES(NEW.id, NEW.assignee); END;"
    "CREATE TRIGGER conversation_agents_insert AFTER INSERT ON conversations"
    "  WHEN NEW.assignee IS NOT NULL BEGIN INSERT OR IGNORE INTO conversation_agents"
    "  VALUES(NEW.id, NEW.assignee); END;",
    /* 11: channels (core/channels/). The outbox holds every outbound message
     * of a channel that pushes (all but the web), written in the unit that
     * stored the message and delivered after commit, oldest first per
     * conversation; a row ends 'sent' or 'dead' (a dead letter an agent may
     * retry). inbound_turns holds the messages a channel accepted whose bot
     * turn has not run yet: the webhook is acknowledged first, and a restart
     * finds what is left here. */
    "CREATE TABLE outbox("
    "  id INTEGER PRIMARY KEY,"
    "  conversation_id INTEGER NOT NULL REFERENCES conversations(id),"
    "  message_id INTEGER NOT NULL UNIQUE REFERENCES messages(id),"
    "  channel TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN ('pending','sent','dead')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL,"
    "  last_error TEXT,"
    "  provider_id TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  done_at INTEGER);"
    "CREATE INDEX outbox_pending ON outbox(conversation_id, id) WHERE state = 'pending';"
    "CREATE INDEX outbox_due ON outbox(next_at) WHERE state = 'pending';"
    "CREATE INDEX outbox_provider ON outbox(channel, provider_id) WHERE provider_id IS NOT NULL;"
    "CREATE TABLE inbound_turns(message_id INTEGER PRIMARY KEY REFERENCES messages(id));",
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT unit",
    [ST_RELEASE] = "RELEASE unit",
    [ST_ROLLBACK_TO] = "ROLLBACK TO unit",
    [ST_PLUGIN_SAVEPOINT] = "SAVEPOINT plugin_call",
    [ST_PLUGIN_RELEASE] = "RELEASE plugin_call",
    [ST_PLUGIN_ROLLBACK_TO] = "ROLLBACK TO plugin_call",
    [ST_CONTACT_ADD] = "INSERT INTO contacts(created_at) VALUES(?1)",
    [ST_IDENTITY_FIND] = "SELECT contact_id FROM identities WHERE channel=?1 AND external_id=?2",
    [ST_IDENTITY_ADD] = "INSERT INTO identities(contact_id, channel, external_id, created_at)"
                        " VALUES(?1, ?2, ?3, ?4)",
    [ST_CONV_ADD] = "INSERT INTO conversations(public_id, contact_id, channel, locale, token_hash,"
                    " created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    [ST_CONV_GET] =
        "SELECT id, contact_id, public_id, channel, locale, status, token_hash,"
        " (SELECT ifnull(max(seq), 0) FROM events WHERE conversation_id = conversations.id),"
        " attrs FROM conversations WHERE public_id=?1",
    [ST_CONV_GET_ID] =
        "SELECT id, contact_id, public_id, channel, locale, status, token_hash,"
        " (SELECT ifnull(max(seq), 0) FROM events WHERE conversation_id = conversations.id),"
        " attrs FROM conversations WHERE id=?1",
    /* ST_CONV_GET's row and whether the token hash ?2 is one of its
     * visitor tokens (conversation_tokens, WITHOUT ROWID: one lookup) */
    [ST_CONV_GET_VISITOR] =
        "SELECT id, contact_id, public_id, channel, locale, status, token_hash,"
        " (SELECT ifnull(max(seq), 0) FROM events WHERE conversation_id = conversations.id),"
        " attrs, ifnull((SELECT conversation_id FROM conversation_tokens WHERE token_hash = ?2)"
        " = conversations.id, 0) FROM conversations WHERE public_id=?1",
    [ST_CONV_STATUS] = "UPDATE conversations SET status=?2, updated_at=?3 WHERE id=?1",
    [ST_CONV_ATTRS] = "UPDATE conversations SET attrs=?2, updated_at=?3 WHERE id=?1",
    [ST_HANDOFF_ADD] = "INSERT INTO handoffs(conversation_id, reason, team, transcript, created_at)"
                       " VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_MSG_ADD] = "INSERT INTO messages(conversation_id, direction, author, channel, body, extra,"
                   " provider_id, client_id, reply_to, created_at)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                   " ON CONFLICT DO NOTHING",
    [ST_MSG_FIND] = "SELECT id FROM messages WHERE channel=?1 AND provider_id=?2",
    [ST_MSG_GET] = "SELECT id, direction, author, body, extra, client_id, created_at,"
                   " (SELECT state || '|' || ifnull(last_error, '') FROM outbox WHERE message_id = "
                   "messages.id)"
                   " FROM messages WHERE id=?1",
    [ST_MSG_LIST] = "SELECT id, direction, author, body, extra, client_id, created_at,"
                    " (SELECT state || '|' || ifnull(last_error, '') FROM outbox WHERE message_id "
                    "= messages.id)"
                    " FROM messages WHERE conversation_id=?1 ORDER BY id LIMIT ?2",
    /* Replies follow their message in the same conversation; the
     * conversation index finds them without an index of its own (this is
     * only asked for retried deliveries). */
    [ST_MSG_REPLIES] = "SELECT id, direction, author, body, extra, client_id, created_at,"
                       " (SELECT state || '|' || ifnull(last_error, '') FROM outbox WHERE "
                       "message_id = messages.id)"
                       " FROM messages WHERE conversation_id=?1 AND id>?2 AND reply_to=?2"
                       " ORDER BY id",
    [ST_EVENT_ADD] = "INSERT INTO events(conversation_id, seq, type, data, created_at)"
                     " VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_EVENT_SINCE] = "SELECT seq, type, data FROM events WHERE conversation_id=?1 AND seq>?2"
                       " AND id<=?4 ORDER BY seq LIMIT ?3",
    [ST_EVENT_MAX] = "SELECT ifnull(max(id), 0) FROM events",
    [ST_KV_GET] = "SELECT value FROM plugin_kv WHERE plugin=?1 AND key=?2",
    [ST_KV_SET] = "INSERT INTO plugin_kv(plugin, key, value) VALUES(?1, ?2, ?3)"
                  " ON CONFLICT(plugin, key) DO UPDATE SET value=excluded.value",
    [ST_KV_DEL] = "DELETE FROM plugin_kv WHERE plugin=?1 AND key=?2",
    /* bytes, not characters: a TEXT key is measured as a BLOB. Two
     * statements, so the one-key size is a primary-key lookup, not a scan
     * of the plugin's rows. */
    [ST_KV_USAGE] = "SELECT ifnull(sum(length(CAST(key AS BLOB)) + length(value)), 0)"
                    " FROM plugin_kv WHERE plugin=?1",
    [ST_KV_SIZE] = "SELECT length(CAST(key AS BLOB)) + length(value)"
                   " FROM plugin_kv WHERE plugin=?1 AND key=?2",
};

sqlite3_stmt *store_stmt(struct sb_store *st, enum stmt_id id)
{
    sqlite3_stmt *s = st->stmt[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

sqlite3 *sb_store_db(struct sb_store *st)
{
    return st->db;
}

static bool migrate_step(sqlite3 *db, const char *sql, char **errmsg)
{
    return !sql || sqlite3_exec(db, sql, NULL, NULL, errmsg) == SQLITE_OK;
}

/* Every part's step to version, in the order the parts were given. */
static bool migrate_parts(sqlite3 *db, const struct sb_store_part *const *parts, int version,
                          char **errmsg)
{
    for (; parts && *parts; parts++)
        if ((*parts)->step && !migrate_step(db, (*parts)->step(version), errmsg)) return false;
    return true;
}

static enum sb_err migrate(struct sb_store *st, const struct sb_store_part *const *parts,
                           struct sb_errbuf *eb)
{
    sqlite3_stmt *s;
    int version = 0;
    char *errmsg = NULL;

    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return sb_fail(eb, SB_ERR_DB, "user_version: %s", sqlite3_errmsg(st->db));
    if (sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);

    if (version > (int)SB_ARRAY_LEN(migrations))
        return sb_fail(eb, SB_ERR_DB, "database schema %d is newer than this binary (%d)", version,
                       (int)SB_ARRAY_LEN(migrations));
    for (int v = version; v < (int)SB_ARRAY_LEN(migrations); v++) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", v + 1);
        /* Each migration and its version bump commit together or not at all. */
        if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &errmsg) != SQLITE_OK ||
            !migrate_step(st->db, migrations[v], &errmsg) ||
            !migrate_parts(st->db, parts, v + 1, &errmsg) ||
            sqlite3_exec(st->db, pragma, NULL, NULL, &errmsg) != SQLITE_OK ||
            sqlite3_exec(st->db, "COMMIT", NULL, NULL, &errmsg) != SQLITE_OK) {
            sb_fail(eb, SB_ERR_DB, "migration %d: %s", v + 1, errmsg ? errmsg : "?");
            sqlite3_free(errmsg);
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return SB_ERR_DB;
        }
        sb_info("store: migrated schema to version %d", v + 1);
    }
    return SB_OK;
}

/* SQLite's memory statistics take a global mutex on every allocation it
 * makes (hundreds per customer message) and nothing here reads them (no
 * sqlite3_memory_used, no soft heap limit). sqlite3_config must come
 * before the library initializes and is not thread-safe: once, before the
 * first connection; refused harmlessly if something initialized it first. */
static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

const char *sb_store_engine(void)
{
    static char text[48];
    if (!text[0]) snprintf(text, sizeof(text), "SQLite %s", sqlite3_libversion());
    return text;
}

enum sb_err sb_store_open_parts(const char *path, const char *synchronous,
                                const struct sb_store_part *const *parts, struct sb_store **out,
                                struct sb_errbuf *eb)
{
    struct sb_store *st = calloc(1, sizeof(*st));
    char pragmas[256];
    char *errmsg = NULL;
    enum sb_err rc;

    if (!st) return SB_ERR_NOMEM;
    if (strcmp(synchronous, "NORMAL") != 0 && strcmp(synchronous, "FULL") != 0) {
        rc = sb_fail(eb, SB_ERR_INVAL, "synchronous must be NORMAL or FULL");
        goto fail;
    }
    pthread_once(&sqlite_setup_once, sqlite_setup);
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = sb_fail(eb, SB_ERR_DB, "%s: %s", path, sqlite3_errmsg(st->db));
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    /* A part may need the connection prepared before its tables are
     * touched (kb_fts is created with the knowledge base's own tokenizer). */
    for (const struct sb_store_part *const *p = parts; p && *p; p++)
        if ((*p)->connect && (*p)->connect(st->db) != SB_OK) {
            rc = sb_fail(eb, SB_ERR_DB, "%s: cannot prepare the connection for %s", path,
                         (*p)->name);
            goto fail;
        }
    /* The import tool may write while the server runs: wait, don't fail. */
    sqlite3_busy_timeout(st->db, 5000);
    /* WAL: readers never block the writer. synchronous=NORMAL keeps every
     * committed transaction across a process crash (kill -9); FULL adds an
     * fsync per commit for power loss. */
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;"
             " PRAGMA temp_store=MEMORY;"
             "",
             synchronous);
    if (sqlite3_exec(st->db, pragmas, NULL, NULL, &errmsg) != SQLITE_OK) {
        rc = sb_fail(eb, SB_ERR_DB, "%s: %s", path, errmsg ? errmsg : "?");
        sqlite3_free(errmsg);
        goto fail;
    }
    rc = migrate(st, parts, eb);
    if (rc) goto fail;
    rc = store_prep_table(st, stmt_sql, ST__COUNT, st->stmt, eb);
    if (!rc) rc = store_users_prepare(st, eb);
    if (!rc) rc = store_sites_prepare(st, eb);
    if (!rc) rc = store_web_prepare(st, eb);
    if (rc) goto fail;
    *out = st;
    return SB_OK;
fail:
    sb_store_close(st);
    return rc;
}

enum sb_err sb_store_background_checkpoints(struct sb_store *st, int interval_ms)
{
    const char *path = sqlite3_db_filename(st->db, "main");
    if (!path || !*path) return SB_ERR_INVAL;
    return store_checkpointer_start(st, path, interval_ms);
}

void sb_store_close(struct sb_store *st)
{
    if (!st) return;
    store_checkpointer_stop(st);
    /* Whoever the effects would tell is gone by now. */
    store_effects_drop_all(st);
    if (st->stmt[ST_COMMIT]) sb_store_flush(st);
    store_stmt_cache_free(st); /* every statement, the numbered ones too */
    /* A statement left unfinalized would keep the handle (and leak it). */
    if (sqlite3_close(st->db) != SQLITE_OK) sb_error("store: close: %s", sqlite3_errmsg(st->db));
    free(st);
}

enum sb_err store_step_done(struct sb_store *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return SB_OK;
    sb_error("store: %s", sqlite3_errmsg(st->db));
    return SB_ERR_DB;
}

void store_note_committed(struct sb_store *st)
{
    sqlite3_stmt *s = store_stmt(st, ST_EVENT_MAX);
    if (sqlite3_step(s) == SQLITE_ROW) st->committed_event_id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
}

int64_t sb_store_committed_event_id(const struct sb_store *st)
{
    /* Outside a batch every row this connection sees is durable (writes
     * in autocommit mode, as the CLI's, never moved the mark). */
    return st->batch_open ? st->committed_event_id : INT64_MAX;
}

enum sb_err sb_store_kv_get(struct sb_store *st, const char *plugin, const char *key, char **value,
                            size_t *len)
{
    sqlite3_stmt *s = store_stmt(st, ST_KV_GET);
    enum sb_err rc = SB_ERR_NOT_FOUND;
    int r;

    sqlite3_bind_text(s, 1, plugin, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        int n = sqlite3_column_bytes(s, 0);
        const void *p = sqlite3_column_blob(s, 0);
        *value = malloc((size_t)n + 1);
        if (!*value) {
            rc = SB_ERR_NOMEM;
        } else {
            if (n) memcpy(*value, p, (size_t)n);
            (*value)[n] = '\0';
            *len = (size_t)n;
            rc = SB_OK;
        }
    } else if (r != SQLITE_DONE) {
        rc = SB_ERR_DB;
    }
    sqlite3_reset(s);
    return rc;
}

enum sb_err sb_store_kv_set(struct sb_store *st, const char *plugin, const char *key,
                            const char *value, size_t len)
{
    sqlite3_stmt *s = store_stmt(st, value ? ST_KV_SET : ST_KV_DEL);
    sqlite3_bind_text(s, 1, plugin, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    if (value) sqlite3_bind_blob(s, 3, value, (int)len, SQLITE_STATIC);
    return store_step_done(st, s);
}

enum sb_err sb_store_kv_usage(struct sb_store *st, const char *plugin, const char *key,
                              uint64_t *bytes)
{
    sqlite3_stmt *s = store_stmt(st, key ? ST_KV_SIZE : ST_KV_USAGE);
    int r;
    sqlite3_bind_text(s, 1, plugin, -1, SQLITE_STATIC);
    if (key) sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    r = sqlite3_step(s);
    *bytes = r == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0; /* DONE: no such key */
    sqlite3_reset(s);
    return r == SQLITE_ROW || r == SQLITE_DONE ? SB_OK : SB_ERR_DB;
}

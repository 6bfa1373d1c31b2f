/*
 * store_sites.c - the sites the widget runs on and their origins. The
 * settings a browser may see (title, colours, greeting, proactive rules)
 * are kept as one JSON text; origins have their own table so that the
 * per-request CORS check is one index lookup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "sb_util.h"
#include "store_int.h"

static const char *const site_sql[SS__COUNT] = {
    [SS_SITE_GET] = "SELECT id, name, secret, settings FROM sites WHERE id = ?1",
    [SS_SITE_PUT] = "INSERT INTO sites(id, name, secret, settings, created_at, updated_at)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?5)"
                    " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
                    " secret = excluded.secret, settings = excluded.settings,"
                    " updated_at = excluded.updated_at",
    [SS_SITE_IDS] = "SELECT id FROM sites ORDER BY id",
    [SS_SITE_DELETE] = "DELETE FROM sites WHERE id = ?1",
    [SS_ORIGINS_CLEAR] = "DELETE FROM site_origins WHERE site_id = ?1",
    [SS_ORIGIN_ADD] = "INSERT INTO site_origins(site_id, origin, position) VALUES(?1, ?2, ?3)",
    [SS_ORIGINS_OF] = "SELECT origin FROM site_origins WHERE site_id = ?1 ORDER BY position",
    /* parenthesised: clang takes two adjacent literals in an array for a missing comma */
    [SS_ORIGIN_ALLOWED] = ("SELECT 1 FROM site_origins WHERE origin = ?1"
                           " AND (?2 IS NULL OR site_id = ?2) LIMIT 1"),
    [SS_ORIGINS_ALL] = "SELECT DISTINCT origin FROM site_origins ORDER BY origin",
};

/* The settings column holds these keys of a site. */
static const char *const settings_keys[] = {"title",  "color",    "position",
                                            "locale", "greeting", "proactive"};

enum sb_err store_sites_prepare(struct sb_store *st, struct sb_errbuf *eb)
{
    return store_prep_table(st, site_sql, SS__COUNT, st->sstmt, eb);
}

static sqlite3_stmt *sstmt(struct sb_store *st, enum site_stmt_id id)
{
    sqlite3_stmt *s = st->sstmt[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static bool site_exists(struct sb_store *st, const char *id)
{
    sqlite3_stmt *s = sstmt(st, SS_SITE_GET);
    bool found;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_reset(s);
    return found;
}

enum sb_err sb_store_site_put(struct sb_store *st, json_t *site, bool *created)
{
    const char *id = json_string_value(json_object_get(site, "id"));
    const char *name = json_string_value(json_object_get(site, "name"));
    const char *secret = json_string_value(json_object_get(site, "secret"));
    json_t *settings = json_object(), *origin;
    char *text;
    sqlite3_stmt *s;
    enum sb_err rc;
    size_t i;

    if (!id || !name || !secret) {
        json_decref(settings);
        return SB_ERR_INVAL;
    }
    for (i = 0; i < SB_ARRAY_LEN(settings_keys); i++) {
        json_t *v = json_object_get(site, settings_keys[i]);
        if (v) json_object_set(settings, settings_keys[i], v);
    }
    text = json_dumps(settings, JSON_COMPACT);
    json_decref(settings);
    if (!text) return SB_ERR_NOMEM;
    *created = !site_exists(st, id);
    s = sstmt(st, SS_SITE_PUT);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, secret, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, sb_now_ms());
    rc = store_step_done(st, s);
    free(text);
    if (rc) return rc;
    s = sstmt(st, SS_ORIGINS_CLEAR);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    rc = store_step_done(st, s);
    json_array_foreach(json_object_get(site, "origins"), i, origin)
    {
        if (rc) break;
        s = sstmt(st, SS_ORIGIN_ADD);
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, json_string_value(origin), -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)i);
        rc = store_step_done(st, s);
    }
    return rc;
}

static json_t *origins_of(struct sb_store *st, const char *id)
{
    sqlite3_stmt *s = sstmt(st, SS_ORIGINS_OF);
    json_t *arr = json_array();
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(s, 0)));
    sqlite3_reset(s);
    return arr;
}

enum sb_err sb_store_site_get(struct sb_store *st, const char *id, json_t **out)
{
    sqlite3_stmt *s = sstmt(st, SS_SITE_GET);
    json_t *site, *settings;
    int r;

    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    r = sqlite3_step(s);
    if (r != SQLITE_ROW) {
        sqlite3_reset(s);
        if (r == SQLITE_DONE) return SB_ERR_NOT_FOUND;
        sb_error("store: %s", sqlite3_errmsg(st->db));
        return SB_ERR_DB;
    }
    settings = json_loads((const char *)sqlite3_column_text(s, 3), 0, NULL);
    site = json_pack("{s:s, s:s, s:s}", "id", (const char *)sqlite3_column_text(s, 0), "name",
                     (const char *)sqlite3_column_text(s, 1), "secret",
                     (const char *)sqlite3_column_text(s, 2));
    sqlite3_reset(s);
    if (!site) {
        json_decref(settings);
        return SB_ERR_NOMEM;
    }
    json_object_set_new(site, "origins", origins_of(st, id));
    for (size_t i = 0; i < SB_ARRAY_LEN(settings_keys); i++) {
        json_t *v = json_object_get(settings, settings_keys[i]);
        if (v) json_object_set(site, settings_keys[i], v);
    }
    json_decref(settings);
    *out = site;
    return SB_OK;
}

json_t *sb_store_site_list(struct sb_store *st)
{
    sqlite3_stmt *s = sstmt(st, SS_SITE_IDS);
    json_t *ids = json_array(), *sites = json_array(), *id;
    size_t i;

    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(ids, json_string((const char *)sqlite3_column_text(s, 0)));
    sqlite3_reset(s);
    json_array_foreach(ids, i, id)
    {
        json_t *site;
        if (sb_store_site_get(st, json_string_value(id), &site) == SB_OK)
            json_array_append_new(sites, site);
    }
    json_decref(ids);
    return sites;
}

enum sb_err sb_store_site_delete(struct sb_store *st, const char *id)
{
    sqlite3_stmt *s;
    enum sb_err rc;

    if (!site_exists(st, id)) return SB_ERR_NOT_FOUND;
    s = sstmt(st, SS_ORIGINS_CLEAR);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    rc = store_step_done(st, s);
    if (rc) return rc;
    s = sstmt(st, SS_SITE_DELETE);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    return store_step_done(st, s);
}

bool sb_store_origin_allowed(struct sb_store *st, const char *origin, const char *site_id)
{
    sqlite3_stmt *s = sstmt(st, SS_ORIGIN_ALLOWED);
    bool ok;
    sqlite3_bind_text(s, 1, origin, -1, SQLITE_STATIC);
    if (site_id) sqlite3_bind_text(s, 2, site_id, -1, SQLITE_STATIC);
    ok = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_reset(s);
    return ok;
}

json_t *sb_store_origins_all(struct sb_store *st)
{
    sqlite3_stmt *s = sstmt(st, SS_ORIGINS_ALL);
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(s, 0)));
    sqlite3_reset(s);
    return arr;
}

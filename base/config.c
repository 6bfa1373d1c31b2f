/*
 * config.c - settings table shared by the JSON file, the environment and
 * the command line, so every key is spelled and checked in one place.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ipaddr.h"
#include "sb_config.h"

/* KEY_OBJECTS: a JSON object whose values are objects, kept as its
 * compact JSON text (for settings whose keys the core does not know). */
enum key_type { KEY_STR, KEY_INT, KEY_SIZE, KEY_U64, KEY_DOUBLE, KEY_OBJECTS };

struct key_def {
    const char *name;
    enum key_type type;
    size_t offset;
    size_t size; /* for strings: capacity */
    double min, max;
};

#define STR(n, f)                                                                                  \
    {                                                                                              \
        n, KEY_STR, offsetof(struct sb_config, f), sizeof(((struct sb_config *)0)->f), 0, 0        \
    }
#define OBJECTS(n, f)                                                                              \
    {                                                                                              \
        n, KEY_OBJECTS, offsetof(struct sb_config, f), sizeof(((struct sb_config *)0)->f), 0, 0    \
    }
#define NUM(n, t, f, lo, hi)                                                                       \
    {                                                                                              \
        n, t, offsetof(struct sb_config, f), 0, lo, hi                                             \
    }

static const struct key_def keys[] = {
    STR("bind", bind),
    NUM("port", KEY_INT, port, 0, 65535),
    STR("data", data_dir),
    STR("plugins", plugins_dir),
    STR("web", web_dir),
    STR("public_url", public_url),
    NUM("max_body", KEY_SIZE, max_body, 1024, 64.0 * 1024 * 1024),
    NUM("max_kb_body", KEY_SIZE, max_kb_body, 1024, 256.0 * 1024 * 1024),
    NUM("max_text", KEY_SIZE, max_text, 16, 1024.0 * 1024),
    NUM("max_attachment", KEY_SIZE, max_attachment, 1024, 1024.0 * 1024 * 1024),
    NUM("lua_memory", KEY_SIZE, lua_memory, 256.0 * 1024, 1024.0 * 1024 * 1024),
    NUM("lua_instructions", KEY_U64, lua_instructions, 1000, 1e12),
    NUM("lua_deadline_ms", KEY_INT, lua_deadline_ms, 1, 60000),
    NUM("plugin_store_quota", KEY_SIZE, plugin_store_quota, 1024, 1024.0 * 1024 * 1024),
    NUM("kb_answer_threshold", KEY_DOUBLE, kb_answer_threshold, 0, 1),
    NUM("kb_clarify_threshold", KEY_DOUBLE, kb_clarify_threshold, 0, 1),
    NUM("kb_learn_half_life_days", KEY_DOUBLE, kb_learn_half_life_days, 0.01, 3650),
    NUM("kb_learn_refresh_s", KEY_INT, kb_learn_refresh_s, 1, 86400),
    NUM("kb_rebuild_in_place_ms", KEY_INT, kb_rebuild_in_place_ms, 0, 600000),
    NUM("sse_keepalive_s", KEY_INT, sse_keepalive_s, 1, 3600),
    NUM("http_timeout_s", KEY_INT, http_timeout_s, 1, 3600),
    NUM("shutdown_grace_s", KEY_INT, shutdown_grace_s, 0, 600),
    STR("synchronous", synchronous),
    STR("default_locale", default_locale),
    STR("locales", locales),
    NUM("session_idle_s", KEY_INT, session_idle_s, 1, 30 * 86400),
    NUM("session_max_s", KEY_INT, session_max_s, 1, 365 * 86400),
    NUM("login_max_failures", KEY_INT, login_max_failures, 1, 1000),
    NUM("login_lockout_s", KEY_INT, login_lockout_s, 1, 86400),
    NUM("login_ip_max_failures", KEY_INT, login_ip_max_failures, 1, 100000),
    NUM("rate_ip_per_s", KEY_DOUBLE, rate_ip_per_s, 0.01, 1e9),
    NUM("rate_ip_burst", KEY_DOUBLE, rate_ip_burst, 1, 1e9),
    NUM("rate_visitor_per_s", KEY_DOUBLE, rate_visitor_per_s, 0.01, 1e9),
    NUM("rate_visitor_burst", KEY_DOUBLE, rate_visitor_burst, 1, 1e9),
    NUM("kdf_log2_n", KEY_INT, kdf_log2_n, 10, 22),
    NUM("trust_proxy", KEY_INT, trust_proxy, 0, 1),
    NUM("reopen_window_s", KEY_INT, reopen_window_s, 0, 365 * 86400),
    NUM("offer_timeout_s", KEY_INT, offer_timeout_s, 1, 86400),
    NUM("outbox_max_attempts", KEY_INT, outbox_max_attempts, 1, 1000),
    NUM("outbox_max_age_s", KEY_INT, outbox_max_age_s, 60, 30 * 86400),
    NUM("auto_accept", KEY_INT, auto_accept, 0, 1),
    NUM("sla_warn_ratio", KEY_DOUBLE, sla_warn_ratio, 0.01, 1),
    STR("channel_weights", channel_weights),
    /* the front door */
    STR("trusted_proxies", trusted_proxies),
    NUM("max_conns_per_ip", KEY_INT, max_conns_per_ip, 1, 1000000),
    NUM("http_header_timeout_s", KEY_INT, http_header_timeout_s, 1, 3600),
    STR("metrics_token", metrics_token),
    STR("metrics_access", metrics_access),
    NUM("hsts_max_age_s", KEY_INT, hsts_max_age_s, 0, 2 * 365 * 86400),
    /* help-center votes per client address (help_center.c) */
    NUM("help_vote_per_hour", KEY_DOUBLE, help_vote_per_hour, 0.01, 1e9),
    NUM("help_vote_burst", KEY_DOUBLE, help_vote_burst, 1, 1e9),
    /* channel plugins' settings, checked by each plugin's schema */
    OBJECTS("channels", channels),
};

void sb_config_defaults(struct sb_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->bind, sizeof(cfg->bind), "127.0.0.1");
    cfg->port = 8080;
    snprintf(cfg->data_dir, sizeof(cfg->data_dir), "data");
    snprintf(cfg->plugins_dir, sizeof(cfg->plugins_dir), "plugins");
    snprintf(cfg->web_dir, sizeof(cfg->web_dir), "web");
    cfg->max_body = 64 * 1024;
    cfg->max_kb_body = 8 * 1024 * 1024;
    cfg->max_text = 8000;
    cfg->max_attachment = 10 * 1024 * 1024;
    cfg->lua_memory = 32 * 1024 * 1024;
    cfg->lua_instructions = 10 * 1000 * 1000;
    cfg->lua_deadline_ms = 200;
    cfg->plugin_store_quota = 1024 * 1024;
    cfg->kb_answer_threshold = 0.5;
    cfg->kb_clarify_threshold = 0.25;
    cfg->kb_learn_half_life_days = 30;
    cfg->kb_learn_refresh_s = 60;
    cfg->kb_rebuild_in_place_ms = 1000;
    cfg->sse_keepalive_s = 15;
    cfg->http_timeout_s = 30;
    cfg->shutdown_grace_s = 10;
    snprintf(cfg->synchronous, sizeof(cfg->synchronous), "NORMAL");
    snprintf(cfg->default_locale, sizeof(cfg->default_locale), "en");
    snprintf(cfg->locales, sizeof(cfg->locales), "en,pt-BR,ro");
    cfg->session_idle_s = 2 * 3600;
    cfg->session_max_s = 12 * 3600;
    cfg->login_max_failures = 5;
    cfg->login_lockout_s = 30;
    cfg->login_ip_max_failures = 20;
    /* An office of customers can share one IP: the per-IP limit is for
     * floods, the per-visitor one for a single runaway client. */
    cfg->rate_ip_per_s = 50;
    cfg->rate_ip_burst = 500;
    cfg->rate_visitor_per_s = 5;
    cfg->rate_visitor_burst = 30;
    cfg->kdf_log2_n = 15;
    cfg->trust_proxy = 0;
    cfg->reopen_window_s = 86400;
    cfg->offer_timeout_s = 30;
    cfg->outbox_max_attempts = 20;
    cfg->outbox_max_age_s = 86400;
    cfg->auto_accept = 0;
    cfg->sla_warn_ratio = 0.8;
    cfg->channel_weights[0] = 0;
    cfg->test_clock = 0;
    /* the front door */
    snprintf(cfg->trusted_proxies, sizeof(cfg->trusted_proxies), "127.0.0.0/8, ::1");
    cfg->max_conns_per_ip = 256;
    cfg->http_header_timeout_s = 10;
    snprintf(cfg->metrics_access, sizeof(cfg->metrics_access), "auto");
    cfg->hsts_max_age_s = 365 * 86400;
    /* A visitor reads a few articles and votes on some; a shared office
     * address gets a handful more. Floods of votes are what this stops. */
    cfg->help_vote_per_hour = 20;
    cfg->help_vote_burst = 10;
}

static const struct key_def *find_key(const char *name)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(keys); i++)
        if (strcmp(keys[i].name, name) == 0) return &keys[i];
    return NULL;
}

static enum sb_err set_number(struct sb_config *cfg, const struct key_def *k, double v,
                              struct sb_errbuf *eb)
{
    char *base = (char *)cfg + k->offset;

    if (!(v >= k->min && v <= k->max))
        return sb_fail(eb, SB_ERR_INVAL, "config %s: %g is outside %g..%g", k->name, v, k->min,
                       k->max);
    if (k->type != KEY_DOUBLE && v != (double)(int64_t)v)
        return sb_fail(eb, SB_ERR_INVAL, "config %s: must be a whole number", k->name);
    switch (k->type) {
    case KEY_INT:
        *(int *)base = (int)v;
        break;
    case KEY_SIZE:
        *(size_t *)base = (size_t)v;
        break;
    case KEY_U64:
        *(uint64_t *)base = (uint64_t)v;
        break;
    case KEY_DOUBLE:
        *(double *)base = v;
        break;
    case KEY_STR:
    case KEY_OBJECTS:
        break;
    }
    return SB_OK;
}

static enum sb_err set_string(struct sb_config *cfg, const struct key_def *k, const char *value,
                              struct sb_errbuf *eb)
{
    size_t n = strlen(value);
    if (n >= k->size) return sb_fail(eb, SB_ERR_INVAL, "config %s: value too long", k->name);
    memcpy((char *)cfg + k->offset, value, n + 1);
    return SB_OK;
}

/* Stores v (borrowed) as the compact JSON text of a KEY_OBJECTS key after
 * checking its shape: an object of objects, so a channel's entry is always
 * a settings object. where: the file or the variable, for the message. */
static enum sb_err set_objects(struct sb_config *cfg, const struct key_def *k, json_t *v,
                               const char *where, struct sb_errbuf *eb)
{
    const char *name;
    json_t *entry;
    char *text;
    size_t n;

    if (!json_is_object(v))
        return sb_fail(eb, SB_ERR_INVAL, "%s: '%s' must be an object of objects", where, k->name);
    json_object_foreach(v, name, entry)
    {
        if (!json_is_object(entry))
            return sb_fail(eb, SB_ERR_INVAL, "%s: '%s'.'%.64s' must be an object", where, k->name,
                           name);
    }
    text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) return SB_ERR_NOMEM;
    n = strlen(text);
    if (n >= k->size) {
        free(text);
        return sb_fail(eb, SB_ERR_INVAL, "%s: '%s' is longer than %zu bytes as JSON", where,
                       k->name, k->size - 1);
    }
    memcpy((char *)cfg + k->offset, text, n + 1);
    free(text);
    return SB_OK;
}

static enum sb_err set_objects_text(struct sb_config *cfg, const struct key_def *k,
                                    const char *value, struct sb_errbuf *eb)
{
    json_error_t jerr;
    json_t *v;
    enum sb_err rc;

    if (!*value) {
        ((char *)cfg + k->offset)[0] = '\0';
        return SB_OK;
    }
    v = json_loads(value, JSON_REJECT_DUPLICATES, &jerr);
    if (!v)
        return sb_fail(eb, SB_ERR_INVAL, "config %s: not JSON (%s at %d)", k->name, jerr.text,
                       jerr.position);
    rc = set_objects(cfg, k, v, "config", eb);
    json_decref(v);
    return rc;
}

enum sb_err sb_config_set(struct sb_config *cfg, const char *key, const char *value,
                          struct sb_errbuf *eb)
{
    const struct key_def *k = find_key(key);
    char *end;
    double v;

    if (!k) return sb_fail(eb, SB_ERR_INVAL, "unknown config key '%s'", key);
    if (k->type == KEY_STR) return set_string(cfg, k, value, eb);
    if (k->type == KEY_OBJECTS) return set_objects_text(cfg, k, value, eb);
    errno = 0;
    v = strtod(value, &end);
    if (errno || end == value || *end)
        return sb_fail(eb, SB_ERR_INVAL, "config %s: '%s' is not a number", key, value);
    return set_number(cfg, k, v, eb);
}

enum sb_err sb_config_load_file(struct sb_config *cfg, const char *path, struct sb_errbuf *eb)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    const char *name;
    json_t *val;
    enum sb_err rc = SB_OK;

    if (!root) return sb_fail(eb, SB_ERR_INVAL, "%s:%d: %s", path, jerr.line, jerr.text);
    if (!json_is_object(root)) {
        rc = sb_fail(eb, SB_ERR_INVAL, "%s: top level must be an object", path);
        goto out;
    }
    json_object_foreach(root, name, val)
    {
        const struct key_def *k = find_key(name);
        if (!k) {
            rc = sb_fail(eb, SB_ERR_INVAL, "%s: unknown key '%s'", path, name);
            goto out;
        }
        if (k->type == KEY_STR) {
            if (!json_is_string(val)) {
                rc = sb_fail(eb, SB_ERR_INVAL, "%s: '%s' must be a string", path, name);
                goto out;
            }
            rc = set_string(cfg, k, json_string_value(val), eb);
        } else if (k->type == KEY_OBJECTS) {
            rc = set_objects(cfg, k, val, path, eb);
        } else {
            if (!json_is_number(val)) {
                rc = sb_fail(eb, SB_ERR_INVAL, "%s: '%s' must be a number", path, name);
                goto out;
            }
            rc = set_number(cfg, k, json_number_value(val), eb);
        }
        if (rc) goto out;
    }
out:
    json_decref(root);
    return rc;
}

enum sb_err sb_config_load_env(struct sb_config *cfg, struct sb_errbuf *eb)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(keys); i++) {
        char envname[64] = "SWITCHBOARD_";
        size_t n = strlen(envname);
        const char *v;
        for (const char *p = keys[i].name; *p && n + 1 < sizeof(envname); p++)
            envname[n++] = (char)toupper((unsigned char)*p);
        envname[n] = '\0';
        v = getenv(envname);
        if (v) {
            enum sb_err rc = sb_config_set(cfg, keys[i].name, v, eb);
            if (rc) return rc;
        }
    }
    return SB_OK;
}

static enum sb_err check_front_door(const struct sb_config *cfg, struct sb_errbuf *eb)
{
    struct ipnet_list proxies;
    struct sb_errbuf why = {{0}};

    if (ipnet_list_parse(cfg->trusted_proxies, &proxies, &why))
        return sb_fail(eb, SB_ERR_INVAL, "config trusted_proxies: %s", why.msg);
    if (strcmp(cfg->metrics_access, "auto") != 0 && strcmp(cfg->metrics_access, "loopback") != 0 &&
        strcmp(cfg->metrics_access, "token") != 0)
        return sb_fail(eb, SB_ERR_INVAL,
                       "config metrics_access: '%s' is not auto, loopback or token",
                       cfg->metrics_access);
    /* A guessable token would make /metrics public again. */
    if (cfg->metrics_token[0] && strlen(cfg->metrics_token) < 16)
        return sb_fail(eb, SB_ERR_INVAL, "config metrics_token: use at least 16 characters");
    if (strcmp(cfg->metrics_access, "token") == 0 && !cfg->metrics_token[0])
        return sb_fail(eb, SB_ERR_INVAL,
                       "config metrics_access is token but metrics_token is empty");
    return SB_OK;
}

enum sb_err sb_config_check(const struct sb_config *cfg, struct sb_errbuf *eb)
{
    /* Between the two thresholds the bot offers choices; a clarify
     * threshold above the answer one would leave no such band and make
     * "answer" depend on which check runs first. */
    if (cfg->kb_clarify_threshold > cfg->kb_answer_threshold)
        return sb_fail(eb, SB_ERR_INVAL,
                       "config kb_clarify_threshold: %g is above kb_answer_threshold %g; it must "
                       "be at most the answer threshold",
                       cfg->kb_clarify_threshold, cfg->kb_answer_threshold);
    return check_front_door(cfg, eb);
}

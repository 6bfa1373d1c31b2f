/*
 * lua_host.c - plugin files, their declarations (intents and channels),
 * hot reload, and calling them for a customer turn.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "lua_channel.h"
#include "lua_host.h"
#include "sb_log.h"
#include "sb_util.h"

#define MAX_PLUGIN_BYTES (1 << 20)
#define MAX_INTENTS 256
#define MAX_CHANNELS 32
#define MAX_HOOKS 32

struct sb_plugin {
    struct sb_plugin *next;
    char name[128]; /* path below the plugins folder, without .lua */
    char path[SB_PATH_MAX];
    lua_State *L;
    struct lua_budget budget;
    int64_t store_bytes; /* its sb.store keys + values; -1 = count again */
};

/* A pattern of an intent and the locale it is for. The patterns are
 * compiled (and cached by source) in the regex cache; a turn only picks
 * one and matches it, so a plain array is all it needs. */
struct intent_pattern {
    char locale[36]; /* "pt-BR", "pt" or "*" */
    char *source;
};

struct intent {
    struct sb_plugin *plugin;
    char name[64];
    int priority;
    uint32_t flags;
    /* `match`: one pattern per locale, language or "*" (owned strings);
     * none declared: the intent is always tried. */
    struct intent_pattern *patterns;
    int npatterns;
    bool has_match;
    /* `payload`: the quick-reply payloads that select it (owned). */
    char **payloads;
    int npayloads;
    bool has_payloads;
    int handler_ref;
};

/* sb.hook{event=, priority=, handler=}: the core asks, the first hook
 * that answers decides. Only "route" exists so far. */
struct hook {
    struct sb_plugin *plugin;
    char event[32];
    int priority;
    int handler_ref;
};

struct sb_host {
    struct sb_host_deps deps;
    struct hook hooks[MAX_HOOKS];
    int nhooks;
    char root[SB_PATH_MAX]; /* plugins folder, for names */
    struct sb_plugin *plugins;
    struct intent intents[MAX_INTENTS];
    int nintents;
    struct channel channels[MAX_CHANNELS];
    int nchannels;
    const struct sb_channel_ops *channel_ops; /* sb.accept, sb.status: the core's side */
    struct sb_host_stats stats;
    struct sb_turn *turn; /* while sb_host_run_intents runs */
};

const struct sb_host_deps *host_deps(struct sb_host *h)
{
    return &h->deps;
}

struct sb_turn *host_turn(struct sb_host *h)
{
    return h->turn;
}

const char *plugin_name(struct sb_plugin *p)
{
    return p->name;
}

lua_State *plugin_state(struct sb_plugin *p)
{
    return p->L;
}

void sb_host_set_channel_ops(struct sb_host *h, const struct sb_channel_ops *ops)
{
    h->channel_ops = ops;
}

const struct sb_channel_ops *host_channel_ops(struct sb_host *h)
{
    return h->channel_ops;
}

const struct channel *host_channel_at(struct sb_host *h, int i)
{
    return i >= 0 && i < h->nchannels ? &h->channels[i] : NULL;
}

struct channel *host_channel_named(struct sb_host *h, const char *name)
{
    for (int i = 0; i < h->nchannels; i++)
        if (strcmp(h->channels[i].name, name) == 0) return &h->channels[i];
    return NULL;
}

struct channel *host_channel_of(struct sb_host *h, struct sb_plugin *p)
{
    for (int i = 0; i < h->nchannels; i++)
        if (h->channels[i].plugin == p) return &h->channels[i];
    return NULL;
}

const struct sb_host_stats *sb_host_stats(const struct sb_host *h)
{
    return &h->stats;
}

int sb_host_intent_count(const struct sb_host *h)
{
    return h->nintents;
}

enum sb_err sb_host_new(const struct sb_host_deps *deps, struct sb_host **out)
{
    struct sb_host *h = calloc(1, sizeof(*h));
    if (!h) return SB_ERR_NOMEM;
    h->deps = *deps;
    *out = h;
    return SB_OK;
}

static void intent_free_matchers(struct intent *in)
{
    for (int i = 0; i < in->npatterns; i++)
        free(in->patterns[i].source);
    for (int i = 0; i < in->npayloads; i++)
        free(in->payloads[i]);
    free(in->patterns);
    free(in->payloads);
    in->patterns = NULL;
    in->payloads = NULL;
    in->npatterns = in->npayloads = 0;
}

/* Drops the declarations of plugin p (its Lua state still open). */
static void forget_plugin(struct sb_host *h, struct sb_plugin *p)
{
    int j = 0;
    for (int i = 0; i < h->nintents; i++) {
        if (h->intents[i].plugin == p) {
            intent_free_matchers(&h->intents[i]);
            luaL_unref(p->L, LUA_REGISTRYINDEX, h->intents[i].handler_ref);
        } else {
            h->intents[j++] = h->intents[i];
        }
    }
    h->nintents = j;
    j = 0;
    for (int i = 0; i < h->nchannels; i++) {
        if (h->channels[i].plugin != p)
            h->channels[j++] = h->channels[i];
        else
            channel_forget(&h->channels[i]);
    }
    h->nchannels = j;
    j = 0;
    for (int i = 0; i < h->nhooks; i++) {
        if (h->hooks[i].plugin == p)
            luaL_unref(p->L, LUA_REGISTRYINDEX, h->hooks[i].handler_ref);
        else
            h->hooks[j++] = h->hooks[i];
    }
    h->nhooks = j;
}

static void plugin_free(struct sb_host *h, struct sb_plugin *p)
{
    if (!p) return;
    forget_plugin(h, p);
    if (p->L) lua_close(p->L);
    free(p);
}

void sb_host_free(struct sb_host *h)
{
    struct sb_plugin *p, *next;
    if (!h) return;
    for (p = h->plugins; p; p = next) {
        next = p->next;
        plugin_free(h, p);
    }
    free(h);
}

/* ---------- declarations ---------- */

static int by_priority(const void *a, const void *b)
{
    const struct intent *x = a, *y = b;
    if (x->priority != y->priority) return y->priority - x->priority;
    return strcmp(x->name, y->name);
}

static const char *opt_string(lua_State *L, int idx, const char *key, const char *def)
{
    const char *v;
    lua_getfield(L, idx, key);
    v = lua_isstring(L, -1) ? lua_tostring(L, -1) : def;
    lua_pop(L, 1); /* the string stays alive: it is referenced by the spec table */
    return v;
}

/* Appends a pattern for locale to in; SB_ERR_NOMEM, or SB_ERR_INVAL when
 * the locale key is too long to be one. */
static enum sb_err add_pattern(struct intent *in, const char *locale, const char *source,
                               struct sb_errbuf *eb)
{
    struct intent_pattern *grown;
    if (strlen(locale) >= sizeof(in->patterns[0].locale))
        return sb_fail(eb, SB_ERR_INVAL, "match: %.40s is not a locale", locale);
    grown = realloc(in->patterns, (size_t)(in->npatterns + 1) * sizeof(*grown));
    if (!grown) return SB_ERR_NOMEM;
    in->patterns = grown;
    snprintf(grown[in->npatterns].locale, sizeof(grown[0].locale), "%s", locale);
    grown[in->npatterns].source = strdup(source);
    if (!grown[in->npatterns].source) return SB_ERR_NOMEM;
    in->npatterns++;
    return SB_OK;
}

/* Reads `match` (a pattern, or a table locale -> pattern) and compiles each
 * pattern now, so a broken pattern fails the load, not a customer turn. */
static enum sb_err read_patterns(struct sb_host *h, lua_State *L, int spec, struct intent *in,
                                 struct sb_errbuf *eb)
{
    enum sb_err rc = SB_OK;
    lua_getfield(L, spec, "match");
    if (lua_isnil(L, -1)) {
        in->has_match = false;
    } else if (lua_isstring(L, -1)) {
        in->has_match = true;
        rc = add_pattern(in, "*", lua_tostring(L, -1), eb);
    } else if (lua_istable(L, -1)) {
        in->has_match = true;
        lua_pushnil(L);
        while (!rc && lua_next(L, -2)) {
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING) {
                lua_pop(L, 2);
                rc = sb_fail(eb, SB_ERR_INVAL, "match must map locales to pattern strings");
                break;
            }
            rc = add_pattern(in, lua_tostring(L, -2), lua_tostring(L, -1), eb);
            lua_pop(L, rc ? 2 : 1);
        }
    } else {
        rc = sb_fail(eb, SB_ERR_INVAL, "match must be a pattern or a table of patterns");
    }
    lua_pop(L, 1);
    for (int i = 0; !rc && i < in->npatterns; i++) {
        pcre2_code *code;
        const char *pat = in->patterns[i].source;
        if (sb_re_get(h->deps.re, pat, strlen(pat), in->flags, &code, eb)) rc = SB_ERR_INVAL;
    }
    return rc;
}

/* Reads `payload` (a string, or a list of strings). */
static enum sb_err read_payloads(lua_State *L, int spec, struct intent *in)
{
    enum sb_err rc = SB_OK;
    lua_getfield(L, spec, "payload");
    if (lua_isstring(L, -1) || lua_istable(L, -1)) in->has_payloads = true;
    if (lua_isstring(L, -1)) {
        in->payloads = malloc(sizeof(char *));
        if (in->payloads) in->payloads[0] = strdup(lua_tostring(L, -1));
        if (!in->payloads || !in->payloads[0])
            rc = SB_ERR_NOMEM;
        else
            in->npayloads = 1;
    } else if (lua_istable(L, -1)) {
        for (lua_Integer i = 1; !rc && lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
            char **grown = realloc(in->payloads, (size_t)(in->npayloads + 1) * sizeof(char *));
            if (grown) in->payloads = grown;
            if (!grown || !(grown[in->npayloads] = strdup(lua_tostring(L, -1))))
                rc = SB_ERR_NOMEM;
            else
                in->npayloads++;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return rc;
}

enum sb_err host_add_intent(struct sb_host *h, struct sb_plugin *p, lua_State *L, int spec,
                            struct sb_errbuf *eb)
{
    struct intent in = {0};
    const char *name = opt_string(L, spec, "name", NULL);
    enum sb_err rc;

    if (!name || !*name || strlen(name) >= sizeof(in.name))
        return sb_fail(eb, SB_ERR_INVAL, "name must be a non-empty string of < 64 bytes");
    if (h->nintents >= MAX_INTENTS) return sb_fail(eb, SB_ERR_LIMIT, "too many intents");
    snprintf(in.name, sizeof(in.name), "%s", name);
    in.plugin = p;
    lua_getfield(L, spec, "priority");
    in.priority = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
    lua_pop(L, 1);
    rc = sb_re_flags(opt_string(L, spec, "flags", "i"), &in.flags, eb);
    if (rc) return rc;
    rc = read_patterns(h, L, spec, &in, eb);
    if (!rc) rc = read_payloads(L, spec, &in);
    if (rc) {
        intent_free_matchers(&in);
        return rc;
    }
    lua_getfield(L, spec, "handler");
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        intent_free_matchers(&in);
        return sb_fail(eb, SB_ERR_INVAL, "handler must be a function");
    }
    in.handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    h->intents[h->nintents++] = in;
    qsort(h->intents, (size_t)h->nintents, sizeof(h->intents[0]), by_priority);
    return SB_OK;
}

static int hook_by_priority(const void *a, const void *b)
{
    const struct hook *x = a, *y = b;
    return (x->priority < y->priority) - (x->priority > y->priority);
}

enum sb_err host_add_hook(struct sb_host *h, struct sb_plugin *p, lua_State *L, int spec,
                          struct sb_errbuf *eb)
{
    static const char *const events[] = {"route", NULL};
    struct hook hk = {.plugin = p};
    const char *event = opt_string(L, spec, "event", NULL);
    int known = 0;
    for (int i = 0; event && events[i]; i++)
        known |= strcmp(event, events[i]) == 0;
    if (!known) return sb_fail(eb, SB_ERR_INVAL, "event must be one of: route");
    if (h->nhooks >= MAX_HOOKS) return sb_fail(eb, SB_ERR_LIMIT, "too many hooks");
    snprintf(hk.event, sizeof(hk.event), "%s", event);
    lua_getfield(L, spec, "priority");
    hk.priority = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
    lua_pop(L, 1);
    lua_getfield(L, spec, "handler");
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return sb_fail(eb, SB_ERR_INVAL, "handler must be a function");
    }
    hk.handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    h->hooks[h->nhooks++] = hk;
    /* stable enough: equal priorities keep no promised order */
    qsort(h->hooks, (size_t)h->nhooks, sizeof(h->hooks[0]), hook_by_priority);
    return SB_OK;
}

enum sb_err host_add_channel(struct sb_host *h, struct sb_plugin *p, lua_State *L, int spec,
                             struct sb_errbuf *eb)
{
    struct channel ch = {0};
    const char *name = opt_string(L, spec, "name", NULL);
    enum sb_err rc;

    if (!name || !*name || strlen(name) >= sizeof(ch.name))
        return sb_fail(eb, SB_ERR_INVAL, "name must be a non-empty string of < 32 bytes");
    for (int i = 0; i < h->nchannels; i++)
        if (strcmp(h->channels[i].name, name) == 0 && h->channels[i].plugin != p &&
            strcmp(h->channels[i].plugin->path, p->path) != 0)
            return sb_fail(eb, SB_ERR_EXISTS, "channel '%s' is already provided by %s", name,
                           h->channels[i].plugin->name);
    if (h->nchannels >= MAX_CHANNELS) return sb_fail(eb, SB_ERR_LIMIT, "too many channels");
    snprintf(ch.name, sizeof(ch.name), "%s", name);
    rc = channel_read(h, p, L, spec, &ch, eb);
    if (rc) return rc;
    h->channels[h->nchannels++] = ch;
    return SB_OK;
}

/* ---------- a plugin call's store writes ---------- */

/* Every plugin call (and a plugin's body while it loads) runs inside a
 * store savepoint, so the sb.store writes of a call that fails, by error
 * or budget, are undone with it. The savepoint is opened at the call's
 * first write (host_store_write), not here: most calls only read. */
static enum sb_err store_call_begin(struct sb_host *h, struct sb_errbuf *eb)
{
    if (!h->deps.store || sb_store_plugin_call_begin(h->deps.store) == SB_OK) return SB_OK;
    return sb_fail(eb, SB_ERR_DB, "cannot open a store savepoint for the plugin call");
}

enum sb_err host_store_write(struct sb_host *h, struct sb_errbuf *eb)
{
    if (!h->deps.store || sb_store_plugin_write(h->deps.store) == SB_OK) return SB_OK;
    return sb_fail(eb, SB_ERR_DB, "cannot open a store savepoint for the plugin call");
}

static void store_call_end(struct sb_host *h, struct sb_plugin *p, enum sb_err rc)
{
    if (h->deps.store) sb_store_plugin_call_end(h->deps.store, rc == SB_OK);
    if (rc) p->store_bytes = -1; /* its writes were undone */
}

/* sandbox_call for plugin p inside a store savepoint; like sandbox_call,
 * leaves nothing on the stack on error. */
static enum sb_err call_plugin(struct sb_host *h, struct sb_plugin *p, int nargs, int nresults,
                               struct sb_errbuf *eb)
{
    enum sb_err rc = store_call_begin(h, eb);
    if (rc) {
        lua_pop(p->L, nargs + 1);
        return rc;
    }
    rc = sandbox_call(p->L, nargs, nresults, eb);
    store_call_end(h, p, rc);
    return rc;
}

enum sb_err host_store_set(struct sb_host *h, struct sb_plugin *p, const char *key,
                           const char *value, size_t len, struct sb_errbuf *eb)
{
    struct sb_store *st = h->deps.store;
    uint64_t quota = h->deps.cfg->plugin_store_quota, old = 0, now;
    enum sb_err rc;

    if (!st) return sb_fail(eb, SB_ERR_INVAL, "no store");
    rc = host_store_write(h, eb);
    if (rc) return rc;
    if (p->store_bytes < 0) {
        uint64_t all;
        rc = sb_store_kv_usage(st, p->name, NULL, &all);
        if (rc) return sb_fail(eb, rc, "%s", sb_strerror(rc));
        p->store_bytes = (int64_t)all;
    }
    rc = sb_store_kv_usage(st, p->name, key, &old);
    if (rc) return sb_fail(eb, rc, "%s", sb_strerror(rc));
    now = value ? strlen(key) + len : 0;
    /* Shrinking or deleting is always allowed, even over a lowered quota. */
    if (now > old && (uint64_t)p->store_bytes - old + now > quota)
        return sb_fail(eb, SB_ERR_LIMIT,
                       "plugin storage quota exceeded: %llu of %llu bytes in use, this would "
                       "make it %llu (plugin_store_quota)",
                       (unsigned long long)p->store_bytes, (unsigned long long)quota,
                       (unsigned long long)((uint64_t)p->store_bytes - old + now));
    rc = sb_store_kv_set(st, p->name, key, value, len);
    if (rc) return sb_fail(eb, rc, "%s", sb_strerror(rc));
    p->store_bytes = (int64_t)((uint64_t)p->store_bytes - old + now);
    return SB_OK;
}

/* ---------- loading ---------- */

static void name_from_path(const struct sb_host *h, const char *path, char *name, size_t cap)
{
    size_t rl = strlen(h->root);
    const char *rel = path;
    size_t n;

    if (rl && strncmp(path, h->root, rl) == 0 && path[rl] == '/') rel = path + rl + 1;
    snprintf(name, cap, "%s", rel);
    n = strlen(name);
    if (n > 4 && strcmp(name + n - 4, ".lua") == 0) name[n - 4] = '\0';
}

enum sb_err sb_host_load_file(struct sb_host *h, const char *path, struct sb_errbuf *eb)
{
    struct sb_plugin *p = calloc(1, sizeof(*p)), *old = NULL, **link;
    char *src = NULL;
    size_t len = 0;
    char chunkname[SB_PATH_MAX + 1];
    enum sb_err rc;

    if (!p) return SB_ERR_NOMEM;
    snprintf(p->path, sizeof(p->path), "%s", path);
    name_from_path(h, path, p->name, sizeof(p->name));
    p->budget.mem_limit = h->deps.cfg->lua_memory;
    p->budget.instr_limit = h->deps.cfg->lua_instructions;
    p->budget.deadline_ms = h->deps.cfg->lua_deadline_ms;
    p->store_bytes = -1;

    rc = sb_read_file(path, MAX_PLUGIN_BYTES, &src, &len, eb);
    if (rc) goto fail;
    p->L = sandbox_new(&p->budget);
    if (!p->L) {
        rc = sb_fail(eb, SB_ERR_NOMEM, "%s: cannot create a Lua state", path);
        goto fail;
    }
    lua_api_install(p->L, h, p);
    sandbox_lock_globals(p->L);
    snprintf(chunkname, sizeof(chunkname), "@%s", path);
    rc = store_call_begin(h, eb);
    if (rc) goto fail;
    rc = sandbox_run(p->L, src, len, chunkname, eb);
    store_call_end(h, p, rc);
    if (rc) goto fail;
    free(src);

    /* Loaded: the new version replaces the old one, if any. */
    for (link = &h->plugins; *link; link = &(*link)->next) {
        if (strcmp((*link)->path, path) == 0) {
            old = *link;
            *link = old->next;
            break;
        }
    }
    plugin_free(h, old);
    p->next = h->plugins;
    h->plugins = p;
    sb_info("plugin %s loaded%s", p->name, old ? " (reloaded)" : "");
    return SB_OK;
fail:
    h->stats.load_failures++;
    free(src);
    plugin_free(h, p);
    return rc;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void load_tree(struct sb_host *h, const char *dir, int depth, int *loaded)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, name_cmp);

    if (n < 0) {
        sb_warn("plugins: %s: %s", dir, strerror(errno));
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char path[SB_PATH_MAX];
        struct stat st;
        size_t len = strlen(name);

        if (name[0] == '.') continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) continue;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            /* lib/ holds shared code, not plugins; tests/ holds fixtures. */
            if (depth < 4 && strcmp(name, "lib") != 0 && strcmp(name, "tests") != 0)
                load_tree(h, path, depth + 1, loaded);
        } else if (len > 4 && strcmp(name + len - 4, ".lua") == 0) {
            struct sb_errbuf eb = {{0}};
            if (sb_host_load_file(h, path, &eb) == SB_OK)
                (*loaded)++;
            else
                sb_error("plugin %s not loaded: %s", path, eb.msg);
        }
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

enum sb_err sb_host_load_dir(struct sb_host *h, const char *dir, int *loaded)
{
    size_t n;
    *loaded = 0;
    snprintf(h->root, sizeof(h->root), "%s", dir);
    n = strlen(h->root);
    while (n > 1 && h->root[n - 1] == '/')
        h->root[--n] = '\0';
    load_tree(h, h->root, 0, loaded);
    return SB_OK;
}

void sb_host_reload_all(struct sb_host *h)
{
    char paths[64][SB_PATH_MAX];
    int n = 0;
    for (struct sb_plugin *p = h->plugins; p && n < 64; p = p->next)
        snprintf(paths[n++], SB_PATH_MAX, "%s", p->path);
    for (int i = 0; i < n; i++) {
        struct sb_errbuf eb = {{0}};
        if (sb_host_load_file(h, paths[i], &eb))
            sb_error("plugin %s kept the old version: %s", paths[i], eb.msg);
    }
}

/* ---------- calling intents ---------- */

void sb_turn_init(struct sb_turn *t)
{
    memset(t, 0, sizeof(*t));
    t->replies = json_array();
}

void sb_turn_cleanup(struct sb_turn *t)
{
    json_decref(t->replies);
    t->replies = NULL;
}

static const char *pattern_of(const struct intent *in, const char *locale)
{
    for (int i = 0; i < in->npatterns; i++)
        if (strcmp(in->patterns[i].locale, locale) == 0) return in->patterns[i].source;
    return NULL;
}

/* The intent's pattern for locale: its own, its language's, or "*". */
static const char *pattern_for(const struct intent *in, const char *locale)
{
    char lang[16];
    size_t n = strcspn(locale, "-_");
    const char *pat = pattern_of(in, locale);

    if (pat) return pat;
    if (n < sizeof(lang)) {
        memcpy(lang, locale, n);
        lang[n] = '\0';
        pat = pattern_of(in, lang);
        if (pat) return pat;
    }
    return pattern_of(in, "*");
}

static bool payload_matches(const struct intent *in, const char *payload)
{
    if (!payload) return false;
    for (int i = 0; i < in->npayloads; i++)
        if (strcmp(in->payloads[i], payload) == 0) return true;
    return false;
}

/* Pre-filter: NULL result = skip; otherwise captures (possibly empty). */
static json_t *prefilter(struct sb_host *h, const struct intent *in, const struct sb_turn *t)
{
    struct sb_re_match m;
    struct sb_errbuf eb = {{0}};
    const char *pat;
    json_t *caps;
    enum sb_err rc;

    if (payload_matches(in, t->payload)) return json_array();
    if (!in->has_match) return in->has_payloads ? NULL : json_array();
    pat = pattern_for(in, t->locale);
    if (!pat) return NULL;
    rc = sb_re_search(h->deps.re, pat, in->flags, t->text, strlen(t->text), &m, &eb);
    if (rc == SB_ERR_LIMIT) sb_warn("intent %s: pattern hit its match limit", in->name);
    if (rc || m.ncap == 0) return NULL;
    caps = json_array();
    for (int i = 0; i < m.ncap; i++)
        json_array_append_new(caps, m.start[i] == SIZE_MAX ? json_null()
                                                           : json_stringn(t->text + m.start[i],
                                                                          m.end[i] - m.start[i]));
    return caps;
}

static void count_failure(struct sb_host *h, enum sb_err rc)
{
    h->stats.errors++;
    if (rc == SB_ERR_TIMEOUT) h->stats.timeouts++;
    if (rc == SB_ERR_NOMEM) h->stats.memory_errors++;
}

static enum sb_err run_intents(struct sb_host *h, struct sb_turn *t);

enum sb_err sb_host_run_intents(struct sb_host *h, struct sb_turn *t)
{
    enum sb_err rc;
    h->turn = t;
    rc = run_intents(h, t);
    h->turn = NULL;
    return rc;
}

static enum sb_err run_intents(struct sb_host *h, struct sb_turn *t)
{
    for (int i = 0; i < h->nintents; i++) {
        struct intent *in = &h->intents[i];
        lua_State *L = in->plugin->L;
        struct sb_errbuf eb = {{0}};
        size_t nreplies = json_array_size(t->replies);
        json_t *caps = prefilter(h, in, t), *attrs_before;
        enum sb_err rc;
        int ctx_idx;

        if (!caps) continue;
        /* A plugin that fails halfway must leave no half-made answer. */
        attrs_before = json_deep_copy(t->conv->attrs);
        lua_rawgeti(L, LUA_REGISTRYINDEX, in->handler_ref);
        lua_api_push_ctx(L, h, t, in->name, caps);
        json_decref(caps);
        lua_pushvalue(L, -1);
        lua_insert(L, -3); /* keep a copy of ctx below the call to close it */
        ctx_idx = lua_gettop(L) - 2;
        h->stats.calls++;
        rc = call_plugin(h, in->plugin, 1, 0, &eb);
        lua_api_ctx_close(L, ctx_idx);
        lua_settop(L, ctx_idx - 1);
        if (rc) {
            count_failure(h, rc);
            sb_warn("intent %s (%s) failed, skipped: %s", in->name, in->plugin->name, eb.msg);
            while (json_array_size(t->replies) > nreplies)
                json_array_remove(t->replies, json_array_size(t->replies) - 1);
            json_decref(t->conv->attrs);
            t->conv->attrs = attrs_before;
            t->handoff = false;
            t->answered_by[0] = '\0';
            continue;
        }
        json_decref(attrs_before);
        if (json_array_size(t->replies) > nreplies || t->handoff) return SB_OK;
    }
    return SB_OK;
}

/* ---------- hooks ---------- */

bool sb_host_has_hook(const struct sb_host *h, const char *event)
{
    for (int i = 0; h && i < h->nhooks; i++)
        if (strcmp(h->hooks[i].event, event) == 0) return true;
    return false;
}

json_t *sb_host_run_hook(struct sb_host *h, const char *event, json_t *arg)
{
    for (int i = 0; i < h->nhooks; i++) {
        struct hook *hk = &h->hooks[i];
        lua_State *L = hk->plugin->L;
        struct sb_errbuf eb = {{0}};
        json_t *out = NULL;
        enum sb_err rc;
        if (strcmp(hk->event, event) != 0) continue;
        lua_rawgeti(L, LUA_REGISTRYINDEX, hk->handler_ref);
        lua_api_push_json(L, arg, 0);
        h->stats.calls++;
        rc = call_plugin(h, hk->plugin, 1, 1, &eb);
        if (rc) {
            count_failure(h, rc);
            sb_warn("%s hook (%s) failed, skipped: %s", event, hk->plugin->name, eb.msg);
            continue;
        }
        if (lua_istable(L, -1)) {
            out = lua_api_to_json(L, -1, 0, &eb);
            if (!json_is_object(out)) {
                json_decref(out);
                out = NULL;
                h->stats.errors++;
                sb_warn("%s hook (%s) returned no object, skipped", event, hk->plugin->name);
            }
        } else if (!lua_isnil(L, -1)) {
            h->stats.errors++;
            sb_warn("%s hook (%s) returned a %s, not a table or nil; skipped", event,
                    hk->plugin->name, luaL_typename(L, -1));
        }
        lua_pop(L, 1);
        if (out) return out;
    }
    return NULL;
}

/* ---------- channels ---------- */

enum sb_err sb_host_channel_inbound(struct sb_host *h, const char *channel, json_t *request,
                                    json_t **out, struct sb_errbuf *eb)
{
    struct channel *ch = host_channel_named(h, channel);
    lua_State *L;
    enum sb_err rc;

    if (!ch || ch->inbound_ref == LUA_NOREF)
        return sb_fail(eb, SB_ERR_NOT_FOUND, "no plugin provides channel '%s'", channel);
    L = ch->plugin->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ch->inbound_ref);
    lua_api_push_json(L, request, 0);
    h->stats.calls++;
    rc = call_plugin(h, ch->plugin, 1, 2, eb);
    if (rc) {
        count_failure(h, rc);
        sb_warn("channel %s inbound failed: %s", channel, eb->msg);
        return SB_ERR_LUA;
    }
    if (!lua_istable(L, -2)) {
        const char *why = lua_tostring(L, -1);
        rc = sb_fail(eb, SB_ERR_INVAL, "%s", why ? why : "request rejected by the channel");
    } else {
        *out = lua_api_to_json(L, -2, 0, eb);
        if (!*out || !json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            rc = sb_fail(eb, SB_ERR_LUA, "channel %s returned an invalid message", channel);
        }
    }
    lua_pop(L, 2);
    return rc;
}

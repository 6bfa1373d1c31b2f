/*
 * handoff.c - the live-agent state machine: queueing a handed-off
 * conversation in a team, routing offers, SLA due times, the durable
 * timers, reopening and ratings (docs/agents.md). The agent API
 * (api_agent.c) calls the transitions in handoff_ops.c.
 *
 * Uses the routing core (routing.c), business hours (hours.c, tz.c) and
 * SLA arithmetic (sla.c); the store is the truth, the router a mirror of
 * it loaded at start. A unit of work changes its own copy of the router,
 * which becomes the router when the unit commits (an effect of the
 * store's unit of work, store/unit.c): a rollback has nothing to undo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_feed.h"
#include "handoff_int.h"
#include "lua_host.h"
#include "sb_log.h"
#include "words.h"

/* ------------------------------------------------------------------ */
/* small helpers                                                        */

/* Borrowed strings of a JSON array of strings, at most max. */
static int str_list(json_t *arr, const char **out, int max)
{
    size_t i;
    json_t *v;
    int n = 0;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && n < max) out[n++] = json_string_value(v);
    }
    return n;
}

double ho_weight(struct handoff_state *ho, const char *channel)
{
    const char *w = ho->cfg->channel_weights;
    size_t n = strlen(channel);
    while (*w) {
        if (strncmp(w, channel, n) == 0 && w[n] == '=')
            return strtod(w + n + 1, NULL) > 0 ? strtod(w + n + 1, NULL) : 1.0;
        w = strchr(w, ',');
        if (!w) break;
        w++;
    }
    return strcmp(channel, "email") == 0 ? 0.5 : 1.0;
}

/* ------------------------------------------------------------------ */
/* the router and the unit of work                                      */

static void router_adopt(void *arg, int64_t unused)
{
    struct handoff_state *h = arg;
    (void)unused;
    sb_router_free(h->router);
    h->router = h->staged;
    h->staged = NULL;
}

/* After the adoption, or instead of it (rollback). */
static void router_stage_end(void *arg)
{
    struct handoff_state *h = arg;
    sb_router_free(h->staged);
    h->staged = NULL;
}

enum sb_err ho_router(struct handoff_state *ho, struct sb_router **out)
{
    enum sb_err rc;
    if (!sb_store_in_unit(ho->store)) {
        *out = ho->router;
        return SB_OK;
    }
    if (!ho->staged) {
        ho->staged = sb_router_clone(ho->router);
        if (!ho->staged) return SB_ERR_NOMEM;
        rc = sb_store_effect(ho->store, SB_EFFECT_UNIT_COMMIT, router_adopt, ho, 0,
                             router_stage_end);
        if (rc) return rc; /* the copy is gone with the effect */
    }
    *out = ho->staged;
    return SB_OK;
}

const struct sb_router *ho_router_view(struct handoff_state *ho)
{
    return ho->staged ? ho->staged : ho->router;
}

/* ------------------------------------------------------------------ */
/* teams                                                                */

static void teams_free(struct handoff_state *h)
{
    for (int i = 0; i < h->nteams; i++) {
        sb_hours_free(h->teams[i].hours);
        json_decref(h->teams[i].outside);
    }
    free(h->teams);
    h->teams = NULL;
    h->nteams = 0;
}

struct teams_load {
    struct handoff_state *h;
    int cap;
    enum sb_err rc;
};

static void team_loaded(void *arg, const struct sb_team_row *row)
{
    struct teams_load *l = arg;
    struct handoff_state *h = l->h;
    struct ho_team *t;
    struct sb_errbuf eb = {{0}};
    const struct sb_tz *tz = NULL;
    json_t *hours, *hol;
    if (l->rc) return;
    if (h->nteams == l->cap) {
        int cap = l->cap ? l->cap * 2 : 8;
        struct ho_team *nt = realloc(h->teams, (size_t)cap * sizeof(*nt));
        if (!nt) {
            l->rc = SB_ERR_NOMEM;
            return;
        }
        h->teams = nt;
        l->cap = cap;
    }
    hours = json_loads(row->hours, 0, NULL);
    hol = json_loads(row->holidays, 0, NULL);
    t = &h->teams[h->nteams++];
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%s", row->id);
    snprintf(t->tz, sizeof(t->tz), "%s", row->timezone);
    t->allow_pick = row->allow_pick;
    t->require_language = row->require_language;
    t->outside = json_loads(row->outside, 0, NULL);
    if (h->tzdb && sb_tz_get(h->tzdb, t->tz, &tz, &eb)) tz = NULL;
    if (hours && !json_is_null(hours) && sb_hours_new(hours, hol, tz, &t->hours, &eb) != SB_OK) {
        sb_warn("team %s: hours ignored (%s): always open", t->id, eb.msg);
        t->hours = NULL;
    }
    t->open = t->hours ? sb_hours_is_open(t->hours, sb_now_ms()) : true;
    sb_router_team_open(h->router, t->id, t->open);
    json_decref(hours);
    json_decref(hol);
}

static enum sb_err teams_load(struct handoff_state *ho)
{
    struct teams_load l = {.h = ho};
    enum sb_err rc;
    teams_free(ho);
    rc = sb_store_teams_each(ho->store, team_loaded, &l);
    return l.rc ? l.rc : rc;
}

struct ho_team *ho_team(struct handoff_state *ho, const char *id)
{
    for (int i = 0; i < ho->nteams; i++)
        if (strcmp(ho->teams[i].id, id) == 0) return &ho->teams[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* agents                                                               */

enum sb_err ho_agent_load(struct handoff_state *ho, int64_t user_id)
{
    const char *skills[64], *teams[64];
    struct sb_agent_routing a;
    struct sb_router *r;
    enum sb_err rc = ho_router(ho, &r);
    if (!rc) rc = sb_store_agent_routing(ho->store, user_id, &a);
    if (rc) return rc;
    if (a.found)
        rc = sb_router_agent_set(r, user_id, a.online, a.capacity, skills,
                                 str_list(a.skills, skills, 64), teams,
                                 str_list(a.teams, teams, 64), a.last_assigned_at);
    else /* no profile: an agent nobody routes to */
        rc = sb_router_agent_set(r, user_id, false, 0, NULL, 0, NULL, 0, 0);
    json_decref(a.skills);
    json_decref(a.teams);
    return rc;
}

/* ------------------------------------------------------------------ */
/* the router mirror                                                    */

enum sb_err ho_enqueue_row(struct handoff_state *ho, int64_t conv)
{
    const char *skills[64];
    struct sb_queue_row q;
    struct sb_router *r;
    enum sb_err rc = ho_router(ho, &r);
    if (!rc) rc = sb_store_queue_row(ho->store, conv, &q);
    if (rc) return rc;
    rc = sb_router_enqueue(r, conv, *q.team ? q.team : "default", q.priority, q.first_response_due,
                           q.queued_at, ho_weight(ho, q.channel), skills,
                           str_list(q.skills, skills, 64));
    json_decref(q.skills);
    return rc;
}

static void agent_loaded(void *arg, int64_t user)
{
    struct handoff_state *h = arg;
    if (!h->load_rc) h->load_rc = ho_agent_load(h, user);
}

static void skip_loaded(void *h, int64_t conv, int64_t user)
{
    sb_router_skip(((struct handoff_state *)h)->router, conv, user);
}

static enum sb_err handed_off_loaded(void *arg, const struct sb_handed_off *c)
{
    struct handoff_state *ho = arg;
    struct sb_router *r = ho->router;
    double w = ho_weight(ho, c->channel);
    enum sb_err rc = SB_OK;
    if (c->queued) {
        rc = ho_enqueue_row(ho, c->id);
        /* an outstanding offer counts against the agent like a hold
         * until it is accepted, declined or expires */
        if (!rc && c->offered_to) sb_router_hold(r, c->offered_to, c->id, w);
    } else if (c->assignee) {
        ho_agent_load(ho, c->assignee); /* an unknown agent gets a closed profile */
        sb_router_hold(r, c->assignee, c->id, w);
    }
    return rc;
}

/* Outside a unit: builds the router in place. */
static enum sb_err load_router(struct handoff_state *ho)
{
    enum sb_err rc;

    sb_router_free(ho->router);
    ho->router = sb_router_new();
    if (!ho->router) return SB_ERR_NOMEM;
    rc = teams_load(ho);
    if (rc) return rc;
    ho->load_rc = SB_OK;
    rc = sb_store_agent_ids_each(ho->store, agent_loaded, ho);
    if (!rc) rc = ho->load_rc;
    if (!rc) rc = sb_store_offer_skips_each(ho->store, skip_loaded, ho);
    if (!rc) rc = sb_store_handed_off_each(ho->store, handed_off_loaded, ho);
    return rc;
}

/* A failed flush undid units whose router copies were adopted: the
 * router goes back to what is durable. */
static void batch_lost(void *ho)
{
    handoff_rebuild(ho);
}

enum sb_err handoff_start(const struct handoff_deps *deps, struct handoff_state **out,
                          struct sb_errbuf *eb)
{
    struct handoff_state *ho = calloc(1, sizeof(*ho));
    enum sb_err rc;
    *out = ho;
    if (!ho || !(ho->feed = agent_feed_new()))
        return sb_fail(eb, SB_ERR_NOMEM, "handoff: out of memory");
    ho->store = deps->store;
    ho->kb = deps->kb;
    ho->host = deps->host;
    ho->cfg = deps->cfg;
    ho->words = deps->words;
    ho->send = (struct sb_sender){.store = deps->store, .messages_out = deps->messages_out};
    ho->sla_warnings = deps->sla_warnings;
    ho->sla_breaches = deps->sla_breaches;
    if (sb_tzdb_new("/usr/share/zoneinfo", &ho->tzdb))
        sb_warn("handoff: no time zone database in /usr/share/zoneinfo: teams' hours are UTC");
    rc = load_router(ho);
    if (rc) return sb_fail(eb, rc, "handoff: loading the routing state: %s", sb_strerror(rc));
    sb_store_on_batch_lost(ho->store, batch_lost, ho);
    return SB_OK;
}

void handoff_stop(struct handoff_state *ho)
{
    if (!ho) return;
    if (ho->store) sb_store_on_batch_lost(ho->store, NULL, NULL);
    agent_feed_free(ho->feed);
    teams_free(ho);
    sb_router_free(ho->router);
    sb_router_free(ho->staged);
    sb_tzdb_free(ho->tzdb);
    free(ho);
}

void handoff_rebuild(struct handoff_state *ho)
{
    if (!ho) return;
    if (load_router(ho)) sb_error("handoff: rebuilding the routing state failed");
}

/* ------------------------------------------------------------------ */
/* events and system messages                                           */

enum sb_err ho_event(struct handoff_state *ho, struct sb_conv *conv, const char *type,
                     json_t *payload)
{
    /* The store's event hook queues the wake-ups of whoever follows conv
     * (its streams, the agents' feed) as after-commit effects. */
    enum sb_err rc = sb_store_event_add(ho->store, conv, type, payload);
    json_decref(payload);
    return rc;
}

enum sb_err ho_system_message(struct handoff_state *ho, struct sb_conv *conv, const char *text,
                              const json_t *quick_replies, struct sb_replies *replies)
{
    struct sb_outgoing m = {.author = "system", .text = text, .quick_replies = quick_replies};
    return sb_conv_send(&ho->send, conv, &m, replies, NULL);
}

/* ------------------------------------------------------------------ */
/* SLA due times                                                        */

static enum sb_err sla_targets(struct handoff_state *ho, const char *channel, int priority,
                               struct sb_sla_targets *out)
{
    struct sb_sla_policy_row rows[64];
    struct sb_sla_policy pol[64];
    int n = 0;
    enum sb_err rc = sb_store_sla_policies(ho->store, rows, 64, &n);
    if (rc) return rc;
    for (int i = 0; i < n; i++) {
        pol[i].channel = rows[i].channel;
        pol[i].priority = rows[i].priority;
        for (int k = 0; k < SB_SLA_KINDS; k++)
            pol[i].minutes[k] = rows[i].minutes[k] > 0 ? rows[i].minutes[k] : SB_SLA_NONE;
    }
    return sb_sla_targets_for(pol, n, channel, priority, out);
}

/* Sets due and warning times of kind on conv from start (business time of
 * team). */
enum sb_err ho_sla_start(struct handoff_state *ho, int64_t conv, const char *team,
                         const char *channel, int priority, enum sb_sla_kind kind, int64_t start)
{
    struct sb_sla_targets t;
    struct ho_team *tm = ho_team(ho, team);
    int64_t warn = 0, due = 0;
    enum sb_err rc = sla_targets(ho, channel, priority, &t);
    if (rc) return rc;
    if (t.ms[kind] < 0) return SB_OK;
    rc = sb_sla_deadline(tm ? tm->hours : NULL, start, t.ms[kind], ho->cfg->sla_warn_ratio, &warn,
                         &due);
    if (rc) return rc;
    return sb_store_sla_set(ho->store, conv, (int)kind, due, warn);
}

/* ------------------------------------------------------------------ */
/* queueing                                                             */

/* Prefix match: rule value "billing" matches "billing" and "billing-x". */
static bool prefix(const char *rule, const char *value)
{
    return value && strncmp(value, rule, strlen(rule)) == 0;
}

static bool rule_matches(json_t *match, struct sb_conv *conv, const char *topic, json_t *cattrs)
{
    json_t *v;
    const char *k;
    v = json_object_get(match, "channel");
    if (json_is_string(v) && strcmp(json_string_value(v), conv->channel) != 0) return false;
    v = json_object_get(match, "locale");
    if (json_is_string(v) && !prefix(json_string_value(v), conv->locale)) return false;
    v = json_object_get(match, "topic");
    if (json_is_string(v) && !prefix(json_string_value(v), topic)) return false;
    json_object_foreach(json_object_get(match, "attrs"), k, v)
    {
        if (!json_equal(v, json_object_get(cattrs, k)) &&
            !json_equal(v, json_object_get(conv->attrs, k)))
            return false;
    }
    return true;
}

/* A plugin's say on the rules' choice (sb.hook{event = "route"}): it gets
 * the conversation and the choice, and may return {team=, priority=,
 * skills=}, each optional. A value that is not valid is logged and the
 * rules' choice kept for it. */
static void route_hook(struct handoff_state *ho, struct sb_conv *conv, const char *topic,
                       json_t *cattrs, char team[64], int *priority, json_t **skills)
{
    json_t *arg, *out, *v;
    if (!sb_host_has_hook(ho->host, "route")) return;
    arg = json_pack("{s:s, s:s, s:s, s:s?, s:O, s:o, s:s, s:i, s:O}", "conversation",
                    conv->public_id, "channel", conv->channel, "locale", conv->locale, "topic",
                    *topic ? topic : NULL, "attrs", conv->attrs ? conv->attrs : json_null(),
                    "contact", cattrs ? json_deep_copy(cattrs) : json_object(), "team", team,
                    "priority", *priority, "skills", *skills);
    if (!arg) return;
    out = sb_host_run_hook(ho->host, "route", arg);
    json_decref(arg);
    if (!out) return;
    v = json_object_get(out, "team");
    if (json_is_string(v) && ho_team(ho, json_string_value(v)))
        snprintf(team, 64, "%s", json_string_value(v));
    else if (v)
        sb_warn("route hook: team %s is not a team; kept %s",
                json_is_string(v) ? json_string_value(v) : "(not a string)", team);
    v = json_object_get(out, "priority");
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 2)
        *priority = (int)json_integer_value(v);
    else if (v)
        sb_warn("route hook: priority must be 0, 1 or 2; kept %d", *priority);
    v = json_object_get(out, "skills");
    if (v) {
        bool ok = json_is_array(v) && json_array_size(v) <= 32;
        size_t i;
        json_t *sk;
        json_array_foreach(v, i, sk) ok = ok && json_is_string(sk) && json_string_length(sk) < 64;
        if (ok) {
            json_decref(*skills);
            *skills = json_incref(v);
        } else {
            sb_warn("route hook: skills must be a list of at most 32 short strings; kept");
        }
    }
    json_decref(out);
}

/* The team, priority and skills for conv from the routing rules, then the
 * route hook of the plugins. */
/* The topic rules and the route hook match on: the plugin's hand-off hint,
 * else the slug of the article the bot last found for this conversation
 * (its last search), else "". */
static void topic_of(struct handoff_state *ho, const struct sb_conv *conv, const char *hint,
                     char *out, size_t cap)
{
    if (hint && *hint)
        snprintf(out, cap, "%s", hint);
    else
        sb_store_last_topic(ho->store, conv->id, out, cap);
}

/* The first routing rule that matches: its team, priority and skills. */
struct rule_pick {
    struct sb_conv *conv;
    const char *topic;
    json_t *cattrs;
    char *team;
    int *priority;
    json_t **skills;
};

static bool rule_picked(void *arg, const struct sb_rule_row *rule)
{
    struct rule_pick *p = arg;
    json_t *m = json_loads(rule->match, 0, NULL);
    bool ok = json_is_object(m) && rule_matches(m, p->conv, p->topic, p->cattrs);
    json_decref(m);
    if (!ok) return false;
    snprintf(p->team, 64, "%s", rule->team);
    *p->priority = rule->priority;
    json_decref(*p->skills);
    *p->skills = json_loads(rule->skills, 0, NULL);
    if (!json_is_array(*p->skills)) {
        json_decref(*p->skills);
        *p->skills = json_array();
    }
    return true;
}

static enum sb_err pick_team(struct handoff_state *ho, struct sb_conv *conv, const char *hint,
                             char team[64], int *priority, json_t **skills)
{
    char topic[128];
    json_t *cattrs = sb_store_contact_attrs(ho->store, conv->contact_id);
    struct rule_pick p = {conv, topic, cattrs, team, priority, skills};
    enum sb_err rc;
    snprintf(team, 64, "default");
    *priority = 0;
    *skills = json_array();
    /* a plugin's team hint naming a team routes there */
    if (hint && *hint && ho_team(ho, hint)) snprintf(team, 64, "%s", hint);
    topic_of(ho, conv, hint, topic, sizeof(topic));
    rc = sb_store_rules_each(ho->store, rule_picked, &p);
    if (rc) {
        json_decref(cattrs);
        return rc;
    }
    if (!ho_team(ho, team)) snprintf(team, 64, "default");
    route_hook(ho, conv, topic, cattrs, team, priority, skills);
    json_decref(cattrs);
    {
        struct ho_team *t = ho_team(ho, team);
        if (t && t->require_language) {
            char lang[48];
            snprintf(lang, sizeof(lang), "lang:%s", conv->locale);
            json_array_append_new(*skills, json_string(lang));
        }
    }
    return SB_OK;
}

int ho_position(struct handoff_state *ho, int64_t conv)
{
    return sb_store_queue_position(ho->store, conv);
}

/* The customer of a closed team hears when it opens. */
static enum sb_err closed_notice(struct handoff_state *ho, struct sb_conv *conv, struct ho_team *t,
                                 struct sb_replies *replies)
{
    int64_t at;
    struct sb_tm tm;
    const struct sb_tz *tz = NULL;
    struct sb_errbuf eb = {{0}};
    char when[16], day[16], text[1024];
    const char *extra;
    enum sb_err rc;

    if (!t->hours || sb_hours_next_open(t->hours, sb_now_ms(), &at)) return SB_OK;
    if (ho->tzdb) sb_tz_get(ho->tzdb, t->tz, &tz, &eb);
    if (tz) {
        sb_tz_local(tz, at, &tm);
    } else {
        memset(&tm, 0, sizeof(tm));
        tm.hour = (int)((at / 3600000) % 24);
        tm.min = (int)((at / 60000) % 60);
        tm.wday = sb_weekday(at / 86400000);
    }
    snprintf(when, sizeof(when), "%02d:%02d", tm.hour, tm.min);
    snprintf(day, sizeof(day), "conv.day.%d", tm.wday % 7);
    sb_words_format(ho->words, conv->locale, "conv.back",
                    (const char *[]){"day", "time", "timezone"},
                    (const char *[]){sb_words_text(ho->words, conv->locale, day), when, t->tz}, 3,
                    text, sizeof(text));
    extra = sb_locale_pick_text(t->outside, conv->locale, NULL);
    if (extra) {
        size_t n = strlen(text);
        snprintf(text + n, sizeof(text) - n, " %s", extra);
    }
    rc = ho_system_message(ho, conv, text, NULL, replies);
    return rc;
}

/* Queues conv (already status queued) in team with its values and tells
 * the customer its place. */
enum sb_err ho_queue_in(struct handoff_state *ho, struct sb_conv *conv, const char *team,
                        struct sb_replies *replies)
{
    struct ho_team *t = ho_team(ho, team);
    struct sb_handoff_row row;
    enum sb_err rc = ho_enqueue_row(ho, conv->id);
    if (!rc) rc = sb_store_handoff_row(ho->store, conv->id, &row);
    if (rc) return rc;
    rc = ho_event(ho, conv, "conversation/queued",
                  json_pack("{s:s, s:i, s:i}", "team", team, "priority", row.priority, "position",
                            ho_position(ho, conv->id)));
    if (!rc && t && !t->open) rc = closed_notice(ho, conv, t, replies);
    return rc;
}

enum sb_err handoff_queue(struct handoff_state *ho, struct sb_conv *conv, const char *hint,
                          struct sb_replies *replies)
{
    char team[64];
    int priority;
    json_t *skills = NULL;
    char *sk_text = NULL;
    int64_t now = sb_now_ms();
    enum sb_err rc;
    ho->current = conv;
    rc = pick_team(ho, conv, hint, team, &priority, &skills);
    if (rc) goto out;
    sk_text = json_dumps(skills, JSON_COMPACT);
    rc = sk_text ? sb_store_queue_set(ho->store, conv->id, team, priority, sk_text, now)
                 : SB_ERR_NOMEM;
    if (!rc)
        rc = ho_sla_start(ho, conv->id, team, conv->channel, priority, SB_SLA_FIRST_RESPONSE, now);
    if (!rc) rc = ho_sla_start(ho, conv->id, team, conv->channel, priority, SB_SLA_RESOLUTION, now);
    if (!rc) rc = ho_queue_in(ho, conv, team, replies);
    if (!rc) rc = handoff_route(ho);
out:
    ho->current = NULL;
    free(sk_text);
    json_decref(skills);
    return rc;
}

/* ------------------------------------------------------------------ */
/* routing                                                              */

enum sb_err ho_user_name(struct handoff_state *ho, int64_t user, char *out, size_t cap)
{
    sb_store_user_name(ho->store, user, out, cap);
    return SB_OK;
}

void ho_sync_current(struct handoff_state *ho, const struct sb_conv *conv)
{
    struct sb_conv *cur = ho->current;
    if (!cur || cur == conv || cur->id != conv->id) return;
    if (conv->last_seq > cur->last_seq) cur->last_seq = conv->last_seq;
    /* e.g. assigned at once (auto_accept): the caller answers with it */
    snprintf(cur->status, sizeof(cur->status), "%s", conv->status);
}

/* Writes one decision of the router: an offer, or with auto_accept an
 * assignment. */
enum sb_err ho_offer(struct handoff_state *ho, int64_t conv_id, int64_t agent, bool direct)
{
    struct sb_conv conv;
    char name[256];
    int64_t now = sb_now_ms(), expires = now + (int64_t)ho->cfg->offer_timeout_s * 1000;
    enum sb_err rc = sb_store_conv_get_by_id(ho->store, conv_id, &conv);
    if (rc) return rc;
    ho_user_name(ho, agent, name, sizeof(name));
    if (ho->cfg->auto_accept && !direct) {
        rc = ho_assign(ho, &conv, agent);
        ho_sync_current(ho, &conv);
        sb_conv_cleanup(&conv);
        return rc;
    }
    rc = sb_store_offer_set(ho->store, conv_id, agent, expires, now);
    if (!rc)
        rc = ho_event(ho, &conv, "conversation/offered",
                      json_pack("{s:{s:I, s:s}, s:I}", "agent", "id", (json_int_t)agent, "name",
                                name, "expires_at", (json_int_t)expires));
    ho_sync_current(ho, &conv);
    sb_conv_cleanup(&conv);
    return rc;
}

enum sb_err handoff_route(struct handoff_state *ho)
{
    struct sb_offer offers[64];
    struct sb_router *r;
    enum sb_err rc = SB_OK;
    int n;
    do {
        rc = ho_router(ho, &r);
        if (rc) return rc;
        n = sb_router_route(r, sb_now_ms(), offers, (int)SB_ARRAY_LEN(offers));
        for (int i = 0; i < n && !rc; i++)
            rc = ho_offer(ho, offers[i].conv, offers[i].agent, false);
    } while (!rc && n == (int)SB_ARRAY_LEN(offers));
    return rc;
}

enum sb_err handoff_agent_changed(struct handoff_state *ho, int64_t user_id)
{
    enum sb_err rc = ho_agent_load(ho, user_id);
    if (!rc) rc = ho_withdraw_lost_offers(ho, user_id);
    if (!rc) rc = handoff_route(ho);
    return rc;
}

/* An agent who is no longer online loses the offers made to them: back
 * to the queue, not skipped (the router did the same already). */
struct withdraw {
    struct handoff_state *ho;
    int64_t agent;
};

static void offer_withdrawn(void *arg, int64_t conv)
{
    struct withdraw *w = arg;
    struct sb_router *r;
    sb_store_offer_clear(w->ho->store, conv, true);
    /* the router may still count it as a hold (rebuilt offers) */
    if (ho_router(w->ho, &r) == SB_OK) sb_router_release(r, w->agent, conv);
    ho_enqueue_row(w->ho, conv);
}

enum sb_err ho_withdraw_lost_offers(struct handoff_state *ho, int64_t user_id)
{
    struct withdraw w = {ho, user_id};
    char status[16];
    double capacity;
    enum sb_err rc = sb_store_agent_avail(ho->store, user_id, status, &capacity);
    if (rc && rc != SB_ERR_NOT_FOUND) return rc;
    if (!rc && strcmp(status, "online") == 0) return SB_OK;
    sb_store_offers_to_each(ho->store, user_id, offer_withdrawn, &w);
    return SB_OK;
}

/* ------------------------------------------------------------------ */
/* customer messages                                                    */

/* "/rate 4", "/rate:4" or, answering the rating question, "4". */
static int rating_of(const char *text, const char *payload)
{
    const char *t = payload && strncmp(payload, "/rate", 5) == 0 ? payload : text;
    if (t && strncmp(t, "/rate", 5) == 0) {
        t += 5;
        if (*t == ':' || *t == ' ') t++;
        if (*t >= '1' && *t <= '5' && (t[1] == 0 || t[1] == ' ' || t[1] == '\n')) return *t - '0';
    }
    return 0;
}

static enum sb_err inbound(struct handoff_state *ho, struct sb_conv *conv, const char *text,
                           const char *payload, struct sb_replies *replies, bool *bot)
{
    struct sb_inbound_row row = {.team = "default"};
    int64_t now = sb_now_ms(), resolved_at, last, next_due;
    const char *team = row.team;
    int priority;
    enum sb_err rc;

    *bot = strcmp(conv->status, SB_STATUS_BOT) == 0;
    rc = sb_store_inbound_row(ho->store, conv->id, &row);
    if (rc && rc != SB_ERR_NOT_FOUND) return rc;
    rc = SB_OK;
    resolved_at = row.resolved_at;
    last = row.last_assignee;
    priority = row.priority;
    next_due = row.next_response_due;

    if (strcmp(conv->status, SB_STATUS_RESOLVED) == 0) {
        int rating = rating_of(text, payload);
        bool within = resolved_at && now - resolved_at <= (int64_t)ho->cfg->reopen_window_s * 1000;
        if (rating && within) {
            /* a rating never reopens */
            rc = sb_store_csat_set(ho->store, conv->id, rating);
            if (!rc) rc = ho_event(ho, conv, "csat", json_pack("{s:i}", "rating", rating));
            if (!rc)
                rc = ho_system_message(
                    ho, conv, sb_words_text(ho->words, conv->locale, "conv.rated"), NULL, replies);
            *bot = false;
            return rc;
        }
        if (!within) {
            *bot = true; /* later: the pipeline gives it back to the bot */
            return SB_OK;
        }
        /* within the window: back to a person, the last one first */
        rc = sb_store_conv_set_status(ho->store, conv->id, SB_STATUS_QUEUED);
        if (rc) return rc;
        snprintf(conv->status, sizeof(conv->status), "%s", SB_STATUS_QUEUED);
        rc = sb_store_reopened(ho->store, conv->id);
        if (!rc)
            rc = ho_event(ho, conv, "conversation/reopened",
                          json_pack("{s:s}", "status", SB_STATUS_QUEUED));
        if (!rc)
            rc = ho_sla_start(ho, conv->id, team, conv->channel, priority, SB_SLA_FIRST_RESPONSE,
                              now);
        if (!rc)
            rc = ho_sla_start(ho, conv->id, team, conv->channel, priority, SB_SLA_RESOLUTION, now);
        if (!rc) rc = ho_enqueue_row(ho, conv->id);
        if (!rc && last && ho_agent_has_room(ho, last, conv->channel)) {
            struct sb_router *r;
            rc = ho_router(ho, &r);
            if (!rc) sb_router_hold(r, last, conv->id, ho_weight(ho, conv->channel));
            if (!rc) rc = ho_offer(ho, conv->id, last, true);
        } else if (!rc) {
            rc = ho_event(ho, conv, "conversation/queued",
                          json_pack("{s:s, s:i, s:i}", "team", team, "priority", priority,
                                    "position", ho_position(ho, conv->id)));
        }
        if (!rc) rc = handoff_route(ho);
        *bot = false;
        return rc;
    }
    if (strcmp(conv->status, SB_STATUS_ASSIGNED) == 0 && !next_due)
        rc = ho_sla_start(ho, conv->id, team, conv->channel, priority, SB_SLA_NEXT_RESPONSE, now);
    return rc;
}

enum sb_err handoff_inbound(struct handoff_state *ho, struct sb_conv *conv, const char *text,
                            const char *payload, struct sb_replies *replies, bool *bot)
{
    enum sb_err rc;
    ho->current = conv;
    rc = inbound(ho, conv, text, payload, replies, bot);
    ho->current = NULL;
    return rc;
}

/* Online, with room for one more conversation of channel. */
bool ho_agent_has_room(struct handoff_state *ho, int64_t agent, const char *channel)
{
    char status[16];
    double capacity;
    int64_t load, cap, w;
    if (sb_store_agent_avail(ho->store, agent, status, &capacity) || strcmp(status, "online"))
        return false;
    load = sb_router_agent_load(ho_router_view(ho), agent);
    cap = (int64_t)(capacity * 1000 + 0.5);
    w = (int64_t)(ho_weight(ho, channel) * 1000 + 0.5);
    return load >= 0 && load + w <= cap;
}

/* An admin or the CLI changed teams, agents, rules or SLA policies (and
 * committed): the router follows the store, and routes (agent_admin.h). */
void sb_agents_config_changed(struct handoff_state *ho, const char *what)
{
    if (!ho) return;
    sb_info("handoff: %s changed; routing state reloaded", what ? what : "configuration");
    handoff_rebuild(ho);
    if (sb_store_begin(ho->store)) {
        sb_error("handoff: routing after the change waits for the next event (store busy)");
        return;
    }
    if (handoff_route(ho) || sb_store_commit(ho->store)) sb_store_rollback(ho->store);
}

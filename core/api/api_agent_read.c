/*
 * api_agent_read.c - what the console reads besides the conversation
 * itself (docs/agents.md, "Agent API"): the customer card across every
 * channel, canned responses and their rendering for a conversation, the
 * answer engine's search for "insert article link", and the supervisor
 * overview. Uses store_agent_admin.c for the SQL and canned.c for the
 * variables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_access.h"
#include "agent_admin.h"
#include "api.h"
#include "http.h"
#include "server.h"
#include "store_agent_admin.h"
#include "words.h"
#include "sb_kb.h"

static const char *arg(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* Supervisors and admins see every team's responses; everyone else (and
 * an API token, which is nobody) the global ones and their teams'. */
static int64_t team_filter_user(const struct http_req *r)
{
    if (r->who.roles & (SB_ROLE_ADMIN | SB_ROLE_SUPERVISOR)) return 0;
    return r->who.kind == PRINCIPAL_SESSION ? r->who.user.id : -1;
}

/* GET /api/v1/agent/contacts/{id}: id is the contact's public id, or the
 * id of one of its conversations (what the console has at hand). */
static enum MHD_Result api_agent_contact(struct sb_server *srv, struct MHD_Connection *c,
                                         struct http_req *r, const char *params[2])
{
    struct agent_viewer v = agent_viewer_of(r);
    json_t *card;

    if (strlen(params[0]) > 64 || agent_store_contact(srv->store, params[0], &v, &card))
        return http_error(srv, c, 404, "not_found", "no such contact");
    return http_json(srv, c, 200, json_pack("{s:o}", "contact", card));
}

/* GET /api/v1/agent/canned?locale=&q= */
static enum MHD_Result api_agent_canned(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    const char *locale = arg(c, "locale"), *q = arg(c, "q");
    char norm[36];
    (void)params;

    if (locale && *locale && !sb_locale_normalise(locale, norm, sizeof(norm)))
        return http_error(srv, c, 400, "invalid_field",
                          "locale: must look like \"en\" or \"pt-BR\"");
    if (q && strlen(q) > 200)
        return http_error(srv, c, 400, "invalid_field", "q: at most 200 bytes");
    return http_json(srv, c, 200,
                     json_pack("{s:o}", "canned",
                               agent_store_canned_list(srv->store, locale && *locale ? norm : NULL,
                                                       q, team_filter_user(r))));
}

/* POST /api/v1/agent/canned/render {"canned_id", "conversation_id"} ->
 * {"text", "missing"} */
static enum MHD_Result api_agent_canned_render(struct sb_server *srv, struct MHD_Connection *c,
                                               struct http_req *r, const char *params[2])
{
    json_t *body, *canned = NULL, *missing = NULL, *card = NULL;
    const char *conv_id;
    struct sb_conv conv = {0};
    struct canned_vars vars = {0};
    struct agent_viewer v = agent_viewer_of(r);
    struct sb_buf out;
    enum MHD_Result ret;
    json_int_t canned_id;
    (void)params;

    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    canned_id = json_integer_value(json_object_get(body, "canned_id"));
    conv_id = json_string_value(json_object_get(body, "conversation_id"));
    if (!json_is_integer(json_object_get(body, "canned_id")) || canned_id <= 0) {
        ret = http_error(srv, c, 400, "invalid_field", "canned_id: must be a canned response id");
        goto out;
    }
    if (!conv_id || strlen(conv_id) > 64) {
        ret =
            http_error(srv, c, 400, "invalid_field", "conversation_id: must be a conversation id");
        goto out;
    }
    if (agent_store_canned_get(srv->store, canned_id, &canned)) {
        ret = http_error(srv, c, 404, "not_found", "no such canned response");
        goto out;
    }
    if (!agent_store_canned_allowed(srv->store, canned, team_filter_user(r))) {
        ret = http_error(srv, c, 403, "forbidden", "this canned response is for another team");
        goto out;
    }
    if (sb_store_conv_get(srv->store, conv_id, &conv) ||
        !agent_sees_conv(srv->store, &v, conv.id)) {
        ret = http_error(srv, c, 404, "not_found", "no such conversation");
        goto out;
    }
    if (agent_store_contact(srv->store, conv.public_id, &v, &card) == SB_OK)
        vars.customer_name = json_string_value(json_object_get(card, "name"));
    vars.agent_name = r->who.kind == PRINCIPAL_SESSION ? r->who.user.name : NULL;
    vars.conversation_id = conv.public_id;
    vars.customer_fallback = sb_words_text(srv->words, conv.locale, "conv.customer");
    missing = json_array();
    sb_buf_init(&out, CANNED_RENDER_MAX);
    if (canned_render(json_string_value(json_object_get(canned, "text")), &vars, &out, missing)) {
        sb_buf_cleanup(&out);
        ret = http_error(srv, c, 400, "too_large", "the rendered text is over %d bytes",
                         CANNED_RENDER_MAX);
        goto out;
    }
    ret = http_json(srv, c, 200,
                    json_pack("{s:s, s:O, s:I, s:s}", "text", out.data ? out.data : "", "missing",
                              missing, "canned_id", canned_id, "conversation_id", conv.public_id));
    sb_buf_cleanup(&out);
out:
    sb_conv_cleanup(&conv);
    json_decref(card);
    json_decref(missing);
    json_decref(canned);
    json_decref(body);
    return ret;
}

/* GET /api/v1/agent/kb/search?q=&locale=&limit= : the answer engine's hits
 * with the help-center link the bot would give (lua_api.c, sb.kb.search). */
static enum MHD_Result api_agent_kb_search(struct sb_server *srv, struct MHD_Connection *c,
                                           struct http_req *r, const char *params[2])
{
    const char *q = arg(c, "q"), *locale = arg(c, "locale"), *lim = arg(c, "limit");
    char norm[36], resolved[36];
    struct sb_kb_result res;
    int64_t limit = 5;
    json_t *hits;
    (void)r;
    (void)params;

    if (!q || strspn(q, " \t\r\n") == strlen(q) || strlen(q) > srv->cfg.max_text)
        return http_error(srv, c, 400, "invalid_field", "q: a search text of 1 to %zu bytes",
                          srv->cfg.max_text);
    if (locale && *locale && !sb_locale_normalise(locale, norm, sizeof(norm)))
        return http_error(srv, c, 400, "invalid_field",
                          "locale: must look like \"en\" or \"pt-BR\"");
    if (lim && (!sb_parse_id(lim, &limit) || limit > SB_KB_MAX_HITS))
        return http_error(srv, c, 400, "invalid_field", "limit: 1 to %d", SB_KB_MAX_HITS);
    sb_kb_resolve_locale(srv->kb, locale && *locale ? norm : sb_kb_default_locale(srv->kb),
                         resolved, sizeof(resolved));
    if (sb_kb_search(srv->kb, q, resolved, (int)limit, &res))
        return http_error(srv, c, 503, "unavailable", "the search failed; retry");
    hits = json_array();
    for (int i = 0; i < res.n; i++) {
        const struct sb_kb_hit *h = &res.hit[i];
        char url[1024];
        snprintf(url, sizeof(url), "%s/help/%s/%s", srv->public_url, h->locale, h->slug);
        json_array_append_new(
            hits, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:f}", "id", (json_int_t)h->id, "title",
                            h->title, "slug", h->slug, "locale", h->locale, "url", url, "summary",
                            h->summary ? h->summary : "", "confidence", h->confidence));
    }
    sb_kb_result_cleanup(&res);
    return http_json(srv, c, 200, json_pack("{s:s, s:o}", "locale", resolved, "hits", hits));
}

/* The channel weights of docs/agents.md, as routing counts them
 * (handoff.c): the config's "channel=weight,..." (a weight that is not
 * above 0 counts 1), else email 0.5 and the rest 1. */
static double channel_weight(const char *channel, void *arg)
{
    const char *p = arg;
    size_t n = strlen(channel);

    while (p && *p) {
        if (strncmp(p, channel, n) == 0 && p[n] == '=') {
            double v = strtod(p + n + 1, NULL);
            return v > 0 ? v : 1.0;
        }
        p = strchr(p, ',');
        if (p) p++;
    }
    return strcmp(channel, "email") == 0 ? 0.5 : 1.0;
}

/* GET /api/v1/supervisor/overview */
static enum MHD_Result api_supervisor_overview(struct sb_server *srv, struct MHD_Connection *c,
                                               struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return http_json(
        srv, c, 200,
        agent_store_overview(srv->store, sb_now_ms(), channel_weight, srv->cfg.channel_weights));
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_agent_read_routes[] = {
    /* the console's customer card, canned responses and article search */
    {"GET", "/api/v1/agent/contacts/{}", api_agent_contact, ROUTE_AGENT, false},
    {"GET", "/api/v1/agent/canned", api_agent_canned, ROUTE_AGENT, false},
    {"POST", "/api/v1/agent/canned/render", api_agent_canned_render, ROUTE_AGENT, false},
    {"GET", "/api/v1/agent/kb/search", api_agent_kb_search, ROUTE_AGENT, false},
    /* supervisors */
    {"GET", "/api/v1/supervisor/overview", api_supervisor_overview, ROUTE_SUPERVISOR, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};

/*
 * api_staff.c - what agents and editors reach today: the conversation list
 * and transcripts for agents, the article list and article saves for
 * editors. The console (live agents) and the KB editor build on these.
 */
#include <stdio.h>
#include <string.h>

#include "sb_log.h"
#include "server.h"

enum MHD_Result api_agent_conversations(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    const char *status = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    (void)r;
    (void)params;
    if (status && strcmp(status, SB_STATUS_BOT) && strcmp(status, SB_STATUS_QUEUED) &&
        strcmp(status, SB_STATUS_ASSIGNED) && strcmp(status, SB_STATUS_RESOLVED))
        return http_error(srv, c, 400, "invalid_field",
                          "status must be bot, queued, assigned or resolved");
    return http_json(
        srv, c, 200,
        json_pack("{s:o}", "conversations", sb_store_conv_list(srv->store, status, 500)));
}

enum MHD_Result api_agent_conversation(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    struct sb_conv conv;
    enum MHD_Result ret;
    (void)r;
    if (strlen(params[0]) > 64 || sb_store_conv_get(srv->store, params[0], &conv))
        return http_error(srv, c, 404, "not_found", "no such conversation");
    ret = http_json(srv, c, 200,
                    json_pack("{s:s, s:s, s:s, s:o}", "id", conv.public_id, "status", conv.status,
                              "locale", conv.locale, "messages",
                              sb_store_transcript(srv->store, conv.id, 0)));
    sb_conv_cleanup(&conv);
    return ret;
}

enum MHD_Result api_kb_articles(struct sb_server *srv, struct MHD_Connection *c, struct http_req *r,
                                const char *params[2])
{
    const char *locale = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "locale");
    const char *status = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    (void)r;
    (void)params;
    return http_json(srv, c, 200,
                     json_pack("{s:o}", "articles", sb_kb_list(srv->kb, locale, status)));
}

static bool valid_slug(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 120) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return false;
    return true;
}

enum MHD_Result api_kb_article_put(struct sb_server *srv, struct MHD_Connection *c,
                                   struct http_req *r, const char *params[2])
{
    static const char *const change_names[] = {"unchanged", "added", "changed"};
    struct sb_kb_article a = {0};
    struct sb_errbuf eb = {{0}};
    enum sb_kb_change change;
    enum MHD_Result ret;
    enum sb_err rc;
    json_t *body, *tags, *examples;
    char target[200];

    if (!valid_slug(params[1]) || strlen(params[0]) < 2 || strlen(params[0]) > 35)
        return http_error(srv, c, 400, "invalid_field",
                          "slugs are lowercase letters, digits and '-'; locales look like pt-BR");
    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    a.locale = params[0];
    a.slug = params[1];
    a.title = json_string_value(json_object_get(body, "title"));
    a.summary = json_string_value(json_object_get(body, "summary"));
    a.body = json_string_value(json_object_get(body, "body"));
    a.category = json_string_value(json_object_get(body, "category"));
    a.status = json_string_value(json_object_get(body, "status"));
    tags = json_object_get(body, "tags");
    examples = json_object_get(body, "examples");
    a.tags = json_is_array(tags) ? tags : NULL;
    a.examples = json_is_array(examples) ? examples : NULL;
    if (!a.title || !*a.title ||
        (a.status && strcmp(a.status, "draft") && strcmp(a.status, "published") &&
         strcmp(a.status, "archived"))) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field",
                          "title is required; status is draft, published or archived");
    }
    snprintf(target, sizeof(target), "%s/%s", a.locale, a.slug);
    sb_store_begin(srv->store);
    rc = sb_kb_upsert(srv->kb, &a, &change, &eb);
    if (!rc && change != SB_KB_UNCHANGED)
        rc = sb_audit(srv->store, r->who.actor, "kb.article.save", target, r->ip,
                      change_names[change]);
    if (!rc) rc = sb_store_commit(srv->store);
    json_decref(body);
    if (rc) {
        sb_store_rollback(srv->store);
        return http_error(srv, c, 503, "not_stored", "the article was not stored; retry");
    }
    return http_json(srv, c, 200, json_pack("{s:s}", "change", change_names[change]));
}

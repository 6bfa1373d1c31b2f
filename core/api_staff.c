/*
 * api_staff.c - what agents reach today: the conversation list and
 * transcripts. The agent console builds on these; the editors' API is in
 * api_kb.c.
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
    struct sb_conv_web w;
    struct sb_conv conv;
    enum MHD_Result ret;
    (void)r;
    if (strlen(params[0]) > 64 || sb_store_conv_get(srv->store, params[0], &conv))
        return http_error(srv, c, 404, "not_found", "no such conversation");
    if (sb_store_conv_web(srv->store, conv.id, &w)) memset(&w, 0, sizeof(w));
    /* The widget's site and page, and whether the identity was verified,
     * tell the agent where the customer is (docs/widget.md). */
    ret = http_json(srv, c, 200,
                    json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:o}", "id", conv.public_id, "status",
                              conv.status, "locale", conv.locale, "site",
                              w.site_id[0] ? json_string(w.site_id) : json_null(), "page_url",
                              w.page_url[0] ? json_string(w.page_url) : json_null(), "verified",
                              w.verified, "messages", sb_store_transcript(srv->store, conv.id, 0)));
    sb_conv_cleanup(&conv);
    return ret;
}

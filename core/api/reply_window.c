/*
 * reply_window.c - a channel's reply window and message templates for the
 * agent API (reply_window.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lua_host.h"
#include "reply_window.h"
#include "server.h"
#include "store_agent.h"
#include "sb_util.h"

#define TEMPLATE_PARAMS_MAX 20
#define TEMPLATE_PARAM_MAX 1024 /* bytes of one parameter */
#define TEMPLATE_TEXT_MAX 4096

void reply_window_of(struct sb_server *srv, const struct sb_conv *conv, int64_t now,
                     struct reply_window *w)
{
    int window_s = sb_host_channel_window_s(srv->host, conv->channel);
    int64_t last_in;

    memset(w, 0, sizeof(*w));
    if (window_s <= 0) return;
    w->has = true;
    last_in = sb_store_last_inbound_at(srv->store, conv->id);
    if (!last_in) return; /* never wrote: only a template starts the conversation */
    w->closes_at = last_in + (int64_t)window_s * 1000;
    w->open = now < w->closes_at;
}

json_t *reply_window_json(const struct reply_window *w)
{
    if (!w->has) return NULL;
    return json_pack("{s:b, s:I}", "open", w->open, "closes_at", (json_int_t)w->closes_at);
}

/* n when p starts with "{{n}}" (digits only, as Meta writes them), else 0;
 * *end is past the "}}". */
static long placeholder(const char *p, const char **end)
{
    char *e;
    long n;
    if (strncmp(p, "{{", 2) != 0 || !isdigit((unsigned char)p[2])) return 0;
    n = strtol(p + 2, &e, 10);
    if (strncmp(e, "}}", 2) != 0 || n < 1 || n > TEMPLATE_PARAMS_MAX) return 0;
    *end = e + 2;
    return n;
}

/* The highest {{n}} in text: how many parameters the template takes. Meta
 * numbers them from 1 without gaps. */
static int params_of(const char *text)
{
    long most = 0, n;
    const char *end;
    for (const char *p = strstr(text, "{{"); p; p = strstr(p + 2, "{{"))
        if ((n = placeholder(p, &end)) > most) most = n;
    return (int)most;
}

/* The channel's settings as agents may see them (secrets "set"): a new
 * reference, NULL when the channel is unknown. */
static json_t *settings_of(struct sb_server *srv, const char *channel)
{
    json_t *all = sb_host_channels_json(srv->host), *ch, *out = NULL;
    size_t i;
    json_array_foreach(all, i, ch)
    {
        const char *name = json_string_value(json_object_get(ch, "name"));
        if (name && strcmp(name, channel) == 0) {
            out = json_incref(json_object_get(ch, "settings"));
            break;
        }
    }
    json_decref(all);
    return out;
}

json_t *reply_window_templates(struct sb_server *srv, const char *channel)
{
    json_t *settings = settings_of(srv, channel);
    json_t *list = json_object_get(settings, "templates"), *t, *out = json_array();
    size_t i;

    /* the settings schema checks "templates" is an array; its items are
     * the operator's: the well-formed ones are offered, others skipped */
    json_array_foreach(list, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *lang = json_string_value(json_object_get(t, "language"));
        const char *text = json_string_value(json_object_get(t, "text"));
        if (!name || !*name || !lang || !*lang || !text || !*text ||
            strlen(text) > TEMPLATE_TEXT_MAX)
            continue;
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:i}", "name", name, "language", lang,
                                             "text", text, "params", params_of(text)));
    }
    json_decref(settings);
    return out;
}

static const json_t *find(const json_t *templates, const char *name)
{
    const json_t *t;
    size_t i;
    json_array_foreach(templates, i, t)
    {
        const char *n = json_string_value(json_object_get(t, "name"));
        if (n && strcmp(n, name) == 0) return t;
    }
    return NULL;
}

/* text (not empty) with every {{n}} (1..count) replaced by params[n-1];
 * the parameters' own text is not looked into. */
static enum sb_err fill(const char *text, const json_t *params, struct sb_buf *out)
{
    enum sb_err rc = SB_OK;
    const char *p = text, *open, *end;
    while (!rc && (open = strstr(p, "{{"))) {
        long n = placeholder(open, &end);
        if (n >= 1 && (size_t)n <= json_array_size(params)) {
            const json_t *v = json_array_get(params, (size_t)n - 1);
            rc = sb_buf_append(out, p, (size_t)(open - p));
            if (!rc) rc = sb_buf_append(out, json_string_value(v), json_string_length(v));
            p = end;
        } else {
            rc = sb_buf_append(out, p, (size_t)(open + 2 - p));
            p = open + 2;
        }
    }
    if (!rc && *p) rc = sb_buf_append(out, p, strlen(p));
    return rc;
}

enum sb_err reply_window_render(const json_t *templates, const char *name, const json_t *params,
                                char **text, json_t **tpl, struct sb_errbuf *eb)
{
    const json_t *t = find(templates, name), *v;
    json_t *list;
    struct sb_buf b;
    size_t i, want;
    enum sb_err rc;

    *text = NULL;
    *tpl = NULL;
    if (!t)
        return sb_fail(eb, SB_ERR_NOT_FOUND, "template: no template '%s' for this channel", name);
    want = (size_t)json_integer_value(json_object_get(t, "params"));
    if (params && !json_is_array(params))
        return sb_fail(eb, SB_ERR_INVAL, "params: must be an array of strings");
    if (json_array_size(params) != want)
        return sb_fail(eb, SB_ERR_INVAL, "params: template '%s' takes %zu, got %zu", name, want,
                       json_array_size(params));
    json_array_foreach(params, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > TEMPLATE_PARAM_MAX ||
            strlen(json_string_value(v)) != json_string_length(v))
            return sb_fail(eb, SB_ERR_INVAL, "params[%zu]: must be text of 1 to %d bytes", i,
                           TEMPLATE_PARAM_MAX);
    }
    list = params ? json_deep_copy(params) : json_array();
    sb_buf_init(&b, TEMPLATE_TEXT_MAX + TEMPLATE_PARAMS_MAX * TEMPLATE_PARAM_MAX + 1);
    rc = list ? fill(json_string_value(json_object_get(t, "text")), list, &b) : SB_ERR_NOMEM;
    if (!rc) {
        *tpl = json_pack("{s:s, s:O, s:o}", "name", name, "language",
                         json_object_get(t, "language"), "params", list);
        list = NULL;
        if (!*tpl) rc = SB_ERR_NOMEM;
    }
    json_decref(list);
    if (rc) {
        sb_buf_cleanup(&b);
        return sb_fail(eb, rc, "template: out of memory");
    }
    *text = b.data;
    return SB_OK;
}

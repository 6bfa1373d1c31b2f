/*
 * reply_window.h - a channel's reply window and its message templates, as
 * agents see them (docs/agents.md, "The reply window").
 *
 * WhatsApp takes free-form messages only within 24 hours of the customer's
 * last message; after that only an approved template. A channel plugin
 * declares the window (sb.channel{window_s = 86400}) and the templates it
 * may send (its setting "templates": [{name, language, text}], text with
 * Meta's positional {{1}}, {{2}} parameters). The agent API shows the
 * window on the conversation, refuses a free-form reply outside it, lists
 * the templates and sends one as a message whose text is the template's
 * with the parameters filled in.
 */
#ifndef REPLY_WINDOW_H
#define REPLY_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sb.h"

struct sb_server;
struct sb_conv;

struct reply_window {
    bool has;          /* the channel declares a window */
    bool open;         /* a free-form reply may be sent now */
    int64_t closes_at; /* ms; 0 when the customer never wrote */
};

/* The window of conv at time now (ms). */
void reply_window_of(struct sb_server *srv, const struct sb_conv *conv, int64_t now,
                     struct reply_window *w);

/* {"open", "closes_at"} (new reference), NULL when the channel has none. */
json_t *reply_window_json(const struct reply_window *w);

/* The channel's templates: [{name, language, text, params}] (params: how
 * many the text takes); a new reference, [] when it has none. */
json_t *reply_window_templates(struct sb_server *srv, const char *channel);

/* The template called name among templates (as above) with params (a JSON
 * array of strings, or NULL for none) filled in: *text (malloc'd, the
 * message's text) and *tpl ({name, language, params}: what the channel's
 * deliver gets as msg.template; new reference). SB_ERR_NOT_FOUND: no such
 * template; SB_ERR_INVAL: wrong params (eb says which). */
enum sb_err reply_window_render(const json_t *templates, const char *name, const json_t *params,
                                char **text, json_t **tpl, struct sb_errbuf *eb);

#endif

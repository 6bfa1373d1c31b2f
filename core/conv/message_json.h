/*
 * message_json.h - the one serializer of a message: the JSON object that a
 * message's event and the answer to its sender carry, written once as text.
 *
 * Events and answers used to build a jansson tree per message and dump it
 * once for the event and again for the HTTP answer; this writes the text
 * straight into a buffer, and the same text goes into both.
 */
#ifndef SB_MESSAGE_JSON_H
#define SB_MESSAGE_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "sb_util.h"

struct sb_message_view {
    int64_t id;
    const char *direction; /* "in" or "out" */
    const char *author;    /* "customer", "bot", "system", "agent" */
    const char *text;
    /* compact JSON arrays, as sb_json_append wrote them; NULL is [] */
    const char *links, *quick_replies, *attachments;
    const char *client_id; /* NULL is null */
    int64_t created_at;
    /* who wrote an agent's message, {"agent":{"id","name"}} after the rest;
     * NULL agent_name: no such member */
    int64_t agent_id;
    const char *agent_name;
};

/* Appends the message's object:
 * {"id","direction","author","text","links","quick_replies","client_id",
 *  "created_at","attachments"[,"agent"]}, in that order (the order jansson
 * wrote). */
enum sb_err sb_message_json(struct sb_buf *out, const struct sb_message_view *m);

/* Appends s as a JSON string, escaped as jansson escapes it (", \, and
 * control characters, as \n or \u001F; UTF-8 is written as it is). */
enum sb_err sb_json_string(struct sb_buf *out, const char *s);

/* Appends v as compact JSON (jansson's JSON_COMPACT); NULL appends
 * empty_as (for example "[]"). */
enum sb_err sb_json_append(struct sb_buf *out, const json_t *v, const char *empty_as);

#endif

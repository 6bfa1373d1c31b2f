/*
 * message_json.c - the one serializer of a message (message_json.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "message_json.h"

enum sb_err sb_json_string(struct sb_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF"; /* jansson writes \u001F */
    enum sb_err rc = sb_buf_append(out, "\"", 1);
    const char *run = s;

    /* copy runs of plain bytes at once; escape the rest one by one */
    for (; !rc && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        size_t n = 2;
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        rc = sb_buf_append(out, run, (size_t)(s - run));
        run = s + 1;
        switch (ch) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            n = 6;
        }
        if (!rc) rc = sb_buf_append(out, esc, n);
    }
    if (!rc) rc = sb_buf_append(out, run, (size_t)(s - run));
    if (!rc) rc = sb_buf_append(out, "\"", 1);
    return rc;
}

static int dump_to_buf(const char *data, size_t len, void *arg)
{
    return sb_buf_append(arg, data, len) == SB_OK ? 0 : -1;
}

enum sb_err sb_json_append(struct sb_buf *out, const json_t *v, const char *empty_as)
{
    if (!v) return sb_buf_append(out, empty_as, strlen(empty_as));
    /* JSON_ENCODE_ANY: the values here are arrays, but nothing forbids a
     * caller a string */
    if (json_dump_callback(v, dump_to_buf, out, JSON_COMPACT | JSON_ENCODE_ANY))
        return SB_ERR_NOMEM;
    return SB_OK;
}

static enum sb_err array_or_empty(struct sb_buf *out, const char *text)
{
    return text ? sb_buf_append(out, text, strlen(text)) : sb_buf_append(out, "[]", 2);
}

enum sb_err sb_message_json(struct sb_buf *out, const struct sb_message_view *m)
{
    enum sb_err rc = sb_buf_printf(out, "{\"id\":%" PRId64 ",\"direction\":", m->id);
    if (!rc) rc = sb_json_string(out, m->direction);
    if (!rc) rc = sb_buf_append(out, ",\"author\":", 10);
    if (!rc) rc = sb_json_string(out, m->author);
    if (!rc) rc = sb_buf_append(out, ",\"text\":", 8);
    if (!rc) rc = sb_json_string(out, m->text);
    if (!rc) rc = sb_buf_append(out, ",\"links\":", 9);
    if (!rc) rc = array_or_empty(out, m->links);
    if (!rc) rc = sb_buf_append(out, ",\"quick_replies\":", 17);
    if (!rc) rc = array_or_empty(out, m->quick_replies);
    if (!rc) rc = sb_buf_append(out, ",\"client_id\":", 13);
    if (!rc) rc = m->client_id ? sb_json_string(out, m->client_id) : sb_buf_append(out, "null", 4);
    if (!rc) rc = sb_buf_printf(out, ",\"created_at\":%" PRId64 ",\"attachments\":", m->created_at);
    if (!rc) rc = array_or_empty(out, m->attachments);
    if (!rc && m->agent_name) {
        rc = sb_buf_printf(out, ",\"agent\":{\"id\":%" PRId64 ",\"name\":", m->agent_id);
        if (!rc) rc = sb_json_string(out, m->agent_name);
        if (!rc) rc = sb_buf_append(out, "}", 1);
    }
    if (!rc) rc = sb_buf_append(out, "}", 1);
    return rc;
}

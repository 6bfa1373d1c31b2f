/*
 * http_head.c - checks on a request head that libmicrohttpd lets through
 * but we must not: framing a proxy could read differently (request
 * smuggling), a URL cut short by an encoded NUL, control characters in
 * the path, and heads larger than we serve.
 *
 * The size limits sit well below libmicrohttpd's own (the connection's
 * memory pool, CONN_MEMORY in server.c): up to there we answer, in JSON;
 * only a head too big for the pool still gets libmicrohttpd's HTML 414/431,
 * which 0.9.75 offers no way to replace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

struct head_stats {
    size_t header_bytes, target_bytes;
    int headers;
    int content_lengths;
    const char *content_length; /* the first */
    bool cl_conflict;           /* differing or malformed Content-Length values */
    bool transfer_encoding;
};

/* A Content-Length value: digits, blanks around them allowed. */
static bool cl_well_formed(const char *v)
{
    v += strspn(v, " \t");
    size_t digits = strspn(v, "0123456789");
    return digits > 0 && v[digits + strspn(v + digits, " \t")] == '\0';
}

static bool cl_same(const char *a, const char *b)
{
    a += strspn(a, " \t0");
    b += strspn(b, " \t0");
    size_t na = strspn(a, "0123456789"), nb = strspn(b, "0123456789");
    return na == nb && memcmp(a, b, na) == 0;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    struct head_stats *st = cls;
    (void)kind;
    value = value ? value : "";
    st->headers++;
    st->header_bytes += strlen(key) + strlen(value) + 4; /* ": " and CRLF */
    if (strcasecmp(key, "Content-Length") == 0) {
        if (!cl_well_formed(value) || (st->content_length && !cl_same(st->content_length, value)))
            st->cl_conflict = true;
        if (!st->content_length) st->content_length = value;
        st->content_lengths++;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        st->transfer_encoding = true;
    }
    return MHD_YES;
}

static enum MHD_Result count_argument(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct head_stats *st = cls;
    (void)kind;
    st->target_bytes += strlen(key) + (value ? strlen(value) + 1 : 0) + 1;
    return MHD_YES;
}

static bool control_chars(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return true;
    return false;
}

bool http_head_refused(struct MHD_Connection *c, const char *url, bool nul_in_url,
                       struct http_head_refusal *out)
{
    struct head_stats st = {0};

    MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &st);
    st.target_bytes = strlen(url);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, count_argument, &st);
    if (st.target_bytes > HTTP_MAX_TARGET || strlen(url) >= HTTP_MAX_PATH) {
        *out = (struct http_head_refusal){414, "uri_too_long", "the URL is too long"};
        return true;
    }
    if (st.header_bytes > HTTP_MAX_HEADER_BYTES || st.headers > HTTP_MAX_HEADERS) {
        *out = (struct http_head_refusal){431, "headers_too_large",
                                          "the request headers are too large"};
        return true;
    }
    /* Two framings for one body: whichever we pick, a proxy in front may
     * have picked the other and sees a second request in the rest. */
    if (st.cl_conflict) {
        *out = (struct http_head_refusal){400, "bad_content_length",
                                          "Content-Length is malformed or given twice"};
        return true;
    }
    if (st.content_lengths && st.transfer_encoding) {
        *out = (struct http_head_refusal){400, "bad_framing",
                                          "Content-Length and Transfer-Encoding together"};
        return true;
    }
    if (nul_in_url || control_chars(url)) {
        *out = (struct http_head_refusal){400, "bad_url",
                                          "the URL holds a control character (%00 and the like)"};
        return true;
    }
    return false;
}

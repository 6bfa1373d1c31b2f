/*
 * fuzz_attachments.c - what an attachment upload (POST
 * /api/v1/widget/conversations/{id}/attachments, core/api/api_attachments.c)
 * reads from the client before storing a file: the Content-Type header
 * (attachment_type), the file's first bytes (attachment_sniff) and the
 * X-Filename header (attachment_name_decode), all in core/conv/attachments.c.
 * The upload is the raw file, not multipart, so these three are the
 * whole parser.
 *
 * Input: "<Content-Type>\n<X-Filename>\n<file bytes>"; a missing line is
 * a missing header. Besides crashes it checks the promises made to the
 * store and to Content-Disposition: an accepted type is one of the five,
 * and a decoded name is valid UTF-8 of bounded size, with no folder part,
 * no control character and no leading dot.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attachments.h"
#include "sb_store.h"
#include "sb_util.h"

static void broken(const char *what, const char *value)
{
    fprintf(stderr, "fuzz_attachments: %s: '%s'\n", what, value);
    abort();
}

/* The next line of data[*pos..size) as a NUL-terminated copy, or NULL
 * when there is none (no header). */
static char *next_line(const uint8_t *data, size_t size, size_t *pos)
{
    const uint8_t *nl;
    size_t n;
    char *line;

    if (*pos >= size) return NULL;
    nl = memchr(data + *pos, '\n', size - *pos);
    n = nl ? (size_t)(nl - (data + *pos)) : size - *pos;
    /* A header value ends at its first NUL, as libmicrohttpd hands it over. */
    line = strndup((const char *)data + *pos, n);
    *pos += n + (nl != NULL);
    return line;
}

static void check_name(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > ATTACHMENT_NAME_MAX) broken("name of a bad length", name);
    if (!sb_utf8_valid(name, n)) broken("name not valid UTF-8", name);
    if (name[0] == '.' || name[0] == ' ') broken("name with a leading dot or space", name);
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
            broken("name with a folder part or a control character", name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    char *ctype = next_line(data, size, &pos);
    char *fname = next_line(data, size, &pos);
    const char *type = attachment_type(ctype);
    struct sb_attachment a;

    if (type) {
        if (strlen(type) >= sizeof(a.type)) broken("type longer than the store's field", type);
        if (attachment_sniff(type, data + pos, size - pos) && size - pos == 0)
            broken("an empty file passed the signature check", type);
        (void)attachment_inline(type);
    }
    if (fname && attachment_name_decode(fname, a.name, sizeof(a.name))) check_name(a.name);
    free(ctype);
    free(fname);
    return 0;
}

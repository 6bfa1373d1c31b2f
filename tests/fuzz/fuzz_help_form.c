/*
 * fuzz_help_form.c - the "was this helpful?" form's body
 * (application/x-www-form-urlencoded), read by help_form_field()
 * (core/help/help_center.c) as help_center_feedback() reads it: the field
 * "helpful" into a small buffer, and for depth any field into a large one.
 *
 * Besides crashes (the body is not NUL-terminated, so reads past it show)
 * it checks that a found value fits the buffer it was given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "help_parse.h"

static void broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_help_form: %s: '%s'\n", what, detail);
    abort();
}

static void field(const char *body, size_t len, const char *name, char *out, size_t cap)
{
    /* Canary one byte past cap: a write there is an overflow ASan can't see. */
    out[cap] = 0x5a;
    if (help_form_field(body, len, name, out, cap) && strnlen(out, cap) >= cap)
        broken("value not terminated within its buffer", name);
    if (out[cap] != 0x5a) broken("wrote past the buffer", name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char small[8 + 1], large[256 + 1], name[16];
    const char *body = (const char *)data;
    size_t nlen;

    field(body, size, "helpful", small, 8);
    /* Any name the body's first bytes spell, up to '=' or 15 bytes. */
    for (nlen = 0; nlen < size && nlen < sizeof(name) - 1; nlen++)
        if (body[nlen] == '=' || body[nlen] == '&') break;
    memcpy(name, body, nlen);
    name[nlen] = '\0';
    field(body, size, name, large, 256);
    return 0;
}

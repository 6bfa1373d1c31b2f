/*
 * re.c - the PCRE2 cache: compiled (and JIT-compiled where the platform
 * allows) once per (pattern, flags), matched with match and depth limits.
 */
#include <stdlib.h>
#include <string.h>

#include "sb_re.h"

struct re_entry {
    struct re_entry *next;
    uint32_t flags;
    size_t len;
    pcre2_code *code;
    char pattern[]; /* len bytes + NUL */
};

struct sb_re_cache {
    struct re_entry **bucket;
    size_t nbuckets, count, max_entries;
    pcre2_match_context *mctx;
    pcre2_match_data *md;
};

enum sb_err sb_re_cache_new(size_t max_entries, uint32_t match_limit, struct sb_re_cache **out)
{
    struct sb_re_cache *c = calloc(1, sizeof(*c));
    if (!c) return SB_ERR_NOMEM;
    c->max_entries = max_entries ? max_entries : 1;
    c->nbuckets = 64;
    while (c->nbuckets < c->max_entries)
        c->nbuckets *= 2;
    c->bucket = calloc(c->nbuckets, sizeof(*c->bucket));
    c->mctx = pcre2_match_context_create(NULL);
    c->md = pcre2_match_data_create(SB_RE_MAX_CAPTURES, NULL);
    if (!c->bucket || !c->mctx || !c->md) {
        sb_re_cache_free(c);
        return SB_ERR_NOMEM;
    }
    /* Backtracking bombs stop here instead of spinning the loop. */
    pcre2_set_match_limit(c->mctx, match_limit);
    pcre2_set_depth_limit(c->mctx, 2000);
    pcre2_set_heap_limit(c->mctx, 4096); /* KiB */
    *out = c;
    return SB_OK;
}

static void clear(struct sb_re_cache *c)
{
    for (size_t i = 0; i < c->nbuckets; i++) {
        struct re_entry *e = c->bucket[i], *next;
        for (; e; e = next) {
            next = e->next;
            pcre2_code_free(e->code);
            free(e);
        }
        c->bucket[i] = NULL;
    }
    c->count = 0;
}

void sb_re_cache_free(struct sb_re_cache *c)
{
    if (!c) return;
    if (c->bucket) clear(c);
    free(c->bucket);
    pcre2_match_context_free(c->mctx);
    pcre2_match_data_free(c->md);
    free(c);
}

enum sb_err sb_re_flags(const char *text, uint32_t *flags, struct sb_errbuf *eb)
{
    *flags = 0;
    for (const char *p = text ? text : ""; *p; p++) {
        switch (*p) {
        case 'i':
            *flags |= PCRE2_CASELESS;
            break;
        case 'm':
            *flags |= PCRE2_MULTILINE;
            break;
        case 's':
            *flags |= PCRE2_DOTALL;
            break;
        case 'x':
            *flags |= PCRE2_EXTENDED;
            break;
        default:
            return sb_fail(eb, SB_ERR_INVAL, "unknown regex flag '%c' (use i, m, s, x)", *p);
        }
    }
    return SB_OK;
}

static size_t hash(const char *s, size_t len, uint32_t flags)
{
    size_t h = 1469598103934665603ull ^ flags; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

enum sb_err sb_re_get(struct sb_re_cache *c, const char *pattern, size_t len, uint32_t flags,
                      pcre2_code **out, struct sb_errbuf *eb)
{
    size_t b = hash(pattern, len, flags) & (c->nbuckets - 1);
    struct re_entry *e;
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *code;

    for (e = c->bucket[b]; e; e = e->next) {
        if (e->flags == flags && e->len == len && memcmp(e->pattern, pattern, len) == 0) {
            *out = e->code;
            return SB_OK;
        }
    }
    if (len > SB_RE_MAX_PATTERN)
        return sb_fail(eb, SB_ERR_LIMIT, "pattern longer than %d bytes", SB_RE_MAX_PATTERN);
    code = pcre2_compile((PCRE2_SPTR)pattern, len, flags | PCRE2_UTF | PCRE2_UCP, &errcode, &erroff,
                         NULL);
    if (!code) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        return sb_fail(eb, SB_ERR_INVAL, "pattern error at %zu: %s", (size_t)erroff, (char *)msg);
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* optional speed-up; falls back silently */
    if (c->count >= c->max_entries) clear(c);
    e = malloc(sizeof(*e) + len + 1);
    if (!e) {
        pcre2_code_free(code);
        return SB_ERR_NOMEM;
    }
    e->flags = flags;
    e->len = len;
    e->code = code;
    memcpy(e->pattern, pattern, len);
    e->pattern[len] = '\0';
    e->next = c->bucket[b];
    c->bucket[b] = e;
    c->count++;
    *out = code;
    return SB_OK;
}

enum sb_err sb_re_exec(struct sb_re_cache *c, pcre2_code *code, const char *subject, size_t len,
                       size_t from, struct sb_re_match *m)
{
    int rc = pcre2_match(code, (PCRE2_SPTR)subject, len, from, 0, c->md, c->mctx);
    PCRE2_SIZE *ov;

    m->ncap = 0;
    if (rc == PCRE2_ERROR_NOMATCH) return SB_OK;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
        return SB_ERR_LIMIT;
    if (rc < 0) return SB_ERR_INVAL;
    if (rc == 0) rc = SB_RE_MAX_CAPTURES;
    ov = pcre2_get_ovector_pointer(c->md);
    m->ncap = rc;
    for (int i = 0; i < rc; i++) {
        m->start[i] = ov[2 * i] == PCRE2_UNSET ? SIZE_MAX : ov[2 * i];
        m->end[i] = ov[2 * i + 1] == PCRE2_UNSET ? SIZE_MAX : ov[2 * i + 1];
    }
    return SB_OK;
}

enum sb_err sb_re_search(struct sb_re_cache *c, const char *pattern, uint32_t flags,
                         const char *subject, size_t len, struct sb_re_match *m,
                         struct sb_errbuf *eb)
{
    pcre2_code *code;
    enum sb_err rc = sb_re_get(c, pattern, strlen(pattern), flags, &code, eb);
    if (rc) return rc;
    return sb_re_exec(c, code, subject, len, 0, m);
}

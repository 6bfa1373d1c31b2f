/*
 * lua_pattern.c - the step-counted Lua pattern matcher (see lua_pattern.h).
 *
 * A backtracking matcher over the pattern items of the Lua 5.4 manual
 * §6.4.1: single-character classes (., %a and friends, [sets]) with the
 * repetitions *, +, - and ?; %n back-references; %bxy; %f[set]; captures
 * and position captures; '^' (handled by the caller) and a final '$'.
 * Every pattern item tried, every character a repetition or %b scans and
 * every backtrack is one step; steps go to the charge callback in batches
 * of PAT_CHARGE_EVERY, and a refusal unwinds the match at once.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lua_pattern.h"

void pat_init(struct pat_state *ms, const char *src, size_t src_len, const char *pat,
              size_t pat_len, pat_charge_fn charge, void *ud)
{
    /* Not the whole struct: the captures are written before they are read,
     * and clearing them cost more than a short match. */
    ms->ncap = 0;
    ms->status = PAT_OK;
    ms->errmsg[0] = '\0';
    ms->depth = 0;
    ms->steps = 0;
    ms->src = src;
    ms->src_end = src + src_len;
    ms->pat_end = pat + pat_len;
    ms->charge = charge;
    ms->charge_ud = ud;
}

bool pat_flush(struct pat_state *ms)
{
    uint64_t n = ms->steps;
    ms->steps = 0;
    if (ms->status == PAT_OK && n && ms->charge && !ms->charge(ms->charge_ud, n))
        ms->status = PAT_STOPPED;
    return ms->status == PAT_OK;
}

/* One step; false when the match must stop (budget or error). */
static bool step(struct pat_state *ms)
{
    if (++ms->steps >= PAT_CHARGE_EVERY) return pat_flush(ms);
    return ms->status == PAT_OK;
}

static const char *fail(struct pat_state *ms, const char *msg)
{
    if (ms->status == PAT_OK) {
        ms->status = PAT_ERROR;
        snprintf(ms->errmsg, sizeof(ms->errmsg), "%s", msg);
    }
    return NULL;
}

bool pat_is_plain(const char *p, size_t len)
{
    static const char magic[] = "^$*+?.([%-";
    for (size_t i = 0; i < len; i++)
        if (p[i] && strchr(magic, p[i])) return false;
    return true;
}

/* %a, %d, ...: class letter cl; upper case is the complement; any other
 * character after % stands for itself. */
static bool in_class(unsigned char c, unsigned char cl)
{
    bool upper = cl >= 'A' && cl <= 'Z', yes;
    switch (upper ? cl + ('a' - 'A') : cl) { /* ASCII, whatever the locale */
    case 'a':
        yes = isalpha(c);
        break;
    case 'c':
        yes = iscntrl(c);
        break;
    case 'd':
        yes = isdigit(c);
        break;
    case 'g':
        yes = isgraph(c);
        break;
    case 'l':
        yes = islower(c);
        break;
    case 'p':
        yes = ispunct(c);
        break;
    case 's':
        yes = isspace(c);
        break;
    case 'u':
        yes = isupper(c);
        break;
    case 'w':
        yes = isalnum(c);
        break;
    case 'x':
        yes = isxdigit(c);
        break;
    case 'z':
        yes = c == '\0';
        break; /* Lua 5.1's; 5.4 still accepts it */
    default:
        return cl == c;
    }
    return upper ? !yes : yes;
}

/* Set [ ... ] from p (at '[') to close (at its ']'). */
static bool in_set(unsigned char c, const char *p, const char *close)
{
    bool negate = false;
    p++;
    if (*p == '^') {
        negate = true;
        p++;
    }
    while (p < close) {
        if (*p == '%' && p + 1 < close) {
            if (in_class(c, (unsigned char)p[1])) return !negate;
            p += 2;
        } else if (p + 2 < close && p[1] == '-') {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return !negate;
            p += 3;
        } else {
            if ((unsigned char)*p == c) return !negate;
            p++;
        }
    }
    return negate;
}

/* The end of the single-character class at p, or NULL (malformed). */
static const char *class_end(struct pat_state *ms, const char *p)
{
    char c = *p++;
    if (c == '%') {
        if (p >= ms->pat_end) return fail(ms, "malformed pattern (ends with '%')");
        return p + 1;
    }
    if (c == '[') {
        if (p < ms->pat_end && *p == '^') p++;
        /* The first member is taken as is, so "[]]" and "[^]]" work. */
        do {
            if (p >= ms->pat_end) return fail(ms, "malformed pattern (missing ']')");
            if (*p++ == '%' && p < ms->pat_end) p++;
        } while (p >= ms->pat_end || *p != ']');
        return p + 1;
    }
    return p;
}

/* Does the class p..ep match the subject character at s? */
static bool single(const struct pat_state *ms, const char *s, const char *p, const char *ep)
{
    unsigned char c;
    if (s >= ms->src_end) return false;
    c = (unsigned char)*s;
    switch (*p) {
    case '.':
        return true;
    case '%':
        return in_class(c, (unsigned char)p[1]);
    case '[':
        return in_set(c, p, ep - 1);
    default:
        return (unsigned char)*p == c;
    }
}

static const char *match(struct pat_state *ms, const char *s, const char *p);

/* x* (greedy): take as many as match, then give back one at a time. */
static const char *greedy(struct pat_state *ms, const char *s, const char *p, const char *ep)
{
    ptrdiff_t n = 0;
    while (single(ms, s + n, p, ep)) {
        if (!step(ms)) return NULL;
        n++;
    }
    for (; n >= 0; n--) {
        const char *r = match(ms, s + n, ep + 1);
        if (r || ms->status != PAT_OK) return r;
    }
    return NULL;
}

/* x- (lazy): try the rest first, take one more only when it fails. */
static const char *lazy(struct pat_state *ms, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = match(ms, s, ep + 1);
        if (r || ms->status != PAT_OK) return r;
        if (!single(ms, s, p, ep)) return NULL;
        s++;
    }
}

static const char *open_capture(struct pat_state *ms, const char *s, const char *p, ptrdiff_t what)
{
    const char *r;
    if (ms->ncap >= PAT_MAXCAPTURES) return fail(ms, "too many captures");
    ms->cap[ms->ncap].start = s;
    ms->cap[ms->ncap].len = what;
    ms->ncap++;
    r = match(ms, s, p);
    if (!r) ms->ncap--; /* undo on backtrack */
    return r;
}

static const char *close_capture(struct pat_state *ms, const char *s, const char *p)
{
    const char *r;
    int i = ms->ncap - 1;
    while (i >= 0 && ms->cap[i].len != PAT_CAP_UNFINISHED)
        i--;
    if (i < 0) return fail(ms, "invalid pattern capture");
    ms->cap[i].len = s - ms->cap[i].start;
    r = match(ms, s, p);
    if (!r) ms->cap[i].len = PAT_CAP_UNFINISHED;
    return r;
}

/* %1..%9: the text of a closed capture again. */
static const char *backref(struct pat_state *ms, const char *s, char digit)
{
    int i = digit - '1';
    ptrdiff_t len;
    if (i < 0 || i >= ms->ncap || ms->cap[i].len == PAT_CAP_UNFINISHED) {
        char msg[48];
        snprintf(msg, sizeof(msg), "invalid capture index %%%d", i + 1);
        return fail(ms, msg);
    }
    len = ms->cap[i].len;
    if (len < 0 || ms->src_end - s < len) return NULL; /* a position capture matches nothing */
    for (ptrdiff_t k = 0; k < len; k += 64)
        if (!step(ms)) return NULL;
    return memcmp(ms->cap[i].start, s, (size_t)len) == 0 ? s + len : NULL;
}

/* %bxy at p (pointing at x): from an x to its balancing y. */
static const char *balanced(struct pat_state *ms, const char *s, const char *p)
{
    int depth = 1;
    if (p + 1 >= ms->pat_end) return fail(ms, "malformed pattern (missing arguments to '%b')");
    if (s >= ms->src_end || *s != p[0]) return NULL;
    for (s++; s < ms->src_end; s++) {
        if (!step(ms)) return NULL;
        if (*s == p[1]) {
            if (--depth == 0) return s + 1;
        } else if (*s == p[0]) {
            depth++;
        }
    }
    return NULL;
}

/* %f[set] at p (pointing at '['): the empty string between a character
 * not in set and one in it (the subject's ends count as '\0'). */
static const char *frontier(struct pat_state *ms, const char *s, const char *p, const char **next)
{
    const char *ep;
    unsigned char before, here;
    if (p >= ms->pat_end || *p != '[') return fail(ms, "missing '[' after '%f' in pattern");
    ep = class_end(ms, p);
    if (!ep) return NULL;
    before = s == ms->src ? '\0' : (unsigned char)s[-1];
    here = s < ms->src_end ? (unsigned char)*s : '\0';
    *next = ep;
    return !in_set(before, p, ep - 1) && in_set(here, p, ep - 1) ? s : NULL;
}

/* Matches pattern p at s; the end of the match or NULL. Tail positions
 * loop instead of recursing, so only branching costs depth. */
static const char *match_at(struct pat_state *ms, const char *s, const char *p)
{
    for (;;) {
        const char *ep;
        if (!step(ms)) return NULL;
        if (p >= ms->pat_end) return s;
        switch (*p) {
        case '(':
            if (p + 1 < ms->pat_end && p[1] == ')')
                return open_capture(ms, s, p + 2, PAT_CAP_POSITION);
            return open_capture(ms, s, p + 1, PAT_CAP_UNFINISHED);
        case ')':
            return close_capture(ms, s, p + 1);
        case '$':
            if (p + 1 == ms->pat_end) return s == ms->src_end ? s : NULL;
            break;
        case '%':
            if (p + 1 >= ms->pat_end) break; /* class_end reports it */
            if (p[1] == 'b') {
                s = balanced(ms, s, p + 2);
                if (!s) return NULL;
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                s = frontier(ms, s, p + 2, &p);
                if (!s) return NULL;
                continue;
            }
            if (isdigit((unsigned char)p[1])) {
                s = backref(ms, s, p[1]);
                if (!s) return NULL;
                p += 2;
                continue;
            }
            break;
        default:
            break;
        }
        /* a single-character class, maybe with a repetition */
        ep = class_end(ms, p);
        if (!ep) return NULL;
        if (!single(ms, s, p, ep)) {
            if (ep < ms->pat_end && (*ep == '*' || *ep == '?' || *ep == '-')) {
                p = ep + 1; /* zero repetitions */
                continue;
            }
            return NULL;
        }
        if (ep < ms->pat_end) {
            const char *r;
            switch (*ep) {
            case '?':
                r = match(ms, s + 1, ep + 1);
                if (r || ms->status != PAT_OK) return r;
                p = ep + 1;
                continue;
            case '+':
                return greedy(ms, s + 1, p, ep);
            case '*':
                return greedy(ms, s, p, ep);
            case '-':
                return lazy(ms, s, p, ep);
            default:
                break;
            }
        }
        s++;
        p = ep;
    }
}

static const char *match(struct pat_state *ms, const char *s, const char *p)
{
    const char *r;
    if (ms->status != PAT_OK) return NULL;
    if (++ms->depth > PAT_MAXDEPTH) return fail(ms, "pattern too complex");
    r = match_at(ms, s, p);
    ms->depth--;
    return ms->status == PAT_OK ? r : NULL;
}

const char *pat_match(struct pat_state *ms, const char *s, const char *p)
{
    ms->ncap = 0;
    ms->depth = 0;
    return match(ms, s, p);
}

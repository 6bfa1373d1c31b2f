/*
 * ratelimit.c - in-memory rate limits: token buckets for the customer API
 * and failure counters with back-off for logins, keyed by short strings
 * ("ip:203.0.113.9", "visitor:<token prefix>", "acct:<e-mail>").
 *
 * A fixed-size open-addressing table: memory is bounded whatever clients
 * do. When a probe run is full, the least recently used slot of the run is
 * reused; forgetting an idle client is harmless, keeping a locked-out one
 * is what matters, and lockouts are recent by definition.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

#define KEY_MAX 80
#define PROBE 8
#define MAX_LOCKOUT_S 900

struct slot {
    char key[KEY_MAX];
    double tokens;
    int64_t last_ms;
    int failures;
    int64_t locked_until_ms;
};

struct sb_limits {
    struct slot *slots;
    size_t cap; /* power of two */
};

enum sb_err sb_limits_new(size_t capacity, struct sb_limits **out)
{
    struct sb_limits *l = calloc(1, sizeof(*l));
    size_t cap = 64;
    if (!l) return SB_ERR_NOMEM;
    while (cap < capacity)
        cap *= 2;
    l->slots = calloc(cap, sizeof(*l->slots));
    if (!l->slots) {
        free(l);
        return SB_ERR_NOMEM;
    }
    l->cap = cap;
    *out = l;
    return SB_OK;
}

void sb_limits_free(struct sb_limits *l)
{
    if (!l) return;
    free(l->slots);
    free(l);
}

static uint64_t hash_key(const char *k)
{
    uint64_t h = 1469598103934665603ull;
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return h;
}

/* The slot for key, claimed if new (fresh is set then). */
static struct slot *find(struct sb_limits *l, const char *key, int64_t now_ms, bool create,
                         bool *fresh)
{
    size_t i = hash_key(key) & (l->cap - 1), oldest = i;
    *fresh = false;
    for (size_t n = 0; n < PROBE; n++, i = (i + 1) & (l->cap - 1)) {
        struct slot *s = &l->slots[i];
        if (s->key[0] && strcmp(s->key, key) == 0) return s;
        if (!s->key[0]) {
            oldest = i;
            break;
        }
        if (s->last_ms < l->slots[oldest].last_ms) oldest = i;
    }
    if (!create) return NULL;
    struct slot *s = &l->slots[oldest];
    memset(s, 0, sizeof(*s));
    snprintf(s->key, sizeof(s->key), "%s", key);
    s->last_ms = now_ms;
    *fresh = true;
    return s;
}

bool sb_limits_take(struct sb_limits *l, const char *key, double per_s, double burst,
                    int64_t now_ms, int *retry_after_s)
{
    bool fresh;
    struct slot *s = find(l, key, now_ms, true, &fresh);

    if (fresh) s->tokens = burst;
    s->tokens += (double)(now_ms - s->last_ms) / 1000.0 * per_s;
    if (s->tokens > burst) s->tokens = burst;
    s->last_ms = now_ms;
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return true;
    }
    *retry_after_s = (int)ceil((1.0 - s->tokens) / per_s);
    if (*retry_after_s < 1) *retry_after_s = 1;
    return false;
}

bool sb_limits_locked(struct sb_limits *l, const char *key, int64_t now_ms, int *retry_after_s)
{
    bool fresh;
    struct slot *s = find(l, key, now_ms, false, &fresh);
    if (!s || s->locked_until_ms <= now_ms) return false;
    *retry_after_s = (int)((s->locked_until_ms - now_ms + 999) / 1000);
    return true;
}

void sb_limits_fail(struct sb_limits *l, const char *key, int max_failures, int lockout_s,
                    int64_t now_ms)
{
    bool fresh;
    struct slot *s = find(l, key, now_ms, true, &fresh);
    /* Old mistakes are forgiven: a quarter of an hour without a failure
     * starts the count again. */
    if (now_ms - s->last_ms > 15 * 60 * 1000) s->failures = 0;
    s->last_ms = now_ms;
    s->failures++;
    if (s->failures >= max_failures) {
        /* Each failure past the limit doubles the wait: 30 s, 60 s, ... */
        int shift = s->failures - max_failures;
        double wait = (double)lockout_s * pow(2.0, shift > 20 ? 20 : shift);
        if (wait > MAX_LOCKOUT_S) wait = MAX_LOCKOUT_S;
        s->locked_until_ms = now_ms + (int64_t)(wait * 1000);
    }
}

void sb_limits_clear(struct sb_limits *l, const char *key)
{
    bool fresh;
    struct slot *s = find(l, key, 0, false, &fresh);
    if (s) {
        s->failures = 0;
        s->locked_until_ms = 0;
    }
}

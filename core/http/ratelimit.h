/*
 * ratelimit.h - in-memory rate limits (ratelimit.c): token buckets for the
 * customer API and failure counters with back-off for sign-ins.
 */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb.h"

struct sb_limits;

enum sb_err sb_limits_new(size_t capacity, struct sb_limits **out);
void sb_limits_free(struct sb_limits *l);

/* Token bucket for key: true when a request may pass now; otherwise
 * *retry_after_s says when one token will be back (at least 1). */
bool sb_limits_take(struct sb_limits *l, const char *key, double per_s, double burst,
                    int64_t now_ms, int *retry_after_s);

/* Login failures for key (an account or an IP): locked tells whether key
 * is locked out now, and for how long; fail counts a failure and, from
 * max_failures on, locks it for lockout_s doubled per further failure
 * (at most 900 s); clear forgets it after a success. */
bool sb_limits_locked(struct sb_limits *l, const char *key, int64_t now_ms, int *retry_after_s);
void sb_limits_fail(struct sb_limits *l, const char *key, int max_failures, int lockout_s,
                    int64_t now_ms);
void sb_limits_clear(struct sb_limits *l, const char *key);

#endif

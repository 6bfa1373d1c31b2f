/*
 * lua_pattern.h - a Lua 5.4 pattern matcher (manual §6.4.1) that counts
 * its steps, for the plugins' string.find/match/gmatch/gsub.
 *
 * Written for the sandbox from the manual's description: Lua's own
 * matcher never runs the count hook, so one backtracking pattern could
 * hold the server for minutes. This one reports its steps to a callback
 * every PAT_CHARGE_EVERY steps, which may stop it. No Lua dependency;
 * nothing is allocated, so a caller may raise a Lua error at any point.
 */
#ifndef LUA_PATTERN_H
#define LUA_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAT_MAXCAPTURES 32
#define PAT_MAXDEPTH 200 /* nested calls of the matcher ("pattern too complex") */
#define PAT_CHARGE_EVERY 1024
#define PAT_CAP_UNFINISHED (-1)
#define PAT_CAP_POSITION (-2)

enum pat_status {
    PAT_OK,
    PAT_ERROR,  /* malformed pattern: message in errmsg */
    PAT_STOPPED /* the charge callback said stop */
};

/* Returns false to stop the match (budget spent). */
typedef bool (*pat_charge_fn)(void *ud, uint64_t steps);

struct pat_capture {
    const char *start;
    ptrdiff_t len; /* or PAT_CAP_UNFINISHED / PAT_CAP_POSITION */
};

struct pat_state {
    /* set by pat_init, borrowed */
    const char *src, *src_end;
    const char *pat_end;
    pat_charge_fn charge;
    void *charge_ud;
    /* results of the last pat_match */
    int ncap;
    struct pat_capture cap[PAT_MAXCAPTURES];
    enum pat_status status;
    char errmsg[80];
    /* private */
    int depth;
    uint64_t steps; /* not yet charged */
};

/* Subject src[0..src_len) and pattern pat[0..pat_len) (both borrowed and
 * kept; the pattern must be followed by a NUL, as Lua strings are). */
void pat_init(struct pat_state *ms, const char *src, size_t src_len, const char *pat,
              size_t pat_len, pat_charge_fn charge, void *ud);

/* Matches pattern p (a position inside the pattern given to pat_init, so
 * an anchor '^' can be skipped) at subject position s. Returns the end of
 * the match, or NULL: no match when ms->status is PAT_OK, else an error or
 * a stop. Captures are in ms->cap[0..ncap). */
const char *pat_match(struct pat_state *ms, const char *s, const char *p);

/* Charges the steps not yet reported (call once per string function). */
bool pat_flush(struct pat_state *ms);

/* True when pattern p[0..len) has no magic characters (a plain find). */
bool pat_is_plain(const char *p, size_t len);

#endif

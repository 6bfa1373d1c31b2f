/*
 * agent_feed.h - recently committed events, formatted once for all the
 * agents' event streams (agent_feed.c).
 */
#ifndef SB_AGENT_FEED_H
#define SB_AGENT_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "sb_util.h"

struct sb_store;
struct agent_feed;

#define AGENT_READER_TEAMS 32

/* Who reads: the agent, whether they see everything, and their teams. */
struct agent_reader {
    int64_t user;
    bool supervisor;
    int nteams;
    char teams[AGENT_READER_TEAMS][64];
};

struct agent_feed *agent_feed_new(void); /* NULL when out of memory */
void agent_feed_free(struct agent_feed *f);

/* After a flush: reads the events committed since the last call. Without
 * readers it only moves its start to the newest event. */
void agent_feed_committed(struct sb_store *st, struct agent_feed *f, bool readers);

/* True when the feed holds every event after `after` that is committed;
 * otherwise the reader must catch up from the events table. */
bool agent_feed_covers(const struct agent_feed *f, int64_t after);
int64_t agent_feed_top(const struct agent_feed *f);

/* Appends to out up to max events after *after that r may see, moving
 * *after past every event looked at. Returns the number appended. */
int agent_feed_read(const struct agent_feed *f, const struct agent_reader *r, int64_t *after,
                    struct sb_buf *out, int max);

#endif

/*
 * agent_feed.c - the recently committed events, read once per commit and
 * formatted once for every agent stream (api_agent_events.c).
 *
 * Each console used to run its own filtered query of the events table on
 * every commit: with 25 consoles open that was a fifth of the server's
 * time under load. After a flush the feed reads the new events with the
 * conversation columns the visibility rule needs, and the streams filter
 * them in memory. A stream whose position is older than the feed's first
 * event (a console resuming after a drop) still reads the table.
 */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_feed.h"
#include "handoff_int.h"
#include "store_agent.h"
#include "sb_log.h"

#define FEED_CAP 2048 /* events kept; a console further behind reads the table */

struct feed_event {
    int64_t id;
    char type[40];
    char team[64];
    char status[16];
    int64_t assignee, offered_to, last_assignee, offered_agent;
    char *text; /* the whole SSE record */
    size_t len;
};

struct agent_feed {
    struct feed_event ring[FEED_CAP];
    int head, n;  /* oldest at head */
    int64_t top;  /* every committed event with an id <= top has been read */
    int64_t base; /* the feed holds every event with base < id <= top */
};

struct agent_feed *agent_feed_new(void)
{
    return calloc(1, sizeof(struct agent_feed));
}

static void drop_oldest(struct agent_feed *f)
{
    struct feed_event *e = &f->ring[f->head];
    f->base = e->id;
    free(e->text);
    e->text = NULL;
    f->head = (f->head + 1) % FEED_CAP;
    f->n--;
}

static void clear(struct agent_feed *f, int64_t at)
{
    while (f->n)
        drop_oldest(f);
    f->base = f->top = at;
}

void agent_feed_free(struct agent_feed *f)
{
    if (!f) return;
    clear(f, 0);
    free(f);
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void add(void *arg, const struct sb_agent_event *ev)
{
    struct agent_feed *f = arg;
    struct feed_event *e;
    char *text = NULL;
    int len;
    if (f->n == FEED_CAP) drop_oldest(f);
    e = &f->ring[(f->head + f->n) % FEED_CAP];
    /* the stored data is a compact JSON object: add the conversation */
    len = asprintf(&text, "id: %lld\nevent: %s\ndata: {\"conversation\":\"%s\"%s%s\n\n",
                   (long long)ev->id, ev->type, ev->conversation, ev->data[1] == '}' ? "" : ",",
                   ev->data + 1);
    if (len < 0) {
        /* out of memory: the feed starts after this event; streams behind
         * it read the table, which still has it */
        clear(f, ev->id);
        return;
    }
    e->id = ev->id;
    copy(e->type, sizeof(e->type), ev->type);
    e->assignee = ev->assignee;
    e->offered_to = ev->offered_to;
    copy(e->status, sizeof(e->status), ev->status);
    copy(e->team, sizeof(e->team), ev->team);
    e->last_assignee = ev->last_assignee;
    e->offered_agent = ev->offered_agent;
    e->text = text;
    e->len = (size_t)len;
    f->n++;
    f->top = e->id;
}

void agent_feed_committed(struct sb_store *st, struct agent_feed *f, bool readers)
{
    int64_t committed = sb_store_committed_event_id(st);
    if (!readers) {
        /* nobody to read it: a console that opens starts from now */
        int64_t top = sb_store_event_top(st);
        clear(f, top < committed ? top : committed);
        return;
    }
    if (sb_store_agent_events_each(st, f->top, committed, add, f)) clear(f, committed);
}

bool agent_feed_covers(const struct agent_feed *f, int64_t after)
{
    return f && after >= f->base && after <= f->top;
}

int64_t agent_feed_top(const struct agent_feed *f)
{
    return f->top;
}

static bool in_teams(const struct agent_reader *r, const char *team)
{
    for (int i = 0; i < r->nteams; i++)
        if (strcmp(r->teams[i], team) == 0) return true;
    return false;
}

/* The rule of the stream's table query (api_agent_events.c), on the
 * conversation's row as it was when the event was committed. */
static bool visible(const struct agent_reader *r, const struct feed_event *e)
{
    bool offered = strcmp(e->type, "conversation/offered") == 0;
    if (r->supervisor) return true;
    if (offered) return e->offered_agent == r->user;
    if (e->assignee == r->user || e->offered_to == r->user) return true;
    if (strcmp(e->status, "queued") == 0 && in_teams(r, e->team)) return true;
    if (e->last_assignee != r->user) return false;
    return strcmp(e->type, "conversation/resolved") == 0 ||
           strcmp(e->type, "conversation/returned_to_bot") == 0 ||
           strcmp(e->type, "conversation/transferred") == 0 ||
           strcmp(e->type, "conversation/assigned") == 0 ||
           strcmp(e->type, "conversation/queued") == 0;
}

int agent_feed_read(const struct agent_feed *f, const struct agent_reader *r, int64_t *after,
                    struct sb_buf *out, int max)
{
    int sent = 0, lo = 0, hi = f->n;
    /* ids ascend from head: find the first one after *after */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (f->ring[(f->head + mid) % FEED_CAP].id <= *after)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int i = lo; i < f->n && sent < max; i++) {
        const struct feed_event *e = &f->ring[(f->head + i) % FEED_CAP];
        if (visible(r, e)) {
            if (sb_buf_append(out, e->text, e->len)) break;
            sent++;
        }
        *after = e->id;
    }
    return sent;
}

/*
 * kb_rebuild.c - building the search index on a thread of its own.
 *
 * Building the index trains the learned model: about 2 s for 77 articles
 * with 9,000 example questions, far longer at 10,000 articles. Done inside
 * a search on the event loop, that stalls every conversation the server
 * holds. The loop reads the articles (kb_rows_read: one SELECT and string
 * copies, exactly what its own connection sees, pending changes included,
 * as a build in place would), a thread builds the index
 * from them, and the loop collects it with kb_rebuild_finish, answering
 * from the old index until then. kb_search.c decides when a build goes
 * here.
 */
#define _GNU_SOURCE /* pthread_tryjoin_np, pthread_timedjoin_np */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kb_int.h"

struct kb_rebuild {
    pthread_t thread;
    struct kb_rows *rows;
    struct kb_index *result; /* result, rc and ms: read after the join */
    enum sb_err rc;
    double ms;
};

static void *build_main(void *arg)
{
    struct kb_rebuild *b = arg;
    int64_t t0 = sb_mono_ns();

    b->rc = kb_index_build_rows(b->rows, &b->result);
    kb_rows_free(b->rows);
    b->rows = NULL;
    b->ms = (double)(sb_mono_ns() - t0) / 1e6;
    return NULL;
}

enum sb_err kb_rebuild_start(struct kb_rows *rows, struct kb_rebuild **out)
{
    struct kb_rebuild *b = calloc(1, sizeof(*b));

    *out = NULL;
    if (!b) {
        kb_rows_free(rows);
        return SB_ERR_NOMEM;
    }
    b->rows = rows;
    if (pthread_create(&b->thread, NULL, build_main, b) != 0) {
        kb_rows_free(rows);
        free(b);
        return SB_ERR_NOMEM;
    }
    *out = b;
    return SB_OK;
}

bool kb_rebuild_finish(struct kb_rebuild *b, int wait_ms, struct kb_index **ix, enum sb_err *rc,
                       double *ms)
{
    if (wait_ms < 0) {
        pthread_join(b->thread, NULL);
    } else if (wait_ms == 0) {
        if (pthread_tryjoin_np(b->thread, NULL) != 0) return false;
    } else {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until); /* the clock pthread_timedjoin_np reads */
        until.tv_sec += wait_ms / 1000;
        until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_timedjoin_np(b->thread, NULL, &until) != 0) return false;
    }
    *ix = b->result;
    *rc = b->rc;
    *ms = b->ms;
    free(b);
    return true;
}

/* Freeing an index is a few hundred thousand free() calls at 10,000
 * articles: tens of milliseconds the loop need not spend. */
struct kb_disposal {
    pthread_t thread;
    struct kb_index *ix;
};

static void *dispose_main(void *arg)
{
    struct kb_disposal *d = arg;
    kb_index_free(d->ix);
    return NULL;
}

void kb_dispose_wait(struct kb_disposal **slot)
{
    if (!*slot) return;
    pthread_join((*slot)->thread, NULL);
    free(*slot);
    *slot = NULL;
}

void kb_dispose(struct kb_disposal **slot, struct kb_index *ix)
{
    struct kb_disposal *d;

    if (!ix) return;
    kb_dispose_wait(slot); /* long done: it started one build ago */
    d = calloc(1, sizeof(*d));
    if (d) d->ix = ix;
    if (!d || pthread_create(&d->thread, NULL, dispose_main, d) != 0) {
        free(d);
        kb_index_free(ix);
        return;
    }
    *slot = d;
}

/*
 * store_checkpoint.c - WAL checkpoints on a thread of their own.
 *
 * SQLite checkpoints by default inside the COMMIT that crosses the WAL
 * size limit, which on the event loop means one unlucky request waits for
 * a thousand page copies. Instead the loop's connection never checkpoints,
 * and this thread, with its own connection, runs a PASSIVE checkpoint
 * (it never blocks the writer) every interval. It shares nothing with the
 * loop but the database file.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "sb_log.h"
#include "store_int.h"

struct store_checkpointer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    sqlite3 *db;
    int interval_ms;
};

static void *checkpoint_main(void *arg)
{
    struct store_checkpointer *c = arg;

    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)c->interval_ms * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&c->wake, &c->lock, &until);
        if (c->stop) break;
        pthread_mutex_unlock(&c->lock);
        int log = 0, done = 0;
        int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            sb_warn("store: checkpoint failed: %s", sqlite3_errmsg(c->db));
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

enum sb_err store_checkpointer_start(struct sb_store *st, const char *path, int interval_ms)
{
    struct store_checkpointer *c = calloc(1, sizeof(*c));

    if (!c) return SB_ERR_NOMEM;
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return SB_ERR_DB;
    }
    sqlite3_busy_timeout(c->db, 1000);
    /* A connection finds out that the file is in WAL mode on its first read;
     * until then sqlite3_wal_checkpoint_v2() is a no-op that answers
     * SQLITE_OK, and this thread never moved a page (the WAL grew to 1 GB in
     * bench/soak.sh's 30 minutes). Read once so the checkpoints are real. */
    if (sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return SB_ERR_DB;
    }
    c->interval_ms = interval_ms;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, checkpoint_main, c) != 0) {
        sqlite3_close(c->db);
        free(c);
        return SB_ERR_NOMEM;
    }
    /* From now on the loop's connection leaves checkpoints to the thread. */
    sqlite3_wal_autocheckpoint(st->db, 0);
    st->checkpointer = c;
    return SB_OK;
}

void store_checkpointer_stop(struct sb_store *st)
{
    struct store_checkpointer *c = st->checkpointer;
    if (!c) return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    free(c);
    st->checkpointer = NULL;
    /* Back to SQLite's own checkpoints for whatever runs after us. */
    sqlite3_wal_autocheckpoint(st->db, 1000);
}

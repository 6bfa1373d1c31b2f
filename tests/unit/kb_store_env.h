/*
 * kb_store_env.h - a real store and knowledge base in a temporary SQLite
 * file, for the unit tests that need one (test_kb_editor, test_kb_learn,
 * test_kb_model). Header-only: each test is its own program.
 */
#ifndef KB_STORE_ENV_H
#define KB_STORE_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sb_kb.h"
#include "sb_store.h"

/* Opens path (64 bytes, filled from /tmp/sb-<tag>-XXXXXX), the store and
 * the knowledge base on it; 0 on success, -1 with the reason on stderr. */
static inline int kb_store_env_open(char path[64], const char *tag, struct sb_store **st,
                                    struct sb_kb **kb)
{
    struct sb_errbuf eb = {{0}};
    int fd;

    snprintf(path, 64, "/tmp/sb-%s-XXXXXX", tag);
    fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    unlink(path); /* the store creates it, with its WAL beside it */
    if (sb_store_open(path, "NORMAL", st, &eb) || sb_kb_open(sb_store_db(*st), kb, &eb)) {
        fprintf(stderr, "env: %s\n", eb.msg);
        return -1;
    }
    return 0;
}

/* Closes both and removes the database with its -wal and -shm files. */
static inline void kb_store_env_close(const char path[64], struct sb_store *st, struct sb_kb *kb)
{
    char p[80];
    sb_kb_close(kb);
    sb_store_close(st);
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

#endif

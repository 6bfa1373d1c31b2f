/*
 * worker.h - private to core/: one background thread for work that must
 * not block the event loop (password hashing). A job's work() runs on the
 * worker; its done() runs back on the loop, woken through an eventfd.
 */
#ifndef WORKER_H
#define WORKER_H

#include "sb.h"

struct sb_worker;

struct sb_job {
    struct sb_job *next;
    void (*work)(struct sb_job *job); /* on the worker thread */
    void (*done)(struct sb_job *job); /* on the loop, after work */
};

enum sb_err sb_worker_start(struct sb_worker **out);
/* Finishes queued jobs, then stops the thread. done() is still called for
 * every job, from sb_worker_drain(). NULL-safe. */
void sb_worker_stop(struct sb_worker *w);
/* The eventfd the loop watches; readable when jobs are done. */
int sb_worker_fd(const struct sb_worker *w);
/* Queues job (borrowed until its done() has run). */
void sb_worker_submit(struct sb_worker *w, struct sb_job *job);
/* On the loop: runs done() for every finished job. */
void sb_worker_drain(struct sb_worker *w);

#endif

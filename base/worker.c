/*
 * worker.c - the background thread behind worker.h. Two lists under one
 * mutex: jobs to do and jobs done; the loop learns of finished jobs from
 * an eventfd, so it never waits on the worker.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "worker.h"

struct sb_worker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct sb_job *todo_head, *todo_tail, *done;
    int efd;
    bool stop;
};

static void *worker_main(void *arg)
{
    struct sb_worker *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        struct sb_job *job;
        while (!w->todo_head && !w->stop)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->todo_head) break; /* stopping, nothing left */
        job = w->todo_head;
        w->todo_head = job->next;
        if (!w->todo_head) w->todo_tail = NULL;
        pthread_mutex_unlock(&w->lock);
        job->work(job);
        pthread_mutex_lock(&w->lock);
        job->next = w->done;
        w->done = job;
        uint64_t one = 1;
        if (write(w->efd, &one, sizeof(one)) < 0) {
            /* the counter cannot overflow in practice; the loop drains */
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

enum sb_err sb_worker_start(struct sb_worker **out)
{
    struct sb_worker *w = calloc(1, sizeof(*w));
    if (!w) return SB_ERR_NOMEM;
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->efd < 0) {
        free(w);
        return SB_ERR_IO;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        close(w->efd);
        free(w);
        return SB_ERR_NOMEM;
    }
    *out = w;
    return SB_OK;
}

int sb_worker_fd(const struct sb_worker *w)
{
    return w->efd;
}

void sb_worker_submit(struct sb_worker *w, struct sb_job *job)
{
    pthread_mutex_lock(&w->lock);
    job->next = NULL;
    if (w->todo_tail)
        w->todo_tail->next = job;
    else
        w->todo_head = job;
    w->todo_tail = job;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void sb_worker_drain(struct sb_worker *w)
{
    struct sb_job *list, *next;
    uint64_t n;
    if (read(w->efd, &n, sizeof(n)) < 0) {
        /* EAGAIN: nothing signalled; the list below may still hold jobs */
    }
    pthread_mutex_lock(&w->lock);
    list = w->done;
    w->done = NULL;
    pthread_mutex_unlock(&w->lock);
    for (; list; list = next) {
        next = list->next;
        list->done(list);
    }
}

void sb_worker_stop(struct sb_worker *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    sb_worker_drain(w);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    close(w->efd);
    free(w);
}

/*
 * fetch.h - outbound HTTP on the event loop: libcurl's multi interface
 * driven by the caller's epoll set, so a request never blocks the loop.
 *
 * sb_fetch_new() adds a timerfd (curl's timer) to epfd, and the sockets of
 * the transfers come and go in the same set. The loop asks
 * sb_fetch_owns() for each event and hands those to sb_fetch_on_event();
 * a finished transfer calls its done() from there. A command line tool
 * without a loop drives it with sb_fetch_run().
 *
 * Every request: only http and https (also for redirects, which are not
 * followed), a whole-request timeout, a cap on the response body and on
 * its headers. Everything runs on the loop's thread; nothing locks.
 */
#ifndef FETCH_H
#define FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/epoll.h>

#include "sb.h"

struct sb_fetch;

#define SB_FETCH_TIMEOUT_MS 30000                /* when req->timeout_ms is 0 */
#define SB_FETCH_MAX_RESPONSE (16 * 1024 * 1024) /* when req->max_response is 0 */
#define SB_FETCH_MAX_HEADERS (64 * 1024)         /* response header bytes */

/* One request; everything is borrowed for the sb_fetch_start() call only
 * (libcurl keeps copies). */
struct sb_fetch_req {
    const char *method;         /* NULL: GET */
    const char *url;            /* http:// or https:// */
    const char *const *headers; /* "Name: value", NULL-terminated; NULL: none */
    const char *body;           /* may hold any bytes; NULL: none */
    size_t body_len;
    int timeout_ms;      /* the whole request; 0: SB_FETCH_TIMEOUT_MS */
    size_t max_response; /* body bytes; 0: SB_FETCH_MAX_RESPONSE */
};

/* What came back; every pointer is borrowed for the done() call only. */
struct sb_fetch_res {
    long status;         /* the HTTP status, 0 when no response came */
    const char *error;   /* NULL when a response came (any status) */
    const char *headers; /* the final response's raw "Name: value\r\n" lines */
    size_t headers_len;
    const char *body; /* any bytes, NUL-terminated for convenience */
    size_t body_len;
};

/* Called from the loop (sb_fetch_on_event, sb_fetch_run); it may start and
 * cancel requests, but not free the fetcher. */
typedef void (*sb_fetch_done)(void *arg, const struct sb_fetch_res *res);

/* A fetcher whose timerfd and sockets are added to epfd (borrowed; it must
 * outlive the fetcher). Initialises libcurl once per process. */
enum sb_err sb_fetch_new(int epfd, struct sb_fetch **out);
/* Cancels everything in flight without calling done(). NULL-safe. */
void sb_fetch_free(struct sb_fetch *f);

/* Starts req. done(arg, res) is called exactly once, later, from
 * sb_fetch_on_event() or sb_fetch_run(), never from inside this call,
 * unless the request is cancelled first. *id (may be NULL) names it for
 * sb_fetch_cancel(); ids are never 0. SB_ERR_INVAL: not an http(s) URL or
 * a header with a line break; SB_ERR_NOMEM. */
enum sb_err sb_fetch_start(struct sb_fetch *f, const struct sb_fetch_req *req, sb_fetch_done done,
                           void *arg, uint64_t *id);
/* A method sb_fetch_start takes: 1 to 16 upper-case letters. */
bool sb_fetch_method_ok(const char *method);
/* Stops request id; its done() is not called. Unknown or finished ids are
 * ignored. Safe from inside any done(). */
void sb_fetch_cancel(struct sb_fetch *f, uint64_t id);

/* True for the events of f's timerfd and sockets (the loop asks first). */
bool sb_fetch_owns(const struct sb_fetch *f, const struct epoll_event *ev);
/* Handles one event that f owns; finished requests call their done(). */
void sb_fetch_on_event(struct sb_fetch *f, const struct epoll_event *ev);
/* Without a loop (command line tools): waits on epfd for up to timeout_ms,
 * handles f's events, ignores any other; returns how many requests are
 * still in flight. */
int sb_fetch_run(struct sb_fetch *f, int timeout_ms);
/* Requests in flight. */
int sb_fetch_pending(const struct sb_fetch *f);

#endif

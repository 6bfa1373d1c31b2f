/*
 * fetch.c - outbound HTTP on the event loop (fetch.h): libcurl's multi
 * interface in its socket mode. curl tells us which sockets to watch
 * (on_socket) and when to call it back (on_timer, a timerfd); the loop's
 * epoll reports readiness and we hand it to curl_multi_socket_action(),
 * then collect finished transfers and call their done().
 *
 * Our epoll entries carry a tag in the upper half of data.u64 and the fd in
 * the lower half (where the server compares data.fd), so the loop can tell
 * them from its own without a lookup.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fetch.h"

#define FETCH_TAG 0x5bfe7c40u
#define CONNECT_TIMEOUT_MS 10000

struct xfer {
    struct xfer *next;
    uint64_t id;
    CURL *easy;
    struct curl_slist *headers;
    sb_fetch_done done;
    void *arg;
    char *body, *head; /* both NUL-terminated when allocated */
    size_t body_len, body_cap, body_max;
    size_t head_len, head_cap;
    bool too_big, nomem;
    int timeout_ms;
    char errbuf[CURL_ERROR_SIZE];
};

struct sb_fetch {
    int epfd, timerfd;
    CURLM *multi;
    struct xfer *xfers;
    int nxfers;
    uint64_t next_id;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t tagged(int fd)
{
    return ((uint64_t)FETCH_TAG << 32) | (uint32_t)fd;
}

/* ---------- curl's callbacks ---------- */

/* curl wants socket s watched for `what`; socketp is non-NULL once we
 * added it (curl_multi_assign), so we know ADD from MOD. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct sb_fetch *f = userp;
    struct epoll_event ev = {0};
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (socketp) epoll_ctl(f->epfd, EPOLL_CTL_DEL, s, NULL);
        curl_multi_assign(f->multi, s, NULL);
        return 0;
    }
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    ev.data.u64 = tagged(s);
    if (epoll_ctl(f->epfd, op, s, &ev) != 0) {
        /* Our mark and the kernel's set disagree (an fd closed and reused
         * between two calls): do the other operation. */
        op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(f->epfd, op, s, &ev) != 0) return -1;
    }
    if (!socketp) curl_multi_assign(f->multi, s, f);
    return 0;
}

/* curl's one timer: -1 stops it, 0 means "as soon as you can" (a timerfd
 * set to 0 would be disarmed, so 1 ns). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct sb_fetch *f = userp;
    struct itimerspec its = {{0, 0}, {0, 0}};

    (void)multi;
    if (timeout_ms == 0) {
        its.it_value.tv_nsec = 1;
    } else if (timeout_ms > 0) {
        its.it_value.tv_sec = timeout_ms / 1000;
        its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000L;
    }
    return timerfd_settime(f->timerfd, 0, &its, NULL) == 0 ? 0 : -1;
}

/* Appends n bytes to a NUL-terminated buffer growing by doubling. */
static bool buf_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t want = *cap ? *cap : 1024;
        char *grown;
        while (want < *len + n + 1)
            want *= 2;
        grown = realloc(*buf, want);
        if (!grown) return false;
        *buf = grown;
        *cap = want;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

/* Returning less than was given makes curl stop the transfer. */
static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    struct xfer *x = userp;
    size_t len = size * n;

    if (len > x->body_max - x->body_len) {
        x->too_big = true;
        return 0;
    }
    if (!buf_append(&x->body, &x->body_len, &x->body_cap, data, len)) {
        x->nomem = true;
        return 0;
    }
    return len;
}

/* Keeps the header lines of the last response only: an interim response
 * (100 Continue) has its own status line, which starts over. */
static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    struct xfer *x = userp;
    size_t len = size * n;

    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        x->head_len = 0;
        return len;
    }
    if (len == 0 || data[0] == '\r' || data[0] == '\n') return len;
    if (len > SB_FETCH_MAX_HEADERS - x->head_len) {
        x->too_big = true;
        return 0;
    }
    if (!buf_append(&x->head, &x->head_len, &x->head_cap, data, len)) {
        x->nomem = true;
        return 0;
    }
    return len;
}

/* ---------- transfers ---------- */

static void xfer_free(struct xfer *x)
{
    if (!x) return;
    if (x->easy) curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    free(x->head);
    free(x);
}

/* Takes x out of f's list and out of the multi handle. */
static void xfer_detach(struct sb_fetch *f, struct xfer *x)
{
    for (struct xfer **link = &f->xfers; *link; link = &(*link)->next) {
        if (*link == x) {
            *link = x->next;
            f->nxfers--;
            break;
        }
    }
    curl_multi_remove_handle(f->multi, x->easy);
}

bool sb_fetch_method_ok(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > 16) return false;
    for (; *m; m++)
        if (*m < 'A' || *m > 'Z') return false;
    return true;
}

static bool has_line_break(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static bool http_url(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

static enum sb_err set_headers(struct xfer *x, const char *const *headers)
{
    bool own_expect = false;
    for (const char *const *h = headers; h && *h; h++) {
        struct curl_slist *grown;
        if (has_line_break(*h) || !strchr(*h, ':')) return SB_ERR_INVAL;
        if (strncasecmp(*h, "expect:", 7) == 0) own_expect = true;
        grown = curl_slist_append(x->headers, *h);
        if (!grown) return SB_ERR_NOMEM;
        x->headers = grown;
    }
    /* curl would send "Expect: 100-continue" before a large body and wait
     * up to a second for servers that never answer it. */
    if (!own_expect) {
        struct curl_slist *grown = curl_slist_append(x->headers, "Expect:");
        if (!grown) return SB_ERR_NOMEM;
        x->headers = grown;
    }
    return SB_OK;
}

static enum sb_err set_method(struct xfer *x, const char *method, const char *body, size_t len)
{
    CURL *e = x->easy;
    bool has_body = body != NULL;

    if (strcmp(method, "GET") == 0 && !has_body)
        return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) ? SB_ERR_INVAL : SB_OK;
    if (strcmp(method, "HEAD") == 0 && !has_body)
        return curl_easy_setopt(e, CURLOPT_NOBODY, 1L) ? SB_ERR_INVAL : SB_OK;
    if (has_body || strcmp(method, "POST") == 0) {
        /* The size first, so the copy takes exactly len bytes (any bytes). */
        if (curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) ||
            curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : ""))
            return SB_ERR_NOMEM;
    }
    if (strcmp(method, "POST") != 0 && curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method))
        return SB_ERR_NOMEM;
    return SB_OK;
}

static enum sb_err xfer_setup(struct xfer *x, const struct sb_fetch_req *req)
{
    CURL *e = x->easy;
    const char *method = req->method ? req->method : "GET";
    int connect_ms = x->timeout_ms < CONNECT_TIMEOUT_MS ? x->timeout_ms : CONNECT_TIMEOUT_MS;
    enum sb_err rc;

    if (!req->url || !http_url(req->url) || has_line_break(req->url) || !sb_fetch_method_ok(method))
        return SB_ERR_INVAL;
    rc = set_headers(x, req->headers);
    if (rc) return rc;
    rc = set_method(x, method, req->body, req->body_len);
    if (rc) return rc;
    if (curl_easy_setopt(e, CURLOPT_URL, req->url) ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) ||
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, "switchboard") ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)x->timeout_ms) ||
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms) ||
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->body_max) ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, x) ||
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) ||
        curl_easy_setopt(e, CURLOPT_HEADERDATA, x) ||
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) ||
        curl_easy_setopt(e, CURLOPT_PRIVATE, x))
        return SB_ERR_INVAL;
    return SB_OK;
}

enum sb_err sb_fetch_start(struct sb_fetch *f, const struct sb_fetch_req *req, sb_fetch_done done,
                           void *arg, uint64_t *id)
{
    struct xfer *x = calloc(1, sizeof(*x));
    enum sb_err rc;

    if (!x) return SB_ERR_NOMEM;
    x->done = done;
    x->arg = arg;
    x->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : SB_FETCH_TIMEOUT_MS;
    x->body_max = req->max_response ? req->max_response : SB_FETCH_MAX_RESPONSE;
    x->easy = curl_easy_init();
    if (!x->easy) {
        xfer_free(x);
        return SB_ERR_NOMEM;
    }
    rc = xfer_setup(x, req);
    if (rc) {
        xfer_free(x);
        return rc;
    }
    if (curl_multi_add_handle(f->multi, x->easy) != CURLM_OK) {
        xfer_free(x);
        return SB_ERR_NOMEM;
    }
    x->id = ++f->next_id;
    x->next = f->xfers;
    f->xfers = x;
    f->nxfers++;
    if (id) *id = x->id;
    return SB_OK;
}

void sb_fetch_cancel(struct sb_fetch *f, uint64_t id)
{
    for (struct xfer *x = f->xfers; x; x = x->next) {
        if (x->id == id) {
            xfer_detach(f, x);
            xfer_free(x);
            return;
        }
    }
}

static const char *error_text(struct xfer *x, CURLcode cc, char *buf, size_t cap)
{
    if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED)
        snprintf(buf, cap, "response too big (over %zu bytes)", x->body_max);
    else if (x->nomem)
        snprintf(buf, cap, "out of memory");
    else if (cc == CURLE_OPERATION_TIMEDOUT)
        snprintf(buf, cap, "timeout after %d ms", x->timeout_ms);
    else
        snprintf(buf, cap, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
    return buf;
}

/* Calls done() for every finished transfer. A done() may start or cancel
 * requests: each message is read afresh after it. */
static void collect_finished(struct sb_fetch *f)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(f->multi, &left))) {
        CURL *easy = m->easy_handle;
        CURLcode cc = m->data.result;
        struct sb_fetch_res res = {0};
        char why[CURL_ERROR_SIZE + 64];
        struct xfer *x = NULL;

        if (m->msg != CURLMSG_DONE) continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        if (!x) continue;
        xfer_detach(f, x);
        if (cc == CURLE_OK) {
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res.status);
            res.headers = x->head ? x->head : "";
            res.headers_len = x->head_len;
            res.body = x->body ? x->body : "";
            res.body_len = x->body_len;
        } else {
            res.error = error_text(x, cc, why, sizeof(why));
            res.headers = res.body = "";
        }
        x->done(x->arg, &res);
        xfer_free(x);
    }
}

/* ---------- the loop's side ---------- */

bool sb_fetch_owns(const struct sb_fetch *f, const struct epoll_event *ev)
{
    return f && (ev->data.u64 >> 32) == FETCH_TAG;
}

void sb_fetch_on_event(struct sb_fetch *f, const struct epoll_event *ev)
{
    int fd = (int)(uint32_t)ev->data.u64, running = 0;

    if (fd == f->timerfd) {
        uint64_t expirations;
        if (read(f->timerfd, &expirations, sizeof(expirations)) < 0 && errno == EAGAIN) return;
        curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    } else {
        int mask = 0;
        if (ev->events & EPOLLIN) mask |= CURL_CSELECT_IN;
        if (ev->events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (ev->events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
        curl_multi_socket_action(f->multi, fd, mask, &running);
    }
    collect_finished(f);
}

int sb_fetch_run(struct sb_fetch *f, int timeout_ms)
{
    struct epoll_event ev[16];
    int n = epoll_wait(f->epfd, ev, (int)SB_ARRAY_LEN(ev), timeout_ms);

    for (int i = 0; i < n; i++)
        if (sb_fetch_owns(f, &ev[i])) sb_fetch_on_event(f, &ev[i]);
    return f->nxfers;
}

int sb_fetch_pending(const struct sb_fetch *f)
{
    return f ? f->nxfers : 0;
}

enum sb_err sb_fetch_new(int epfd, struct sb_fetch **out)
{
    struct sb_fetch *f;
    struct epoll_event ev = {.events = EPOLLIN};

    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) return SB_ERR_IO;
    f = calloc(1, sizeof(*f));
    if (!f) return SB_ERR_NOMEM;
    f->epfd = epfd;
    f->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    f->multi = curl_multi_init();
    ev.data.u64 = tagged(f->timerfd);
    if (f->timerfd < 0 || !f->multi || epoll_ctl(epfd, EPOLL_CTL_ADD, f->timerfd, &ev) != 0 ||
        curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_socket) ||
        curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f) ||
        curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, on_timer) ||
        curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f)) {
        sb_fetch_free(f);
        return SB_ERR_IO;
    }
    *out = f;
    return SB_OK;
}

void sb_fetch_free(struct sb_fetch *f)
{
    struct xfer *x, *next;
    if (!f) return;
    for (x = f->xfers; x; x = next) {
        next = x->next;
        curl_multi_remove_handle(f->multi, x->easy);
        xfer_free(x);
    }
    /* Closes the cached connections, which removes their sockets from
     * epfd through on_socket. */
    if (f->multi) curl_multi_cleanup(f->multi);
    if (f->timerfd >= 0) {
        epoll_ctl(f->epfd, EPOLL_CTL_DEL, f->timerfd, NULL);
        close(f->timerfd);
    }
    free(f);
}

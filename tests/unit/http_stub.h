/*
 * http_stub.h - a tiny HTTP/1.1 server on 127.0.0.1 for tests of outbound
 * HTTP (test_fetch.c, tests/plugins/test_http.c): real sockets, a thread
 * per connection, "Connection: close". Paths:
 *   /hello        200 "hello", X-Test twice ("one" then "two"), text/plain
 *   /echo         200 "<METHOD>|<X-In header>|<body>"
 *   /status/500   500 "boom"
 *   /slow/<ms>    200 "slow" after ms
 *   /hang         never answers (until the stub stops)
 *   /big/<n>      200 with n bytes of 'x'
 *   /bytes        200 with the bytes 00 ff fe 41
 *   /redirect     302 to /hello
 *   /gate/<n>     200 "together" once n requests wait in /gate at once
 *                 (503 "alone" if that does not happen within 20 s)
 *   anything else 404
 */
#ifndef HTTP_STUB_H
#define HTTP_STUB_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct http_stub {
    int lfd, port;
    int stop[2]; /* readable once stopping: wakes every waiting handler */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int active;    /* connection threads alive */
    int in_gate;   /* requests waiting in /gate */
    int requests;  /* requests read */
    char base[64]; /* "http://127.0.0.1:PORT" */
};

struct http_stub_conn {
    struct http_stub *s;
    int fd;
};

/* Sleeps ms unless the stub stops first; false when it stopped. */
static inline bool http_stub_nap(struct http_stub *s, int ms)
{
    struct pollfd p = {.fd = s->stop[0], .events = POLLIN};
    return poll(&p, 1, ms) == 0;
}

static inline void http_stub_send(int fd, int status, const char *extra, const char *body,
                                  size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                     len, extra ? extra : "");
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL) != n) return;
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, body + off, len - off, MSG_NOSIGNAL);
        if (w <= 0) return;
        off += (size_t)w;
    }
}

/* The value of header name in the request head, into out. */
static inline void http_stub_header(const char *head, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
            return;
        }
    }
}

static inline void http_stub_gate(struct http_stub *s, int fd, int n)
{
    struct timespec until;
    bool together;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&s->mu);
    s->in_gate++;
    pthread_cond_broadcast(&s->cv);
    while (s->in_gate < n && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
        ;
    together = s->in_gate >= n;
    pthread_mutex_unlock(&s->mu);
    if (together)
        http_stub_send(fd, 200, NULL, "together", 8);
    else
        http_stub_send(fd, 503, NULL, "alone", 5);
}

static inline void http_stub_serve(struct http_stub *s, int fd)
{
    char req[65536], method[16], path[256], in[256];
    size_t len = 0, body_len = 0;
    char *end = NULL, *body;
    char cl[32];

    while (len < sizeof(req) - 1 && !end) {
        ssize_t r = read(fd, req + len, sizeof(req) - 1 - len);
        if (r <= 0) return;
        len += (size_t)r;
        req[len] = '\0';
        end = strstr(req, "\r\n\r\n");
    }
    if (!end || sscanf(req, "%15s %255s", method, path) != 2) return;
    http_stub_header(req, "Content-Length", cl, sizeof(cl));
    body_len = cl[0] ? strtoul(cl, NULL, 10) : 0;
    body = end + 4;
    while ((size_t)(body - req) + body_len > len && len < sizeof(req) - 1) {
        ssize_t r = read(fd, req + len, sizeof(req) - 1 - len);
        if (r <= 0) return;
        len += (size_t)r;
    }
    pthread_mutex_lock(&s->mu);
    s->requests++;
    pthread_mutex_unlock(&s->mu);
    if (strcmp(path, "/hello") == 0) {
        http_stub_send(fd, 200, "X-Test: one\r\nX-Test: two\r\nContent-Type: text/plain\r\n",
                       "hello", 5);
    } else if (strcmp(path, "/echo") == 0) {
        char out[65536 + 512];
        int n;
        http_stub_header(req, "X-In", in, sizeof(in));
        n = snprintf(out, sizeof(out), "%s|%s|", method, in);
        memcpy(out + n, body, body_len);
        http_stub_send(fd, 200, NULL, out, (size_t)n + body_len);
    } else if (strcmp(path, "/status/500") == 0) {
        http_stub_send(fd, 500, NULL, "boom", 4);
    } else if (strncmp(path, "/slow/", 6) == 0) {
        if (http_stub_nap(s, (int)strtol(path + 6, NULL, 10)))
            http_stub_send(fd, 200, NULL, "slow", 4);
    } else if (strcmp(path, "/hang") == 0) {
        http_stub_nap(s, -1);
    } else if (strncmp(path, "/big/", 5) == 0) {
        size_t n = strtoul(path + 5, NULL, 10);
        char *big = malloc(n ? n : 1);
        memset(big, 'x', n);
        http_stub_send(fd, 200, NULL, big, n);
        free(big);
    } else if (strcmp(path, "/bytes") == 0) {
        http_stub_send(fd, 200, NULL, "\x00\xff\xfe\x41", 4);
    } else if (strcmp(path, "/redirect") == 0) {
        http_stub_send(fd, 302, "Location: /hello\r\n", "", 0);
    } else if (strncmp(path, "/gate/", 6) == 0) {
        http_stub_gate(s, fd, (int)strtol(path + 6, NULL, 10));
    } else {
        http_stub_send(fd, 404, NULL, "", 0);
    }
}

static inline void *http_stub_conn_main(void *arg)
{
    struct http_stub_conn *c = arg;
    struct http_stub *s = c->s;
    http_stub_serve(s, c->fd);
    close(c->fd);
    free(c);
    pthread_mutex_lock(&s->mu);
    s->active--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static inline void *http_stub_accept_main(void *arg)
{
    struct http_stub *s = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = s->lfd, .events = POLLIN},
                              {.fd = s->stop[0], .events = POLLIN}};
        struct http_stub_conn *c;
        pthread_t t;
        int fd;
        if (poll(p, 2, -1) < 0 || p[1].revents) break;
        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        c = malloc(sizeof(*c));
        c->s = s;
        c->fd = fd;
        pthread_mutex_lock(&s->mu);
        s->active++;
        pthread_mutex_unlock(&s->mu);
        pthread_create(&t, NULL, http_stub_conn_main, c);
        pthread_detach(t);
    }
    return NULL;
}

static inline int http_stub_start(struct http_stub *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);

    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(s->lfd, 128) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &alen) != 0 ||
        pipe(s->stop) != 0)
        return -1;
    s->port = ntohs(a.sin_port);
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
    return pthread_create(&s->thread, NULL, http_stub_accept_main, s) == 0 ? 0 : -1;
}

static inline void http_stub_stop(struct http_stub *s)
{
    if (write(s->stop[1], "x", 1) != 1) return;
    pthread_join(s->thread, NULL);
    pthread_mutex_lock(&s->mu);
    while (s->active > 0)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    close(s->lfd);
    close(s->stop[0]);
    close(s->stop[1]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

/* A port on 127.0.0.1 that nothing listens on (bound, then closed). */
static inline int http_stub_closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

#endif

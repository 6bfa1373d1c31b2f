/*
 * server.c - start-up, the event loop and shutdown.
 *
 * One thread: an epoll loop that owns libmicrohttpd (external epoll mode),
 * a signalfd for SIGTERM/SIGINT/SIGHUP and a one-second timerfd for
 * keep-alives. Every request, every plugin call and every store write
 * happens here, so nothing needs a lock (Redis, Prosody).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent_events.h"
#include "channels.h"
#include "connections.h"
#include "handoff.h"
#include "http.h"
#include "lua_host.h"
#include "pipeline.h"
#include "ratelimit.h"
#include "routes.h"
#include "sb_kb.h"
#include "sb_log.h"
#include "server.h"
#include "server_run.h"
#include "sse.h"
#include "words.h"
#include "worker.h"

#define MAX_CONNECTIONS 20000
/* File descriptors kept back from connections: the store, its WAL and
 * shared memory, files being served, attachments, plugin files, the
 * worker. Without them a flood of connections would leave the server
 * unable to open the very files its answers need. */
#define FD_RESERVE_MIN 64
#define FD_RESERVE_MAX 1024
/* libmicrohttpd's memory pool per connection (its default is 32 KiB). It
 * holds the request head and the response head; half of it is the first
 * read buffer, which libmicrohttpd zeroes when it shrinks it after the head,
 * so an idle event stream keeps that half resident for its whole life.
 * 16 KiB still takes 15 KiB of request headers (431 above that) and reads
 * bodies in pieces as before; it saves 8 KiB per open stream (BENCHMARKS.md,
 * "Chat widget"). */
#define CONN_MEMORY (16 * 1024)

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The connection limit: the file limit less a reserve (an eighth of it,
 * 64..1024), and never above MAX_CONNECTIONS. */
static unsigned connection_limit(void)
{
    struct rlimit rl;
    rlim_t nofile = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
    rlim_t reserve = nofile / 8;

    if (reserve < FD_RESERVE_MIN) reserve = FD_RESERVE_MIN;
    if (reserve > FD_RESERVE_MAX) reserve = FD_RESERVE_MAX;
    if (nofile <= 2 * reserve) return (unsigned)(nofile / 2);
    return nofile - reserve > MAX_CONNECTIONS ? MAX_CONNECTIONS : (unsigned)(nofile - reserve);
}

static enum sb_err write_port_file(const struct sb_server *srv)
{
    char path[SB_PATH_MAX + 32], tmp[SB_PATH_MAX + 40];
    FILE *f;

    snprintf(path, sizeof(path), "%s/switchboard.port", srv->cfg.data_dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) return SB_ERR_IO;
    fprintf(f, "%d\n", srv->port);
    if (fclose(f) != 0) return SB_ERR_IO;
    /* rename is atomic: a reader sees no file or the whole number. */
    return rename(tmp, path) == 0 ? SB_OK : SB_ERR_IO;
}

static void remove_port_file(const struct sb_server *srv)
{
    char path[SB_PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/switchboard.port", srv->cfg.data_dir);
    unlink(path);
}

/* The store's event hook: every stored event wakes, after its commit, the
 * streams that follow it: the agents' (every conversation they may see)
 * and the conversation's own. The HTTP layer's streams and the agent API's
 * know nothing of each other; the server, which has both, joins them. */
static void event_stored(void *arg, int64_t conv_id)
{
    struct sb_server *srv = arg;
    agent_events_notify(srv);
    sse_notify(srv, conv_id);
}

enum sb_err sb_server_start_handoff(struct sb_server *srv, struct sb_errbuf *eb)
{
    enum sb_err rc =
        handoff_start(&(struct handoff_deps){.store = srv->store,
                                             .kb = srv->kb,
                                             .host = srv->host,
                                             .cfg = &srv->cfg,
                                             .words = srv->words,
                                             .messages_out = &srv->metrics.messages_out,
                                             .sla_warnings = srv->metrics.sla_warnings,
                                             .sla_breaches = srv->metrics.sla_breaches},
                      &srv->handoff, eb);
    if (rc) return rc;
    srv->pipeline = (struct pipeline_deps){
        .store = srv->store,
        .kb = srv->kb,
        .host = srv->host,
        .words = srv->words,
        .handoff = srv->handoff,
        .messages_in = &srv->metrics.messages_in,
        .send = {.store = srv->store, .messages_out = &srv->metrics.messages_out},
        .duplicates = &srv->metrics.duplicates,
        .handoffs = &srv->metrics.handoffs};
    return SB_OK;
}

static enum sb_err open_parts(struct sb_server *srv, struct sb_errbuf *eb)
{
    char dbpath[SB_PATH_MAX + 32];
    struct sb_host_deps deps;
    enum sb_err rc;
    int loaded = 0;

    if (mkdir(srv->cfg.data_dir, 0700) != 0 && errno != EEXIST)
        return sb_fail(eb, SB_ERR_IO, "%s: %s", srv->cfg.data_dir, strerror(errno));
    snprintf(dbpath, sizeof(dbpath), "%s/switchboard.db", srv->cfg.data_dir);
    rc = sb_store_open(dbpath, srv->cfg.synchronous, &srv->store, eb);
    if (rc) return rc;
    sb_store_on_event(srv->store, event_stored, srv);
    if (sb_store_background_checkpoints(srv->store, 500))
        sb_warn("store: checkpoints stay on the event loop (no background thread)");
    rc = sb_kb_open(sb_store_db(srv->store), &srv->kb, eb);
    if (rc) return rc;
    rc = sb_kb_set_locales(srv->kb, srv->cfg.locales, eb);
    if (rc) return rc;
    rc = sb_kb_set_policy(
        srv->kb,
        &(struct sb_kb_policy){srv->cfg.kb_answer_threshold, srv->cfg.kb_clarify_threshold,
                               srv->cfg.kb_learn_half_life_days, srv->cfg.kb_learn_refresh_s},
        eb);
    if (rc) return rc;
    sb_kb_background_rebuilds(srv->kb, srv->cfg.kb_rebuild_in_place_ms);
    rc = sb_worker_start(&srv->worker);
    if (rc) return sb_fail(eb, rc, "worker thread: %s", sb_strerror(rc));
    rc = sb_limits_new(16384, &srv->limits);
    if (rc) return sb_fail(eb, rc, "rate limits: %s", sb_strerror(rc));
    rc = sb_random_hex(srv->help_view_key, 32);
    if (rc) return sb_fail(eb, rc, "help-center view key: %s", sb_strerror(rc));
    rc = sb_re_cache_new(512, 100000, &srv->re);
    if (rc) return sb_fail(eb, rc, "regex cache: %s", sb_strerror(rc));
    snprintf(dbpath, sizeof(dbpath), "%s/locales", srv->cfg.web_dir);
    rc = sb_words_load(dbpath, &srv->words, eb);
    if (rc) return rc;
    deps = (struct sb_host_deps){.store = srv->store,
                                 .kb = srv->kb,
                                 .re = srv->re,
                                 .cfg = &srv->cfg,
                                 .public_url = srv->public_url,
                                 .words = srv->words};
    rc = sb_host_new(&deps, &srv->host);
    if (rc) return sb_fail(eb, rc, "plugin host: %s", sb_strerror(rc));
    rc = sb_server_start_handoff(srv, eb);
    if (rc) return rc;
    rc = channels_new(&(struct channels_deps){.store = srv->store,
                                              .host = srv->host,
                                              .pl = &srv->pipeline,
                                              .data_dir = srv->cfg.data_dir,
                                              .default_locale = srv->cfg.default_locale,
                                              .max_text = srv->cfg.max_text,
                                              .max_attachment = srv->cfg.max_attachment,
                                              .max_attempts = srv->cfg.outbox_max_attempts,
                                              .max_age_ms = srv->cfg.outbox_max_age_s * 1000LL,
                                              .metrics = &srv->metrics.channels},
                      &srv->channels);
    if (rc) return sb_fail(eb, rc, "channels: %s", sb_strerror(rc));
    sb_host_load_dir(srv->host, srv->cfg.plugins_dir, &loaded);
    sb_info("plugins: %d loaded from %s, %d intents", loaded, srv->cfg.plugins_dir,
            sb_host_intent_count(srv->host));
    return SB_OK;
}

static enum sb_err start_http(struct sb_server *srv, struct sb_errbuf *eb)
{
    struct sockaddr_in addr = {0};
    const union MHD_DaemonInfo *info;
    unsigned limit = connection_limit();
    enum sb_err rc;

    if (ipnet_list_parse(srv->cfg.trusted_proxies, &srv->proxies, eb)) return SB_ERR_INVAL;
    /* A proxy carries many clients: its connections are not capped. */
    rc = conn_table_new(srv->cfg.max_conns_per_ip, srv->cfg.trust_proxy ? &srv->proxies : NULL,
                        srv->cfg.http_header_timeout_s, &srv->conns);
    if (rc) return sb_fail(eb, rc, "connection table: %s", sb_strerror(rc));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)srv->cfg.port);
    if (inet_pton(AF_INET, srv->cfg.bind, &addr.sin_addr) != 1)
        return sb_fail(eb, SB_ERR_INVAL, "bind address '%s' is not an IPv4 address", srv->cfg.bind);
    srv->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, (uint16_t)srv->cfg.port,
        conn_accept_policy, srv->conns, http_dispatch, srv, MHD_OPTION_NOTIFY_COMPLETED,
        http_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, conn_notify, srv->conns,
        MHD_OPTION_UNESCAPE_CALLBACK, conn_unescape, srv->conns, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)srv->cfg.http_timeout_s, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONN_MEMORY, MHD_OPTION_END);
    if (!srv->mhd)
        return sb_fail(eb, SB_ERR_IO, "cannot listen on %s:%d: %s", srv->cfg.bind, srv->cfg.port,
                       strerror(errno));
    sb_info("connections: at most %u, %d per client address, request heads within %d s", limit,
            srv->cfg.max_conns_per_ip, srv->cfg.http_header_timeout_s);
    info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : srv->cfg.port;
    if (srv->cfg.public_url[0]) {
        snprintf(srv->public_url, sizeof(srv->public_url), "%s", srv->cfg.public_url);
    } else {
        const char *host = strcmp(srv->cfg.bind, "0.0.0.0") == 0 ? "127.0.0.1" : srv->cfg.bind;
        snprintf(srv->public_url, sizeof(srv->public_url), "http://%s:%d", host, srv->port);
    }
    /* Links are built as public_url + "/help/..." */
    size_t n = strlen(srv->public_url);
    while (n && srv->public_url[n - 1] == '/')
        srv->public_url[--n] = '\0';
    return SB_OK;
}

/* Blocked before any thread starts, so every thread inherits the mask and
 * the signals reach only the loop's signalfd. */
static void block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int add_fd(int epfd, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static enum sb_err setup_loop(struct sb_server *srv, struct sb_errbuf *eb)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    struct itimerspec tick = {.it_interval = {1, 0}, .it_value = {1, 0}};
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    srv->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    srv->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    srv->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!info || srv->sigfd < 0 || srv->tickfd < 0 || srv->epfd < 0 ||
        timerfd_settime(srv->tickfd, 0, &tick, NULL) != 0 || add_fd(srv->epfd, info->epoll_fd) ||
        add_fd(srv->epfd, srv->sigfd) || add_fd(srv->epfd, srv->tickfd) ||
        add_fd(srv->epfd, sb_worker_fd(srv->worker)))
        return sb_fail(eb, SB_ERR_IO, "event loop setup: %s", strerror(errno));
    return SB_OK;
}

static void begin_shutdown(struct sb_server *srv, int64_t *deadline)
{
    MHD_socket lsock;
    if (srv->stopping) return;
    srv->stopping = true;
    *deadline = sb_mono_ns() + (int64_t)srv->cfg.shutdown_grace_s * 1000000000;
    /* Stop accepting; requests already read still get their answers. */
    lsock = MHD_quiesce_daemon(srv->mhd);
    if (lsock != MHD_INVALID_SOCKET) close(lsock);
    sse_close_all(srv);
    agent_events_close_all(srv);
    sb_info("shutting down: %d requests in flight", srv->active_requests);
}

static void handle_signals(struct sb_server *srv, int64_t *deadline)
{
    struct signalfd_siginfo si;
    while (read(srv->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            sb_info("SIGHUP: reloading plugins");
            sb_host_reload_all(srv->host);
        } else {
            begin_shutdown(srv, deadline);
        }
    }
}

static void run_loop(struct sb_server *srv)
{
    int64_t deadline = 0;
    unsigned ticks = 0;
    bool more = false; /* the channels left work for the next turn */

    for (;;) {
        struct epoll_event ev[8];
        MHD_UNSIGNED_LONG_LONG mhd_timeout = 0;
        int timeout = 1000, n;

        if (MHD_get_timeout(srv->mhd, &mhd_timeout) == MHD_YES && mhd_timeout < 1000)
            timeout = (int)mhd_timeout;
        if (sb_store_pending(srv->store) || srv->ndeferred || more) timeout = 0;
        n = epoll_wait(srv->epfd, ev, (int)SB_ARRAY_LEN(ev), timeout);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd == srv->sigfd) {
                handle_signals(srv, &deadline);
            } else if (ev[i].data.fd == sb_worker_fd(srv->worker)) {
                sb_worker_drain(srv->worker); /* resumes the requests it served */
            } else if (ev[i].data.fd == srv->tickfd) {
                uint64_t expirations;
                if (read(srv->tickfd, &expirations, sizeof(expirations)) > 0) {
                    sse_keepalive(srv, ++ticks);
                    agent_events_keepalive(srv, ticks);
                    handoff_timers(srv->handoff);
                    conn_sweep(srv->conns, sb_mono_ns());
                    sb_kb_tick(srv->kb); /* a kb import beside us is built at once */
                    channels_tick(srv->channels);
                }
            }
        }
        MHD_run(srv->mhd);
        if (sb_store_pending(srv->store) || srv->ndeferred) {
            /* Group commit: one flush for everything this turn handled,
             * then the held-back answers and the event streams go out. */
            enum sb_err rc = sb_store_flush(srv->store);
            srv->metrics.store_flushes++;
            srv->metrics.deferred_answers += srv->ndeferred;
            if (rc)
                sb_error("store: batch not committed (%s); its requests get 503", sb_strerror(rc));
            /* The flush ran the batch's after-commit effects (streams
             * woken) or, failing, dropped them (store/unit.c). */
            http_release_deferred(srv, rc == SB_OK);
            MHD_run(srv->mhd);
        }
        /* After the answers: the bot's turns of accepted channel messages
         * and the deliveries they queued, flushed by the next turn. */
        more = !srv->stopping && channels_run(srv->channels);
        if (srv->stopping) {
            if (http_idle(srv) && !sb_store_pending(srv->store)) break;
            if (sb_mono_ns() > deadline) {
                sb_warn("shutdown grace period over with %d requests in flight",
                        srv->active_requests);
                break;
            }
        }
    }
}

static void close_parts(struct sb_server *srv)
{
    /* Jobs first: their completions resume connections of the daemon. */
    sb_worker_stop(srv->worker);
    free(srv->deferred);
    if (srv->mhd) MHD_stop_daemon(srv->mhd);
    conn_table_free(srv->conns);
    channels_stop(srv->channels);
    sb_host_free(srv->host);
    channels_free(srv->channels);
    handoff_stop(srv->handoff);
    srv->handoff = NULL;
    sb_kb_close(srv->kb);
    sb_re_cache_free(srv->re);
    sb_words_free(srv->words);
    free(srv->widget_words);
    free(srv->widget_locales);
    sb_limits_free(srv->limits);
    sb_store_close(srv->store);
    if (srv->epfd > 0) close(srv->epfd);
    if (srv->sigfd > 0) close(srv->sigfd);
    if (srv->tickfd > 0) close(srv->tickfd);
}

int sb_server_run(const struct sb_config *cfg)
{
    struct sb_server *srv = calloc(1, sizeof(*srv));
    struct sb_errbuf eb = {{0}};
    int code = 1;

    if (!srv) return 1;
    srv->cfg = *cfg;
    srv->routes = sb_route_tables;
    srv->started_ns = sb_mono_ns();
    srv->epfd = srv->sigfd = srv->tickfd = -1;
    raise_fd_limit();
    block_signals();
    if (open_parts(srv, &eb) || start_http(srv, &eb) || setup_loop(srv, &eb)) {
        sb_error("%s", eb.msg);
        goto out;
    }
    if (write_port_file(srv)) {
        sb_error("cannot write %s/switchboard.port", srv->cfg.data_dir);
        goto out;
    }
    printf("switchboard listening on http://%s:%d\n", srv->cfg.bind, srv->port);
    fflush(stdout);
    sb_info("ready in %.1f ms: http://%s:%d (links use %s)",
            (double)(sb_mono_ns() - srv->started_ns) / 1e6, srv->cfg.bind, srv->port,
            srv->public_url);
    handoff_timers(srv->handoff);  /* what fell due while the server was down */
    channels_start(srv->channels); /* turns and deliveries a restart left */
    run_loop(srv);
    remove_port_file(srv);
    code = 0;
out:
    close_parts(srv);
    /* Logged last: closing the parts waits for a knowledge-base build under way. */
    if (code == 0) sb_info("stopped");
    free(srv);
    return code;
}

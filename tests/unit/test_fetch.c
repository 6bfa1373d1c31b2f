/*
 * test_fetch.c - fetch.c against a real HTTP server on 127.0.0.1
 * (http_stub.h), driven by an epoll set as the server's loop drives it:
 * responses with their headers and body, error statuses, timeouts,
 * refused connections, cancelling, and many requests at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/epoll.h>

#include "fetch.h"
#include "http_stub.h"

struct env {
    int epfd;
    struct sb_fetch *f;
    struct http_stub stub;
};

/* What one done() saw (copied: the response is borrowed). */
struct got {
    int calls;
    long status;
    char error[256];
    char headers[4096];
    char body[65536];
    size_t body_len;
    struct env *env; /* for the done() that starts another request */
};

static void record(void *arg, const struct sb_fetch_res *res)
{
    struct got *g = arg;
    g->calls++;
    g->status = res->status;
    snprintf(g->error, sizeof(g->error), "%s", res->error ? res->error : "");
    snprintf(g->headers, sizeof(g->headers), "%.*s", (int)res->headers_len, res->headers);
    g->body_len = res->body_len < sizeof(g->body) ? res->body_len : sizeof(g->body);
    memcpy(g->body, res->body, g->body_len);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0 || sb_fetch_new(e->epfd, &e->f) || http_stub_start(&e->stub)) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    sb_fetch_free(e->f);
    http_stub_stop(&e->stub);
    close(e->epfd);
    free(e);
    return 0;
}

/* Runs the loop until nothing is in flight (at most 30 s: a hang fails). */
static void run_all(struct env *e)
{
    for (int i = 0; i < 300 && sb_fetch_pending(e->f) > 0; i++)
        sb_fetch_run(e->f, 100);
    assert_int_equal(sb_fetch_pending(e->f), 0);
}

static void get(struct env *e, const char *path, int timeout_ms, size_t max, struct got *g)
{
    char url[256];
    struct sb_fetch_req req = {.url = url, .timeout_ms = timeout_ms, .max_response = max};
    snprintf(url, sizeof(url), "%s%s", e->stub.base, path);
    assert_int_equal(sb_fetch_start(e->f, &req, record, g, NULL), SB_OK);
}

static void test_a_response_comes_with_its_status_headers_and_body(void **state)
{
    struct env *e = *state;
    struct got g = {0};
    get(e, "/hello", 0, 0, &g);
    assert_int_equal(g.calls, 0); /* never from inside sb_fetch_start */
    run_all(e);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.status, 200);
    assert_string_equal(g.error, "");
    assert_int_equal(g.body_len, 5);
    assert_memory_equal(g.body, "hello", 5);
    assert_non_null(strstr(g.headers, "X-Test: one\r\n"));
    assert_non_null(strstr(g.headers, "X-Test: two\r\n"));
    assert_non_null(strstr(g.headers, "Content-Type: text/plain\r\n"));
    assert_null(strstr(g.headers, "HTTP/1.1")); /* header lines only */
}

static void test_a_post_sends_its_headers_and_any_bytes_of_body(void **state)
{
    struct env *e = *state;
    struct got g = {0};
    char url[256];
    const char *headers[] = {"X-In: abc", "Content-Type: application/octet-stream", NULL};
    struct sb_fetch_req req = {
        .method = "POST", .url = url, .headers = headers, .body = "a\0b\xff", .body_len = 4};

    snprintf(url, sizeof(url), "%s/echo", e->stub.base);
    assert_int_equal(sb_fetch_start(e->f, &req, record, &g, NULL), SB_OK);
    run_all(e);
    assert_int_equal(g.status, 200);
    assert_int_equal(g.body_len, strlen("POST|abc|") + 4);
    assert_memory_equal(g.body, "POST|abc|a\0b\xff", g.body_len);
}

static void test_an_error_status_is_a_response_not_an_error(void **state)
{
    struct env *e = *state;
    struct got g = {0};
    get(e, "/status/500", 0, 0, &g);
    run_all(e);
    assert_int_equal(g.status, 500);
    assert_string_equal(g.error, "");
    assert_memory_equal(g.body, "boom", 4);
}

static void test_a_redirect_is_not_followed(void **state)
{
    struct env *e = *state;
    struct got g = {0};
    get(e, "/redirect", 0, 0, &g);
    run_all(e);
    assert_int_equal(g.status, 302);
    assert_non_null(strstr(g.headers, "Location: /hello"));
}

static void test_a_server_that_never_answers_times_out(void **state)
{
    struct env *e = *state;
    struct got g = {0};
    get(e, "/hang", 200, 0, &g);
    run_all(e);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.status, 0);
    assert_non_null(strstr(g.error, "timeout"));
}

static void test_a_refused_connection_is_an_error(void **state)
{
    struct env *e = *state;
    struct got g = {0};
    char url[64];
    struct sb_fetch_req req = {.url = url};
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", http_stub_closed_port());
    assert_int_equal(sb_fetch_start(e->f, &req, record, &g, NULL), SB_OK);
    run_all(e);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.status, 0);
    assert_true(g.error[0] != '\0');
}

static void test_a_response_over_the_cap_is_an_error(void **state)
{
    struct env *e = *state;
    struct got g = {0}, small = {0};
    get(e, "/big/100000", 0, 1000, &g);
    get(e, "/big/1000", 0, 1000, &small);
    run_all(e);
    assert_int_equal(g.status, 0);
    assert_non_null(strstr(g.error, "too big"));
    assert_int_equal(small.status, 200);
    assert_int_equal(small.body_len, 1000);
}

static void test_only_http_urls_and_clean_headers_are_accepted(void **state)
{
    struct env *e = *state;
    struct got g = {0};
    const char *bad_header[] = {"X-A: b\r\nX-Injected: c", NULL};
    struct sb_fetch_req req = {.url = "file:///etc/passwd"};

    assert_int_equal(sb_fetch_start(e->f, &req, record, &g, NULL), SB_ERR_INVAL);
    req.url = "ftp://127.0.0.1/";
    assert_int_equal(sb_fetch_start(e->f, &req, record, &g, NULL), SB_ERR_INVAL);
    req.url = "http://127.0.0.1/";
    req.headers = bad_header;
    assert_int_equal(sb_fetch_start(e->f, &req, record, &g, NULL), SB_ERR_INVAL);
    req.headers = NULL;
    req.method = "get me";
    assert_int_equal(sb_fetch_start(e->f, &req, record, &g, NULL), SB_ERR_INVAL);
    assert_int_equal(sb_fetch_pending(e->f), 0);
    assert_int_equal(g.calls, 0);
}

static void test_a_cancelled_request_never_calls_back(void **state)
{
    struct env *e = *state;
    struct got cancelled = {0}, other = {0};
    char url[256];
    struct sb_fetch_req req = {.url = url};
    uint64_t id = 0;

    snprintf(url, sizeof(url), "%s/slow/300", e->stub.base);
    assert_int_equal(sb_fetch_start(e->f, &req, record, &cancelled, &id), SB_OK);
    assert_true(id != 0);
    sb_fetch_run(e->f, 50); /* under way */
    sb_fetch_cancel(e->f, id);
    sb_fetch_cancel(e->f, id); /* twice: ignored */
    assert_int_equal(sb_fetch_pending(e->f), 0);
    get(e, "/slow/500", 0, 0, &other); /* outlives the cancelled one's answer */
    run_all(e);
    assert_int_equal(other.calls, 1);
    assert_int_equal(cancelled.calls, 0);
}

#define PARALLEL 20

static void test_many_requests_run_at_once(void **state)
{
    struct env *e = *state;
    struct got *g = calloc(PARALLEL, sizeof(*g));
    char path[32];

    /* Each waits in the server until all are there: only concurrent
     * requests get "together". */
    snprintf(path, sizeof(path), "/gate/%d", PARALLEL);
    for (int i = 0; i < PARALLEL; i++)
        get(e, path, 30000, 0, &g[i]);
    assert_int_equal(sb_fetch_pending(e->f), PARALLEL);
    run_all(e);
    for (int i = 0; i < PARALLEL; i++) {
        assert_int_equal(g[i].calls, 1);
        assert_int_equal(g[i].status, 200);
        assert_memory_equal(g[i].body, "together", 8);
    }
    free(g);
}

/* A done() that starts the next request, as a resumed plugin does. */
static void chain(void *arg, const struct sb_fetch_res *res)
{
    struct got *g = arg;
    record(arg, res);
    if (g->calls == 1) get(g->env, "/echo", 0, 0, g);
}

static void test_a_done_callback_may_start_another_request(void **state)
{
    struct env *e = *state;
    struct got g = {.env = e};
    char url[256];
    struct sb_fetch_req req = {.url = url};

    snprintf(url, sizeof(url), "%s/hello", e->stub.base);
    assert_int_equal(sb_fetch_start(e->f, &req, chain, &g, NULL), SB_OK);
    run_all(e);
    assert_int_equal(g.calls, 2);
    assert_memory_equal(g.body, "GET||", 5);
}

static void test_freeing_with_requests_in_flight_calls_nothing(void **state)
{
    struct env *e = *state;
    struct got g = {0};
    get(e, "/hang", 0, 0, &g);
    sb_fetch_run(e->f, 50);
    sb_fetch_free(e->f);
    e->f = NULL; /* teardown's free is NULL-safe */
    assert_int_equal(g.calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_response_comes_with_its_status_headers_and_body,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_post_sends_its_headers_and_any_bytes_of_body, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_error_status_is_a_response_not_an_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_redirect_is_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_server_that_never_answers_times_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_refused_connection_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_response_over_the_cap_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_http_urls_and_clean_headers_are_accepted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_cancelled_request_never_calls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_requests_run_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_done_callback_may_start_another_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_freeing_with_requests_in_flight_calls_nothing, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

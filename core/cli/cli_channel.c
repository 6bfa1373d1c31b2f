/*
 * cli_channel.c - `switchboard channel NAME COMMAND [ARGS...] [--config FILE]
 * [--data DIR] [--plugins DIR]`: runs a command a channel plugin declares
 * (sb.channel{commands = {["set-webhook"] = fn}}) with the server's
 * configuration, e.g. `switchboard channel telegram set-webhook URL`
 * (docs/channels.md). The plugins load as the server loads them; the
 * command is a call that may wait (sb.http), driven here by the fetcher
 * on an epoll set of its own (sb_host_run_until), without the server loop. It prints what the
 * command returned: a line on stdout (exit 0), or nil and a reason on stderr (exit 1).
 */
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cli.h"
#include "fetch.h"
#include "lua_host.h"
#include "sb_config.h"
#include "sb_re.h"
#include "sb_store.h"

#define MAX_ARGS 16
#define COMMAND_TIMEOUT_MS 60000

struct command_run {
    bool done;
    enum sb_err rc;
    json_t *results; /* owned */
    char err[512];
};

static void command_done(void *arg, enum sb_err rc, json_t *results, const char *err)
{
    struct command_run *run = arg;
    run->done = true;
    run->rc = rc;
    run->results = results ? json_incref(results) : NULL;
    snprintf(run->err, sizeof(run->err), "%s", err ? err : "");
}

static int usage_error(const char *what)
{
    fprintf(stderr,
            "switchboard: %s\n"
            "usage: switchboard channel NAME COMMAND [ARGS...] [--config FILE] [--data DIR]"
            " [--plugins DIR]\n"
            "       e.g. switchboard channel telegram set-webhook "
            "https://support.example.com/channels/telegram/webhook --config config.json\n",
            what);
    return 2;
}

/* What the command returned: a value to print (exit 0), or nil, reason. */
static int report(const struct command_run *run, const char *channel, const char *command)
{
    json_t *first = json_array_get(run->results, 0);
    const char *reason = json_string_value(json_array_get(run->results, 1));

    if (run->rc) {
        fprintf(stderr, "switchboard: channel %s %s: %s\n", channel, command,
                run->err[0] ? run->err : sb_strerror(run->rc));
        return 1;
    }
    if (!first || json_is_null(first) || json_is_false(first)) {
        fprintf(stderr, "switchboard: channel %s %s: %s\n", channel, command,
                reason ? reason : "failed");
        return 1;
    }
    if (json_is_string(first))
        printf("%s\n", json_string_value(first));
    else if (!json_is_true(first))
        return cli_print_json(json_incref(first), 2);
    return 0;
}

static int run_command(struct sb_config *cfg, const char *channel, const char *command,
                       json_t *args)
{
    struct command_run run = {0};
    struct sb_store *store = NULL;
    struct sb_fetch *fetch = NULL;
    struct sb_host *host = NULL;
    struct sb_re_cache *re = NULL;
    struct sb_host_deps deps;
    int epfd = -1, loaded = 0, code = 1;
    enum sb_err rc;

    if (!(store = cli_open_store(cfg->data_dir))) goto out;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0 || sb_fetch_new(epfd, &fetch)) {
        fprintf(stderr, "switchboard: cannot start the HTTP client\n");
        goto out;
    }
    /* the intents load too (every plugin loads as the server loads it): their patterns */
    if (sb_re_cache_new(64, 100000, &re)) {
        fprintf(stderr, "switchboard: out of memory\n");
        goto out;
    }
    deps = (struct sb_host_deps){
        .store = store, .re = re, .cfg = cfg, .public_url = cfg->public_url, .fetch = fetch};
    rc = sb_host_new(&deps, &host);
    if (rc) {
        fprintf(stderr, "switchboard: plugin host: %s\n", sb_strerror(rc));
        goto out;
    }
    sb_host_load_dir(host, cfg->plugins_dir, &loaded);
    rc = sb_host_channel_command(host, channel, command, args, command_done, &run);
    if (rc == SB_ERR_NOT_FOUND) {
        fprintf(stderr, "switchboard: no channel %s with a command %s in %s\n", channel, command,
                cfg->plugins_dir);
        goto out;
    }
    if (rc) {
        fprintf(stderr, "switchboard: channel %s %s: %s\n", channel, command, sb_strerror(rc));
        goto out;
    }
    rc = sb_host_run_until(host, &run.done, COMMAND_TIMEOUT_MS);
    if (rc && !run.done) {
        fprintf(stderr, "switchboard: channel %s %s: no answer within %d s\n", channel, command,
                COMMAND_TIMEOUT_MS / 1000);
        goto out;
    }
    code = report(&run, channel, command);
out:
    json_decref(run.results);
    sb_host_free(host);
    sb_re_cache_free(re);
    sb_fetch_free(fetch);
    if (epfd >= 0) close(epfd);
    sb_store_close(store);
    return code;
}

int cli_channel(int argc, char **argv)
{
    struct sb_config cfg;
    json_t *args;
    int first_flag = 2, code;

    /* NAME COMMAND ARGS... come before the first --flag */
    while (first_flag < argc && strncmp(argv[first_flag], "--", 2) != 0)
        first_flag++;
    if (first_flag < 4) return usage_error("channel needs a NAME and a COMMAND");
    if (first_flag - 4 > MAX_ARGS) return usage_error("too many arguments");
    if (cli_load_config(&cfg, argc, argv, first_flag)) return 2;
    args = json_array();
    for (int i = 4; i < first_flag; i++)
        json_array_append_new(args, json_string(argv[i]));
    code = run_command(&cfg, argv[2], argv[3], args);
    json_decref(args);
    return code;
}

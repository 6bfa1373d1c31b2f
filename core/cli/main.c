/*
 * main.c - the switchboard command line: serve, version, and the dispatch
 * to kb (cli_kb.c; kb eval: cli_eval.c, the sbeval tool library), user
 * and routes (cli_user.c), site (cli_site.c), channel (cli_channel.c).
 * Settings come from defaults, then --config FILE (or SWITCHBOARD_CONFIG),
 * then SWITCHBOARD_* variables, then flags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_config.h"
#include "sb_store.h"
#include "cli.h"
#include "server_run.h"

#define VERSION "0.1.0"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage:\n"
        "  switchboard serve [--port N] [--data DIR] [--config FILE] [--plugins DIR] [--web DIR]\n"
        "                    [--bind ADDR] [--public-url URL]\n"
        "  switchboard kb import DIR [-v] --data DATA          (Markdown files, all or nothing)\n"
        "  switchboard kb export DIR [--locale L] [--status S] --data DATA\n"
        "  switchboard kb import-faq FILE --locale L [--category C] [--status S] --data DATA\n"
        "  switchboard kb search TEXT [--locale L] [--fts] --data DATA\n"
        "  switchboard user add --data DIR --email E --role agent|editor|admin|supervisor\n"
        "                   [--role ...] [--name N] [--locale L]   (password from the terminal or"
        " stdin)\n"
        "  switchboard user list|disable|reset-password --data DIR [--email E]\n"
        "  switchboard site add ID --name N --origin URL [--origin URL...] [--secret S] --data "
        "DIR\n"
        "  switchboard site set ID FILE.json --data DIR      (replaces the site's settings)\n"
        "  switchboard site list --data DIR                  (JSON, secrets masked)\n"
        "  switchboard agent set EMAIL [--team T]... [--capacity N] [--skills a,b]\n"
        "                    [--status online|away|offline] --data DIR\n"
        "  switchboard team add ID --name N [--timezone Z] [--hours FILE.json] --data DIR\n"
        "  switchboard team list --data DIR                  (JSON)\n"
        "  switchboard channel NAME COMMAND [ARGS...] [--config FILE]   (a channel plugin's"
        " command,\n"
        "                    e.g. channel telegram set-webhook URL: docs/channels.md)\n"
        "  switchboard routes        (the route table and who may call each route)\n"
        "  switchboard version\n"
        "\n"
        "--port 0 picks a free port; it is printed and written to DATA/switchboard.port.\n"
        "Every setting can also come from the environment: SWITCHBOARD_PORT,\n"
        "SWITCHBOARD_DATA, SWITCHBOARD_PLUGINS, SWITCHBOARD_CONFIG, SWITCHBOARD_BIND,\n"
        "SWITCHBOARD_PUBLIC_URL, SWITCHBOARD_MAX_BODY, ... (see docs/operating.md).\n");
}

/* Maps a --flag to its config key; NULL when unknown. */
static const char *flag_key(const char *flag)
{
    static const char *const map[][2] = {
        {"--port", "port"}, {"--data", "data"}, {"--plugins", "plugins"},
        {"--web", "web"},   {"--bind", "bind"}, {"--public-url", "public_url"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(map); i++)
        if (strcmp(flag, map[i][0]) == 0) return map[i][1];
    return NULL;
}

int cli_load_config(struct sb_config *cfg, int argc, char **argv, int first)
{
    struct sb_errbuf eb = {{0}};
    const char *config_file = getenv("SWITCHBOARD_CONFIG");

    sb_config_defaults(cfg);
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) config_file = argv[i + 1];
    if (config_file && sb_config_load_file(cfg, config_file, &eb)) goto bad;
    if (sb_config_load_env(cfg, &eb)) goto bad;
    for (int i = first; i < argc; i++) {
        const char *key;
        if (strcmp(argv[i], "--test-clock") == 0) {
            cfg->test_clock = 1;
            continue;
        }
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        key = flag_key(argv[i]);
        if (!key || i + 1 >= argc) {
            fprintf(stderr, "switchboard: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        if (sb_config_set(cfg, key, argv[++i], &eb)) goto bad;
    }
    if (sb_config_check(cfg, &eb)) goto bad;
    return 0;
bad:
    fprintf(stderr, "switchboard: %s\n", eb.msg);
    return 2;
}

int main(int argc, char **argv)
{
    struct sb_config cfg;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("switchboard %s (%s)\n", VERSION, sb_store_engine());
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0) {
        const char *test = getenv("SWITCHBOARD_TEST");
        if (cli_load_config(&cfg, argc, argv, 2)) return 2;
        if (cfg.test_clock && !(test && strcmp(test, "1") == 0)) {
            fprintf(stderr, "switchboard: --test-clock moves the server's clock and is for tests "
                            "only: it needs SWITCHBOARD_TEST=1 in the environment\n");
            return 2;
        }
        return sb_server_run(&cfg);
    }
    /* kb eval is a tool linked into the binary only (sbeval), not part of
     * the server library that cli_kb belongs to. */
    if (strcmp(argv[1], "kb") == 0 && argc >= 3 && strcmp(argv[2], "eval") == 0)
        return cli_kb_eval(argc, argv);
    if (strcmp(argv[1], "kb") == 0) return cli_kb(argc, argv);
    if (strcmp(argv[1], "user") == 0) return cli_user(argc, argv);
    if (strcmp(argv[1], "site") == 0) return cli_site(argc, argv);
    if (strcmp(argv[1], "agent") == 0) return cli_agent(argc, argv);
    if (strcmp(argv[1], "team") == 0) return cli_team(argc, argv);
    if (strcmp(argv[1], "channel") == 0) return cli_channel(argc, argv);
    if (strcmp(argv[1], "routes") == 0) return cli_routes();
    fprintf(stderr, "switchboard: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

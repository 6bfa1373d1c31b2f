/*
 * main.c - the switchboard command line: serve, kb import, version.
 * Settings come from defaults, then --config FILE (or SWITCHBOARD_CONFIG),
 * then SWITCHBOARD_* variables, then flags.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "sb_config.h"
#include "sb_kb.h"
#include "sb_log.h"
#include "sb_store.h"
#include "cli.h"
#include "server.h"

#define VERSION "0.1.0"

static void usage(FILE *out)
{
    fprintf(out,
            "usage:\n"
            "  switchboard serve [--port N] [--data DIR] [--config FILE] [--plugins DIR] [--web DIR]\n"
            "                    [--bind ADDR] [--public-url URL]\n"
            "  switchboard kb import DIR --data DATA\n"
            "  switchboard kb search TEXT [--locale L] [--fts] --data DATA\n"
            "  switchboard user add --data DIR --email E --role agent|editor|admin [--role ...]\n"
            "                   [--name N] [--locale L]   (password from the terminal or stdin)\n"
            "  switchboard user list|disable|reset-password --data DIR [--email E]\n"
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
        {"--port", "port"},
        {"--data", "data"},
        {"--plugins", "plugins"},
        {"--web", "web"},
        {"--bind", "bind"},
        {"--public-url", "public_url"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(map); i++)
        if (strcmp(flag, map[i][0]) == 0) return map[i][1];
    return NULL;
}

/* Builds the configuration from every source; returns non-zero on error. */
static int load_config(struct sb_config *cfg, int argc, char **argv, int first)
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
    return 0;
bad:
    fprintf(stderr, "switchboard: %s\n", eb.msg);
    return 2;
}

static int cmd_kb_import(int argc, char **argv)
{
    struct sb_config cfg;
    struct sb_errbuf eb = {{0}};
    struct sb_store *st = NULL;
    struct sb_kb *kb = NULL;
    char dbpath[SB_PATH_MAX + 32];
    int added = 0, changed = 0, unchanged = 0, rc = 1;

    if (argc < 4) {
        usage(stderr);
        return 2;
    }
    if (load_config(&cfg, argc, argv, 4)) return 2;
    snprintf(dbpath, sizeof(dbpath), "%s/switchboard.db", cfg.data_dir);
    if (mkdir(cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "switchboard: %s: %s\n", cfg.data_dir, strerror(errno));
        return 1;
    }
    if (sb_store_open(dbpath, cfg.synchronous, &st, &eb) || sb_kb_open(sb_store_db(st), &kb, &eb) ||
        sb_kb_set_locales(kb, cfg.locales, &eb) || sb_kb_import_dir(kb, argv[3], &added, &changed, &unchanged, &eb)) {
        fprintf(stderr, "switchboard: kb import: %s\n", eb.msg);
        goto out;
    }
    printf("kb import: %d added, %d changed, %d unchanged\n", added, changed, unchanged);
    rc = 0;
out:
    sb_kb_close(kb);
    sb_store_close(st);
    return rc;
}

/* switchboard kb search TEXT [--locale L] [--fts] --data DATA: what the bot
 * would find, with confidences, for editors and for tuning; --fts asks
 * SQLite FTS5 instead of the answer engine's index. */
static int cmd_kb_search(int argc, char **argv)
{
    struct sb_config cfg;
    struct sb_errbuf eb = {{0}};
    struct sb_store *st = NULL;
    struct sb_kb *kb = NULL;
    struct sb_kb_result res = {0};
    char dbpath[SB_PATH_MAX + 32];
    const char *locale = "en";
    bool fts = false;
    int rc = 1;

    if (argc < 4) {
        usage(stderr);
        return 2;
    }
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--fts") == 0) {
            fts = true;
            memmove(&argv[i], &argv[i + 1], (size_t)(argc - i - 1) * sizeof(*argv));
            argc--;
            i--;
        } else if (i + 1 < argc && strcmp(argv[i], "--locale") == 0) {
            locale = argv[i + 1];
            memmove(&argv[i], &argv[i + 2], (size_t)(argc - i - 2) * sizeof(*argv));
            argc -= 2;
            i--;
        }
    }
    if (load_config(&cfg, argc, argv, 4)) return 2;
    snprintf(dbpath, sizeof(dbpath), "%s/switchboard.db", cfg.data_dir);
    if (sb_store_open(dbpath, cfg.synchronous, &st, &eb) || sb_kb_open(sb_store_db(st), &kb, &eb)) {
        fprintf(stderr, "switchboard: kb search: %s\n", eb.msg);
        goto out;
    }
    if (fts)
        sb_kb_search_fts(kb, argv[3], locale, SB_KB_MAX_HITS, &res);
    else
        sb_kb_search(kb, argv[3], locale, SB_KB_MAX_HITS, &res);
    printf("terms: %d\n", res.terms);
    for (int i = 0; i < res.n; i++)
        printf("%.3f  coverage %.2f  bm25 %6.2f  %s/%s  %s\n", res.hit[i].confidence,
               res.hit[i].coverage, res.hit[i].bm25, res.hit[i].locale, res.hit[i].slug,
               res.hit[i].title);
    sb_kb_result_cleanup(&res);
    rc = 0;
out:
    sb_kb_close(kb);
    sb_store_close(st);
    return rc;
}

int main(int argc, char **argv)
{
    struct sb_config cfg;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("switchboard %s (SQLite %s)\n", VERSION, sqlite3_libversion());
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0) {
        if (load_config(&cfg, argc, argv, 2)) return 2;
        return sb_server_run(&cfg);
    }
    if (strcmp(argv[1], "kb") == 0 && argc >= 3 && strcmp(argv[2], "import") == 0)
        return cmd_kb_import(argc, argv);
    if (strcmp(argv[1], "kb") == 0 && argc >= 3 && strcmp(argv[2], "search") == 0)
        return cmd_kb_search(argc, argv);
    if (strcmp(argv[1], "user") == 0) return cli_user(argc, argv);
    if (strcmp(argv[1], "routes") == 0) return cli_routes();
    fprintf(stderr, "switchboard: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

/*
 * cli_site.c - `switchboard site ...` for operators (docs/widget.md):
 *
 *   site add ID --name N --origin URL [--origin URL ...] [--secret S] [--data DIR]
 *   site set ID FILE.json [--data DIR]      (replaces the settings)
 *   site list [--data DIR]                  (JSON, secrets masked)
 *
 * The same checks as the admin API (site.c); every change is audited as
 * "cli". A secret made here is printed once on stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "sb_log.h"
#include "api.h"
#include "site.h"
#include "sb_config.h"

#define SITE_FILE_MAX (1024 * 1024)
#define MAX_CLI_ORIGINS 50

struct site_args {
    const char *data, *id, *name, *secret, *file;
    const char *origins[MAX_CLI_ORIGINS];
    int norigins;
};

static int usage_error(const char *what)
{
    fprintf(stderr,
            "switchboard: %s\n"
            "usage: switchboard site add ID --name N --origin URL [--origin URL...] [--secret S]"
            " [--data DIR]\n"
            "       switchboard site set ID FILE.json [--data DIR]\n"
            "       switchboard site list [--data DIR]\n",
            what);
    return 2;
}

static bool parse_args(int argc, char **argv, struct site_args *a)
{
    memset(a, 0, sizeof(*a));
    const struct cli_opt opts[] = {
        {.name = "--data", .value = &a->data},
        {.name = "--name", .value = &a->name},
        {.name = "--secret", .value = &a->secret},
        {.name = "--origin", .list = a->origins, .count = &a->norigins, .cap = MAX_CLI_ORIGINS},
        {.name = NULL},
    };
    return cli_parse_opts(argc, argv, 3, opts, (const char **const[]){&a->id, &a->file}, 2,
                          &a->data);
}

static const char *default_locale(struct sb_config *cfg)
{
    struct sb_errbuf eb = {{0}};
    sb_config_defaults(cfg);
    sb_config_load_env(cfg, &eb);
    return cfg->default_locale;
}

/* Validates in as site id and stores it; returns the exit code. */
static int put_site(const struct site_args *a, json_t *in, bool must_be_new)
{
    struct sb_errbuf eb = {{0}};
    struct sb_config cfg;
    struct sb_store *st;
    json_t *site = NULL, *old = NULL;
    char fresh[65];
    bool created = false;
    enum sb_err rc;

    rc = site_validate(in, a->id, default_locale(&cfg), &site, &eb);
    if (rc) {
        fprintf(stderr, "switchboard: site %s: %s\n", a->id, eb.msg);
        return 1;
    }
    if (!(st = cli_open_store(a->data))) {
        json_decref(site);
        return 1;
    }
    if (must_be_new && sb_store_site_get(st, a->id, &old) == SB_OK) {
        json_decref(old);
        json_decref(site);
        sb_store_close(st);
        fprintf(stderr, "switchboard: site %s exists (change it with `site set`)\n", a->id);
        return 1;
    }
    rc = site_secret_fill(st, site, fresh);
    if (!rc) rc = sb_store_begin(st);
    if (!rc) {
        rc = sb_store_site_put(st, site, &created);
        rc = cli_audit_commit(st, rc, created ? "site.create" : "site.replace", a->id, NULL);
    }
    json_decref(site);
    sb_store_close(st);
    if (rc) {
        fprintf(stderr, "switchboard: site %s: %s\n", a->id, sb_strerror(rc));
        return 1;
    }
    if (fresh[0])
        printf("site %s %s; its identity-verification secret (shown once): %s\n", a->id,
               created ? "created" : "replaced", fresh);
    else
        printf("site %s %s\n", a->id, created ? "created" : "replaced");
    return 0;
}

static int site_add(const struct site_args *a)
{
    json_t *in, *origins = json_array();
    int rc;

    if (!a->id || !a->name || a->file)
        return usage_error("site add needs an ID and --name (and --origin for each origin)");
    for (int i = 0; i < a->norigins; i++)
        json_array_append_new(origins, json_string(a->origins[i]));
    in = json_pack("{s:s, s:o}", "name", a->name, "origins", origins);
    if (a->secret) json_object_set_new(in, "secret", json_string(a->secret));
    rc = put_site(a, in, true);
    json_decref(in);
    return rc;
}

static int site_set(const struct site_args *a)
{
    json_t *in;
    int rc;

    if (!a->id || !a->file) return usage_error("site set needs an ID and a JSON file");
    if (!(in = cli_read_json(a->file, SITE_FILE_MAX))) return 1;
    rc = put_site(a, in, false);
    json_decref(in);
    return rc;
}

static int site_list(const struct site_args *a)
{
    struct sb_store *st;
    json_t *sites, *masked, *s;
    size_t i;

    if (a->id) return usage_error("site list takes no ID");
    if (!(st = cli_open_store(a->data))) return 1;
    sites = sb_store_site_list(st);
    masked = json_array();
    json_array_foreach(sites, i, s) json_array_append_new(masked, site_masked_json(s));
    json_decref(sites);
    sb_store_close(st);
    return cli_print_json(masked, 2);
}

int cli_site(int argc, char **argv)
{
    const char *cmd = argc >= 3 ? argv[2] : "";
    struct site_args a;

    if (!parse_args(argc, argv, &a)) return usage_error("unknown or incomplete option");
    if (strcmp(cmd, "add") == 0) return site_add(&a);
    if (strcmp(cmd, "set") == 0) return site_set(&a);
    if (strcmp(cmd, "list") == 0) return site_list(&a);
    return usage_error("site: add, set or list");
}

/*
 * cli_user.c - `switchboard user ...` for operators, and `switchboard
 * routes`, which prints the route table with who may call each route.
 *
 *   user add --data DIR --email E --role R [--role R] [--name N] [--locale L]
 *   user list --data DIR
 *   user disable --data DIR --email E
 *   user reset-password --data DIR --email E
 *
 * Passwords come from the terminal (typed twice, not echoed) or, when
 * stdin is not a terminal, from its first line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "sb_log.h"
#include "routes.h"
#include "http.h"
#include "sb_config.h"

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static bool read_line(const char *prompt, char *buf, size_t cap, bool tty)
{
    struct termios old, quiet;
    bool ok;

    if (tty) {
        fprintf(stderr, "%s", prompt);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    ok = fgets(buf, (int)cap, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (ok) chomp(buf);
    return ok;
}

/* Reads a new password; returns false with a message on stderr. */
static bool read_password(char *out, size_t cap)
{
    bool tty = isatty(STDIN_FILENO);
    char again[SB_PASSWORD_MAX + 2], why[SB_PASSWORD_WHY];

    if (!read_line("New password: ", out, cap, tty)) {
        fprintf(stderr, "switchboard: no password given on stdin\n");
        return false;
    }
    if (!sb_password_acceptable(out, why)) {
        fprintf(stderr, "switchboard: %s\n", why);
        return false;
    }
    if (tty && (!read_line("Again: ", again, sizeof(again), tty) || strcmp(out, again) != 0)) {
        fprintf(stderr, "switchboard: the passwords differ\n");
        return false;
    }
    return true;
}

struct user_args {
    const char *data, *email, *name, *locale;
    unsigned roles;
};

static bool parse_args(int argc, char **argv, struct user_args *a)
{
    memset(a, 0, sizeof(*a));
    a->data = getenv("SWITCHBOARD_DATA") ? getenv("SWITCHBOARD_DATA") : "data";
    a->locale = "en";
    int i;
    for (i = 3; i < argc; i += 2) { /* every option takes one value */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) goto bad;
        if (strcmp(argv[i], "--data") == 0)
            a->data = v;
        else if (strcmp(argv[i], "--email") == 0)
            a->email = v;
        else if (strcmp(argv[i], "--name") == 0)
            a->name = v;
        else if (strcmp(argv[i], "--locale") == 0)
            a->locale = v;
        else if (strcmp(argv[i], "--role") == 0) {
            unsigned r = sb_role_parse(v);
            if (!r) {
                fprintf(stderr,
                        "switchboard: unknown role '%s' (agent, editor, admin, supervisor)\n", v);
                return false;
            }
            a->roles |= r;
        } else {
            goto bad;
        }
    }
    return true;
bad:
    fprintf(stderr, "switchboard: unknown or incomplete option '%s'\n", argv[i]);
    return false;
}

/* The data directory's store for a CLI command (made when missing);
 * prints the problem and returns NULL on failure. */
struct sb_store *cli_open_store(const char *data)
{
    char path[SB_PATH_MAX + 32];
    struct sb_errbuf eb = {{0}};
    struct sb_store *st = NULL;

    if (mkdir(data, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "switchboard: %s: %s\n", data, strerror(errno));
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/switchboard.db", data);
    if (sb_store_open(path, "NORMAL", &st, &eb)) {
        fprintf(stderr, "switchboard: %s\n", eb.msg);
        return NULL;
    }
    return st;
}

static int kdf_cost(void)
{
    struct sb_config cfg;
    struct sb_errbuf eb = {{0}};
    sb_config_defaults(&cfg);
    sb_config_load_env(&cfg, &eb);
    return cfg.kdf_log2_n;
}

/* One audited change through a unit of work; returns the exit code. */
static int finish(struct sb_store *st, enum sb_err rc, const char *action, const char *target,
                  const char *what)
{
    rc = cli_audit_commit(st, rc, action, target, NULL);
    if (rc) {
        fprintf(stderr, "switchboard: %s: %s\n", what,
                rc == SB_ERR_EXISTS      ? "a user with this e-mail exists"
                : rc == SB_ERR_NOT_FOUND ? "no such user"
                                         : sb_strerror(rc));
    }
    sb_store_close(st);
    return rc ? 1 : 0;
}

int cli_user(int argc, char **argv)
{
    struct user_args a;
    struct sb_store *st;
    char password[SB_PASSWORD_MAX + 2], hash[SB_PASSWORD_HASH_MAX];
    const char *cmd = argc >= 3 ? argv[2] : "";
    struct sb_user u;
    enum sb_err rc;

    if (!parse_args(argc, argv, &a)) return 2;
    if (strcmp(cmd, "list") == 0) {
        json_t *users, *v;
        size_t i;
        if (!(st = cli_open_store(a.data))) return 1;
        users = sb_user_list(st);
        json_array_foreach(users, i, v)
        {
            char *roles = json_dumps(json_object_get(v, "roles"), JSON_COMPACT);
            printf("%lld\t%s\t%s\t%s\n", (long long)json_integer_value(json_object_get(v, "id")),
                   json_string_value(json_object_get(v, "email")), roles ? roles : "[]",
                   json_is_true(json_object_get(v, "active")) ? "active" : "disabled");
            free(roles);
        }
        json_decref(users);
        sb_store_close(st);
        return 0;
    }
    if (!a.email) {
        fprintf(stderr, "switchboard: user %s needs --email\n", cmd);
        return 2;
    }
    if (strcmp(cmd, "add") == 0) {
        int64_t id = 0;
        if (!a.roles || !strchr(a.email, '@')) {
            fprintf(stderr, "switchboard: user add needs an e-mail and at least one --role\n");
            return 2;
        }
        if (!read_password(password, sizeof(password))) return 1;
        if (sb_password_hash(password, kdf_cost(), hash)) return 1;
        if (!(st = cli_open_store(a.data))) return 1;
        rc = sb_store_begin(st);
        if (!rc)
            rc = sb_user_add(st, a.email, a.name ? a.name : a.email, a.locale, a.roles, hash, &id);
        if (!rc) printf("%lld\n", (long long)id);
        return finish(st, rc, "user.add", a.email, "user add");
    }
    if (strcmp(cmd, "disable") == 0 || strcmp(cmd, "reset-password") == 0) {
        bool disable = strcmp(cmd, "disable") == 0;
        if (!disable && !read_password(password, sizeof(password))) return 1;
        if (!disable && sb_password_hash(password, kdf_cost(), hash)) return 1;
        if (!(st = cli_open_store(a.data))) return 1;
        rc = sb_user_by_email(st, a.email, &u);
        if (!rc) rc = sb_store_begin(st);
        if (!rc)
            rc = disable ? sb_user_set_active(st, u.id, false)
                         : sb_user_set_password(st, u.id, hash, true);
        return finish(st, rc, disable ? "user.disable" : "user.password", a.email, cmd);
    }
    fprintf(stderr, "switchboard: user: add, list, disable or reset-password\n");
    return 2;
}

int cli_routes(void)
{
    json_t *arr = json_array();
    for (const struct route *const *t = sb_route_tables; *t; t++)
        for (const struct route *rt = *t; rt->method; rt++)
            json_array_append_new(arr,
                                  json_pack("{s:s, s:s, s:s}", "method", rt->method, "pattern",
                                            rt->pattern, "access", route_access_name(rt->access)));
    return cli_print_json(arr, 1);
}

/*
 * cli_agent.c - `switchboard agent ...` and `switchboard team ...` for
 * operators (docs/operating.md):
 *
 *   agent set EMAIL [--team T]... [--capacity N] [--skills a,b] [--status S] [--data DIR]
 *   team add ID --name N [--timezone Z] [--hours FILE.json] [--data DIR]
 *   team list [--data DIR]
 *
 * The same checks as the admin API (agent_config.c), audited as "cli". A
 * running server picks the change up at its next start or reload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent_admin.h"
#include "auth.h"
#include "cli.h"
#include "sb_config.h"
#include "store_agent_admin.h"

#define CLI_MAX_TEAMS 100
#define HOURS_FILE_MAX (256 * 1024)

struct agent_args {
    const char *data, *id, *name, *timezone, *hours, *capacity, *skills, *status;
    const char *teams[CLI_MAX_TEAMS];
    int nteams;
};

static int usage_error(const char *what)
{
    fprintf(stderr,
            "switchboard: %s\n"
            "usage: switchboard agent set EMAIL [--team T]... [--capacity N] [--skills a,b]\n"
            "                         [--status online|away|offline] [--data DIR]\n"
            "       switchboard team add ID --name N [--timezone Z] [--hours FILE.json]"
            " [--data DIR]\n"
            "       switchboard team list [--data DIR]\n",
            what);
    return 2;
}

static bool parse_args(int argc, char **argv, struct agent_args *a)
{
    memset(a, 0, sizeof(*a));
    const struct cli_opt opts[] = {
        {.name = "--data", .value = &a->data},
        {.name = "--name", .value = &a->name},
        {.name = "--timezone", .value = &a->timezone},
        {.name = "--hours", .value = &a->hours},
        {.name = "--capacity", .value = &a->capacity},
        {.name = "--skills", .value = &a->skills},
        {.name = "--status", .value = &a->status},
        {.name = "--team", .list = a->teams, .count = &a->nteams, .cap = CLI_MAX_TEAMS},
        {.name = NULL},
    };
    return cli_parse_opts(argc, argv, 3, opts, (const char **const[]){&a->id}, 1, &a->data);
}

/* Runs work in a unit with its audit entry and makes it durable; prints
 * eb's detail (or the error) on failure. Returns the exit code. */
static int commit(struct sb_store *st, enum sb_err rc, const struct sb_errbuf *eb,
                  const char *action, const char *target, const char *detail)
{
    rc = cli_audit_commit(st, rc, action, target, detail);
    if (rc) {
        fprintf(stderr, "switchboard: %s %s: %s\n", action, target,
                eb && eb->msg[0] ? eb->msg : sb_strerror(rc));
        return 1;
    }
    sb_agents_config_changed(NULL, action);
    return 0;
}

/* The flags of `agent set` as the JSON the admin API takes. */
static json_t *profile_change(const struct agent_args *a)
{
    json_t *in = json_object();
    if (a->status) json_object_set_new(in, "status", json_string(a->status));
    if (a->capacity) {
        char *end;
        double cap = strtod(a->capacity, &end);
        json_object_set_new(in, "capacity",
                            *end || end == a->capacity ? json_string(a->capacity) : json_real(cap));
    }
    if (a->skills) {
        json_t *skills = json_array();
        const char *p = a->skills;
        while (*p) {
            size_t n = strcspn(p, ",");
            if (n) json_array_append_new(skills, json_stringn(p, n));
            p += n + (p[n] == ',');
        }
        json_object_set_new(in, "skills", skills);
    }
    if (a->nteams) {
        json_t *teams = json_array();
        for (int i = 0; i < a->nteams; i++)
            json_array_append_new(teams, json_string(a->teams[i]));
        json_object_set_new(in, "teams", teams);
    }
    return in;
}

static int agent_set(const struct agent_args *a)
{
    struct sb_errbuf eb = {{0}};
    struct sb_store *st;
    struct sb_user u;
    json_t *in, *change = NULL, *profile = NULL;
    char *detail;
    enum sb_err rc;
    int code;

    if (!a->id || a->name || a->timezone || a->hours)
        return usage_error("agent set needs an EMAIL (and takes --team, --capacity, --skills,"
                           " --status)");
    in = profile_change(a);
    rc = agent_profile_validate(in, &change, &eb);
    json_decref(in);
    if (rc) {
        fprintf(stderr, "switchboard: agent %s: %s\n", a->id, eb.msg);
        return 1;
    }
    if (!(st = cli_open_store(a->data))) {
        json_decref(change);
        return 1;
    }
    if (sb_user_by_email(st, a->id, &u) || !(u.roles & SB_ROLE_AGENT)) {
        fprintf(stderr,
                "switchboard: %s is not a user with the agent role (add one with"
                " `switchboard user add --role agent`)\n",
                a->id);
        json_decref(change);
        sb_store_close(st);
        return 1;
    }
    rc = sb_store_begin(st);
    if (!rc) rc = agent_store_profile_put(st, u.id, change, &eb);
    detail = json_dumps(change, JSON_COMPACT);
    json_decref(change);
    code = commit(st, rc, &eb, "agent.update", u.email, detail);
    free(detail);
    if (!code && agent_store_profile_get(st, u.id, &profile) == SB_OK)
        cli_print_json(profile, 2); /* the change is made: the exit code says so */
    sb_store_close(st);
    return code;
}

static int team_add(const struct agent_args *a)
{
    struct sb_errbuf eb = {{0}};
    struct sb_store *st;
    json_t *in, *team = NULL, *hours = NULL;
    bool created = false;
    enum sb_err rc;
    int code;

    if (!a->id || !a->name || a->capacity || a->skills || a->status || a->nteams)
        return usage_error("team add needs an ID and --name (and takes --timezone, --hours)");
    if (a->hours && !(hours = cli_read_json(a->hours, HOURS_FILE_MAX))) return 1;
    in = json_pack("{s:s}", "name", a->name);
    if (a->timezone) json_object_set_new(in, "timezone", json_string(a->timezone));
    /* the file is either the hours or a whole team: {"hours", "holidays", ...} */
    if (hours && json_object_get(hours, "hours") && json_is_object(hours)) {
        const char *key;
        json_t *v;
        json_object_foreach(hours, key, v) if (!json_object_get(in, key))
            json_object_set(in, key, v);
    } else if (hours) {
        json_object_set(in, "hours", hours);
    }
    json_decref(hours);
    rc = team_validate(in, a->id, NULL, &team, &eb);
    json_decref(in);
    if (rc) {
        fprintf(stderr, "switchboard: team %s: %s\n", a->id, eb.msg);
        return 1;
    }
    if (!(st = cli_open_store(a->data))) {
        json_decref(team);
        return 1;
    }
    if (agent_store_team_exists(st, a->id)) {
        fprintf(stderr, "switchboard: team %s exists (change it with PUT /api/v1/admin/teams/%s)\n",
                a->id, a->id);
        json_decref(team);
        sb_store_close(st);
        return 1;
    }
    rc = sb_store_begin(st);
    if (!rc) rc = agent_store_team_put(st, team, &created);
    json_decref(team);
    code = commit(st, rc, &eb, "team.create", a->id, NULL);
    sb_store_close(st);
    if (!code) printf("team %s created\n", a->id);
    return code;
}

static int team_list(const struct agent_args *a)
{
    struct sb_store *st;
    json_t *teams;

    if (a->id) return usage_error("team list takes no ID");
    if (!(st = cli_open_store(a->data))) return 1;
    teams = agent_store_teams(st);
    sb_store_close(st);
    return cli_print_json(teams, 2);
}

int cli_agent(int argc, char **argv)
{
    const char *cmd = argc >= 3 ? argv[2] : "";
    struct agent_args a;

    if (!parse_args(argc, argv, &a)) return usage_error("unknown or incomplete option");
    if (strcmp(cmd, "set") == 0) return agent_set(&a);
    return usage_error("agent: set");
}

int cli_team(int argc, char **argv)
{
    const char *cmd = argc >= 3 ? argv[2] : "";
    struct agent_args a;

    if (!parse_args(argc, argv, &a)) return usage_error("unknown or incomplete option");
    if (strcmp(cmd, "add") == 0) return team_add(&a);
    if (strcmp(cmd, "list") == 0) return team_list(&a);
    return usage_error("team: add or list");
}

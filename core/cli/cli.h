/*
 * cli.h - private to core/: subcommands of the switchboard binary besides
 * serve (see main.c). Each returns the process exit code.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "sb.h"

struct sb_config;

/* The configuration from every source: defaults, --config FILE (or
 * SWITCHBOARD_CONFIG), SWITCHBOARD_* variables, then the flags argv[first..]
 * (--data, --port, ...). Returns 0, or 2 after printing the problem. In
 * main.c. */
int cli_load_config(struct sb_config *cfg, int argc, char **argv, int first);

/* switchboard kb import|export|import-faq|search ... (cli_kb.c) */
int cli_kb(int argc, char **argv);

/* switchboard kb eval KIND TRAIN TEST ... (cli_eval.c): argv as cli_kb's.
 * In the sbeval library, which main.c calls directly, not in sbcore. */
int cli_kb_eval(int argc, char **argv);

struct sb_store;
/* The data directory's store for a CLI command (made when missing);
 * prints the problem and returns NULL on failure. In cli_user.c. */
struct sb_store *cli_open_store(const char *data);

/* ---- shared by the subcommands (cli/cli_util.c) ---- */

/* An option of a subcommand, "--name VALUE": the value goes to *value, or,
 * for an option that may be repeated, to list[(*count)++] while *count <
 * cap (one more is an error). */
struct cli_opt {
    const char *name;
    const char **value;
    const char **list;
    int *count, cap;
};

/* Parses argv[first..]: the options of opts (ended by one without a name)
 * and up to npos bare words into *pos[0], *pos[1], ... in order. Sets
 * every value and word to NULL first, and *data to $SWITCHBOARD_DATA or
 * "data" (give an option "--data" with value data to change it). False on
 * an unknown option, one without its value, one repeated too often, or a
 * bare word too many. */
bool cli_parse_opts(int argc, char **argv, int first, const struct cli_opt *opts,
                    const char **const pos[], int npos, const char **data);

/* Prints v (owned, may be NULL) as JSON indented by indent, then a
 * newline. Returns the exit code: 0, or 1 when it could not be written. */
int cli_print_json(json_t *v, size_t indent);

/* The JSON in the file at path (at most max bytes, duplicate keys
 * refused), new; NULL after printing the problem (the file, or the line
 * and what is wrong there). */
json_t *cli_read_json(const char *path, size_t max);

/* Ends the unit of work the caller began: when rc is SB_OK, writes the
 * audit entry (actor "cli", address "local"), commits and flushes, since
 * the command exits next; on any error rolls back. Returns rc, or the
 * error that stopped the commit. Prints nothing: the caller words it. */
enum sb_err cli_audit_commit(struct sb_store *st, enum sb_err rc, const char *action,
                             const char *target, const char *detail);

/* switchboard user add|list|disable|reset-password ... */
int cli_user(int argc, char **argv);

/* switchboard site add|set|list ... (cli_site.c) */
int cli_site(int argc, char **argv);

/* switchboard channel NAME COMMAND [ARGS...]: a channel plugin's command
 * (cli_channel.c) */
int cli_channel(int argc, char **argv);

/* switchboard agent set ... and team add|list ... (cli_agent.c) */
int cli_agent(int argc, char **argv);
int cli_team(int argc, char **argv);

/* switchboard routes: the route table as JSON. */
int cli_routes(void);

#endif

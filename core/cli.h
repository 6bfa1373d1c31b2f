/*
 * cli.h - private to core/: subcommands of the switchboard binary besides
 * serve (see main.c). Each returns the process exit code.
 */
#ifndef CLI_H
#define CLI_H

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

/* switchboard user add|list|disable|reset-password ... */
int cli_user(int argc, char **argv);

/* switchboard site add|set|list ... (cli_site.c) */
int cli_site(int argc, char **argv);

/* switchboard agent set ... and team add|list ... (cli_agent.c) */
int cli_agent(int argc, char **argv);
int cli_team(int argc, char **argv);

/* switchboard routes: the route table as JSON. */
int cli_routes(void);

#endif

/*
 * cli.h - private to core/: subcommands of the switchboard binary besides
 * serve and kb (see main.c). Each returns the process exit code.
 */
#ifndef CLI_H
#define CLI_H

/* switchboard user add|list|disable|reset-password ... */
int cli_user(int argc, char **argv);

/* switchboard routes: the route table as JSON. */
int cli_routes(void);

#endif

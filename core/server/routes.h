/*
 * routes.h - the route tables of the whole server (routes.c).
 */
#ifndef ROUTES_H
#define ROUTES_H

#include "http.h"

/* Every file's table, NULL-terminated, in dispatch order. */
extern const struct route *const sb_route_tables[];

#endif

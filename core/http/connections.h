/*
 * connections.h - private to core/: the TCP connections libmicrohttpd
 * holds, as the server sees them: how many each client address has open
 * (capped, so one host cannot take every slot), and how long a request
 * head may take to arrive (an absolute deadline a trickle of header lines
 * cannot extend, unlike libmicrohttpd's idle timeout).
 *
 * Everything runs on the event loop thread; nothing locks.
 */
#ifndef CONNECTIONS_H
#define CONNECTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <microhttpd.h>

#include "ipaddr.h"
#include "sb.h"

struct conn_table;

/* per_ip_cap: open connections per address; exempt (borrowed, must outlive
 * the table; NULL for none): addresses with no cap and no head deadline,
 * the trusted proxies;
 * header_timeout_s: the deadline for each request head. */
enum sb_err conn_table_new(int per_ip_cap, const struct ipnet_list *exempt, int header_timeout_s,
                           struct conn_table **out);
/* NULL-safe. Call after MHD_stop_daemon (which reports every close). */
void conn_table_free(struct conn_table *t);

/* libmicrohttpd callbacks; cls is the table. */
enum MHD_Result conn_accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                 enum MHD_ConnectionNotificationCode toe);
/* Decodes %HH escapes like libmicrohttpd's own, and remembers which
 * strings held a %00 (a NUL cuts the path short where the handler sees
 * it). Query arguments keep their length, so a handler can tell. */
size_t conn_unescape(void *cls, struct MHD_Connection *c, char *s);

/* The head of a request on c has arrived: no deadline while it is handled.
 * path: the decoded path libmicrohttpd passed to the handler (borrowed).
 * Returns true when it held an encoded NUL, and forgets the head's NULs. */
bool conn_head_done(struct MHD_Connection *c, const char *path);
/* The request on c is over: the next head's deadline starts now. */
void conn_request_done(struct conn_table *t, struct MHD_Connection *c);
/* Closes (shutdown) every connection whose head is overdue; call about
 * once a second. Returns how many. */
int conn_sweep(struct conn_table *t, int64_t now_ns);
/* Open connections, all addresses. */
size_t conn_count(const struct conn_table *t);

#endif

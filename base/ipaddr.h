/*
 * ipaddr.h - private to core/: client addresses as values (IPv4 and IPv6
 * alike), parsed from text or a socket address, and lists of networks
 * ("127.0.0.0/8, ::1, 10.1.2.3") to test them against. Used for the
 * trusted proxies (principal.c) and the per-address connection caps
 * (connections.c).
 */
#ifndef IPADDR_H
#define IPADDR_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "sb.h"

/* An address. IPv4 is kept as 4 bytes; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is turned into its IPv4 form, so one client has one
 * spelling whichever socket family it came in on. */
struct ipaddr {
    int family; /* AF_INET, AF_INET6, or 0: none */
    uint8_t b[16];
};

#define IPADDR_TEXT_MAX 64 /* fits INET6_ADDRSTRLEN and "unknown" */
#define IPNET_LIST_MAX 32

struct ipnet {
    struct ipaddr addr;
    int bits; /* prefix length */
};

struct ipnet_list {
    struct ipnet net[IPNET_LIST_MAX];
    int n;
};

/* Parses a bare address (no port, no brackets, surrounding blanks
 * allowed). False when text is not one. */
bool ipaddr_parse(const char *text, size_t len, struct ipaddr *out);
/* From a socket address (borrowed); false for other families. */
bool ipaddr_from_sockaddr(const struct sockaddr *sa, struct ipaddr *out);
/* The canonical text ("unknown" for family 0) into out. */
void ipaddr_format(const struct ipaddr *a, char out[IPADDR_TEXT_MAX]);
bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b);
/* 127.0.0.0/8 or ::1. */
bool ipaddr_is_loopback(const struct ipaddr *a);

/* Parses a comma- or blank-separated list of addresses and CIDR networks
 * into out. SB_ERR_INVAL with the bad entry in eb; SB_ERR_LIMIT past
 * IPNET_LIST_MAX entries. An empty text is an empty list. */
enum sb_err ipnet_list_parse(const char *text, struct ipnet_list *out, struct sb_errbuf *eb);
/* True when a lies in one of l's networks. */
bool ipnet_list_contains(const struct ipnet_list *l, const struct ipaddr *a);

/* The client behind a chain of proxies, from the X-Forwarded-For header
 * lines (borrowed, in the order received) of a request whose peer, passed
 * in *client, is a trusted proxy: the right-most entry that is not in
 * trusted. An entry that is not an address (ports are tolerated:
 * "192.0.2.1:4711", "[2001:db8::1]:4711") ends the walk at the last
 * trusted hop; when every entry is trusted, the left-most one. */
void ipaddr_forwarded_client(const char *const *lines, int nlines, const struct ipnet_list *trusted,
                             struct ipaddr *client);

#endif

/*
 * connections.c - per-address connection caps and request-head deadlines
 * (see connections.h).
 *
 * libmicrohttpd reports each connection it opens and closes
 * (MHD_OPTION_NOTIFY_CONNECTION); we keep a struct conn for each in its
 * socket_context, counted per address in a small chained hash table. The
 * accept policy refuses an address at its cap before libmicrohttpd spends
 * anything on it. libmicrohttpd's own timeout restarts with every byte, so
 * the head deadline is ours: the once-a-second tick shuts down the socket
 * of a connection still waiting for a complete head past its deadline,
 * and libmicrohttpd then closes it like any connection the peer dropped.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "connections.h"

#define BUCKETS 4096
#define NUL_SEEN_MAX 8

struct addr_count {
    struct addr_count *next;
    struct ipaddr addr;
    int open;
};

struct conn {
    struct conn *prev, *next; /* every open connection */
    struct MHD_Connection *mhd;
    struct addr_count *count; /* NULL for an exempt address */
    bool exempt;              /* a trusted proxy: no cap, no head deadline */
    int64_t head_deadline_ns; /* 0 while a request is being handled, or exempt */
    /* The strings of this head that held %00: libmicrohttpd unescapes the
     * path and each query argument in place, one call each, and later
     * hands the handler the same pointer for the path. */
    const char *nul_in[NUL_SEEN_MAX];
    int nnul;
    bool nul_overflow;
};

struct conn_table {
    struct addr_count *bucket[BUCKETS];
    struct conn *all;
    size_t open;
    int per_ip_cap;
    const struct ipnet_list *exempt;
    int64_t header_timeout_ns;
};

enum sb_err conn_table_new(int per_ip_cap, const struct ipnet_list *exempt, int header_timeout_s,
                           struct conn_table **out)
{
    struct conn_table *t = calloc(1, sizeof(*t));
    if (!t) return SB_ERR_NOMEM;
    t->per_ip_cap = per_ip_cap;
    t->exempt = exempt;
    t->header_timeout_ns = (int64_t)header_timeout_s * 1000000000;
    *out = t;
    return SB_OK;
}

void conn_table_free(struct conn_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < BUCKETS; i++) {
        struct addr_count *a = t->bucket[i], *next;
        for (; a; a = next) {
            next = a->next;
            free(a);
        }
    }
    while (t->all) {
        struct conn *next = t->all->next;
        free(t->all);
        t->all = next;
    }
    free(t);
}

static size_t bucket_of(const struct ipaddr *a)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)a->family;
    for (size_t i = 0; i < sizeof(a->b); i++)
        h = (h ^ a->b[i]) * 1099511628211ull;
    return (size_t)(h & (BUCKETS - 1));
}

static struct addr_count *find_count(struct conn_table *t, const struct ipaddr *a)
{
    for (struct addr_count *c = t->bucket[bucket_of(a)]; c; c = c->next)
        if (ipaddr_equal(&c->addr, a)) return c;
    return NULL;
}

static bool exempt(const struct conn_table *t, const struct ipaddr *a)
{
    return t->exempt && ipnet_list_contains(t->exempt, a);
}

enum MHD_Result conn_accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct conn_table *t = cls;
    struct ipaddr a;
    const struct addr_count *c;
    (void)addrlen;

    if (!ipaddr_from_sockaddr(addr, &a) || exempt(t, &a)) return MHD_YES;
    c = find_count(t, &a);
    return !c || c->open < t->per_ip_cap ? MHD_YES : MHD_NO;
}

static void started(struct conn_table *t, struct MHD_Connection *mc, void **socket_context)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct conn *c = calloc(1, sizeof(*c));
    struct ipaddr a;

    if (!c) return; /* uncounted and without a deadline; the idle timeout still holds */
    c->mhd = mc;
    /* A proxy forwards a head once it has all of it, and keeps idle
     * connections for reuse: the trickle it guards against is the
     * client's, on the proxy's side. */
    c->exempt = ci && ipaddr_from_sockaddr(ci->client_addr, &a) && exempt(t, &a);
    if (!c->exempt) c->head_deadline_ns = sb_mono_ns() + t->header_timeout_ns;
    if (ci && ipaddr_from_sockaddr(ci->client_addr, &a) && !c->exempt) {
        struct addr_count *n = find_count(t, &a);
        if (!n && (n = calloc(1, sizeof(*n)))) {
            size_t b = bucket_of(&a);
            n->addr = a;
            n->next = t->bucket[b];
            t->bucket[b] = n;
        }
        if (n) n->open++;
        c->count = n;
    }
    c->next = t->all;
    if (c->next) c->next->prev = c;
    t->all = c;
    t->open++;
    *socket_context = c;
}

static void closed(struct conn_table *t, struct conn *c)
{
    if (c->count && --c->count->open == 0) {
        struct addr_count **p = &t->bucket[bucket_of(&c->count->addr)];
        while (*p != c->count)
            p = &(*p)->next;
        *p = c->count->next;
        free(c->count);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        t->all = c->next;
    if (c->next) c->next->prev = c->prev;
    t->open--;
    free(c);
}

void conn_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                 enum MHD_ConnectionNotificationCode toe)
{
    struct conn_table *t = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        started(t, mc, socket_context);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        closed(t, *socket_context);
        *socket_context = NULL;
    }
}

static struct conn *conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

size_t conn_unescape(void *cls, struct MHD_Connection *mc, char *s)
{
    char *out = s;
    bool nul = false;
    (void)cls;

    for (const char *in = s; *in;) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_digit(in[1])) >= 0 && (lo = hex_digit(in[2])) >= 0) {
            *out = (char)(hi * 16 + lo);
            nul |= *out == '\0';
            out++;
            in += 3;
        } else {
            *out++ = *in++; /* a stray '%' stays as it is, as libmicrohttpd leaves it */
        }
    }
    *out = '\0';
    if (nul) {
        struct conn *c = conn_of(mc);
        if (c && c->nnul < NUL_SEEN_MAX)
            c->nul_in[c->nnul++] = s;
        else if (c)
            c->nul_overflow = true; /* cannot tell which: refuse the path to be safe */
    }
    return (size_t)(out - s);
}

bool conn_head_done(struct MHD_Connection *mc, const char *path)
{
    struct conn *c = conn_of(mc);
    bool nul;
    if (!c) return false;
    c->head_deadline_ns = 0;
    nul = c->nul_overflow;
    for (int i = 0; i < c->nnul; i++)
        nul |= c->nul_in[i] == path;
    c->nnul = 0;
    c->nul_overflow = false;
    return nul;
}

void conn_request_done(struct conn_table *t, struct MHD_Connection *mc)
{
    struct conn *c = conn_of(mc);
    if (c && !c->exempt) c->head_deadline_ns = sb_mono_ns() + t->header_timeout_ns;
}

int conn_sweep(struct conn_table *t, int64_t now_ns)
{
    int n = 0;
    for (struct conn *c = t->all; c; c = c->next) {
        const union MHD_ConnectionInfo *ci;
        if (!c->head_deadline_ns || now_ns < c->head_deadline_ns) continue;
        ci = MHD_get_connection_info(c->mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
        /* Shut down, not closed: the descriptor stays libmicrohttpd's,
         * which sees the end of the stream and closes it the usual way. */
        if (ci) shutdown(ci->connect_fd, SHUT_RDWR);
        c->head_deadline_ns = 0;
        n++;
    }
    return n;
}

size_t conn_count(const struct conn_table *t)
{
    return t->open;
}

/*
 * principal.c - who is calling: the client's address, and a staff member's
 * session cookie or an integration's API token.
 *
 * With trust_proxy, X-Forwarded-For and -Proto count only when the direct
 * peer is one of trusted_proxies, and only the entries those proxies
 * appended: everything to the left of the first untrusted hop was written
 * by the client and proves nothing.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ipaddr.h"
#include "http.h"
#include "server.h"

#define COOKIE_NAME "sb_session"

/* The X-Forwarded-For header lines, in order. A proxy may append its own
 * line instead of extending the last one (HAProxy does), so every line
 * counts; only the last FORWARD_MAX are kept, as the right-most entries are
 * the ones the trusted proxies wrote. */
#define FORWARD_MAX 16

struct forwarded {
    const char *line[FORWARD_MAX];
    int n;
};

static enum MHD_Result collect_forwarded(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    struct forwarded *f = cls;
    (void)kind;
    if (!value || strcasecmp(key, "X-Forwarded-For") != 0) return MHD_YES;
    if (f->n == FORWARD_MAX) {
        memmove(f->line, f->line + 1, (FORWARD_MAX - 1) * sizeof(f->line[0]));
        f->n--;
    }
    f->line[f->n++] = value;
    return MHD_YES;
}

static void client_behind_proxies(struct sb_server *srv, struct MHD_Connection *c,
                                  struct ipaddr *client)
{
    struct forwarded f = {.n = 0};

    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_forwarded, &f);
    ipaddr_forwarded_client(f.line, f.n, &srv->proxies, client);
}

/* The direct peer, and whether it is a proxy we believe. */
static bool peer_address(struct sb_server *srv, struct MHD_Connection *c, struct ipaddr *peer)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ipaddr_from_sockaddr(ci->client_addr, peer)) return false;
    return srv->cfg.trust_proxy && ipnet_list_contains(&srv->proxies, peer);
}

bool principal_peer_trusted(struct sb_server *srv, struct MHD_Connection *c)
{
    struct ipaddr peer;
    return peer_address(srv, c, &peer);
}

void principal_client_ip(struct sb_server *srv, struct MHD_Connection *c, char out[64])
{
    struct ipaddr client;

    if (peer_address(srv, c, &client)) client_behind_proxies(srv, c, &client);
    ipaddr_format(&client, out);
}

/* The nearest proxy writes the last X-Forwarded-Proto value; a client's
 * own header sits to its left or is replaced. */
static enum MHD_Result last_proto(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    if (value && strcasecmp(key, "X-Forwarded-Proto") == 0) *(const char **)cls = value;
    return MHD_YES;
}

bool principal_https(struct sb_server *srv, struct MHD_Connection *c)
{
    const char *proto = NULL, *last;
    if (!principal_peer_trusted(srv, c)) return false;
    MHD_get_connection_values(c, MHD_HEADER_KIND, last_proto, &proto);
    if (!proto) return false;
    last = strrchr(proto, ',');
    last = last ? last + 1 : proto;
    last += strspn(last, " \t");
    return strncasecmp(last, "https", 5) == 0 && last[5 + strspn(last + 5, " \t")] == '\0';
}

static enum sb_err from_session(struct sb_server *srv, const char *cookie, struct sb_principal *p)
{
    char hash[65];
    enum sb_err rc;

    if (strlen(cookie) != 64) return SB_ERR_NOT_FOUND;
    sb_sha256_hex(cookie, 64, hash);
    rc = sb_session_get(srv->store, hash, srv->cfg.session_idle_s, &p->user, p->csrf);
    if (rc) return rc;
    p->kind = PRINCIPAL_SESSION;
    p->roles = (p->user.roles & SB_ROLE_ADMIN)
                   ? (SB_ROLE_ADMIN | SB_ROLE_EDITOR | SB_ROLE_AGENT | SB_ROLE_SUPERVISOR)
                   : p->user.roles;
    /* a supervisor works as an agent too, over every team */
    if (p->roles & SB_ROLE_SUPERVISOR) p->roles |= SB_ROLE_AGENT;
    memcpy(p->session_hash, hash, sizeof(hash));
    snprintf(p->actor, sizeof(p->actor), "%s", p->user.email);
    return SB_OK;
}

static enum sb_err from_token(struct sb_server *srv, const char *token, struct sb_principal *p)
{
    char hash[65], name[128];
    int64_t id;
    unsigned role;
    enum sb_err rc;

    if (strncmp(token, "sbt_", 4) != 0 || strlen(token) > 200) return SB_ERR_NOT_FOUND;
    sb_sha256_hex(token, strlen(token), hash);
    rc = sb_token_get(srv->store, hash, &id, name, sizeof(name), &role);
    if (rc) return rc;
    p->kind = PRINCIPAL_TOKEN;
    /* A token holds exactly the role it was made for; admin is all. */
    p->roles = role == SB_ROLE_ADMIN
                   ? (SB_ROLE_ADMIN | SB_ROLE_EDITOR | SB_ROLE_AGENT | SB_ROLE_SUPERVISOR)
                   : role;
    snprintf(p->actor, sizeof(p->actor), "token:%s", name);
    return SB_OK;
}

enum sb_err principal_resolve(struct sb_server *srv, struct MHD_Connection *c,
                              struct sb_principal *p)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE_NAME);

    memset(p, 0, sizeof(*p));
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) return from_token(srv, auth + 7, p);
    if (cookie) return from_session(srv, cookie, p);
    return SB_ERR_NOT_FOUND;
}

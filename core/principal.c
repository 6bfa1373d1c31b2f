/*
 * principal.c - who is calling: the client's address, and a staff member's
 * session cookie or an integration's API token.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "server.h"

#define COOKIE_NAME "sb_session"

void principal_client_ip(struct sb_server *srv, struct MHD_Connection *c, char out[64])
{
    const union MHD_ConnectionInfo *ci;

    out[0] = '\0';
    if (srv->cfg.trust_proxy) {
        const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
        if (xff && *xff) {
            size_t n = strcspn(xff, ", ");
            if (n > 63) n = 63;
            memcpy(out, xff, n);
            out[n] = '\0';
            return;
        }
    }
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) {
        snprintf(out, 64, "unknown");
        return;
    }
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out, 64);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out, 64);
    else
        snprintf(out, 64, "unknown");
}

bool principal_https(struct sb_server *srv, struct MHD_Connection *c)
{
    const char *proto;
    if (!srv->cfg.trust_proxy) return false;
    proto = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Proto");
    return proto && strcasecmp(proto, "https") == 0;
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

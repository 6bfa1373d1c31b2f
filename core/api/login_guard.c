/*
 * login_guard.c - whom a failed sign-in locks out (docs/operating.md,
 * "Sign-in lockouts").
 *
 * A lock on the whole account let anyone lock a staff member out by
 * failing on purpose from anywhere. So failures count per account *and*
 * client address: the address that failed is locked out of that account,
 * the staff member's own address is not. A browser that once signed in to
 * the account (and asked, "remember_device": the console and the editor
 * do) carries a device cookie (an HMAC, keyed by a secret kept in the data
 * directory), and counts by itself: an attacker sharing the
 * staff member's address (an office NAT, a proxy) locks only themselves
 * out. The per-address limit across all accounts (login_ip_max_failures)
 * still slows down guessing from one place.
 *
 * Uses ratelimit.c for the counters and principal.c's client address.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb_log.h"
#include "api.h"
#include "http.h"
#include "server.h"
#include "ratelimit.h"

#define DEVICE_COOKIE "sb_device"
#define DEVICE_MAX_AGE_S (180 * 86400)
#define NONCE_HEX 32

/* The device key: 32 random bytes as hex in DATA/device.key (mode 600),
 * made on first use, so device cookies survive restarts. false when it
 * cannot be had: sign-in still works, only without known devices. */
static bool device_key(struct sb_server *srv)
{
    char path[SB_PATH_MAX + 16], buf[65];
    ssize_t n;
    int fd;

    if (srv->device_key[0]) return true;
    snprintf(path, sizeof(path), "%s/device.key", srv->cfg.data_dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (sb_random_hex(buf, 32)) return false;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            bool ok = write(fd, buf, 64) == 64 && fsync(fd) == 0;
            close(fd);
            if (ok) {
                memcpy(srv->device_key, buf, sizeof(buf));
                return true;
            }
            unlink(path);
            fd = -1;
        } else if (errno == EEXIST) {
            fd = open(path, O_RDONLY | O_CLOEXEC);
        }
    }
    if (fd < 0) {
        sb_warn("login: %s: %s; known devices are off", path, strerror(errno));
        return false;
    }
    n = read(fd, buf, 64);
    close(fd);
    if (n != 64 || strspn(buf, "0123456789abcdef") < 64) {
        sb_warn("login: %s is not 64 hex digits; known devices are off", path);
        return false;
    }
    buf[64] = '\0';
    memcpy(srv->device_key, buf, sizeof(buf));
    return true;
}

static void device_mac(struct sb_server *srv, int64_t user_id, const char *nonce, char out[65])
{
    char msg[96];
    int n = snprintf(msg, sizeof(msg), "device\n%lld\n%s", (long long)user_id, nonce);
    sb_hmac_sha256_hex(srv->device_key, 64, msg, (size_t)n, out);
}

/* The nonce of a valid device cookie of user_id ("<id>.<nonce>.<mac>"),
 * into nonce; false when there is none or it is not that user's. */
static bool known_device(struct sb_server *srv, struct MHD_Connection *c, int64_t user_id,
                         char nonce[NONCE_HEX + 1])
{
    const char *v = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, DEVICE_COOKIE);
    char want[65], prefix[24];
    const char *dot;
    int n;

    if (!v || user_id <= 0 || strlen(v) > 200 || !device_key(srv)) return false;
    n = snprintf(prefix, sizeof(prefix), "%lld.", (long long)user_id);
    if (strncmp(v, prefix, (size_t)n) != 0) return false;
    v += n;
    dot = strchr(v, '.');
    if (!dot || dot - v != NONCE_HEX || strspn(v, "0123456789abcdef") != NONCE_HEX ||
        strlen(dot + 1) != 64)
        return false;
    memcpy(nonce, v, NONCE_HEX);
    nonce[NONCE_HEX] = '\0';
    device_mac(srv, user_id, nonce, want);
    return sb_secure_equal(dot + 1, want, 64);
}

void login_guard_init(struct sb_server *srv, struct MHD_Connection *c, const char *ip,
                      const char *email, int64_t user_id, struct login_guard *g)
{
    char nonce[NONCE_HEX + 1], who[300 + 64], hash[65];
    size_t n;

    memset(g, 0, sizeof(*g));
    if (known_device(srv, c, user_id, nonce)) {
        g->known_device = true;
        snprintf(g->acct_key, sizeof(g->acct_key), "login-dev:%s", nonce);
        return;
    }
    /* e-mail case must not give a fresh count */
    n = (size_t)snprintf(who, sizeof(who), "%s\n%s", email, ip);
    for (size_t i = 0; i < n && i < sizeof(who); i++)
        if (who[i] >= 'A' && who[i] <= 'Z') who[i] = (char)(who[i] + 32);
    sb_sha256_hex(who, strlen(who), hash);
    snprintf(g->acct_key, sizeof(g->acct_key), "login-acct:%.48s", hash);
    snprintf(g->ip_key, sizeof(g->ip_key), "login-ip:%s", ip);
}

bool login_guard_locked(struct sb_server *srv, const struct login_guard *g, int64_t now_ms,
                        int *retry_after_s)
{
    return (g->ip_key[0] && sb_limits_locked(srv->limits, g->ip_key, now_ms, retry_after_s)) ||
           sb_limits_locked(srv->limits, g->acct_key, now_ms, retry_after_s);
}

void login_guard_failed(struct sb_server *srv, const struct login_guard *g, int64_t now_ms)
{
    sb_limits_fail(srv->limits, g->acct_key, srv->cfg.login_max_failures, srv->cfg.login_lockout_s,
                   now_ms);
    if (g->ip_key[0])
        sb_limits_fail(srv->limits, g->ip_key, srv->cfg.login_ip_max_failures,
                       srv->cfg.login_lockout_s, now_ms);
}

void login_guard_succeeded(struct sb_server *srv, struct MHD_Connection *c,
                           const struct login_guard *g, int64_t user_id, bool remember)
{
    char nonce[NONCE_HEX + 1], mac[65], cookie[256];

    sb_limits_clear(srv->limits, g->acct_key);
    if (!remember || g->known_device || !device_key(srv) || sb_random_hex(nonce, NONCE_HEX / 2))
        return;
    device_mac(srv, user_id, nonce, mac);
    /* only the sign-in reads it */
    snprintf(cookie, sizeof(cookie),
             DEVICE_COOKIE "=%lld.%s.%s; Path=/api/v1/auth/login; HttpOnly; SameSite=Strict;"
                           " Max-Age=%d%s",
             (long long)user_id, nonce, mac, DEVICE_MAX_AGE_S,
             principal_https(srv, c) ? "; Secure" : "");
    http_add_header(srv, "Set-Cookie", cookie);
}

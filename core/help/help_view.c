/*
 * help_view.c - signed page-view tokens for help-center votes, and the
 * voter's digest (help_view.h). The key is the server's, made at start:
 * a page opened before a restart gets its vote refused with a page that
 * asks to open the article again, which is rare and harmless; nothing
 * secret is stored.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "help_view.h"
#include "sb_util.h"

#define NONCE_HEX 16
#define MAC_HEX 32

/* The MAC's first MAC_HEX hex digits over "<article>.<issued>.<nonce>". */
static void mac_of(const char *key, int64_t article_id, const char *view_id, char out[MAC_HEX + 1])
{
    char msg[HELP_VIEW_ID_CAP + 24], full[65];
    int n = snprintf(msg, sizeof(msg), "%" PRId64 ".%s", article_id, view_id);

    sb_hmac_sha256_hex(key, strlen(key), msg, (size_t)n, full);
    memcpy(out, full, MAC_HEX);
    out[MAC_HEX] = '\0';
}

enum sb_err help_view_make(const char *key, int64_t article_id, int64_t now_s,
                           char out[HELP_VIEW_TOKEN_CAP])
{
    char nonce[NONCE_HEX + 1], view_id[HELP_VIEW_ID_CAP], mac[MAC_HEX + 1];

    if (sb_random_hex(nonce, NONCE_HEX / 2)) return SB_ERR_IO;
    snprintf(view_id, sizeof(view_id), "%" PRId64 ".%s", now_s, nonce);
    mac_of(key, article_id, view_id, mac);
    snprintf(out, HELP_VIEW_TOKEN_CAP, "%s.%s", view_id, mac);
    return SB_OK;
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

enum sb_err help_view_check(const char *key, const char *token, int64_t article_id, int64_t now_s,
                            char view_id[HELP_VIEW_ID_CAP])
{
    const char *dot1 = token ? strchr(token, '.') : NULL, *dot2;
    char want[MAC_HEX + 1];
    size_t digits;
    int64_t issued = 0;

    if (!dot1) return SB_ERR_INVAL;
    digits = (size_t)(dot1 - token);
    dot2 = strchr(dot1 + 1, '.');
    if (digits < 1 || digits > 12 || !dot2 || dot2 - dot1 - 1 != NONCE_HEX ||
        strlen(dot2 + 1) != MAC_HEX || !all_hex(dot1 + 1, NONCE_HEX) || !all_hex(dot2 + 1, MAC_HEX))
        return SB_ERR_INVAL;
    for (size_t i = 0; i < digits; i++) {
        if (token[i] < '0' || token[i] > '9') return SB_ERR_INVAL;
        issued = issued * 10 + (token[i] - '0');
    }
    memcpy(view_id, token, (size_t)(dot2 - token));
    view_id[dot2 - token] = '\0';
    mac_of(key, article_id, view_id, want);
    if (!sb_secure_equal(want, dot2 + 1, MAC_HEX)) return SB_ERR_INVAL;
    /* a clock moved back a little is no reason to refuse */
    if (issued > now_s + 300 || now_s - issued > HELP_VIEW_MAX_AGE_S) return SB_ERR_TIMEOUT;
    return SB_OK;
}

void help_view_voter(const char *ip, char out[HELP_VIEW_VOTER_CAP])
{
    unsigned char a6[16];
    char norm[96], full[65];

    snprintf(norm, sizeof(norm), "voter:%.64s", ip);
    if (strchr(ip, ':') && inet_pton(AF_INET6, ip, a6) == 1) {
        memset(a6 + 8, 0, 8);
        memcpy(norm, "voter:", 6);
        inet_ntop(AF_INET6, a6, norm + 6, sizeof(norm) - 6);
        snprintf(norm + strlen(norm), sizeof(norm) - strlen(norm), "/64");
    }
    sb_sha256_hex(norm, strlen(norm), full);
    memcpy(out, full, HELP_VIEW_VOTER_CAP - 1);
    out[HELP_VIEW_VOTER_CAP - 1] = '\0';
}

/*
 * help_view.h - the help center's page views: a signed token that an
 * article page puts in its "was this helpful?" form, so a vote names the
 * view it came from and can be counted once; and the voter's digest.
 */
#ifndef SB_HELP_VIEW_H
#define SB_HELP_VIEW_H

#include <stdint.h>

#include "sb.h"

/* "<issued>.<nonce>.<mac>": decimal seconds, 16 and 32 hex digits. */
#define HELP_VIEW_TOKEN_CAP 80
/* "<issued>.<nonce>": what names the view once the token checks out. */
#define HELP_VIEW_ID_CAP 40
/* How long a page may stay open before its vote is refused. */
#define HELP_VIEW_MAX_AGE_S (24 * 3600)
#define HELP_VIEW_VOTER_CAP 33

/* A fresh token for a view of article_id at now_s, signed with key (a
 * NUL-terminated secret, borrowed). SB_ERR_IO when the system has no
 * randomness to give. */
enum sb_err help_view_make(const char *key, int64_t article_id, int64_t now_s,
                           char out[HELP_VIEW_TOKEN_CAP]);

/* Checks that token (borrowed, untrusted) was made with key for a view
 * of article_id no longer than HELP_VIEW_MAX_AGE_S before now_s, and
 * fills view_id. SB_ERR_INVAL for a malformed, forged or other article's
 * token, SB_ERR_TIMEOUT for an expired one. */
enum sb_err help_view_check(const char *key, const char *token, int64_t article_id, int64_t now_s,
                            char view_id[HELP_VIEW_ID_CAP]);

/* A digest of the client address ip (as principal_client_ip gives it),
 * the same for every address of one IPv6 /64 (one household or host
 * holds a whole /64) and across restarts, so the answer engine can count
 * one signal per voter. Not a secret: trying every IPv4 address finds
 * it, and the audit log keeps addresses anyway; it just keeps them out
 * of the votes table at a glance. Also the rate-limit key. */
void help_view_voter(const char *ip, char out[HELP_VIEW_VOTER_CAP]);

#endif

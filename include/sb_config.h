/*
 * sb_config.h - server settings: built-in defaults, then a JSON config file,
 * then SWITCHBOARD_* environment variables, then command-line flags.
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sb.h"

#define SB_PATH_MAX 1024

struct sb_config {
    char bind[64]; /* listen address, default 127.0.0.1 */
    int port;      /* 0 picks a free port */
    char data_dir[SB_PATH_MAX];
    char plugins_dir[SB_PATH_MAX];
    char web_dir[SB_PATH_MAX];      /* static pages: web/editor, web/help */
    char public_url[512];           /* base of links the bot posts; empty = http://bind:port */
    size_t max_body;                /* request body cap in bytes */
    size_t max_kb_body;             /* the cap for /api/v1/kb/ (articles, bulk import) */
    size_t max_text;                /* customer message cap in bytes */
    size_t max_attachment;          /* one uploaded file (widget attachments) */
    size_t lua_memory;              /* per-plugin allocator cap in bytes */
    uint64_t lua_instructions;      /* per-call instruction budget */
    int lua_deadline_ms;            /* per-call wall-clock deadline */
    size_t plugin_store_quota;      /* sb.store bytes (keys + values) per plugin */
    double kb_answer_threshold;     /* confidence needed to answer */
    double kb_clarify_threshold;    /* below the answer threshold: offer choices; below this:
                                       out of scope, hand off */
    double kb_learn_half_life_days; /* of a vote or hand-off in the learned adjustments */
    int kb_learn_refresh_s;         /* adjustments are recomputed at most this often */
    int kb_rebuild_in_place_ms;     /* slower index rebuilds run on a thread (sb_kb.h) */
    int sse_keepalive_s;
    int http_timeout_s; /* idle or stalled connections are closed after this */
    int shutdown_grace_s;
    char synchronous[8]; /* SQLite synchronous: NORMAL (survives kill -9) or FULL */
    char default_locale[16];
    char locales[256]; /* knowledge-base locales, comma-separated, default first */
    /* accounts and limits */
    int session_idle_s;        /* a session unused this long ends */
    int session_max_s;         /* and every session ends after this */
    int login_max_failures;    /* per account, before a lockout */
    int login_lockout_s;       /* first lockout; doubles per further failure, max 900 */
    int login_ip_max_failures; /* per client IP, before a lockout */
    double rate_ip_per_s;      /* customer API, per client IP */
    double rate_ip_burst;
    double rate_visitor_per_s; /* customer API, per conversation token */
    double rate_visitor_burst;
    int kdf_log2_n;  /* scrypt cost for new password hashes */
    int trust_proxy; /* 1: believe X-Forwarded-For / -Proto */
    /* live agents (docs/agents.md) */
    int reopen_window_s; /* a customer writing to a resolved conversation
                            within this reopens it to a person */
    int offer_timeout_s; /* an unanswered offer goes back to the queue */
    int auto_accept;     /* 1: routing assigns at once instead of offering */
    /* channels' outbox (docs/channels.md): a message is a dead letter after
     * this many attempts or once this old */
    int outbox_max_attempts;
    int outbox_max_age_s;
    double sla_warn_ratio;
    char channel_weights[128]; /* "email=0.5,sms=1" over the defaults */
    int test_clock;            /* --test-clock: POST /api/v1/test/clock moves the clock */
    /* the front door (docs/operating.md, "Behind a proxy", "Connections") */
    char trusted_proxies[512]; /* addresses/CIDRs whose X-Forwarded-* count (with trust_proxy) */
    int max_conns_per_ip;      /* open connections per client address; trusted proxies exempt */
    int http_header_timeout_s; /* a request head must be complete this long after it may start */
    char metrics_token[129];   /* GET /metrics wants "Authorization: Bearer <this>" */
    char metrics_access[16];   /* auto (token if set, else loopback), loopback, token */
    int hsts_max_age_s;        /* Strict-Transport-Security on HTTPS via a trusted proxy; 0: off */
    /* help-center "was this helpful?" votes per client address */
    double help_vote_per_hour;
    double help_vote_burst;
    /* channel plugins' settings (docs/operating.md, "Channels"): the JSON
     * text of the "channels" object, {"<channel>": {...}}; "" = none.
     * Checked by the plugin's schema when it loads (lua_settings.c). */
    char channels[16384];
};

void sb_config_defaults(struct sb_config *cfg);

/* Overlays keys from the JSON file at path (borrowed). Unknown keys and
 * wrong types are errors so a typo never silently falls back to a default. */
enum sb_err sb_config_load_file(struct sb_config *cfg, const char *path, struct sb_errbuf *eb);

/* Overlays SWITCHBOARD_<KEY> environment variables. */
enum sb_err sb_config_load_env(struct sb_config *cfg, struct sb_errbuf *eb);

/* Sets one key from text (used by env and flags). */
enum sb_err sb_config_set(struct sb_config *cfg, const char *key, const char *value,
                          struct sb_errbuf *eb);

/* Checks the rules that tie keys together, once every source has been
 * read (each key alone is checked when set): kb_clarify_threshold must
 * not be above kb_answer_threshold. SB_ERR_INVAL with both names in eb. */
enum sb_err sb_config_check(const struct sb_config *cfg, struct sb_errbuf *eb);

#endif

/*
 * handoff_int.h - private to handoff.c, handoff_ops.c and api_agent.c:
 * the team cache and the transitions of the state machine (their SQL is
 * in store/store_handoff.c).
 */
#ifndef HANDOFF_INT_H
#define HANDOFF_INT_H

#include "handoff.h"
#include "hours.h"
#include "routing.h"
#include "lua_host.h"
#include "sb_config.h"
#include "sb_kb.h"
#include "sla.h"
#include "store_handoff.h"
#include "tz.h"

struct ho_team {
    char id[64];
    char tz[64];
    struct sb_hours *hours; /* NULL: always open */
    bool open;
    bool allow_pick;
    bool require_language;
    json_t *outside; /* owned: {"en": "..."} */
};

struct handoff_state {
    struct sb_store *store; /* the rest of handoff_deps, borrowed */
    struct sb_kb *kb;
    struct sb_host *host;
    const struct sb_config *cfg;
    const struct sb_words *words;
    uint64_t *sla_warnings, *sla_breaches;
    struct sb_sender send;   /* the one send path (send.h), over store and messages_out */
    struct agent_feed *feed; /* agent_feed.c, for api_agent_events.c */
    /* The router as of the last committed unit; the open unit's copy
     * (NULL until the unit first changes it), adopted when the unit
     * commits and dropped with a rollback. */
    struct sb_router *router;
    struct sb_router *staged;
    enum sb_err load_rc; /* load_router's callbacks */
    struct sb_tzdb *tzdb;
    struct ho_team *teams;
    int nteams;
    /* The conversation the running transition was called with (borrowed):
     * events added to it through another struct sb_conv must move its
     * last_seq too, or its next event would reuse a sequence number. */
    struct sb_conv *current;
};

/* ---- Interface to code in handoff.c ---- */
/* The router a transition changes: inside a unit, the unit's own copy,
 * made on first use and adopted as an after-commit effect (so a rollback
 * leaves the router as it was); outside a unit, the router itself.
 * SB_ERR_NOMEM when the copy cannot be made. */
enum sb_err ho_router(struct handoff_state *ho, struct sb_router **out);
/* The router to read from: the unit's copy when there is one (borrowed). */
const struct sb_router *ho_router_view(struct handoff_state *ho);
double ho_weight(struct handoff_state *ho, const char *channel);
struct ho_team *ho_team(struct handoff_state *ho, const char *id); /* borrowed; NULL unknown */
enum sb_err ho_agent_load(struct handoff_state *ho, int64_t user_id);
enum sb_err ho_enqueue_row(struct handoff_state *ho, int64_t conv);
enum sb_err ho_event(struct handoff_state *ho, struct sb_conv *conv, const char *type,
                     json_t *payload); /* payload owned */
/* Sends the customer a system message (sb_conv_send): with replies, it
 * answers their message replies->reply_to and joins the answer; NULL: it
 * answers nothing. quick_replies borrowed, NULL is []. */
enum sb_err ho_system_message(struct handoff_state *ho, struct sb_conv *conv, const char *text,
                              const json_t *quick_replies, struct sb_replies *replies);
enum sb_err ho_sla_start(struct handoff_state *ho, int64_t conv, const char *team,
                         const char *channel, int priority, enum sb_sla_kind kind, int64_t start);
int ho_position(struct handoff_state *ho, int64_t conv);
enum sb_err ho_queue_in(struct handoff_state *ho, struct sb_conv *conv, const char *team,
                        struct sb_replies *replies); /* NULL ok */
enum sb_err ho_user_name(struct handoff_state *ho, int64_t user, char *out, size_t cap);
/* Moves the current conversation's last_seq up to conv's (same id). */
void ho_sync_current(struct handoff_state *ho, const struct sb_conv *conv);
enum sb_err ho_offer(struct handoff_state *ho, int64_t conv_id, int64_t agent, bool direct);
enum sb_err ho_withdraw_lost_offers(struct handoff_state *ho, int64_t user_id);
bool ho_agent_has_room(struct handoff_state *ho, int64_t agent, const char *channel);

/* ---- Interface to code in handoff_ops.c ---- */
/* conv (queued) goes to agent: status assigned, router hold, event. */
enum sb_err ho_assign(struct handoff_state *ho, struct sb_conv *conv, int64_t agent);

/* The row of a conversation the agent API acts on (store_handoff.h). */
enum sb_err ho_conv_row(struct handoff_state *ho, int64_t id, struct sb_handoff_row *out);

/* Transitions: SB_ERR_CONFLICT-like refusals come back as SB_ERR_INVAL
 * with why in eb (the API answers 409). Inside a unit. */
enum sb_err ho_accept(struct handoff_state *ho, struct sb_conv *conv, int64_t agent,
                      struct sb_errbuf *eb);
enum sb_err ho_decline(struct handoff_state *ho, struct sb_conv *conv, int64_t agent,
                       struct sb_errbuf *eb);
enum sb_err ho_claim(struct handoff_state *ho, struct sb_conv *conv, int64_t agent, bool supervisor,
                     struct sb_errbuf *eb);
enum sb_err ho_resolve(struct handoff_state *ho, struct sb_conv *conv, const char *by,
                       int64_t article, struct sb_errbuf *eb); /* article 0: none named */
enum sb_err ho_return_to_bot(struct handoff_state *ho, struct sb_conv *conv, const char *by,
                             struct sb_errbuf *eb);
enum sb_err ho_transfer(struct handoff_state *ho, struct sb_conv *conv, int64_t from,
                        const char *team, int64_t to_agent, const char *note, struct sb_errbuf *eb);
/* The agent replied: SLA first/next response met. */
enum sb_err ho_replied(struct handoff_state *ho, int64_t conv);

#endif

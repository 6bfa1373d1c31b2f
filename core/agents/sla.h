/*
 * sla.h - SLA targets and deadlines (docs/agents.md, "Business hours, SLAs
 * and the clock"): which policy applies to a conversation, when each due
 * time and its warning fall in the team's business time, and whether an
 * SLA is ok, in warning or breached at an instant. Pure functions over
 * what the caller passes; the store and timers keep the results.
 *
 * Instants are milliseconds since the epoch (UTC).
 */
#ifndef SLA_H
#define SLA_H

#include <stdint.h>

#include "hours.h"
#include "sb.h"

enum sb_sla_kind { SB_SLA_FIRST_RESPONSE, SB_SLA_NEXT_RESPONSE, SB_SLA_RESOLUTION, SB_SLA_KINDS };

/* Minutes value of a policy that has no target for a kind (JSON null). */
#define SB_SLA_NONE (-1)
/* The defaults when no policy matches: 5 min, 15 min, 24 h. */
#define SB_SLA_DEFAULT_FIRST_MIN 5
#define SB_SLA_DEFAULT_NEXT_MIN 15
#define SB_SLA_DEFAULT_RESOLUTION_MIN 1440
#define SB_SLA_WARN_RATIO 0.8

/* A row of sla_policies. channel is borrowed: a channel name or "*". */
struct sb_sla_policy {
    const char *channel;
    int priority;
    int minutes[SB_SLA_KINDS]; /* SB_SLA_NONE = no target */
};

/* Targets in milliseconds of business time; -1 = none. */
struct sb_sla_targets {
    int64_t ms[SB_SLA_KINDS];
};

/* The targets of a conversation on channel with priority (>= 0). The
 * policy for that priority applies when there is one (the channel's
 * before "*"); otherwise the closest lower priority's, halved once for
 * each level between (priority 2 with only a priority-0 policy: a
 * quarter); otherwise the defaults, halved the same way. policies is
 * borrowed. SB_ERR_INVAL for a negative priority or minutes below
 * SB_SLA_NONE. */
enum sb_err sb_sla_targets_for(const struct sb_sla_policy *policies, int npolicies,
                               const char *channel, int priority, struct sb_sla_targets *out);

/* When a target of ms business time started at start falls due, and when
 * its warning fires (warn_ratio of the business time, e.g. 0.8). hours
 * NULL counts every minute. Errors of sb_hours_add; SB_ERR_INVAL for
 * ms < 0 or a ratio outside (0, 1]. */
enum sb_err sb_sla_deadline(const struct sb_hours *hours, int64_t start, int64_t ms,
                            double warn_ratio, int64_t *warn_at, int64_t *due_at);

enum sb_sla_state { SB_SLA_OK, SB_SLA_WARNING, SB_SLA_BREACHED };

/* The state at t of an SLA with these instants. met_at <= 0: not met yet;
 * met before the due time: ok from then on, met late: breached.
 * due_at <= 0 (no target): ok. */
enum sb_sla_state sb_sla_state_at(int64_t warn_at, int64_t due_at, int64_t met_at, int64_t t);

/* "ok", "warning", "breached"; "first_response", "next_response",
 * "resolution" (the names the API and events use). */
const char *sb_sla_state_name(enum sb_sla_state s);
const char *sb_sla_kind_name(enum sb_sla_kind k);

#endif

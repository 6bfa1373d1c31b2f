/*
 * sla.c - SLA targets, deadlines and states (sla.h). Uses hours.c for
 * business time; nothing else.
 */
#include <math.h>
#include <string.h>

#include "sla.h"

#define MAX_PRIORITY 16

/* The policy for exactly this priority: the channel's, else "*". */
static const struct sb_sla_policy *find(const struct sb_sla_policy *p, int n, const char *channel,
                                        int priority)
{
    const struct sb_sla_policy *any = NULL;
    for (int i = 0; i < n; i++) {
        if (p[i].priority != priority || !p[i].channel) continue;
        if (channel && strcmp(p[i].channel, channel) == 0) return &p[i];
        if (strcmp(p[i].channel, "*") == 0 && !any) any = &p[i];
    }
    return any;
}

enum sb_err sb_sla_targets_for(const struct sb_sla_policy *policies, int npolicies,
                               const char *channel, int priority, struct sb_sla_targets *out)
{
    static const int defaults[SB_SLA_KINDS] = {SB_SLA_DEFAULT_FIRST_MIN, SB_SLA_DEFAULT_NEXT_MIN,
                                               SB_SLA_DEFAULT_RESOLUTION_MIN};
    if (priority < 0 || priority > MAX_PRIORITY || npolicies < 0) return SB_ERR_INVAL;
    const int *minutes = defaults;
    int halvings = priority;
    for (int level = priority; level >= 0; level--) {
        const struct sb_sla_policy *p = find(policies, npolicies, channel, level);
        if (p) {
            minutes = p->minutes;
            halvings = priority - level;
            break;
        }
    }
    for (int k = 0; k < SB_SLA_KINDS; k++) {
        if (minutes[k] < SB_SLA_NONE) return SB_ERR_INVAL;
        /* Halved in milliseconds, so 5 minutes at priority 2 is 75 s, not 1 min. */
        out->ms[k] = minutes[k] == SB_SLA_NONE ? -1 : ((int64_t)minutes[k] * 60000) >> halvings;
    }
    return SB_OK;
}

enum sb_err sb_sla_deadline(const struct sb_hours *hours, int64_t start, int64_t ms,
                            double warn_ratio, int64_t *warn_at, int64_t *due_at)
{
    if (ms < 0 || !(warn_ratio > 0 && warn_ratio <= 1)) return SB_ERR_INVAL;
    int64_t warn_ms = llround((double)ms * warn_ratio);
    if (!hours) {
        *warn_at = start + warn_ms;
        *due_at = start + ms;
        return SB_OK;
    }
    enum sb_err rc = sb_hours_add(hours, start, warn_ms, warn_at);
    if (rc) return rc;
    /* The rest counts from the warning, which is where business time
     * already stood. */
    return sb_hours_add(hours, *warn_at, ms - warn_ms, due_at);
}

enum sb_sla_state sb_sla_state_at(int64_t warn_at, int64_t due_at, int64_t met_at, int64_t t)
{
    if (due_at <= 0) return SB_SLA_OK;
    if (met_at > 0 && met_at <= t) return met_at < due_at ? SB_SLA_OK : SB_SLA_BREACHED;
    if (t >= due_at) return SB_SLA_BREACHED;
    if (warn_at > 0 && t >= warn_at) return SB_SLA_WARNING;
    return SB_SLA_OK;
}

const char *sb_sla_state_name(enum sb_sla_state s)
{
    switch (s) {
    case SB_SLA_OK:
        return "ok";
    case SB_SLA_WARNING:
        return "warning";
    case SB_SLA_BREACHED:
        return "breached";
    }
    return "?";
}

const char *sb_sla_kind_name(enum sb_sla_kind k)
{
    switch (k) {
    case SB_SLA_FIRST_RESPONSE:
        return "first_response";
    case SB_SLA_NEXT_RESPONSE:
        return "next_response";
    case SB_SLA_RESOLUTION:
        return "resolution";
    case SB_SLA_KINDS:
        break;
    }
    return "?";
}

/*
 * agent_admin.h - private to core/: what agents read besides their own
 * conversations (the customer card, canned responses, the knowledge-base
 * search, the supervisor overview) and what admins configure for live
 * agents (teams, agent profiles, routing rules, SLA policies, canned
 * responses). docs/agents.md is the contract.
 *
 * Checks are pure (canned.c, agent_config.c) so the API, the CLI and unit
 * tests share them; the SQL is in store_agent_admin.c (store_agent_admin.h); the HTTP handlers
 * in api_agent_read.c and api_admin_agents.c; the CLI in cli_agent.c.
 */
#ifndef AGENT_ADMIN_H
#define AGENT_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "handoff.h" /* sb_agents_config_changed() */
#include "sb.h"
#include "sb_store.h"
#include "sb_util.h"

struct sb_kb;

/* ------- Interface to code in canned.c ------- */

#define CANNED_SHORTCUT_MAX 40
#define CANNED_TITLE_MAX 100 /* characters */
#define CANNED_TEXT_MAX 4000 /* characters */
#define CANNED_RENDER_MAX (64 * 1024)

/* True for 1 to CANNED_SHORTCUT_MAX of [a-z0-9-]. */
bool canned_shortcut_valid(const char *s);

/* Checks a canned response from the admin API: shortcut, locale (known to
 * kb, borrowed; NULL accepts any "xx" or "xx-YY"), title (1-100
 * characters), text (1-4000 characters), team (optional: null or a team
 * id; whether it exists is the store's business). *out (owned) is the
 * cleaned object {shortcut, locale, title, text, team}. SB_ERR_INVAL with
 * eb naming the field ("shortcut: ..."). in is borrowed. */
enum sb_err canned_validate(const json_t *in, const struct sb_kb *kb, json_t **out,
                            struct sb_errbuf *eb);

/* The values the variables take; NULL or "" = unknown. */
struct canned_vars {
    const char *customer_name;
    const char *agent_name;
    const char *conversation_id;
    const char *customer_fallback; /* a nameless customer: the catalogue's "conv.customer" */
};

/* Fills {{customer.name}}, {{agent.name}} and {{conversation.id}} (spaces
 * inside the braces allowed) in text (borrowed) into out (appended).
 * A customer without a name is called customer_fallback ("there": "Hi
 * there", "cliente", from the locale catalogues).
 * Any other {{...}}, or agent/conversation without a value, is left as
 * written and its name appended once to missing (a JSON array, borrowed;
 * may be NULL). SB_ERR_LIMIT when out's cap is reached. */
enum sb_err canned_render(const char *text, const struct canned_vars *v, struct sb_buf *out,
                          json_t *missing);

/* ------- Interface to code in agent_config.c ------- */

#define AGENT_CAPACITY_MIN 1
#define AGENT_CAPACITY_MAX 50
#define AGENT_SKILLS_MAX 50
#define AGENT_SKILL_LEN_MAX 64
#define TEAM_ID_MAX 40
#define TEAM_NAME_MAX 100
#define RULES_MAX 200
#define SLA_POLICIES_MAX 100
#define SLA_MINUTES_MAX 525600 /* a year */

/* True for 1 to TEAM_ID_MAX of [a-z0-9-] (also a team's id in a path). */
bool team_id_valid(const char *s);
/* True for "<kind>:<value>": [a-z]+ ":" [A-Za-z0-9_-]+, at most 64 bytes. */
bool agent_skill_valid(const char *s);
/* "online", "away", "offline". */
bool agent_status_valid(const char *s);

/* A team from the admin API or the CLI: name (1-100 characters),
 * timezone (default "UTC", loaded from tzdir: NULL = the system's),
 * hours (null/absent = always open) and holidays checked by hours.c,
 * allow_pick, require_language (booleans, default true / false),
 * outside_hours ({locale: text}). id is the path's (borrowed). *out
 * (owned) has every field. SB_ERR_INVAL with eb naming the field. */
enum sb_err team_validate(const json_t *in, const char *id, const char *tzdir, json_t **out,
                          struct sb_errbuf *eb);

/* An agent profile change: any of status, capacity (1-50), skills (at
 * most 50, agent_skill_valid, no duplicates), teams (team ids; existence
 * is checked by the store). *out (owned) holds the fields given, cleaned
 * (skills and teams deduplicated in order). */
enum sb_err agent_profile_validate(const json_t *in, json_t **out, struct sb_errbuf *eb);

/* The whole ordered list of routing rules: {"rules": [{match: {channel,
 * locale, topic, attrs}, team, priority 0-2, skills}]} (a bare array is
 * accepted too). *out (owned) is the cleaned array. */
enum sb_err routing_rules_validate(const json_t *in, json_t **out, struct sb_errbuf *eb);

/* The whole list of SLA policies: {"policies": [{channel ("*" default),
 * priority 0-2, first_response_min, next_response_min, resolution_min
 * (each required: 1 to a year, or null = no target)}]}, one per
 * (channel, priority). *out (owned) is the cleaned array. */
enum sb_err sla_policies_validate(const json_t *in, json_t **out, struct sb_errbuf *eb);

#endif

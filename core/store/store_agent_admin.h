/*
 * store_agent_admin.h - the SQL behind what agents read besides their own
 * conversations and what admins configure for live agents
 * (agent_admin.h has the checks; docs/agents.md is the contract).
 */
#ifndef STORE_AGENT_ADMIN_H
#define STORE_AGENT_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sb.h"
#include "sb_store.h"
#include "store_agent.h" /* struct agent_viewer */

/* ------- Interface to code in store_agent_admin.c -------
 *
 * Admin and read paths, far from hot: statements are prepared per call,
 * so this file needs no slot in the store's statement tables. Every
 * writer runs inside the caller's unit of work (sb_store_begin). */

/* The customer card that ref names (the contact's public id, or the public
 * id of one of its conversations), as v may see it (agent_access.h): v
 * must see that conversation, or one of the contact's; conversations and
 * notes list only those v sees. {id (the public id), name, attributes, identities:
 * [{channel, external_id, verified_by, verified}], conversations: [{id,
 * channel, status, offered, team, locale, created_at, updated_at, csat,
 * last_message: {text (a preview of at most 200 bytes), author, at} |
 * null, assignee: {id, name} | null}] newest first, notes: [{id,
 * conversation_id, author: {id, name}, text, created_at}] newest first}.
 * SB_ERR_NOT_FOUND when unknown. */
enum sb_err agent_store_contact(struct sb_store *st, const char *ref, const struct agent_viewer *v,
                                json_t **out);

/* Canned responses [{id, shortcut, locale, title, text, team}]: locale
 * and q (shortcut, title or text contains, case-insensitive ASCII) may be
 * NULL; user_id > 0 keeps the global ones and those of the user's teams
 * (0 = all). */
json_t *agent_store_canned_list(struct sb_store *st, const char *locale, const char *q,
                                int64_t user_id);
enum sb_err agent_store_canned_get(struct sb_store *st, int64_t id, json_t **out);
/* Creates (id 0; *id set) or replaces canned response *id from a
 * validated object. SB_ERR_NOT_FOUND (id or team), SB_ERR_EXISTS (the
 * shortcut is taken in that locale and team). */
enum sb_err agent_store_canned_put(struct sb_store *st, int64_t *id, const json_t *c);
enum sb_err agent_store_canned_delete(struct sb_store *st, int64_t id);
/* True when user_id may use canned response c (global, or one of the
 * user's teams). */
bool agent_store_canned_allowed(struct sb_store *st, const json_t *c, int64_t user_id);

/* The supervisor overview at now: {agents: [{id, name, email, status,
 * load, capacity, teams}], queues: [{team, name, waiting, offered,
 * oldest_wait_s}], sla: {ok, warning, breached}}. Channel weights as the
 * routing uses them come from weight(channel, arg). */
typedef double (*agent_weight_fn)(const char *channel, void *arg);
json_t *agent_store_overview(struct sb_store *st, int64_t now, agent_weight_fn weight, void *arg);

/* Teams: [{id, name, timezone, hours, holidays, allow_pick,
 * require_language, outside_hours, members: [user ids]}]. */
json_t *agent_store_teams(struct sb_store *st);
enum sb_err agent_store_team_get(struct sb_store *st, const char *id, json_t **out);
enum sb_err agent_store_team_put(struct sb_store *st, const json_t *team, bool *created);
/* SB_ERR_NOT_FOUND; SB_ERR_CONFLICT when the team is "default" or still
 * used (why in eb: routing rules, canned responses, open conversations). */
enum sb_err agent_store_team_delete(struct sb_store *st, const char *id, struct sb_errbuf *eb);
bool agent_store_team_exists(struct sb_store *st, const char *id);

/* An agent's profile {user_id, email, name, status, capacity, skills,
 * teams, last_assigned_at}; a user with the agent role but no profile row
 * gets the defaults. SB_ERR_NOT_FOUND unless user_id is an agent. */
enum sb_err agent_store_profile_get(struct sb_store *st, int64_t user_id, json_t **out);
/* Applies the fields of a validated change; SB_ERR_NOT_FOUND (user not
 * an agent, or a team: eb names it). */
enum sb_err agent_store_profile_put(struct sb_store *st, int64_t user_id, const json_t *change,
                                    struct sb_errbuf *eb);

json_t *agent_store_rules(struct sb_store *st);
/* Replaces every rule; SB_ERR_NOT_FOUND when a rule names an unknown team
 * (eb: "rules[i].team: ..."). */
enum sb_err agent_store_rules_put(struct sb_store *st, const json_t *rules, struct sb_errbuf *eb);
json_t *agent_store_sla_policies(struct sb_store *st);
enum sb_err agent_store_sla_policies_put(struct sb_store *st, const json_t *policies);

#endif

/*
 * agent_config.c - the checks on what admins configure for live agents
 * (docs/agents.md): teams (time zone loaded with tz.c, hours and holidays
 * parsed by hours.c), agent profiles, the routing rules and the SLA
 * policies. Pure: whether a named team exists is the store's question.
 * Every error names the field, e.g. "rules[2].priority: must be 0, 1 or 2".
 */
#include <stdio.h>
#include <string.h>

#include "agent_admin.h"
#include "hours.h"
#include "tz.h"

static bool slug_valid(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

bool team_id_valid(const char *s)
{
    return slug_valid(s, TEAM_ID_MAX);
}

bool agent_skill_valid(const char *s)
{
    const char *colon = s ? strchr(s, ':') : NULL;
    size_t n;
    if (!colon || colon == s || strlen(s) > AGENT_SKILL_LEN_MAX || colon[1] == '\0') return false;
    for (const char *p = s; p < colon; p++)
        if (*p < 'a' || *p > 'z') return false;
    n = strspn(colon + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
    return colon[1 + n] == '\0';
}

bool agent_status_valid(const char *s)
{
    return s && (strcmp(s, "online") == 0 || strcmp(s, "away") == 0 || strcmp(s, "offline") == 0);
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static bool bool_field(const json_t *in, const char *name, bool dflt, bool *out,
                       struct sb_errbuf *eb)
{
    const json_t *v = json_object_get(in, name);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return true;
    }
    if (!json_is_boolean(v)) {
        sb_fail(eb, SB_ERR_INVAL, "%s: must be true or false", name);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

/* Checks keys of in against allowed (NULL-terminated); names the first
 * unknown one as prefix.key. */
static enum sb_err known_keys(const json_t *in, const char *const *allowed, const char *prefix,
                              struct sb_errbuf *eb)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)in, key, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(key, *a) == 0) ok = true;
        if (!ok) return sb_fail(eb, SB_ERR_INVAL, "%s%.60s: unknown field", prefix, key);
    }
    return SB_OK;
}

enum sb_err team_validate(const json_t *in, const char *id, const char *tzdir, json_t **out,
                          struct sb_errbuf *eb)
{
    static const char *const keys[] = {
        "id",       "name",       "timezone",         "hours",
        "holidays", "allow_pick", "require_language", "outside_hours",
        "members",  NULL};
    const json_t *v, *hours, *holidays;
    const char *name, *tzname = "UTC", *key;
    struct sb_tzdb *db = NULL;
    const struct sb_tz *tz = NULL;
    struct sb_hours *h = NULL;
    struct sb_errbuf inner = {{0}};
    bool allow_pick, require_language;
    json_t *outside;
    enum sb_err rc;

    if (!json_is_object(in)) return sb_fail(eb, SB_ERR_INVAL, "body: must be a JSON object");
    if (!team_id_valid(id))
        return sb_fail(eb, SB_ERR_INVAL, "id: must be 1 to %d of a-z, 0-9 and -", TEAM_ID_MAX);
    rc = known_keys(in, keys, "", eb);
    if (rc) return rc;
    v = json_object_get(in, "id");
    if (v && !(json_is_string(v) && strcmp(json_string_value(v), id) == 0))
        return sb_fail(eb, SB_ERR_INVAL, "id: must be the one in the path ('%s')", id);
    v = json_object_get(in, "name");
    name = json_string_value(v);
    if (!v) return sb_fail(eb, SB_ERR_INVAL, "name: is required");
    if (!name || strlen(name) != json_string_length(v) || strspn(name, " \t\r\n") == strlen(name) ||
        utf8_chars(name) > TEAM_NAME_MAX)
        return sb_fail(eb, SB_ERR_INVAL, "name: must be 1 to %d characters", TEAM_NAME_MAX);
    v = json_object_get(in, "timezone");
    if (v && !json_is_null(v)) {
        tzname = json_string_value(v);
        if (!tzname) return sb_fail(eb, SB_ERR_INVAL, "timezone: must be a string");
    }
    rc = sb_tzdb_new(tzdir, &db);
    if (rc) return sb_fail(eb, rc, "timezone: the zone database cannot be opened");
    rc = sb_tz_get(db, tzname, &tz, &inner);
    if (rc) {
        sb_tzdb_free(db);
        return sb_fail(eb, SB_ERR_INVAL, "timezone: '%.60s' is not a known time zone", tzname);
    }
    hours = json_object_get(in, "hours");
    holidays = json_object_get(in, "holidays");
    rc = sb_hours_new(hours && !json_is_null(hours) ? hours : NULL,
                      holidays && !json_is_null(holidays) ? holidays : NULL, tz, &h, &inner);
    sb_hours_free(h);
    sb_tzdb_free(db);
    if (rc) return sb_fail(eb, SB_ERR_INVAL, "%s", inner.msg);
    if (!bool_field(in, "allow_pick", true, &allow_pick, eb) ||
        !bool_field(in, "require_language", false, &require_language, eb))
        return SB_ERR_INVAL;
    v = json_object_get(in, "outside_hours");
    outside = json_object();
    if (v && !json_is_null(v)) {
        const json_t *t;
        char norm[36];
        if (!json_is_object(v)) {
            json_decref(outside);
            return sb_fail(eb, SB_ERR_INVAL, "outside_hours: must be an object {locale: text}");
        }
        json_object_foreach((json_t *)v, key, t)
        {
            if (!sb_locale_normalise(key, norm, sizeof(norm)) || !json_is_string(t) ||
                json_string_length(t) > 1000) {
                json_decref(outside);
                return sb_fail(eb, SB_ERR_INVAL,
                               "outside_hours.%.40s: must be a locale with a text of at most"
                               " 1000 bytes",
                               key);
            }
            json_object_set(outside, norm, (json_t *)t);
        }
    }
    *out = json_pack(
        "{s:s, s:s, s:s, s:O, s:o, s:b, s:b, s:o}", "id", id, "name", name, "timezone", tzname,
        "hours", hours && !json_is_null(hours) ? hours : json_null(), "holidays",
        holidays && !json_is_null(holidays) ? json_incref((json_t *)holidays) : json_array(),
        "allow_pick", allow_pick, "require_language", require_language, "outside_hours", outside);
    return *out ? SB_OK : SB_ERR_NOMEM;
}

/* An array of unique strings that pass ok(), at most max; NULL and eb
 * set otherwise. */
static json_t *string_set(const json_t *v, const char *field, size_t max, bool (*ok)(const char *),
                          const char *what, struct sb_errbuf *eb)
{
    json_t *out, *item;
    size_t i, j;

    if (!json_is_array(v)) {
        sb_fail(eb, SB_ERR_INVAL, "%s: must be an array of strings", field);
        return NULL;
    }
    if (json_array_size(v) > max) {
        sb_fail(eb, SB_ERR_INVAL, "%s: at most %zu", field, max);
        return NULL;
    }
    out = json_array();
    json_array_foreach((json_t *)v, i, item)
    {
        const char *s = json_string_value(item);
        bool dup = false;
        json_t *seen;
        if (!s || !ok(s)) {
            sb_fail(eb, SB_ERR_INVAL, "%s[%zu]: must be %s", field, i, what);
            json_decref(out);
            return NULL;
        }
        json_array_foreach(out, j, seen) if (strcmp(json_string_value(seen), s) == 0) dup = true;
        if (!dup) json_array_append_new(out, json_string(s));
    }
    return out;
}

enum sb_err agent_profile_validate(const json_t *in, json_t **out, struct sb_errbuf *eb)
{
    static const char *const keys[] = {"status", "capacity", "skills",           "teams", "user_id",
                                       "email",  "name",     "last_assigned_at", "load",  NULL};
    const json_t *v;
    json_t *res, *set;
    enum sb_err rc;

    if (!json_is_object(in)) return sb_fail(eb, SB_ERR_INVAL, "body: must be a JSON object");
    rc = known_keys(in, keys, "", eb);
    if (rc) return rc;
    res = json_object();
    v = json_object_get(in, "status");
    if (v) {
        if (!agent_status_valid(json_string_value(v))) {
            json_decref(res);
            return sb_fail(eb, SB_ERR_INVAL, "status: must be online, away or offline");
        }
        json_object_set(res, "status", (json_t *)v);
    }
    v = json_object_get(in, "capacity");
    if (v) {
        double cap = json_number_value(v);
        if (!json_is_number(v) || cap < AGENT_CAPACITY_MIN || cap > AGENT_CAPACITY_MAX) {
            json_decref(res);
            return sb_fail(eb, SB_ERR_INVAL, "capacity: must be a number from %d to %d",
                           AGENT_CAPACITY_MIN, AGENT_CAPACITY_MAX);
        }
        json_object_set_new(res, "capacity", json_real(cap));
    }
    v = json_object_get(in, "skills");
    if (v) {
        set = string_set(v, "skills", AGENT_SKILLS_MAX, agent_skill_valid,
                         "a skill like \"lang:pt-BR\" or \"topic:billing\"", eb);
        if (!set) {
            json_decref(res);
            return SB_ERR_INVAL;
        }
        json_object_set_new(res, "skills", set);
    }
    v = json_object_get(in, "teams");
    if (v) {
        set = string_set(v, "teams", 100, team_id_valid, "a team id", eb);
        if (!set) {
            json_decref(res);
            return SB_ERR_INVAL;
        }
        json_object_set_new(res, "teams", set);
    }
    *out = res;
    return SB_OK;
}

static bool short_text(const char *s)
{
    return s && *s && strlen(s) <= 128;
}

static enum sb_err rule_validate(const json_t *r, size_t i, json_t **out, struct sb_errbuf *eb)
{
    static const char *const keys[] = {"id",       "position", "match", "team",
                                       "priority", "skills",   NULL};
    static const char *const match_keys[] = {"channel", "locale", "topic", "attrs", NULL};
    char prefix[48], field[64];
    const json_t *m, *v, *attrs;
    json_t *match, *skills;
    const char *key;
    json_int_t priority = 0;
    enum sb_err rc;

    snprintf(prefix, sizeof(prefix), "rules[%zu].", i);
    if (!json_is_object(r)) return sb_fail(eb, SB_ERR_INVAL, "rules[%zu]: must be an object", i);
    rc = known_keys(r, keys, prefix, eb);
    if (rc) return rc;
    m = json_object_get(r, "match");
    match = json_object();
    if (m && !json_is_null(m)) {
        snprintf(field, sizeof(field), "%smatch.", prefix);
        if (!json_is_object(m)) {
            json_decref(match);
            return sb_fail(eb, SB_ERR_INVAL, "%smatch: must be an object", prefix);
        }
        rc = known_keys(m, match_keys, field, eb);
        if (rc) {
            json_decref(match);
            return rc;
        }
        for (int k = 0; k < 3; k++) {
            v = json_object_get(m, match_keys[k]);
            if (!v || json_is_null(v)) continue;
            if (!short_text(json_string_value(v))) {
                json_decref(match);
                return sb_fail(eb, SB_ERR_INVAL, "%s%s: must be a text of 1 to 128 bytes", field,
                               match_keys[k]);
            }
            json_object_set(match, match_keys[k], (json_t *)v);
        }
        attrs = json_object_get(m, "attrs");
        if (attrs && !json_is_null(attrs)) {
            if (!json_is_object(attrs) || json_object_size(attrs) > 20) {
                json_decref(match);
                return sb_fail(eb, SB_ERR_INVAL, "%sattrs: must be an object of at most 20 keys",
                               field);
            }
            json_object_foreach((json_t *)attrs, key, v)
            {
                if (strlen(key) > 64 ||
                    !(json_is_string(v) || json_is_number(v) || json_is_boolean(v)) ||
                    (json_is_string(v) && json_string_length(v) > 256)) {
                    json_decref(match);
                    return sb_fail(eb, SB_ERR_INVAL,
                                   "%sattrs.%.64s: must be a string, number or boolean", field,
                                   key);
                }
            }
            json_object_set(match, "attrs", (json_t *)attrs);
        }
    }
    v = json_object_get(r, "team");
    if (!team_id_valid(json_string_value(v))) {
        json_decref(match);
        return sb_fail(eb, SB_ERR_INVAL, "%steam: must be a team id", prefix);
    }
    key = json_string_value(v);
    v = json_object_get(r, "priority");
    if (v && !json_is_null(v)) {
        priority = json_integer_value(v);
        if (!json_is_integer(v) || priority < 0 || priority > 2) {
            json_decref(match);
            return sb_fail(eb, SB_ERR_INVAL, "%spriority: must be 0, 1 or 2", prefix);
        }
    }
    v = json_object_get(r, "skills");
    snprintf(field, sizeof(field), "%sskills", prefix);
    skills = v && !json_is_null(v)
                 ? string_set(v, field, 20, agent_skill_valid, "a skill like \"topic:billing\"", eb)
                 : json_array();
    if (!skills) {
        json_decref(match);
        return SB_ERR_INVAL;
    }
    *out = json_pack("{s:o, s:s, s:I, s:o}", "match", match, "team", key, "priority", priority,
                     "skills", skills);
    return *out ? SB_OK : SB_ERR_NOMEM;
}

/* The array under key of in (or in itself when it is an array). */
static const json_t *list_of(const json_t *in, const char *key, struct sb_errbuf *eb)
{
    const json_t *list = json_is_array(in) ? in : json_object_get(in, key);
    if (!json_is_array(list)) sb_fail(eb, SB_ERR_INVAL, "%s: must be an array", key);
    return json_is_array(list) ? list : NULL;
}

enum sb_err routing_rules_validate(const json_t *in, json_t **out, struct sb_errbuf *eb)
{
    const json_t *list = list_of(in, "rules", eb), *r;
    json_t *res;
    size_t i;

    if (!list) return SB_ERR_INVAL;
    if (json_array_size(list) > RULES_MAX)
        return sb_fail(eb, SB_ERR_INVAL, "rules: at most %d", RULES_MAX);
    res = json_array();
    json_array_foreach((json_t *)list, i, r)
    {
        json_t *one = NULL;
        enum sb_err rc = rule_validate(r, i, &one, eb);
        if (rc) {
            json_decref(res);
            return rc;
        }
        json_array_append_new(res, one);
    }
    *out = res;
    return SB_OK;
}

static bool channel_valid(const char *s)
{
    return s && (strcmp(s, "*") == 0 || slug_valid(s, 32));
}

enum sb_err sla_policies_validate(const json_t *in, json_t **out, struct sb_errbuf *eb)
{
    static const char *const keys[] = {
        "id", "channel", "priority", "first_response_min", "next_response_min", "resolution_min",
        NULL};
    static const char *const mins[] = {"first_response_min", "next_response_min", "resolution_min"};
    const json_t *list = list_of(in, "policies", eb), *p;
    json_t *res;
    size_t i, j;

    if (!list) return SB_ERR_INVAL;
    if (json_array_size(list) > SLA_POLICIES_MAX)
        return sb_fail(eb, SB_ERR_INVAL, "policies: at most %d", SLA_POLICIES_MAX);
    res = json_array();
    json_array_foreach((json_t *)list, i, p)
    {
        char prefix[48];
        const json_t *v;
        const char *channel = "*";
        json_int_t priority;
        json_t *one, *prev;
        enum sb_err rc;

        snprintf(prefix, sizeof(prefix), "policies[%zu].", i);
        if (!json_is_object(p)) {
            json_decref(res);
            return sb_fail(eb, SB_ERR_INVAL, "policies[%zu]: must be an object", i);
        }
        rc = known_keys(p, keys, prefix, eb);
        if (rc) {
            json_decref(res);
            return rc;
        }
        v = json_object_get(p, "channel");
        if (v && !json_is_null(v)) channel = json_string_value(v);
        if (!channel_valid(channel)) {
            json_decref(res);
            return sb_fail(eb, SB_ERR_INVAL, "%schannel: must be a channel name or \"*\"", prefix);
        }
        v = json_object_get(p, "priority");
        priority = json_integer_value(v);
        if (!json_is_integer(v) || priority < 0 || priority > 2) {
            json_decref(res);
            return sb_fail(eb, SB_ERR_INVAL, "%spriority: must be 0, 1 or 2", prefix);
        }
        json_array_foreach(res, j, prev)
        {
            if (strcmp(json_string_value(json_object_get(prev, "channel")), channel) == 0 &&
                json_integer_value(json_object_get(prev, "priority")) == priority) {
                json_decref(res);
                return sb_fail(eb, SB_ERR_INVAL,
                               "policies[%zu]: a second policy for channel %s, priority %d", i,
                               channel, (int)priority);
            }
        }
        one = json_pack("{s:s, s:I}", "channel", channel, "priority", priority);
        for (int k = 0; k < 3; k++) {
            json_int_t m;
            v = json_object_get(p, mins[k]);
            if (json_is_null(v)) {
                json_object_set_new(one, mins[k], json_null());
                continue;
            }
            m = json_integer_value(v);
            if (!json_is_integer(v) || m < 1 || m > SLA_MINUTES_MAX) {
                json_decref(one);
                json_decref(res);
                return sb_fail(eb, SB_ERR_INVAL, "%s%s: %s 1 to %d minutes, or null (none)", prefix,
                               mins[k], v ? "must be" : "is required:", SLA_MINUTES_MAX);
            }
            json_object_set_new(one, mins[k], json_integer(m));
        }
        json_array_append_new(res, one);
    }
    *out = res;
    return SB_OK;
}

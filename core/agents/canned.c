/*
 * canned.c - canned responses: the checks an admin's response must pass
 * and the filling of its variables for one conversation. Pure functions;
 * the store keeps the responses (store_agents_read.c).
 */
#include <stdio.h>
#include <string.h>

#include "agent_admin.h"
#include "sb_kb.h"

bool canned_shortcut_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > CANNED_SHORTCUT_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

/* Characters (code points) of valid UTF-8 text. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

/* "xx" or "xx-YY": the shape of a locale when no knowledge base says
 * which are known. */
static bool locale_shaped(const char *s)
{
    size_t n = strlen(s);
    if (n != 2 && n != 5) return false;
    if (s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z') return false;
    return n == 2 || (s[2] == '-' && s[3] >= 'A' && s[3] <= 'Z' && s[4] >= 'A' && s[4] <= 'Z');
}

static enum sb_err text_field(const json_t *in, const char *name, size_t max, const char **out,
                              struct sb_errbuf *eb)
{
    const json_t *v = json_object_get(in, name);
    if (!v) return sb_fail(eb, SB_ERR_INVAL, "%s: is required", name);
    if (!json_is_string(v)) return sb_fail(eb, SB_ERR_INVAL, "%s: must be a string", name);
    *out = json_string_value(v);
    if (strlen(*out) != json_string_length(v))
        return sb_fail(eb, SB_ERR_INVAL, "%s: must not contain NUL", name);
    if (strspn(*out, " \t\r\n") == strlen(*out))
        return sb_fail(eb, SB_ERR_INVAL, "%s: must not be empty", name);
    if (utf8_chars(*out) > max)
        return sb_fail(eb, SB_ERR_INVAL, "%s: is longer than %zu characters", name, max);
    return SB_OK;
}

enum sb_err canned_validate(const json_t *in, const struct sb_kb *kb, json_t **out,
                            struct sb_errbuf *eb)
{
    const char *shortcut, *locale, *title, *text, *team = NULL;
    const json_t *v;
    enum sb_err rc;

    if (!json_is_object(in)) return sb_fail(eb, SB_ERR_INVAL, "body: must be a JSON object");
    v = json_object_get(in, "shortcut");
    shortcut = json_string_value(v);
    if (!v) return sb_fail(eb, SB_ERR_INVAL, "shortcut: is required");
    if (!canned_shortcut_valid(shortcut))
        return sb_fail(eb, SB_ERR_INVAL, "shortcut: must be 1 to %d of a-z, 0-9 and -",
                       CANNED_SHORTCUT_MAX);
    v = json_object_get(in, "locale");
    locale = json_string_value(v);
    if (!v) return sb_fail(eb, SB_ERR_INVAL, "locale: is required");
    if (!locale || strlen(locale) > 35 ||
        (kb ? !sb_kb_locale_known(kb, locale) : !locale_shaped(locale)))
        return sb_fail(eb, SB_ERR_INVAL, "locale: '%.40s' is not a known locale",
                       locale ? locale : "(not a string)");
    rc = text_field(in, "title", CANNED_TITLE_MAX, &title, eb);
    if (!rc) rc = text_field(in, "text", CANNED_TEXT_MAX, &text, eb);
    if (rc) return rc;
    v = json_object_get(in, "team");
    if (v && !json_is_null(v)) {
        team = json_string_value(v);
        if (!team_id_valid(team))
            return sb_fail(eb, SB_ERR_INVAL, "team: must be a team id or null");
    }
    *out = json_pack("{s:s, s:s, s:s, s:s, s:o}", "shortcut", shortcut, "locale", locale, "title",
                     title, "text", text, "team", team ? json_string(team) : json_null());
    return *out ? SB_OK : SB_ERR_NOMEM;
}

static void note_missing(json_t *missing, const char *name, size_t len)
{
    size_t i;
    json_t *v;
    if (!missing) return;
    json_array_foreach(missing, i, v)
    {
        if (json_string_length(v) == len && memcmp(json_string_value(v), name, len) == 0) return;
    }
    json_array_append_new(missing, json_stringn(name, len));
}

enum sb_err canned_render(const char *text, const struct canned_vars *v, struct sb_buf *out,
                          json_t *missing)
{
    const char *p = text;

    while (*p) {
        const char *open = strstr(p, "{{"), *close, *name, *end, *value = NULL;
        if (!open) break;
        close = strstr(open + 2, "}}");
        if (!close) break;
        if (sb_buf_append(out, p, (size_t)(open - p))) return SB_ERR_LIMIT;
        name = open + 2;
        end = close;
        while (name < end && (*name == ' ' || *name == '\t'))
            name++;
        while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
#define IS(lit) ((size_t)(end - name) == sizeof(lit) - 1 && memcmp(name, lit, end - name) == 0)
        if (IS("customer.name"))
            value = v->customer_name && *v->customer_name ? v->customer_name : v->customer_fallback;
        else if (IS("agent.name"))
            value = v->agent_name;
        else if (IS("conversation.id"))
            value = v->conversation_id;
#undef IS
        if (value && *value) {
            if (sb_buf_append(out, value, strlen(value))) return SB_ERR_LIMIT;
        } else {
            note_missing(missing, name, (size_t)(end - name));
            if (sb_buf_append(out, open, (size_t)(close + 2 - open))) return SB_ERR_LIMIT;
        }
        p = close + 2;
    }
    if (sb_buf_append(out, p, strlen(p))) return SB_ERR_LIMIT;
    return SB_OK;
}

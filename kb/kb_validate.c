/*
 * kb_validate.c - what an article must look like before it is stored.
 *
 * Errors name the field first ("title: is required") so the editor API,
 * the import and the CLI can all point at it. Plain-text fields are shown
 * escaped everywhere, but we still refuse markup in them: an editor who
 * types <b> into a title expects bold, and a pasted <script> is a mistake
 * or an attack either way, so saying so beats storing it silently.
 *
 * The body is Markdown and is not searched for dangerous words here: a
 * blocklist of spellings was both bypassed ("&#106;avascript:",
 * "onerror\t=", <iframe>) and in the way of harmless text ("Note on
 * JavaScript: enable it", a code block showing the widget's <script>
 * tag). What makes a body safe is that it only reaches a page through
 * sb_kb_render_markdown (cmark's safe mode), whatever it says.
 */
#include <stdio.h>
#include <string.h>

#include "kb_int.h"
#include "sb_util.h"

/* "<" followed by a letter, "/" or "!" starts an HTML tag or comment. */
static bool has_tag(const char *s)
{
    for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
        char n = p[1];
        if ((n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z') || n == '/' || n == '!' || n == '?')
            return true;
    }
    return false;
}

static enum sb_err text_field(const char *name, const char *v, size_t cap, bool required,
                              struct sb_errbuf *eb)
{
    size_t n;
    if (!v || !*v) return required ? sb_fail(eb, SB_ERR_INVAL, "%s: is required", name) : SB_OK;
    n = strlen(v);
    if (n > cap) return sb_fail(eb, SB_ERR_INVAL, "%s: is over %zu bytes", name, cap);
    if (!sb_utf8_valid(v, n)) return sb_fail(eb, SB_ERR_INVAL, "%s: is not valid UTF-8", name);
    if (has_tag(v)) return sb_fail(eb, SB_ERR_INVAL, "%s: HTML is not allowed", name);
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < ' ' && *p != '\n' && *p != '\t' && *p != '\r')
            return sb_fail(eb, SB_ERR_INVAL, "%s: control characters are not allowed", name);
    return SB_OK;
}

static enum sb_err list_field(const char *name, json_t *arr, size_t max, struct sb_errbuf *eb)
{
    size_t i;
    json_t *v;
    char label[48];

    if (!arr) return SB_OK;
    if (!json_is_array(arr)) return sb_fail(eb, SB_ERR_INVAL, "%s: must be a list of text", name);
    if (json_array_size(arr) > max)
        return sb_fail(eb, SB_ERR_INVAL, "%s: more than %zu items", name, max);
    json_array_foreach(arr, i, v)
    {
        enum sb_err rc;
        snprintf(label, sizeof(label), "%s[%zu]", name, i);
        if (!json_is_string(v)) return sb_fail(eb, SB_ERR_INVAL, "%s: must be text", label);
        if (strlen(json_string_value(v)) != json_string_length(v))
            return sb_fail(eb, SB_ERR_INVAL, "%s: contains a NUL character", label);
        rc = text_field(label, json_string_value(v), SB_KB_MAX_ITEM, true, eb);
        if (rc) return rc;
    }
    return SB_OK;
}

bool kb_valid_slug(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SB_KB_MAX_SLUG || s[0] == '-') return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return false;
    return true;
}

bool kb_valid_status(const char *s)
{
    return strcmp(s, "draft") == 0 || strcmp(s, "published") == 0 || strcmp(s, "archived") == 0;
}

static enum sb_err locale_field(const struct sb_kb *kb, const char *v, struct sb_errbuf *eb)
{
    char known[300] = "";
    size_t used = 0;

    if (!v || !*v) return sb_fail(eb, SB_ERR_INVAL, "locale: is required");
    if (sb_kb_locale_known(kb, v)) return SB_OK;
    for (int i = 0; i < kb->nlocales && used < sizeof(known); i++)
        used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s", i ? ", " : "",
                                 kb->locale[i]);
    return sb_fail(eb, SB_ERR_INVAL, "locale: '%.40s' is not one of %s", v, known);
}

enum sb_err sb_kb_validate(const struct sb_kb *kb, const struct sb_kb_article *a,
                           struct sb_errbuf *eb)
{
    enum sb_err rc;
    size_t n;

    if ((rc = text_field("title", a->title, SB_KB_MAX_TITLE, true, eb))) return rc;
    if (!a->slug || !*a->slug) return sb_fail(eb, SB_ERR_INVAL, "slug: is required");
    if (!kb_valid_slug(a->slug))
        return sb_fail(eb, SB_ERR_INVAL, "slug: use lowercase letters, digits and '-' (at most %d)",
                       SB_KB_MAX_SLUG);
    if ((rc = locale_field(kb, a->locale, eb))) return rc;
    if (a->group && *a->group && !kb_valid_slug(a->group))
        return sb_fail(eb, SB_ERR_INVAL, "group: use lowercase letters, digits and '-'");
    if (a->status && !kb_valid_status(a->status))
        return sb_fail(eb, SB_ERR_INVAL, "status: must be draft, published or archived");
    if ((rc = text_field("summary", a->summary, SB_KB_MAX_SUMMARY, false, eb))) return rc;
    if ((rc = text_field("category", a->category, SB_KB_MAX_CATEGORY, false, eb))) return rc;
    if (a->category && *a->category && !kb_valid_slug(a->category))
        return sb_fail(eb, SB_ERR_INVAL, "category: use lowercase letters, digits and '-'");
    if ((rc = list_field("tags", a->tags, SB_KB_MAX_LIST, eb))) return rc;
    if ((rc = list_field("examples", a->examples, SB_KB_MAX_EXAMPLES, eb))) return rc;
    if (a->body) {
        n = strlen(a->body);
        if (n > SB_KB_MAX_BODY)
            return sb_fail(eb, SB_ERR_INVAL, "body: is over %d bytes", SB_KB_MAX_BODY);
        if (!sb_utf8_valid(a->body, n))
            return sb_fail(eb, SB_ERR_INVAL, "body: is not valid UTF-8");
    }
    return SB_OK;
}

/*
 * api_kb.c - the editors' knowledge-base API: articles, revisions,
 * categories, preview, "try a question", the content-gap and helpfulness
 * reports, bulk export and import. The contract is docs/kb-api.md.
 *
 * Every write is one store unit (sb_store_begin/commit), audited, and
 * answered only after the batch is on disk (http_json holds the answer).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_errors.h"
#include "http.h"
#include "server.h"
#include "sb_kb.h"

#define MAX_IMPORT_ITEMS 5000

static const char *arg(struct MHD_Connection *c, const char *name)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    return v && *v ? v : NULL;
}

/* Article ids in paths are positive decimal integers; anything else is a
 * 404, never a parse of the prefix. */
static int64_t parse_id(const char *s)
{
    int64_t id;
    return sb_parse_id(s, &id) ? id : 0; /* 0 is no article's id */
}

static enum MHD_Result no_article(struct sb_server *srv, struct MHD_Connection *c)
{
    return http_error(srv, c, 404, "not_found", "no such article");
}

/* Maps a failed KB write to its answer (http_errors.c); the unit is rolled
 * back. A stale revision also carries the article as it is now. */
static enum MHD_Result write_failed(struct sb_server *srv, struct MHD_Connection *c, enum sb_err rc,
                                    const struct sb_errbuf *eb, int64_t id)
{
    sb_store_rollback(srv->store);
    if (rc == SB_ERR_CONFLICT) {
        json_t *current = id ? sb_kb_article_json(srv->kb, id) : NULL;
        return http_json(srv, c, 409,
                         json_pack("{s:{s:s, s:s}, s:o*}", "error", "code", "conflict", "message",
                                   eb->msg, "current", current));
    }
    return http_error_of(srv, c, rc, eb->msg, "the article was not stored; retry", NULL);
}

/* Commits the unit; on failure answers 503 itself (into *ret) and
 * returns false. */
static bool committed(struct sb_server *srv, struct MHD_Connection *c, enum MHD_Result *ret)
{
    if (sb_store_commit(srv->store) == SB_OK) return true;
    sb_store_rollback(srv->store);
    *ret = http_error(srv, c, 503, "not_stored", "the change was not stored; retry");
    return false;
}

/* The article's own answer threshold from src, else base: a number 0..1
 * or null; absent from both keeps what is stored. */
static enum sb_err threshold_from_json(json_t *src, json_t *base, struct sb_kb_article *a,
                                       struct sb_errbuf *eb)
{
    json_t *v = json_object_get(src, "answer_threshold");

    if (!v) v = json_object_get(base, "answer_threshold");
    if (!v) {
        a->threshold_op = SB_KB_THRESHOLD_KEEP;
    } else if (json_is_null(v)) {
        a->threshold_op = SB_KB_THRESHOLD_NONE;
    } else if (json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) <= 1) {
        a->threshold_op = SB_KB_THRESHOLD_SET;
        a->answer_threshold = json_number_value(v);
    } else {
        return sb_fail(eb, SB_ERR_INVAL, "answer_threshold: must be a number from 0 to 1, or null");
    }
    return SB_OK;
}

/* Fills a from the JSON fields of src, over the values of base (the
 * article as stored, for partial updates; may be NULL). Strings stay
 * borrowed from src or base. Type errors name the field. */
static enum sb_err article_from_json(json_t *src, json_t *base, struct sb_kb_article *a,
                                     struct sb_errbuf *eb)
{
    static const struct {
        const char *name;
        size_t off;
    } text_fields[] = {
        {"slug", offsetof(struct sb_kb_article, slug)},
        {"locale", offsetof(struct sb_kb_article, locale)},
        {"title", offsetof(struct sb_kb_article, title)},
        {"summary", offsetof(struct sb_kb_article, summary)},
        {"body", offsetof(struct sb_kb_article, body)},
        {"category", offsetof(struct sb_kb_article, category)},
        {"status", offsetof(struct sb_kb_article, status)},
        {"group", offsetof(struct sb_kb_article, group)},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(text_fields); i++) {
        json_t *v = json_object_get(src, text_fields[i].name);
        const char **slot = (const char **)((char *)a + text_fields[i].off);
        if (v && !json_is_string(v) && !json_is_null(v))
            return sb_fail(eb, SB_ERR_INVAL, "%s: must be text", text_fields[i].name);
        if (!v) v = json_object_get(base, text_fields[i].name);
        *slot = json_string_value(v);
        if (*slot && strlen(*slot) != json_string_length(v))
            return sb_fail(eb, SB_ERR_INVAL, "%s: contains a NUL character", text_fields[i].name);
    }
    a->tags = json_object_get(src, "tags");
    if (!a->tags) a->tags = json_object_get(base, "tags");
    a->examples = json_object_get(src, "examples");
    if (!a->examples) a->examples = json_object_get(base, "examples");
    if (json_is_null(a->tags)) a->tags = NULL;
    if (json_is_null(a->examples)) a->examples = NULL;
    return threshold_from_json(src, base, a, eb);
}

/* The expected revision of an update: required, a positive integer. */
static bool expected_revision(json_t *body, int64_t *rev)
{
    json_t *v = json_object_get(body, "revision");
    *rev = json_is_integer(v) ? json_integer_value(v) : 0;
    return *rev > 0;
}

/* Audit entries name the article as "locale/slug #id", readable and
 * unambiguous after a rename. */
static void audit(struct sb_server *srv, struct http_req *r, const char *action, int64_t id,
                  const char *detail)
{
    json_t *a = sb_kb_article_json(srv->kb, id);
    char target[200];
    snprintf(target, sizeof(target), "%s/%s #%lld",
             a ? json_string_value(json_object_get(a, "locale")) : "?",
             a ? json_string_value(json_object_get(a, "slug")) : "?", (long long)id);
    json_decref(a);
    sb_audit(srv->store, r->who.actor, action, target, r->ip, detail);
}

static const char *const change_names[] = {"unchanged", "added", "changed"};

/* Saves and answers {article, change}; status 201 for a new article. */
static enum MHD_Result save_and_answer(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, struct sb_kb_article *a, int64_t id,
                                       int64_t expect, const char *action)
{
    struct sb_errbuf eb = {{0}};
    struct sb_kb_saved saved;
    enum MHD_Result ret;
    enum sb_err rc;

    a->author = r->who.actor;
    rc = sb_store_begin(srv->store);
    if (!rc) rc = sb_kb_save(srv->kb, a, id, expect, &saved, &eb);
    if (rc) return write_failed(srv, c, rc, &eb, id);
    if (saved.change != SB_KB_UNCHANGED)
        audit(srv, r, action, saved.id, change_names[saved.change]);
    if (!committed(srv, c, &ret)) return ret;
    return http_json(srv, c, saved.change == SB_KB_ADDED ? 201 : 200,
                     json_pack("{s:o, s:s}", "article", sb_kb_article_json(srv->kb, saved.id),
                               "change", change_names[saved.change]));
}

static enum MHD_Result api_kb_list(struct sb_server *srv, struct MHD_Connection *c,
                                   struct http_req *r, const char *params[2])
{
    struct sb_kb_filter f = {0};
    const char *limit = arg(c, "limit");
    (void)r;
    (void)params;
    f.locale = arg(c, "locale");
    f.status = arg(c, "status");
    f.category = arg(c, "category");
    f.tag = arg(c, "tag");
    f.q = arg(c, "q");
    f.group = arg(c, "group");
    f.limit = limit ? (int)parse_id(limit) : 0;
    if (f.status && !(strcmp(f.status, "draft") == 0 || strcmp(f.status, "published") == 0 ||
                      strcmp(f.status, "archived") == 0))
        return http_error(srv, c, 400, "invalid_field",
                          "status: must be draft, published or archived");
    if (f.q && (strlen(f.q) > 500 || !sb_utf8_valid(f.q, strlen(f.q))))
        return http_error(srv, c, 400, "invalid_field", "q: at most 500 bytes of UTF-8");
    return http_json(srv, c, 200, json_pack("{s:o}", "articles", sb_kb_find(srv->kb, &f)));
}

static enum MHD_Result api_kb_create(struct sb_server *srv, struct MHD_Connection *c,
                                     struct http_req *r, const char *params[2])
{
    struct sb_kb_article a = {0};
    struct sb_errbuf eb = {{0}};
    enum MHD_Result ret;
    json_t *body = http_body_object(srv, c, r, &ret);
    (void)params;

    if (!body) return ret;
    if (article_from_json(body, NULL, &a, &eb)) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field", "%s", eb.msg);
    }
    if (a.locale && a.slug && strlen(a.slug) <= SB_KB_MAX_SLUG && strlen(a.locale) <= 35 &&
        sb_kb_article_id(srv->kb, a.locale, a.slug)) {
        ret =
            http_error(srv, c, 409, "exists", "slug: '%s' is already used in %s", a.slug, a.locale);
        json_decref(body);
        return ret;
    }
    ret = save_and_answer(srv, c, r, &a, 0, 0, "kb.article.create");
    json_decref(body);
    return ret;
}

static enum MHD_Result api_kb_get(struct sb_server *srv, struct MHD_Connection *c,
                                  struct http_req *r, const char *params[2])
{
    json_t *a = sb_kb_article_json(srv->kb, parse_id(params[0])), *answer;
    const char *md;
    char *html;
    (void)r;

    if (!a) return no_article(srv, c);
    md = json_string_value(json_object_get(a, "body"));
    html = sb_kb_render_markdown(md, strlen(md));
    answer = json_pack("{s:O, s:s, s:o}", "article", a, "html", html ? html : "", "translations",
                       sb_kb_translations(srv->kb, json_string_value(json_object_get(a, "group"))));
    free(html);
    json_decref(a);
    return http_json(srv, c, 200, answer);
}

static enum MHD_Result api_kb_update(struct sb_server *srv, struct MHD_Connection *c,
                                     struct http_req *r, const char *params[2])
{
    int64_t id = parse_id(params[0]), expect;
    json_t *current = sb_kb_article_json(srv->kb, id), *body;
    struct sb_kb_article a = {0};
    struct sb_errbuf eb = {{0}};
    enum MHD_Result ret;

    if (!current) return no_article(srv, c);
    body = http_body_object(srv, c, r, &ret);
    if (!body) {
        json_decref(current);
        return ret;
    }
    if (!expected_revision(body, &expect))
        ret = http_error(srv, c, 400, "invalid_field",
                         "revision: the revision you edited is required (a positive integer)");
    else if (article_from_json(body, current, &a, &eb))
        ret = http_error(srv, c, 400, "invalid_field", "%s", eb.msg);
    else
        ret = save_and_answer(srv, c, r, &a, id, expect, "kb.article.save");
    json_decref(body);
    json_decref(current);
    return ret;
}

/* PUT /api/v1/kb/articles/{locale}/{slug}: create or update by key, for
 * scripts that keep articles as files. An existing article needs the
 * revision, like any update, so a script cannot clobber an editor. */
static enum MHD_Result api_kb_put_by_key(struct sb_server *srv, struct MHD_Connection *c,
                                         struct http_req *r, const char *params[2])
{
    struct sb_kb_article a = {0};
    struct sb_errbuf eb = {{0}};
    enum MHD_Result ret;
    int64_t id, expect = 0;
    json_t *body, *current;

    if (strlen(params[0]) > 35 || strlen(params[1]) > SB_KB_MAX_SLUG)
        return http_error(srv, c, 400, "invalid_field", "locale or slug: too long");
    id = sb_kb_article_id(srv->kb, params[0], params[1]);
    body = http_body_object(srv, c, r, &ret);
    if (!body) return ret;
    current = id ? sb_kb_article_json(srv->kb, id) : NULL;
    json_object_set_new(body, "locale", json_string(params[0]));
    json_object_set_new(body, "slug", json_string(params[1]));
    if (id && !expected_revision(body, &expect))
        ret = http_error(srv, c, 409, "conflict",
                         "revision: %s/%s exists; send the revision you edited", params[0],
                         params[1]);
    else if (article_from_json(body, current, &a, &eb))
        ret = http_error(srv, c, 400, "invalid_field", "%s", eb.msg);
    else
        ret = save_and_answer(srv, c, r, &a, id, expect, "kb.article.save");
    json_decref(body);
    json_decref(current);
    return ret;
}

static enum MHD_Result api_kb_delete(struct sb_server *srv, struct MHD_Connection *c,
                                     struct http_req *r, const char *params[2])
{
    int64_t id = parse_id(params[0]);
    struct sb_errbuf eb = {{0}};
    enum MHD_Result ret;
    enum sb_err rc;

    rc = sb_store_begin(srv->store);
    if (rc) return write_failed(srv, c, rc, &eb, 0);
    audit(srv, r, "kb.article.delete", id, NULL); /* while it still has a name */
    rc = sb_kb_delete(srv->kb, id, &eb);
    if (rc) return write_failed(srv, c, rc, &eb, 0);
    if (!committed(srv, c, &ret)) return ret;
    return http_json(srv, c, 200, json_pack("{s:I}", "deleted", (json_int_t)id));
}

static enum MHD_Result set_status(struct sb_server *srv, struct MHD_Connection *c,
                                  struct http_req *r, const char *id_text, const char *status,
                                  const char *action)
{
    int64_t id = parse_id(id_text), expect;
    json_t *current = sb_kb_article_json(srv->kb, id), *body;
    struct sb_kb_article a = {0};
    struct sb_errbuf eb = {{0}};
    enum MHD_Result ret;

    if (!current) return no_article(srv, c);
    body = http_body_object(srv, c, r, &ret);
    if (!body) {
        json_decref(current);
        return ret;
    }
    if (!expected_revision(body, &expect)) {
        ret = http_error(srv, c, 400, "invalid_field",
                         "revision: the revision you edited is required (a positive integer)");
    } else {
        article_from_json(current, NULL, &a, &eb);
        a.status = status;
        ret = save_and_answer(srv, c, r, &a, id, expect, action);
    }
    json_decref(body);
    json_decref(current);
    return ret;
}

static enum MHD_Result api_kb_publish(struct sb_server *srv, struct MHD_Connection *c,
                                      struct http_req *r, const char *params[2])
{
    return set_status(srv, c, r, params[0], "published", "kb.article.publish");
}

static enum MHD_Result api_kb_unpublish(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    return set_status(srv, c, r, params[0], "draft", "kb.article.unpublish");
}

static enum MHD_Result api_kb_revisions(struct sb_server *srv, struct MHD_Connection *c,
                                        struct http_req *r, const char *params[2])
{
    int64_t id = parse_id(params[0]);
    json_t *a = sb_kb_article_json(srv->kb, id);
    (void)r;
    if (!a) return no_article(srv, c);
    json_decref(a);
    return http_json(srv, c, 200, json_pack("{s:o}", "revisions", sb_kb_revisions(srv->kb, id)));
}

static enum MHD_Result api_kb_revision(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    json_t *rev = sb_kb_revision(srv->kb, parse_id(params[0]), parse_id(params[1]));
    (void)r;
    if (!rev) return http_error(srv, c, 404, "not_found", "no such revision");
    return http_json(srv, c, 200, json_pack("{s:o}", "revision", rev));
}

static enum MHD_Result api_kb_diff(struct sb_server *srv, struct MHD_Connection *c,
                                   struct http_req *r, const char *params[2])
{
    int64_t id = parse_id(params[0]), from = parse_id(arg(c, "from")), to = parse_id(arg(c, "to"));
    json_t *d;
    (void)r;
    if (!from || !to)
        return http_error(srv, c, 400, "invalid_field", "from, to: revision numbers are required");
    d = sb_kb_diff(srv->kb, id, from, to);
    if (!d) return http_error(srv, c, 404, "not_found", "no such article or revision");
    return http_json(srv, c, 200, d);
}

static enum MHD_Result api_kb_revert(struct sb_server *srv, struct MHD_Connection *c,
                                     struct http_req *r, const char *params[2])
{
    int64_t id = parse_id(params[0]), expect, to;
    struct sb_errbuf eb = {{0}};
    struct sb_kb_saved saved;
    enum MHD_Result ret;
    enum sb_err rc;
    json_t *body = http_body_object(srv, c, r, &ret);

    if (!body) return ret;
    to = json_is_integer(json_object_get(body, "to"))
             ? json_integer_value(json_object_get(body, "to"))
             : 0;
    if (!expected_revision(body, &expect) || to <= 0) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field",
                          "to, revision: the revision to go back to and the one you see");
    }
    json_decref(body);
    rc = sb_store_begin(srv->store);
    if (!rc) rc = sb_kb_revert(srv->kb, id, to, expect, r->who.actor, &saved, &eb);
    if (rc) return write_failed(srv, c, rc, &eb, id);
    if (saved.change != SB_KB_UNCHANGED) audit(srv, r, "kb.article.revert", id, NULL);
    if (!committed(srv, c, &ret)) return ret;
    return http_json(srv, c, 200,
                     json_pack("{s:o, s:s}", "article", sb_kb_article_json(srv->kb, id), "change",
                               change_names[saved.change]));
}

/* The end of a write to a per-locale list (PUT .../{locale}/{key}):
 * audit, commit, and answer with the locale's list as it is now. */
static enum MHD_Result locale_list_saved(struct sb_server *srv, struct MHD_Connection *c,
                                         struct http_req *r, const char *params[2], enum sb_err rc,
                                         const struct sb_errbuf *eb, const char *action,
                                         const char *key,
                                         json_t *(*list)(struct sb_kb *, const char *))
{
    enum MHD_Result ret;
    if (rc) return write_failed(srv, c, rc, eb, 0);
    sb_audit(srv->store, r->who.actor, action, params[1], r->ip, params[0]);
    if (!committed(srv, c, &ret)) return ret;
    return http_json(srv, c, 200, json_pack("{s:o}", key, list(srv->kb, params[0])));
}

static enum MHD_Result api_kb_categories(struct sb_server *srv, struct MHD_Connection *c,
                                         struct http_req *r, const char *params[2])
{
    const char *locale = arg(c, "locale");
    (void)r;
    (void)params;
    if (!locale) locale = sb_kb_default_locale(srv->kb);
    if (!sb_kb_locale_known(srv->kb, locale))
        return http_error(srv, c, 400, "invalid_field", "locale: not one of the known locales");
    return http_json(srv, c, 200,
                     json_pack("{s:o}", "categories", sb_kb_categories(srv->kb, locale)));
}

static enum MHD_Result api_kb_category_put(struct sb_server *srv, struct MHD_Connection *c,
                                           struct http_req *r, const char *params[2])
{
    struct sb_errbuf eb = {{0}};
    enum MHD_Result ret;
    enum sb_err rc;
    json_t *body = http_body_object(srv, c, r, &ret), *pos;
    const char *name, *desc;

    if (!body) return ret;
    name = json_string_value(json_object_get(body, "name"));
    desc = json_string_value(json_object_get(body, "description"));
    pos = json_object_get(body, "position");
    if (pos && !json_is_integer(pos)) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field", "position: must be an integer");
    }
    rc = sb_store_begin(srv->store);
    if (!rc)
        rc = sb_kb_category_set(srv->kb, params[0], params[1], name, desc,
                                pos ? (int)json_integer_value(pos) : 0, &eb);
    json_decref(body);
    return locale_list_saved(srv, c, r, params, rc, &eb, "kb.category.save", "categories",
                             sb_kb_categories);
}

static enum MHD_Result api_kb_synonyms(struct sb_server *srv, struct MHD_Connection *c,
                                       struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return http_json(srv, c, 200,
                     json_pack("{s:o}", "synonyms", sb_kb_synonyms(srv->kb, arg(c, "locale"))));
}

static enum MHD_Result api_kb_synonyms_put(struct sb_server *srv, struct MHD_Connection *c,
                                           struct http_req *r, const char *params[2])
{
    struct sb_errbuf eb = {{0}};
    enum MHD_Result ret;
    enum sb_err rc;
    json_t *body = http_body_object(srv, c, r, &ret);

    if (!body) return ret;
    rc = sb_store_begin(srv->store);
    if (!rc)
        rc = sb_kb_synonyms_set(srv->kb, params[0], params[1], json_object_get(body, "synonyms"),
                                &eb);
    json_decref(body);
    return locale_list_saved(srv, c, r, params, rc, &eb, "kb.synonyms.save", "synonyms",
                             sb_kb_synonyms);
}

static enum MHD_Result api_kb_locales(struct sb_server *srv, struct MHD_Connection *c,
                                      struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return http_json(srv, c, 200,
                     json_pack("{s:o, s:s}", "locales", sb_kb_locales_json(srv->kb), "default",
                               sb_kb_default_locale(srv->kb)));
}

static enum MHD_Result api_kb_preview(struct sb_server *srv, struct MHD_Connection *c,
                                      struct http_req *r, const char *params[2])
{
    enum MHD_Result ret;
    json_t *body = http_body_object(srv, c, r, &ret), *md;
    char *html;
    (void)params;

    if (!body) return ret;
    md = json_object_get(body, "body");
    if (!json_is_string(md) || json_string_length(md) > SB_KB_MAX_BODY) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field", "body: Markdown text of at most %d bytes",
                          SB_KB_MAX_BODY);
    }
    html = sb_kb_render_markdown(json_string_value(md), json_string_length(md));
    json_decref(body);
    if (!html) return http_error(srv, c, 500, "internal", "could not render");
    ret = http_json(srv, c, 200, json_pack("{s:s}", "html", html));
    free(html);
    return ret;
}

static json_t *hit_json(struct sb_kb *kb, const struct sb_kb_hit *h)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:b, s:f, s:f}", "id",
                     (json_int_t)h->id, "slug", h->slug, "locale", h->locale, "title", h->title,
                     "summary", h->summary ? h->summary : "", "confidence", h->confidence,
                     "coverage", h->coverage, "bm25", h->bm25, "exact_locale", h->exact_locale,
                     "threshold", sb_kb_threshold(kb, h->id), "adjustment",
                     sb_kb_adjustment(kb, h->id));
}

/* What the bot would do with a search result, for "try a question":
 * {decision, answer, choices, threshold (the one the best hit had to
 * reach), answer_threshold, clarify_threshold}. */
static json_t *decision_json(struct sb_kb *kb, const struct sb_kb_result *res)
{
    struct sb_kb_policy p;
    int nchoices;
    enum sb_kb_decision d = sb_kb_decide(kb, res, &nchoices);
    json_t *choices = json_array();

    sb_kb_get_policy(kb, &p);
    for (int i = 0; d == SB_KB_CLARIFY && i < nchoices; i++)
        json_array_append_new(choices, hit_json(kb, &res->hit[i]));
    return json_pack(
        "{s:s, s:o, s:o, s:f, s:f, s:f}", "decision", sb_kb_decision_name(d), "answer",
        d == SB_KB_ANSWER ? hit_json(kb, &res->hit[0]) : json_null(), "choices", choices,
        "threshold", res->n ? sb_kb_threshold(kb, res->hit[0].id) : p.answer_threshold,
        "answer_threshold", p.answer_threshold, "clarify_threshold", p.clarify_threshold);
}

static enum MHD_Result api_kb_try(struct sb_server *srv, struct MHD_Connection *c,
                                  struct http_req *r, const char *params[2])
{
    struct sb_kb_result res;
    enum MHD_Result ret;
    json_t *body = http_body_object(srv, c, r, &ret), *hits, *answer;
    const char *text, *locale;
    (void)params;

    if (!body) return ret;
    text = json_string_value(json_object_get(body, "text"));
    locale = json_string_value(json_object_get(body, "locale"));
    if (!locale) locale = sb_kb_default_locale(srv->kb);
    if (!text || !*text || strlen(text) > srv->cfg.max_text || strlen(locale) > 35) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field", "text: a question of at most %zu bytes",
                          srv->cfg.max_text);
    }
    sb_kb_search(srv->kb, text, locale, SB_KB_MAX_HITS, &res);
    hits = json_array();
    for (int i = 0; i < res.n; i++)
        json_array_append_new(hits, hit_json(srv->kb, &res.hit[i]));
    answer = decision_json(srv->kb, &res);
    json_object_set_new(answer, "terms", json_integer(res.terms));
    json_object_set_new(answer, "hits", hits);
    sb_kb_result_cleanup(&res);
    json_decref(body);
    return http_json(srv, c, 200, answer);
}

static enum MHD_Result api_kb_gaps(struct sb_server *srv, struct MHD_Connection *c,
                                   struct http_req *r, const char *params[2])
{
    const char *days_text = arg(c, "days"), *limit = arg(c, "limit");
    int64_t days = days_text ? parse_id(days_text) : 30;
    (void)r;
    (void)params;
    if (days <= 0 || days > 3650)
        return http_error(srv, c, 400, "invalid_field", "days: 1 to 3650");
    return http_json(
        srv, c, 200,
        json_pack("{s:o}", "gaps",
                  sb_kb_gaps(srv->kb, arg(c, "locale"), sb_now_ms() - days * 86400 * 1000,
                             limit ? (int)parse_id(limit) : 200)));
}

static enum MHD_Result api_kb_helpfulness(struct sb_server *srv, struct MHD_Connection *c,
                                          struct http_req *r, const char *params[2])
{
    (void)r;
    (void)params;
    return http_json(srv, c, 200,
                     json_pack("{s:o}", "articles", sb_kb_helpfulness(srv->kb, arg(c, "locale"))));
}

/* GET /api/v1/kb/articles/{id}/suggestions?days=90&limit=100 */
static enum MHD_Result api_kb_suggestions(struct sb_server *srv, struct MHD_Connection *c,
                                          struct http_req *r, const char *params[2])
{
    const char *days_text = arg(c, "days"), *limit = arg(c, "limit");
    int64_t days = days_text ? parse_id(days_text) : 90;
    json_t *list;
    (void)r;

    if (days <= 0 || days > 3650)
        return http_error(srv, c, 400, "invalid_field", "days: 1 to 3650");
    list = sb_kb_suggestions(srv->kb, parse_id(params[0]), sb_now_ms() - days * 86400 * 1000,
                             limit ? (int)parse_id(limit) : 100);
    if (!list) return no_article(srv, c);
    return http_json(srv, c, 200, json_pack("{s:o}", "suggestions", list));
}

/* Adds question to the examples of the article (current, owned) unless
 * it is there already; a normal save with the revision check. */
static enum MHD_Result add_example(struct sb_server *srv, struct MHD_Connection *c,
                                   struct http_req *r, json_t *current, int64_t id,
                                   json_t *question, int64_t expect)
{
    json_t *examples = json_deep_copy(json_object_get(current, "examples")), *v;
    struct sb_kb_article a = {0};
    struct sb_errbuf eb = {{0}};
    enum MHD_Result ret;
    bool present = false;
    size_t i;

    if (!json_is_array(examples)) {
        json_decref(examples);
        examples = json_array();
    }
    json_array_foreach(examples, i, v) present = present || json_equal(v, question);
    if (!present) json_array_append(examples, question);
    article_from_json(current, NULL, &a, &eb);
    a.examples = examples;
    a.note = "example question from customers";
    ret = save_and_answer(srv, c, r, &a, id, expect, "kb.article.save");
    json_decref(examples);
    return ret;
}

/* POST /api/v1/kb/articles/{id}/suggestions/accept {"question", "revision"} */
static enum MHD_Result api_kb_suggestion_accept(struct sb_server *srv, struct MHD_Connection *c,
                                                struct http_req *r, const char *params[2])
{
    int64_t id = parse_id(params[0]), expect;
    json_t *current = sb_kb_article_json(srv->kb, id), *body, *q;
    enum MHD_Result ret;

    if (!current) return no_article(srv, c);
    body = http_body_object(srv, c, r, &ret);
    if (!body) {
        json_decref(current);
        return ret;
    }
    q = json_object_get(body, "question");
    if (!expected_revision(body, &expect))
        ret = http_error(srv, c, 400, "invalid_field",
                         "revision: the revision you edited is required (a positive integer)");
    else if (!json_is_string(q) || json_string_length(q) == 0 ||
             json_string_length(q) > SB_KB_MAX_ITEM ||
             strlen(json_string_value(q)) != json_string_length(q))
        ret = http_error(srv, c, 400, "invalid_field", "question: text of 1 to %d bytes",
                         SB_KB_MAX_ITEM);
    else
        ret = add_example(srv, c, r, current, id, q, expect);
    json_decref(body);
    json_decref(current);
    return ret;
}

static enum MHD_Result api_kb_export(struct sb_server *srv, struct MHD_Connection *c,
                                     struct http_req *r, const char *params[2])
{
    struct sb_kb_filter f = {.locale = arg(c, "locale"), .status = arg(c, "status"), .limit = 5000};
    json_t *list = sb_kb_find(srv->kb, &f), *full = json_array(), *item;
    size_t i;
    (void)r;
    (void)params;
    json_array_foreach(list, i, item)
    {
        json_t *a =
            sb_kb_article_json(srv->kb, (int64_t)json_integer_value(json_object_get(item, "id")));
        if (a) json_array_append_new(full, a);
    }
    json_decref(list);
    return http_json(srv, c, 200, json_pack("{s:o}", "articles", full));
}

static enum MHD_Result api_kb_import(struct sb_server *srv, struct MHD_Connection *c,
                                     struct http_req *r, const char *params[2])
{
    int counts[3] = {0, 0, 0};
    struct sb_errbuf eb = {{0}};
    enum MHD_Result ret;
    enum sb_err rc = SB_OK;
    json_t *body = http_body_object(srv, c, r, &ret), *items, *item;
    size_t i;
    (void)params;

    if (!body) return ret;
    items = json_object_get(body, "articles");
    if (!json_is_array(items) || json_array_size(items) > MAX_IMPORT_ITEMS) {
        json_decref(body);
        return http_error(srv, c, 400, "invalid_field", "articles: a list of at most %d articles",
                          MAX_IMPORT_ITEMS);
    }
    /* One unit: the import applies whole or not at all. */
    rc = sb_store_begin(srv->store);
    if (rc) {
        json_decref(body);
        return write_failed(srv, c, rc, &eb, 0);
    }
    json_array_foreach(items, i, item)
    {
        struct sb_kb_article a = {0};
        struct sb_kb_saved saved;
        struct sb_errbuf item_eb = {{0}};

        if (!json_is_object(item))
            rc = sb_fail(&item_eb, SB_ERR_INVAL, "must be an object");
        else if (!(rc = article_from_json(item, NULL, &a, &item_eb))) {
            a.author = r->who.actor;
            a.note = "import";
            rc = sb_kb_save(srv->kb, &a, 0, 0, &saved, &item_eb);
        }
        if (rc) {
            snprintf(eb.msg, sizeof(eb.msg), "articles[%zu].%.220s", i, item_eb.msg);
            break;
        }
        counts[saved.change]++;
    }
    json_decref(body);
    if (rc) return write_failed(srv, c, rc == SB_ERR_CONFLICT ? SB_ERR_INVAL : rc, &eb, 0);
    if (counts[SB_KB_ADDED] || counts[SB_KB_CHANGED]) {
        char detail[96];
        snprintf(detail, sizeof(detail), "%d added, %d changed", counts[SB_KB_ADDED],
                 counts[SB_KB_CHANGED]);
        sb_audit(srv->store, r->who.actor, "kb.import", "articles", r->ip, detail);
    }
    if (!committed(srv, c, &ret)) return ret;
    return http_json(srv, c, 200,
                     json_pack("{s:i, s:i, s:i}", "added", counts[SB_KB_ADDED], "changed",
                               counts[SB_KB_CHANGED], "unchanged", counts[SB_KB_UNCHANGED]));
}

/* The routes this file answers and who may call them (core/server/routes.c
 * lists every file's table; http.c dispatches them in that order). */
const struct route api_kb_routes[] = {
    /* editors */
    {"GET", "/api/v1/kb/articles", api_kb_list, ROUTE_EDITOR, false},
    {"POST", "/api/v1/kb/articles", api_kb_create, ROUTE_EDITOR, false},
    {"GET", "/api/v1/kb/articles/{}", api_kb_get, ROUTE_EDITOR, false},
    {"PUT", "/api/v1/kb/articles/{}", api_kb_update, ROUTE_EDITOR, false},
    {"DELETE", "/api/v1/kb/articles/{}", api_kb_delete, ROUTE_EDITOR, false},
    {"POST", "/api/v1/kb/articles/{}/publish", api_kb_publish, ROUTE_EDITOR, false},
    {"POST", "/api/v1/kb/articles/{}/unpublish", api_kb_unpublish, ROUTE_EDITOR, false},
    {"GET", "/api/v1/kb/articles/{}/revisions", api_kb_revisions, ROUTE_EDITOR, false},
    {"GET", "/api/v1/kb/articles/{}/revisions/{}", api_kb_revision, ROUTE_EDITOR, false},
    {"GET", "/api/v1/kb/articles/{}/diff", api_kb_diff, ROUTE_EDITOR, false},
    {"POST", "/api/v1/kb/articles/{}/revert", api_kb_revert, ROUTE_EDITOR, false},
    {"PUT", "/api/v1/kb/articles/{}/{}", api_kb_put_by_key, ROUTE_EDITOR, false},
    {"GET", "/api/v1/kb/articles/{}/suggestions", api_kb_suggestions, ROUTE_EDITOR, false},
    {"POST", "/api/v1/kb/articles/{}/suggestions/accept", api_kb_suggestion_accept, ROUTE_EDITOR,
     false},
    {"GET", "/api/v1/kb/categories", api_kb_categories, ROUTE_EDITOR, false},
    {"PUT", "/api/v1/kb/categories/{}/{}", api_kb_category_put, ROUTE_EDITOR, false},
    {"GET", "/api/v1/kb/locales", api_kb_locales, ROUTE_EDITOR, false},
    {"GET", "/api/v1/kb/synonyms", api_kb_synonyms, ROUTE_EDITOR, false},
    {"PUT", "/api/v1/kb/synonyms/{}/{}", api_kb_synonyms_put, ROUTE_EDITOR, false},
    {"POST", "/api/v1/kb/preview", api_kb_preview, ROUTE_EDITOR, false},
    {"POST", "/api/v1/kb/try", api_kb_try, ROUTE_EDITOR, false},
    {"GET", "/api/v1/kb/gaps", api_kb_gaps, ROUTE_EDITOR, false},
    {"GET", "/api/v1/kb/helpfulness", api_kb_helpfulness, ROUTE_EDITOR, false},
    {"GET", "/api/v1/kb/export", api_kb_export, ROUTE_EDITOR, false},
    {"POST", "/api/v1/kb/import", api_kb_import, ROUTE_EDITOR, false},
    {NULL, NULL, NULL, ROUTE_PUBLIC, false},
};

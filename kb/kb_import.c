/*
 * kb_import.c - import a folder of Markdown articles with YAML front
 * matter (parsed by libyaml), plus each folder's _categories.yaml, in one
 * transaction; and the item list, checks and transaction that the FAQ
 * import (kb_import_faq.c) shares.
 *
 * File shape:   ---\n<YAML mapping>\n---\n<Markdown body>
 * Keys: title, slug, locale, category, tags (list), status, summary,
 * examples (list), group. Unknown keys are errors so a typo is not
 * silently lost. Absent keys mean empty (status: draft, group: the slug),
 * because the file is the whole truth about its article.
 *
 * Everything is read and checked before the write transaction starts:
 * the server on the same database waits for our lock (its busy timeout),
 * so the lock is held only for the saves themselves.
 *
 * Uses: sb_kb_validate, sb_kb_save, sb_kb_category_set (kb.c,
 * kb_validate.c), sb_read_file (util.c).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "kb_files.h"

#define MAX_FILE_BYTES (1 << 20) /* one article file; the body cap is 64 KiB */
#define MAX_DEPTH 8
#define CATEGORIES_FILE "_categories.yaml"

/* ---- small helpers shared with the FAQ import ---- */

enum sb_err kb_fail_prefix(struct sb_errbuf *eb, enum sb_err rc, const char *prefix)
{
    char msg[SB_ERRBUF_SIZE];

    if (!eb) return rc;
    snprintf(msg, sizeof(msg), "%s", eb->msg);
    return sb_fail(eb, rc, "%s: %s", prefix, msg);
}

/* UTF-8 sequences never hold a newline byte, so checking line by line
 * finds the same errors as checking the whole text, and says where. */
size_t kb_utf8_bad_line(const char *s, size_t len)
{
    size_t line = 1, start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '\n') continue;
        if (!sb_utf8_valid(s + start, i - start)) return line;
        line++;
        start = i + 1;
    }
    return 0;
}

enum sb_err kb_items_add(struct kb_items *l, char *where, json_t *art, json_t *lines, bool derive)
{
    if (!where || !art) goto nomem;
    if (l->n == KB_MAX_ITEMS) {
        free(where);
        json_decref(art);
        json_decref(lines);
        return SB_ERR_LIMIT;
    }
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        struct kb_item *v = realloc(l->v, ncap * sizeof(*v));
        if (!v) goto nomem;
        l->v = v;
        l->cap = ncap;
    }
    l->v[l->n++] = (struct kb_item){where, art, lines, derive, SB_KB_UNCHANGED};
    return SB_OK;
nomem:
    free(where);
    json_decref(art);
    json_decref(lines);
    return SB_ERR_NOMEM;
}

void kb_items_cleanup(struct kb_items *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].where);
        json_decref(l->v[i].art);
        json_decref(l->v[i].lines);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static const char *str_of(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

void kb_item_article(const struct kb_item *it, const char *author, const char *note,
                     struct sb_kb_article *a)
{
    memset(a, 0, sizeof(*a));
    a->title = str_of(it->art, "title");
    a->slug = str_of(it->art, "slug");
    a->locale = str_of(it->art, "locale");
    a->summary = str_of(it->art, "summary");
    a->body = str_of(it->art, "body");
    a->category = str_of(it->art, "category");
    a->status = str_of(it->art, "status");
    a->group = str_of(it->art, "group");
    a->tags = json_object_get(it->art, "tags");
    a->examples = json_object_get(it->art, "examples");
    a->author = author;
    a->note = note;
    /* answer_threshold: the article's own confidence threshold; absent
     * keeps what is stored, "" or "null" removes it, anything but a
     * number in 0..1 is refused by sb_kb_save (NaN here gets there). */
    const char *t = str_of(it->art, "answer_threshold");
    if (t) {
        char *end;
        if (!*t || strcmp(t, "null") == 0) {
            a->threshold_op = SB_KB_THRESHOLD_NONE;
        } else {
            a->threshold_op = SB_KB_THRESHOLD_SET;
            a->answer_threshold = strtod(t, &end);
            if (end == t || *end) a->answer_threshold = -1; /* refused with the field named */
        }
    }
}

enum sb_err kb_item_fail(const struct kb_item *it, enum sb_err rc, struct sb_errbuf *eb)
{
    char field[32], prefix[1200];
    size_t n;
    json_int_t line = 0;

    if (!eb) return rc;
    /* The field is the message's first word ("tags[2]: ..." -> tags). */
    n = strcspn(eb->msg, ":[ ");
    if (n < sizeof(field) && eb->msg[n] && eb->msg[n] != ' ') {
        memcpy(field, eb->msg, n);
        field[n] = '\0';
        line = json_integer_value(json_object_get(it->lines, field));
    }
    if (line > 0)
        snprintf(prefix, sizeof(prefix), "%s:%lld", it->where, (long long)line);
    else
        snprintf(prefix, sizeof(prefix), "%s", it->where);
    return kb_fail_prefix(eb, rc, prefix);
}

/* ---- checks before the transaction ---- */

static enum sb_err check_duplicate(json_t *seen, struct kb_items *l, size_t i, struct sb_errbuf *eb)
{
    const struct kb_item *it = &l->v[i];
    const char *locale = str_of(it->art, "locale"), *slug = str_of(it->art, "slug");
    char key[200];
    json_t *prev;

    snprintf(key, sizeof(key), "%s/%s", locale, slug);
    prev = json_object_get(seen, key);
    if (prev) {
        const struct kb_item *first = &l->v[json_integer_value(prev)];
        json_int_t line = json_integer_value(json_object_get(it->lines, "slug"));
        char where[1100];
        if (line > 0)
            snprintf(where, sizeof(where), "%s:%lld", it->where, (long long)line);
        else
            snprintf(where, sizeof(where), "%s", it->where);
        return sb_fail(eb, SB_ERR_INVAL, "%s: slug: '%s' in locale %s is also used by %s", where,
                       slug, locale, first->where);
    }
    if (json_object_set_new(seen, key, json_integer((json_int_t)i))) return SB_ERR_NOMEM;
    return SB_OK;
}

enum sb_err kb_items_check(struct sb_kb *kb, struct kb_items *l, struct sb_errbuf *eb)
{
    json_t *seen = json_object();
    enum sb_err rc = SB_OK;

    if (!seen) return SB_ERR_NOMEM;
    for (size_t i = 0; i < l->n && !rc; i++) {
        struct sb_kb_article a;
        kb_item_article(&l->v[i], NULL, NULL, &a);
        rc = sb_kb_validate(kb, &a, eb);
        if (rc) {
            rc = kb_item_fail(&l->v[i], rc, eb);
            break;
        }
        if (!l->v[i].derive) rc = check_duplicate(seen, l, i, eb);
    }
    json_decref(seen);
    return rc;
}

/* ---- the transaction ---- */

static enum sb_err db_fail(struct sb_kb *kb, struct sb_errbuf *eb, const char *what)
{
    return sb_fail(eb, SB_ERR_DB, "kb import: %s: %s", what, sqlite3_errmsg(kb->db));
}

static void tick(const struct sb_kb_import_opts *o, int done, int total)
{
    if (o && o->progress) o->progress(o->arg, done, total);
}

enum sb_err kb_items_save(struct sb_kb *kb, struct kb_items *l, const struct kb_save_hooks *h,
                          const struct sb_kb_import_opts *o, int step0, int steps,
                          struct sb_kb_import_stats *out, struct sb_errbuf *eb)
{
    const char *author = o && o->author ? o->author : "cli";
    int counts[3] = {0, 0, 0}, cats = 0;
    enum sb_err rc = SB_OK;

    if (sqlite3_exec(kb->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(kb, eb, "cannot start the transaction");
    for (size_t i = 0; i < l->n && !rc; i++) {
        struct sb_kb_article a;
        struct sb_kb_saved saved = {0};

        if (h && h->prepare && (rc = h->prepare(kb, h->arg, l, i, eb))) break;
        kb_item_article(&l->v[i], author, "import", &a);
        rc = sb_kb_save(kb, &a, 0, 0, &saved, eb);
        if (rc) {
            rc = kb_item_fail(&l->v[i], rc, eb);
            break;
        }
        l->v[i].change = saved.change;
        counts[saved.change]++;
        tick(o, step0 + (int)i + 1, steps);
    }
    if (!rc && h && h->extra) rc = h->extra(kb, h->arg, &cats, eb);
    /* Nothing changed: end without a commit, so nothing at all is written
     * and the server has no reason to rebuild its index. */
    if (rc || (counts[SB_KB_ADDED] + counts[SB_KB_CHANGED] + cats) == 0) {
        sqlite3_exec(kb->db, "ROLLBACK", NULL, NULL, NULL);
    } else if (sqlite3_exec(kb->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(kb, eb, "commit");
        sqlite3_exec(kb->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (rc) return rc;
    if (out) {
        out->added = counts[SB_KB_ADDED];
        out->changed = counts[SB_KB_CHANGED];
        out->unchanged = counts[SB_KB_UNCHANGED];
        out->categories = cats;
    }
    for (size_t i = 0; o && o->item && i < l->n; i++)
        o->item(o->arg, l->v[i].where, str_of(l->v[i].art, "locale"), str_of(l->v[i].art, "slug"),
                l->v[i].change);
    return SB_OK;
}

/* ---- YAML ---- */

/* A plain (unquoted) empty, ~ or null scalar is YAML's null: the key is
 * treated as absent. Quoted "" stays an empty string. */
static bool scalar_is_null(const yaml_node_t *n)
{
    const char *v = (const char *)n->data.scalar.value;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* The file line of a node; base is the file line before the YAML's first
 * (1 for front matter, which follows the '---' line; 0 for a whole file). */
static size_t node_line(const yaml_node_t *n, size_t base)
{
    return n->start_mark.line + 1 + base;
}

static json_t *scalar_json(const yaml_node_t *n)
{
    return json_stringn((const char *)n->data.scalar.value, n->data.scalar.length);
}

/* The length of the line at s (without its \n or \r\n) and where the next
 * one starts. */
static size_t line_len(const char *s, const char *end, const char **next)
{
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
    *next = nl ? nl + 1 : end;
    if (n && s[n - 1] == '\r') n--;
    return n;
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* The key of the nearest line at or above line (1-based) of text that
 * starts with key: or "key":, into field[cap] ("" when none). It names
 * the field of errors libyaml cannot place (bad UTF-8, broken syntax). */
static void key_above(const char *text, size_t len, size_t line, char *field, size_t cap)
{
    const char *p = text, *end = text + len, *next;

    field[0] = '\0';
    for (size_t l = 1; p < end && l <= line; p = next, l++) {
        size_t n = line_len(p, end, &next), q = p[0] == '"', k = 0;
        while (q + k < n && key_char(p[q + k]))
            k++;
        if (!k || k >= cap || q + k + q >= n) continue;
        if ((q && p[q + k] != '"') || p[q + k + q] != ':') continue;
        memcpy(field, p + q, k);
        field[k] = '\0';
    }
}

/* libyaml's message at the line where the broken construct starts, with
 * the key it belongs to: "x.md:2: title: YAML: found unexpected end of
 * stream while scanning a quoted scalar (line 5)". base as for node_line. */
static enum sb_err yaml_fail(const char *path, const char *text, size_t len, size_t base,
                             const yaml_parser_t *p, struct sb_errbuf *eb)
{
    size_t at = p->problem_mark.line + 1, from = p->context ? p->context_mark.line + 1 : at;
    char field[40], also[32] = "";

    key_above(text, len, from, field, sizeof(field));
    if (at != from) snprintf(also, sizeof(also), " (line %zu)", at + base);
    return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s%sYAML: %s%s%s%s", path, from + base, field,
                   *field ? ": " : "", p->problem ? p->problem : "cannot parse",
                   p->context ? " " : "", p->context ? p->context : "", also);
}

/* Loads text[0..len) as one YAML document whose root must be a mapping. */
static enum sb_err yaml_load_mapping(const char *path, const char *text, size_t len, size_t base,
                                     yaml_document_t *doc, struct sb_errbuf *eb)
{
    yaml_parser_t parser;
    yaml_node_t *root;

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc)) {
        enum sb_err rc = yaml_fail(path, text, len, base, &parser, eb);
        yaml_parser_delete(&parser);
        return rc;
    }
    yaml_parser_delete(&parser);
    root = yaml_document_get_root_node(doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        yaml_document_delete(doc);
        return sb_fail(eb, SB_ERR_INVAL, "%s: must hold a YAML mapping (key: value lines)", path);
    }
    return SB_OK;
}

/* ---- front matter ---- */

enum key_kind { KEY_TEXT, KEY_LIST };

static const struct {
    const char *name;
    enum key_kind kind;
} front_keys[] = {
    {"title", KEY_TEXT},   {"slug", KEY_TEXT},
    {"locale", KEY_TEXT},  {"category", KEY_TEXT},
    {"tags", KEY_LIST},    {"status", KEY_TEXT},
    {"summary", KEY_TEXT}, {"examples", KEY_LIST},
    {"group", KEY_TEXT},   {"answer_threshold", KEY_TEXT},
};

static int front_key(const char *name)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(front_keys); i++)
        if (strcmp(name, front_keys[i].name) == 0) return (int)i;
    return -1;
}

static json_t *list_json(yaml_document_t *doc, const yaml_node_t *n)
{
    json_t *arr = json_array();

    for (yaml_node_item_t *it = n->data.sequence.items.start;
         arr && it < n->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(doc, *it);
        if (!item || item->type != YAML_SCALAR_NODE) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, scalar_json(item));
    }
    return arr;
}

/* One key: value pair of the front matter into art (and its line). */
static enum sb_err front_pair(const char *path, yaml_document_t *doc, yaml_node_pair_t *p,
                              json_t *art, json_t *lines, struct sb_errbuf *eb)
{
    yaml_node_t *k = yaml_document_get_node(doc, p->key);
    yaml_node_t *v = yaml_document_get_node(doc, p->value);
    const char *key;
    size_t line;
    json_t *val;
    int idx;

    if (!k || !v || k->type != YAML_SCALAR_NODE)
        return sb_fail(eb, SB_ERR_INVAL, "%s: keys must be plain words", path);
    key = (const char *)k->data.scalar.value;
    line = node_line(k, 1);
    idx = front_key(key);
    if (idx < 0)
        return sb_fail(eb, SB_ERR_INVAL,
                       "%s:%zu: unknown key '%.40s' (known: title, slug, locale, category, tags, "
                       "status, summary, examples, group, answer_threshold)",
                       path, line, key);
    if (json_object_get(lines, key))
        return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s: is given twice", path, line, key);
    json_object_set_new(lines, key, json_integer((json_int_t)line));
    if (v->type == YAML_SCALAR_NODE && scalar_is_null(v)) return SB_OK;
    if (front_keys[idx].kind == KEY_TEXT) {
        if (v->type != YAML_SCALAR_NODE)
            return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s: must be text", path, line, key);
        val = scalar_json(v);
    } else {
        val = v->type == YAML_SEQUENCE_NODE ? list_json(doc, v) : NULL;
        if (!val)
            return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s: must be a list of text", path, line, key);
    }
    if (!val || json_object_set_new(art, key, val)) return SB_ERR_NOMEM;
    return SB_OK;
}

static bool is_fence(const char *s, size_t n)
{
    return n == 3 && memcmp(s, "---", 3) == 0;
}

/* Finds the front matter between the '---' lines: yaml[0..ylen), the body
 * (borrowing text) and the body's first line. */
static enum sb_err split_front(const char *path, const char *text, size_t len, const char **yaml,
                               size_t *ylen, const char **body, size_t *body_line,
                               struct sb_errbuf *eb)
{
    const char *end = text + len, *p = text, *next;
    size_t line = 1;

    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3; /* a byte-order mark */
    if (!is_fence(p, line_len(p, end, &next)))
        return sb_fail(eb, SB_ERR_INVAL, "%s:1: must start with a '---' line (YAML front matter)",
                       path);
    *yaml = next;
    for (p = next; p < end; p = next) {
        size_t n = line_len(p, end, &next);
        line++;
        if (is_fence(p, n)) {
            *ylen = (size_t)(p - *yaml);
            *body = next;
            *body_line = line + 1;
            return SB_OK;
        }
    }
    return sb_fail(eb, SB_ERR_INVAL, "%s: the front matter has no closing '---' line", path);
}

static enum sb_err check_utf8(const char *path, const char *text, size_t len, size_t body_line,
                              struct sb_errbuf *eb)
{
    size_t bad = kb_utf8_bad_line(text, len);
    char field[32];

    if (!bad) return SB_OK;
    if (body_line && bad >= body_line)
        snprintf(field, sizeof(field), "body");
    else
        key_above(text, len, bad, field, sizeof(field));
    if (!*field) snprintf(field, sizeof(field), "front matter");
    return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s: is not valid UTF-8", path, bad, field);
}

/* Defaults for keys the file leaves out: the file is the whole article. */
static enum sb_err front_defaults(json_t *art)
{
    static const char *const empty_text[] = {"summary", "category"};
    static const char *const empty_list[] = {"tags", "examples"};
    const char *slug = str_of(art, "slug");

    for (size_t i = 0; i < SB_ARRAY_LEN(empty_text); i++)
        if (!json_object_get(art, empty_text[i]))
            json_object_set_new(art, empty_text[i], json_string(""));
    for (size_t i = 0; i < SB_ARRAY_LEN(empty_list); i++)
        if (!json_object_get(art, empty_list[i]))
            json_object_set_new(art, empty_list[i], json_array());
    if (!json_object_get(art, "status")) json_object_set_new(art, "status", json_string("draft"));
    if (!json_object_get(art, "group") && slug)
        json_object_set_new(art, "group", json_string(slug));
    return SB_OK;
}

enum sb_err kb_article_parse(const char *path, const char *text, size_t len, json_t **art_out,
                             json_t **lines_out, struct sb_errbuf *eb)
{
    const char *yaml = NULL, *body = NULL;
    size_t ylen = 0, body_line = 0;
    yaml_document_t doc;
    yaml_node_t *root;
    json_t *art = NULL, *lines = NULL;
    enum sb_err rc;

    /* The split works on bytes, so it can say where bad UTF-8 sits. */
    rc = split_front(path, text, len, &yaml, &ylen, &body, &body_line, eb);
    if (!rc) rc = check_utf8(path, text, len, body_line, eb);
    if (!rc) rc = yaml_load_mapping(path, yaml, ylen, 1, &doc, eb);
    if (rc) return rc;
    art = json_object();
    lines = json_object();
    root = yaml_document_get_root_node(&doc);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         !rc && p < root->data.mapping.pairs.top; p++)
        rc = front_pair(path, &doc, p, art, lines, eb);
    yaml_document_delete(&doc);
    if (!rc) {
        json_object_set_new(art, "body", json_stringn(body, (size_t)(text + len - body)));
        json_object_set_new(lines, "body", json_integer((json_int_t)body_line));
        rc = front_defaults(art);
    }
    if (rc) {
        json_decref(art);
        json_decref(lines);
        return rc;
    }
    *art_out = art;
    *lines_out = lines;
    return SB_OK;
}

/* Reads one article file into art (and field lines). */
static enum sb_err read_article(const char *path, json_t **art_out, json_t **lines_out,
                                struct sb_errbuf *eb)
{
    char *text = NULL;
    size_t len = 0;
    enum sb_err rc;

    rc = sb_read_file(path, MAX_FILE_BYTES, &text, &len, eb);
    if (rc) return rc;
    rc = kb_article_parse(path, text, len, art_out, lines_out, eb);
    free(text);
    return rc;
}

/* ---- _categories.yaml ---- */

/* A folder's categories: slug -> {name, description, position, line}. */
struct cat_file {
    char *path;
    char locale[36];
    json_t *cats;
};

struct cat_files {
    struct cat_file *v;
    size_t n, cap;
};

static void cat_files_cleanup(struct cat_files *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].path);
        json_decref(c->v[i].cats);
    }
    free(c->v);
    memset(c, 0, sizeof(*c));
}

static enum sb_err parse_position(const char *path, size_t line, const char *cat, const char *v,
                                  json_t *entry, struct sb_errbuf *eb)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < -1000000 || n > 1000000)
        return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s.position: must be a whole number", path, line,
                       cat);
    json_object_set_new(entry, "position", json_integer(n));
    return SB_OK;
}

/* One "slug: {name, description, position}" entry. */
static enum sb_err category_entry(const char *path, yaml_document_t *doc, yaml_node_t *k,
                                  yaml_node_t *v, json_t *cats, struct sb_errbuf *eb)
{
    const char *cat = (const char *)k->data.scalar.value;
    size_t line = node_line(k, 0);
    json_t *entry;

    if (json_object_get(cats, cat))
        return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s: is given twice", path, line, cat);
    if (v->type != YAML_MAPPING_NODE)
        return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s: must hold name, description and position",
                       path, line, cat);
    entry = json_pack("{s:s, s:s, s:i, s:I}", "name", cat, "description", "", "position", 0, "line",
                      (json_int_t)line);
    if (!entry || json_object_set_new(cats, cat, entry)) return SB_ERR_NOMEM;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *fk = yaml_document_get_node(doc, p->key);
        yaml_node_t *fv = yaml_document_get_node(doc, p->value);
        const char *f =
            fk && fk->type == YAML_SCALAR_NODE ? (const char *)fk->data.scalar.value : "";
        size_t fl = fk ? node_line(fk, 0) : line;

        if (strcmp(f, "name") && strcmp(f, "description") && strcmp(f, "position"))
            return sb_fail(eb, SB_ERR_INVAL,
                           "%s:%zu: %s: unknown key '%.40s' (known: name, description, position)",
                           path, fl, cat, f);
        if (!fv || fv->type != YAML_SCALAR_NODE)
            return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s.%s: must be text", path, fl, cat, f);
        if (!strcmp(f, "position")) {
            enum sb_err rc =
                parse_position(path, fl, cat, (const char *)fv->data.scalar.value, entry, eb);
            if (rc) return rc;
        } else if (!scalar_is_null(fv)) {
            json_object_set_new(entry, f, scalar_json(fv));
        }
    }
    return SB_OK;
}

enum sb_err kb_categories_parse(const char *path, const char *text, size_t len, json_t **out,
                                struct sb_errbuf *eb)
{
    size_t bad = kb_utf8_bad_line(text, len);
    yaml_document_t doc;
    yaml_node_t *root;
    json_t *cats = NULL;
    enum sb_err rc;

    if (bad) return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: is not valid UTF-8", path, bad);
    rc = yaml_load_mapping(path, text, len, 0, &doc, eb);
    if (rc) return rc;
    cats = json_object();
    root = yaml_document_get_root_node(&doc);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         !rc && p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&doc, p->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE)
            rc = sb_fail(eb, SB_ERR_INVAL, "%s: category slugs must be plain words", path);
        else
            rc = category_entry(path, &doc, k, v, cats, eb);
    }
    yaml_document_delete(&doc);
    if (rc) {
        json_decref(cats);
        return rc;
    }
    *out = cats;
    return SB_OK;
}

static enum sb_err read_categories(const char *path, json_t **out, struct sb_errbuf *eb)
{
    char *text = NULL;
    size_t len = 0;
    enum sb_err rc;

    rc = sb_read_file(path, MAX_FILE_BYTES, &text, &len, eb);
    if (rc) return rc;
    rc = kb_categories_parse(path, text, len, out, eb);
    free(text);
    return rc;
}

/* The locale of a folder's categories: the one locale of the articles
 * beside the file, else the folder's name when it is a known locale. */
static enum sb_err folder_locale(struct sb_kb *kb, const char *dir, const char *path,
                                 struct kb_items *l, size_t first, char *out, size_t cap,
                                 struct sb_errbuf *eb)
{
    const char *base = strrchr(dir, '/'), *one = NULL;
    bool mixed = false;

    for (size_t i = first; i < l->n; i++) {
        const char *loc = str_of(l->v[i].art, "locale");
        if (one && strcmp(one, loc) != 0) mixed = true;
        one = loc;
    }
    if (one && !mixed) {
        snprintf(out, cap, "%s", one);
        return SB_OK;
    }
    base = base ? base + 1 : dir;
    if (sb_kb_locale_known(kb, base)) {
        snprintf(out, cap, "%s", base);
        return SB_OK;
    }
    return sb_fail(eb, SB_ERR_INVAL,
                   "%s: locale: %s; put the file in a folder named after its locale", path,
                   mixed ? "the articles beside it have different locales"
                         : "no articles beside it tell the locale");
}

static enum sb_err add_categories(struct sb_kb *kb, const char *dir, const char *path,
                                  struct kb_items *l, size_t first, struct cat_files *c,
                                  struct sb_errbuf *eb)
{
    struct cat_file f = {0};
    enum sb_err rc;

    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 8;
        struct cat_file *v = realloc(c->v, ncap * sizeof(*v));
        if (!v) return SB_ERR_NOMEM;
        c->v = v;
        c->cap = ncap;
    }
    rc = folder_locale(kb, dir, path, l, first, f.locale, sizeof(f.locale), eb);
    if (!rc) rc = read_categories(path, &f.cats, eb);
    if (rc) return rc;
    f.path = strdup(path);
    if (!f.path) {
        json_decref(f.cats);
        return SB_ERR_NOMEM;
    }
    c->v[c->n++] = f;
    return SB_OK;
}

/* Saves one category unless the stored one is the same already. */
static enum sb_err save_category(struct sb_kb *kb, const struct cat_file *f, const char *slug,
                                 json_t *e, int *changed, struct sb_errbuf *eb)
{
    const char *name = str_of(e, "name"), *desc = str_of(e, "description");
    int pos = (int)json_integer_value(json_object_get(e, "position"));
    sqlite3_stmt *s = NULL;
    bool same = false;
    enum sb_err rc;
    char where[1100];

    if (sqlite3_prepare_v2(kb->db,
                           "SELECT name = ?3 AND description = ?4 AND position = ?5"
                           " FROM kb_categories WHERE locale = ?1 AND slug = ?2",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(kb, eb, "categories");
    sqlite3_bind_text(s, 1, f->locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, slug, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, desc, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, pos);
    if (sqlite3_step(s) == SQLITE_ROW) same = sqlite3_column_int(s, 0) == 1;
    sqlite3_finalize(s);
    if (same) return SB_OK;
    rc = sb_kb_category_set(kb, f->locale, slug, name, desc, pos, eb);
    if (rc) {
        snprintf(where, sizeof(where), "%s:%lld: %s", f->path,
                 (long long)json_integer_value(json_object_get(e, "line")), slug);
        return kb_fail_prefix(eb, rc, where);
    }
    (*changed)++;
    return SB_OK;
}

static enum sb_err save_categories(struct sb_kb *kb, void *arg, int *changed, struct sb_errbuf *eb)
{
    struct cat_files *c = arg;

    for (size_t i = 0; i < c->n; i++) {
        const char *slug;
        json_t *e;
        json_object_foreach(c->v[i].cats, slug, e)
        {
            enum sb_err rc = save_category(kb, &c->v[i], slug, e, changed, eb);
            if (rc) return rc;
        }
    }
    return SB_OK;
}

/* ---- the folder walk ---- */

struct walk {
    struct sb_kb *kb;
    struct kb_items items;
    struct cat_files cats;
    const struct sb_kb_import_opts *opts;
};

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static bool is_article_name(const char *name)
{
    size_t len = strlen(name);
    return len > 3 && strcmp(name + len - 3, ".md") == 0 && strcmp(name, "README.md") != 0;
}

static enum sb_err walk_entry(struct walk *w, const char *dir, const char *name, int depth,
                              bool *has_cats, struct sb_errbuf *eb);

static enum sb_err walk_dir(struct walk *w, const char *dir, int depth, struct sb_errbuf *eb)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, name_cmp);
    size_t first = w->items.n;
    bool has_cats = false;
    enum sb_err rc = SB_OK;
    char path[4096];

    if (n < 0) return sb_fail(eb, SB_ERR_IO, "%s: %s", dir, strerror(errno));
    for (int i = 0; i < n && !rc; i++)
        rc = walk_entry(w, dir, names[i]->d_name, depth, &has_cats, eb);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    /* After the folder's articles, which tell the categories' locale. */
    if (!rc && has_cats) {
        snprintf(path, sizeof(path), "%s/%s", dir, CATEGORIES_FILE);
        rc = add_categories(w->kb, dir, path, &w->items, first, &w->cats, eb);
    }
    return rc;
}

static enum sb_err walk_entry(struct walk *w, const char *dir, const char *name, int depth,
                              bool *has_cats, struct sb_errbuf *eb)
{
    char path[4096];
    struct stat st;
    json_t *art = NULL, *lines = NULL;
    enum sb_err rc;
    int n;

    if (name[0] == '.') return SB_OK;
    n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return sb_fail(eb, SB_ERR_INVAL, "%s/%.40s...: path too long", dir, name);
    if (stat(path, &st) != 0) return sb_fail(eb, SB_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return depth < MAX_DEPTH ? walk_dir(w, path, depth + 1, eb) : SB_OK;
    if (!S_ISREG(st.st_mode)) return SB_OK;
    if (strcmp(name, CATEGORIES_FILE) == 0) {
        *has_cats = true;
        return SB_OK;
    }
    if (!is_article_name(name)) return SB_OK;
    rc = read_article(path, &art, &lines, eb);
    if (rc) return rc;
    rc = kb_items_add(&w->items, strdup(path), art, lines, false);
    if (rc == SB_ERR_LIMIT)
        return sb_fail(eb, rc, "%s: more than %d articles in one import", path, KB_MAX_ITEMS);
    return rc;
}

enum sb_err sb_kb_import_tree(struct sb_kb *kb, const char *dir,
                              const struct sb_kb_import_opts *opts, struct sb_kb_import_stats *out,
                              struct sb_errbuf *eb)
{
    struct walk w = {.kb = kb, .opts = opts};
    struct kb_save_hooks hooks = {.extra = save_categories, .arg = &w.cats};
    int n;
    enum sb_err rc;

    rc = walk_dir(&w, dir, 0, eb);
    if (!rc) rc = kb_items_check(kb, &w.items, eb);
    n = (int)w.items.n;
    tick(opts, n, 2 * n);
    if (!rc) rc = kb_items_save(kb, &w.items, &hooks, opts, n, 2 * n, out, eb);
    kb_items_cleanup(&w.items);
    cat_files_cleanup(&w.cats);
    return rc;
}

enum sb_err sb_kb_import_dir(struct sb_kb *kb, const char *dir, int *added, int *changed,
                             int *unchanged, struct sb_errbuf *eb)
{
    struct sb_kb_import_stats s = {0};
    enum sb_err rc = sb_kb_import_tree(kb, dir, NULL, &s, eb);

    if (rc) return rc;
    *added = s.added;
    *changed = s.changed;
    *unchanged = s.unchanged;
    return SB_OK;
}

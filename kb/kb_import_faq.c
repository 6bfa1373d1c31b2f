/*
 * kb_import_faq.c - import questions and answers (a CSV or JSON-lines
 * file) as articles: title = the title or the question, summary and body
 * = the answer (the summary is what the bot says), the question as the
 * first example. A row without a slug gets one made from its title; when
 * another article (a different title) already has it, -2, -3, ... is
 * added, so a re-run finds its own articles again and changes nothing.
 *
 * Rows are read and checked first, then saved in one transaction through
 * kb_items_save (kb_import.c): a bad row commits nothing, and the error
 * names its line and column ("faq.csv:7: answer: is required").
 *
 * Uses: kb_fold (kb_text.c) for slugs, sb_kb_article_id and
 * sb_kb_article_json (kb.c) to tell our articles from others.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_files.h"

#define MAX_FAQ_BYTES (8 << 20)
#define MAX_SUFFIX 1000 /* slug-2 .. slug-1000 */

/* ---- CSV (RFC 4180) ---- */

void kb_csv_init(struct kb_csv *c, const char *text, size_t len)
{
    memset(c, 0, sizeof(*c));
    c->text = text;
    c->len = len;
    c->line = 1;
    c->rec_line = 1;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) c->pos = 3;
}

static bool at_eol(const struct kb_csv *c, size_t *n)
{
    if (c->pos < c->len && c->text[c->pos] == '\n') {
        *n = 1;
        return true;
    }
    if (c->pos + 1 < c->len && c->text[c->pos] == '\r' && c->text[c->pos + 1] == '\n') {
        *n = 2;
        return true;
    }
    return false;
}

static enum sb_err csv_fail(struct kb_csv *c, size_t line, const char *msg, struct sb_errbuf *eb)
{
    c->rec_line = line;
    return sb_fail(eb, SB_ERR_INVAL, "CSV: %s", msg);
}

/* A quoted field from just after its opening quote to after its closing
 * one. */
static enum sb_err csv_quoted(struct kb_csv *c, struct sb_buf *f, struct sb_errbuf *eb)
{
    size_t start_line = c->line, from = c->pos;
    enum sb_err rc = SB_OK;

    for (;;) {
        const char *q = memchr(c->text + c->pos, '"', c->len - c->pos);
        if (!q) return csv_fail(c, start_line, "a quoted field is not closed", eb);
        for (const char *p = c->text + c->pos; p < q; p++)
            if (*p == '\n') c->line++;
        c->pos = (size_t)(q - c->text);
        rc = sb_buf_append(f, c->text + from, c->pos - from);
        if (rc) return rc;
        if (c->pos + 1 < c->len && c->text[c->pos + 1] == '"') { /* "" is one quote */
            rc = sb_buf_append(f, "\"", 1);
            if (rc) return rc;
            c->pos += 2;
            from = c->pos;
            continue;
        }
        c->pos++;
        return SB_OK;
    }
}

/* One field; leaves pos at the separator, line end or end of text. */
static enum sb_err csv_field(struct kb_csv *c, struct sb_buf *f, struct sb_errbuf *eb)
{
    size_t eol;
    enum sb_err rc;

    sb_buf_reset(f);
    rc = sb_buf_append(f, "", 0);
    if (rc) return rc;
    if (c->pos < c->len && c->text[c->pos] == '"') {
        c->pos++;
        rc = csv_quoted(c, f, eb);
        if (rc) return rc;
        if (c->pos < c->len && c->text[c->pos] != ',' && !at_eol(c, &eol))
            return csv_fail(c, c->line, "text after a closing quote (write \"\" for a quote)", eb);
        return SB_OK;
    }
    while (c->pos < c->len && c->text[c->pos] != ',' && !at_eol(c, &eol)) {
        if (c->text[c->pos] == '"')
            return csv_fail(c, c->line, "a quote inside an unquoted field (quote the whole field)",
                            eb);
        rc = sb_buf_append(f, c->text + c->pos, 1);
        if (rc) return rc;
        c->pos++;
    }
    return SB_OK;
}

enum sb_err kb_csv_next(struct kb_csv *c, json_t **out, struct sb_errbuf *eb)
{
    struct sb_buf f;
    json_t *rec;
    size_t eol = 0; /* at_eol sets it: csv_field stops only at ',', a line end or the end */
    enum sb_err rc = SB_OK;

    *out = NULL;
    while (at_eol(c, &eol)) { /* blank lines */
        c->pos += eol;
        c->line++;
    }
    if (c->pos >= c->len) return SB_OK;
    c->rec_line = c->line;
    rec = json_array();
    if (!rec) return SB_ERR_NOMEM;
    sb_buf_init(&f, c->len + 1);
    for (;;) {
        rc = csv_field(c, &f, eb);
        if (!rc && json_array_append_new(rec, json_stringn(f.data, f.len))) rc = SB_ERR_NOMEM;
        if (rc || c->pos >= c->len) break;
        if (c->text[c->pos] == ',') {
            c->pos++;
            continue;
        }
        at_eol(c, &eol);
        c->pos += eol;
        c->line++;
        break;
    }
    sb_buf_cleanup(&f);
    if (rc) {
        json_decref(rec);
        return rc;
    }
    *out = rec;
    return SB_OK;
}

/* ---- slugs ---- */

void kb_slug_from_title(const char *title, char *out, size_t cap)
{
    char folded[1024];
    size_t n = kb_fold(title, strlen(title), folded, sizeof(folded)), o = 0;
    size_t max = cap - 1 < SB_KB_MAX_SLUG ? cap - 1 : SB_KB_MAX_SLUG;

    for (size_t i = 0; i < n && o < max; i++) {
        char ch = folded[i];
        bool word = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (word)
            out[o++] = ch;
        else if (o && out[o - 1] != '-')
            out[o++] = '-';
    }
    /* Cut a word in two only when it is the only one. */
    if (o == max && n > max) {
        size_t cut = o;
        while (cut > max / 2 && out[cut - 1] != '-')
            cut--;
        if (cut > max / 2) o = cut;
    }
    while (o && out[o - 1] == '-')
        o--;
    out[o] = '\0';
    if (!o) snprintf(out, cap, "faq");
}

/* base-N within SB_KB_MAX_SLUG, cutting base as needed. */
static void slug_with_suffix(const char *base, int n, char *out, size_t cap)
{
    char suffix[16];
    size_t sl = (size_t)snprintf(suffix, sizeof(suffix), "-%d", n);
    size_t bl = strlen(base);

    if (bl + sl > SB_KB_MAX_SLUG) bl = SB_KB_MAX_SLUG - sl;
    while (bl && base[bl - 1] == '-')
        bl--;
    snprintf(out, cap, "%.*s%s", (int)bl, base, suffix);
}

/* ---- rows to articles ---- */

static const char *text_of(json_t *row, const char *key)
{
    const char *v = json_string_value(json_object_get(row, key));
    return v ? v : "";
}

/* Trims ASCII white space at both ends of a JSON string value in place. */
static void trim_value(json_t *row, const char *key)
{
    const char *v = json_string_value(json_object_get(row, key));
    size_t a = 0, b;

    if (!v) return;
    b = strlen(v);
    while (a < b && (v[a] == ' ' || v[a] == '\t' || v[a] == '\r' || v[a] == '\n'))
        a++;
    while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t' || v[b - 1] == '\r' || v[b - 1] == '\n'))
        b--;
    if (a || b < strlen(v)) json_object_set_new(row, key, json_stringn(v + a, b - a));
}

/* "a, b,c" -> ["a", "b", "c"] for the CSV tags column. */
static json_t *split_tags(const char *s)
{
    json_t *arr = json_array();

    while (arr && *s) {
        size_t n = strcspn(s, ","), a = 0, b = n;
        while (a < b && s[a] == ' ')
            a++;
        while (b > a && s[b - 1] == ' ')
            b--;
        if (b > a) json_array_append_new(arr, json_stringn(s + a, b - a));
        s += n;
        if (*s) s++;
    }
    return arr;
}

struct faq {
    struct sb_kb *kb;
    const char *path;
    const struct sb_kb_import_opts *opts;
    struct kb_items items;
    json_t *titles; /* title of each derived-slug row -> its line */
    json_t *used;   /* slugs this import has taken (inside the transaction) */
};

/* Renames the article fields in a check's message to the row's columns:
 * the answer is the summary and the body, the question the first
 * example (and the title when the row has none). */
static enum sb_err row_fail(const struct faq *q, size_t line, bool title_is_question,
                            enum sb_err rc, struct sb_errbuf *eb)
{
    static const char *const map[][2] = {
        {"summary:", "answer:"}, {"body:", "answer:"}, {"examples[0]:", "question:"}};
    char msg[SB_ERRBUF_SIZE + 16];
    const char *rest = eb->msg, *name = "";

    for (size_t i = 0; i < SB_ARRAY_LEN(map) && !*name; i++)
        if (strncmp(eb->msg, map[i][0], strlen(map[i][0])) == 0) {
            name = map[i][1];
            rest = eb->msg + strlen(map[i][0]);
        }
    if (!*name && title_is_question && strncmp(eb->msg, "title:", 6) == 0) {
        name = "question:";
        rest = eb->msg + 6;
    }
    snprintf(msg, sizeof(msg), "%s%s", name, rest);
    return sb_fail(eb, rc, "%s:%zu: %s", q->path, line, msg);
}

/* [question] + the row's examples, without repeating the question. */
static json_t *row_examples(json_t *row, const char *question)
{
    json_t *arr = json_array(), *v;
    size_t i;

    if (!arr) return NULL;
    json_array_append_new(arr, json_string(question));
    json_array_foreach(json_object_get(row, "examples"), i, v)
    {
        if (!json_is_string(v) || strcmp(json_string_value(v), question) != 0)
            json_array_append(arr, v);
    }
    return arr;
}

static json_t *row_json(const struct faq *q, json_t *row, const char *title, const char *slug)
{
    const struct sb_kb_import_opts *o = q->opts;
    const char *answer = text_of(row, "answer"), *category = text_of(row, "category");
    json_t *tags = json_object_get(row, "tags");
    json_t *art = json_object();

    if (!*category) category = o->category ? o->category : "";
    json_object_set_new(art, "title", json_string(title));
    json_object_set_new(art, "slug", json_string(slug));
    json_object_set_new(art, "locale", json_string(o->locale ? o->locale : ""));
    json_object_set_new(art, "summary", json_string(answer));
    json_object_set_new(art, "body", json_string(answer));
    json_object_set_new(art, "category", json_string(category));
    json_object_set_new(art, "status", json_string(o->status ? o->status : "published"));
    json_object_set_new(art, "tags", json_is_array(tags) ? json_incref(tags) : json_array());
    json_object_set_new(art, "examples", row_examples(row, text_of(row, "question")));
    return art;
}

/* Two rows of the same title would be one article twice. */
static enum sb_err check_title(struct faq *q, const char *title, size_t line, struct sb_errbuf *eb)
{
    json_t *prev = json_object_get(q->titles, title);

    if (prev)
        return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: title: is the same as on line %lld", q->path,
                       line, (long long)json_integer_value(prev));
    json_object_set_new(q->titles, title, json_integer((json_int_t)line));
    return SB_OK;
}

/* One row (its columns as a JSON object) into an item. */
static enum sb_err row_article(struct faq *q, json_t *row, size_t line, struct sb_errbuf *eb)
{
    static const char *const keys[] = {"question", "answer", "title", "slug", "category"};
    const char *question, *title;
    char slug[SB_KB_MAX_SLUG + 1], where[1100];
    bool derive;
    json_t *art;
    struct sb_kb_article a;
    struct kb_item probe = {0};
    enum sb_err rc;

    for (size_t i = 0; i < SB_ARRAY_LEN(keys); i++)
        trim_value(row, keys[i]);
    question = text_of(row, "question");
    title = *text_of(row, "title") ? text_of(row, "title") : question;
    if (!*question)
        return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: question: is required", q->path, line);
    if (!*text_of(row, "answer"))
        return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: answer: is required", q->path, line);
    derive = !*text_of(row, "slug");
    if (derive) {
        kb_slug_from_title(title, slug, sizeof(slug));
        rc = check_title(q, title, line, eb);
        if (rc) return rc;
    }
    art = row_json(q, row, title, derive ? slug : text_of(row, "slug"));
    if (!art) return SB_ERR_NOMEM;
    probe.art = art;
    kb_item_article(&probe, NULL, NULL, &a);
    rc = sb_kb_validate(q->kb, &a, eb);
    if (rc) {
        json_decref(art);
        return row_fail(q, line, !*text_of(row, "title"), rc, eb);
    }
    snprintf(where, sizeof(where), "%s:%zu", q->path, line);
    rc = kb_items_add(&q->items, strdup(where), art, NULL, derive);
    if (rc == SB_ERR_LIMIT)
        return sb_fail(eb, rc, "%s: more than %d rows in one import", where, KB_MAX_ITEMS);
    return rc;
}

/* ---- CSV rows ---- */

static const char *const csv_columns[] = {"question", "answer",   "title",
                                          "slug",     "category", "tags"};

static enum sb_err csv_header(struct faq *q, json_t *head, size_t line, struct sb_errbuf *eb)
{
    bool has_q = false, has_a = false;
    json_t *seen = json_object();
    json_t *v;
    size_t i;
    enum sb_err rc = SB_OK;

    json_array_foreach(head, i, v)
    {
        const char *name = json_string_value(v);
        bool known = false;
        for (size_t k = 0; k < SB_ARRAY_LEN(csv_columns); k++)
            if (strcmp(name, csv_columns[k]) == 0) known = true;
        if (!known) {
            rc = sb_fail(eb, SB_ERR_INVAL,
                         "%s:%zu: '%.40s' is not a column (question, answer, title, slug, "
                         "category, tags)",
                         q->path, line, name);
            break;
        }
        if (json_object_get(seen, name)) {
            rc = sb_fail(eb, SB_ERR_INVAL, "%s:%zu: column '%s' is given twice", q->path, line,
                         name);
            break;
        }
        json_object_set_new(seen, name, json_true());
        has_q |= strcmp(name, "question") == 0;
        has_a |= strcmp(name, "answer") == 0;
    }
    json_decref(seen);
    if (!rc && (!has_q || !has_a))
        rc = sb_fail(eb, SB_ERR_INVAL,
                     "%s:%zu: the header row needs the columns question and answer", q->path, line);
    return rc;
}

static enum sb_err read_csv(struct faq *q, const char *text, size_t len, struct sb_errbuf *eb)
{
    struct kb_csv c;
    json_t *head = NULL, *rec = NULL;
    enum sb_err rc;

    kb_csv_init(&c, text, len);
    rc = kb_csv_next(&c, &head, eb);
    if (!rc && !head)
        return sb_fail(eb, SB_ERR_INVAL, "%s: is empty (a header row is needed)", q->path);
    if (!rc) rc = csv_header(q, head, c.rec_line, eb);
    while (!rc) {
        json_t *row;
        rc = kb_csv_next(&c, &rec, eb);
        if (rc || !rec) break;
        if (json_array_size(rec) != json_array_size(head)) {
            rc = sb_fail(eb, SB_ERR_INVAL, "%s:%zu: CSV: %zu fields where the header has %zu",
                         q->path, c.rec_line, json_array_size(rec), json_array_size(head));
            break;
        }
        row = json_object();
        for (size_t i = 0; i < json_array_size(head); i++)
            json_object_set(row, json_string_value(json_array_get(head, i)),
                            json_array_get(rec, i));
        if (json_object_get(row, "tags"))
            json_object_set_new(row, "tags", split_tags(text_of(row, "tags")));
        rc = row_article(q, row, c.rec_line, eb);
        json_decref(row);
        json_decref(rec);
        rec = NULL;
    }
    if (rc == SB_ERR_INVAL && strncmp(eb->msg, "CSV:", 4) == 0) {
        char where[1100];
        snprintf(where, sizeof(where), "%s:%zu", q->path, c.rec_line);
        rc = kb_fail_prefix(eb, rc, where);
    }
    json_decref(rec);
    json_decref(head);
    return rc;
}

/* ---- JSON lines ---- */

static enum sb_err json_row_check(struct faq *q, json_t *row, size_t line, struct sb_errbuf *eb)
{
    const char *key;
    json_t *v;

    if (!json_is_object(row))
        return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: must be a JSON object", q->path, line);
    json_object_foreach(row, key, v)
    {
        bool list = !strcmp(key, "tags") || !strcmp(key, "examples");
        bool text = !strcmp(key, "question") || !strcmp(key, "answer") || !strcmp(key, "title") ||
                    !strcmp(key, "slug") || !strcmp(key, "category");
        if (!list && !text)
            return sb_fail(eb, SB_ERR_INVAL,
                           "%s:%zu: unknown key '%.40s' (known: question, answer, title, slug, "
                           "category, tags, examples)",
                           q->path, line, key);
        if (text && !json_is_string(v) && !json_is_null(v))
            return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s: must be text", q->path, line, key);
        if (list && !json_is_array(v) && !json_is_null(v))
            return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s: must be a list of text", q->path, line,
                           key);
    }
    return SB_OK;
}

/* True when s[0..n) holds only spaces, tabs and CRs. Bounded by n: the
 * last line of the text has no newline and nothing after it. */
static bool blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

static enum sb_err read_jsonl(struct faq *q, const char *text, size_t len, struct sb_errbuf *eb)
{
    const char *p = text, *end = text + len;
    size_t line = 0;
    enum sb_err rc = SB_OK;

    for (; !rc && p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_error_t err;
        json_t *row;

        if (!blank_line(p, n)) {
            row = json_loadb(p, n, JSON_REJECT_DUPLICATES, &err);
            if (!row)
                rc = sb_fail(eb, SB_ERR_INVAL, "%s:%zu: JSON: %s", q->path, line + 1, err.text);
            else if (!(rc = json_row_check(q, row, line + 1, eb)))
                rc = row_article(q, row, line + 1, eb);
            json_decref(row);
        }
        p = nl ? nl + 1 : end;
    }
    return rc;
}

/* ---- the transaction: settling derived slugs ---- */

/* True when the article (locale, slug) is free or is this row's own
 * article from an earlier run (the same title). */
static bool slug_is_ours(struct sb_kb *kb, const char *locale, const char *slug, const char *title)
{
    int64_t id = sb_kb_article_id(kb, locale, slug);
    json_t *a;
    bool ours;

    if (!id) return true;
    a = sb_kb_article_json(kb, id);
    ours = a && strcmp(json_string_value(json_object_get(a, "title")), title) == 0;
    json_decref(a);
    return ours;
}

static enum sb_err settle_slug(struct sb_kb *kb, void *arg, struct kb_items *l, size_t i,
                               struct sb_errbuf *eb)
{
    struct faq *q = arg;
    struct kb_item *it = &l->v[i];
    const char *locale = text_of(it->art, "locale"), *title = text_of(it->art, "title");
    char base[SB_KB_MAX_SLUG + 1], cand[SB_KB_MAX_SLUG + 1];

    if (!q->used) { /* explicit slugs first: derived ones must not take them */
        q->used = json_object();
        for (size_t k = 0; k < l->n; k++)
            if (!l->v[k].derive)
                json_object_set_new(q->used, text_of(l->v[k].art, "slug"), json_true());
    }
    if (!it->derive) return SB_OK;
    snprintf(base, sizeof(base), "%s", text_of(it->art, "slug"));
    for (int n = 1; n <= MAX_SUFFIX; n++) {
        if (n == 1)
            snprintf(cand, sizeof(cand), "%s", base);
        else
            slug_with_suffix(base, n, cand, sizeof(cand));
        if (json_object_get(q->used, cand) || !slug_is_ours(kb, locale, cand, title)) continue;
        json_object_set_new(q->used, cand, json_true());
        json_object_set_new(it->art, "slug", json_string(cand));
        return SB_OK;
    }
    return sb_fail(eb, SB_ERR_LIMIT, "%s: slug: %s-2 to %s-%d are all taken", it->where, base, base,
                   MAX_SUFFIX);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The rows of text[0..len) into q->items, each checked. */
static enum sb_err faq_read(struct faq *q, const char *text, size_t len, struct sb_errbuf *eb)
{
    size_t bad = kb_utf8_bad_line(text, len);
    enum sb_err rc;

    if (bad) return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: is not valid UTF-8", q->path, bad);
    if (ends_with(q->path, ".jsonl"))
        rc = read_jsonl(q, text, len, eb);
    else
        rc = read_csv(q, text, len, eb);
    if (!rc) rc = kb_items_check(q->kb, &q->items, eb);
    return rc;
}

enum sb_err kb_faq_check(struct sb_kb *kb, const char *path, const struct sb_kb_import_opts *opts,
                         const char *text, size_t len, size_t *rows, struct sb_errbuf *eb)
{
    struct faq q = {.kb = kb, .path = path, .opts = opts};
    enum sb_err rc;

    q.titles = json_object();
    rc = faq_read(&q, text, len, eb);
    *rows = q.items.n;
    kb_items_cleanup(&q.items);
    json_decref(q.titles);
    return rc;
}

enum sb_err sb_kb_import_faq(struct sb_kb *kb, const char *path,
                             const struct sb_kb_import_opts *opts, struct sb_kb_import_stats *out,
                             struct sb_errbuf *eb)
{
    struct sb_kb_import_opts none = {0};
    struct faq q = {.kb = kb, .path = path, .opts = opts ? opts : &none};
    struct kb_save_hooks hooks = {.prepare = settle_slug, .arg = &q};
    char *text = NULL;
    size_t len = 0;
    int n;
    struct sb_errbuf local;
    enum sb_err rc;

    if (!eb) eb = &local; /* messages are rewritten in place below */
    if (!q.opts->locale || !*q.opts->locale)
        return sb_fail(eb, SB_ERR_INVAL, "locale: is required (the locale of every row)");
    rc = sb_read_file(path, MAX_FAQ_BYTES, &text, &len, eb);
    if (rc) return rc;
    q.titles = json_object();
    rc = faq_read(&q, text, len, eb);
    free(text);
    n = (int)q.items.n;
    if (!rc && opts && opts->progress) opts->progress(opts->arg, n, 2 * n);
    if (!rc) rc = kb_items_save(kb, &q.items, &hooks, opts, n, 2 * n, out, eb);
    kb_items_cleanup(&q.items);
    json_decref(q.titles);
    json_decref(q.used);
    return rc;
}

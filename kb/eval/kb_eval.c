/*
 * kb_eval.c - how well the answer engine answers: a throwaway knowledge
 * base built from a labelled dataset's training part, scored on its test
 * part (`switchboard kb eval`, core/cli/cli_eval.c).
 *
 * Datasets are read in the formats they are published in. Every reader
 * turns its file into rows (label, text) that one function sorts into
 * articles, example questions and test queries, so the kinds differ only
 * in how they are read. Files are read whole and checked for UTF-8 first,
 * so a reader never meets a broken character.
 *
 * Uses: the CSV reader and kb_slug_from_title (kb_import_faq.c),
 * kb_utf8_bad_line and kb_fail_prefix (kb_import.c), sb_kb_validate,
 * sb_kb_save and both searches.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_eval.h"
#include "kb_files.h"

#define EVAL_MAX_FILE (64 << 20)
#define EVAL_OOS_LABEL "oos"
#define EVAL_TOP 3

/* eval_query.article when it is not an index into the articles */
#define EVAL_OOS (-1)        /* out of scope: should not be answered */
#define EVAL_NO_ARTICLE (-2) /* in scope, but no article has its label */

enum eval_format { F_CSV, F_CLINC, F_AIA, F_RASA };

static const struct eval_kind {
    const char *name, *locale;
    enum eval_format format;
    const char *label_column; /* CSV */
} kinds[] = {
    {"banking77", "en", F_CSV, "category"}, {"hwu64", "en", F_CSV, "intent"},
    {"clinc150", "en", F_CLINC, NULL},      {"aia-bde", "pt-PT", F_AIA, NULL},
    {"ro-intents", "ro", F_RASA, NULL},
};

struct eval_article {
    char *label;                   /* owned: the intent, or the FAQ's id */
    char *title;                   /* owned: the label made readable, or the FAQ question */
    char *answer;                  /* owned, NULL for intents: the FAQ answer */
    json_t *texts;                 /* owned array: its example questions as read */
    int64_t id;                    /* set by the build; 0 = not saved */
    char slug[SB_KB_MAX_SLUG + 1]; /* set by the build */
};

struct eval_query {
    char *text;  /* owned */
    int article; /* index into art, EVAL_OOS or EVAL_NO_ARTICLE */
};

struct sb_kb_eval {
    const struct eval_kind *kind;
    int limit; /* example questions per article, 0 = all */
    struct eval_article *art;
    size_t nart, capart;
    json_t *by_label; /* label -> index into art */
    struct eval_query *q;
    size_t nq, capq;
    int unused; /* --examples rows whose label has no article */
};

const char *sb_kb_eval_locale(const char *kind)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(kinds); i++)
        if (kind && strcmp(kind, kinds[i].name) == 0) return kinds[i].locale;
    return NULL;
}

/* ---- text helpers ---- */

/* How many bytes of s[0..n) fit in cap without splitting a character;
 * at_word also backs up to the last space when one is in the second half,
 * since half a word is noise to a search. */
static size_t cut_len(const char *s, size_t n, size_t cap, bool at_word)
{
    size_t k;

    if (n <= cap) return n;
    k = sb_utf8_cut(s, n, cap);
    if (at_word) {
        size_t w = k;
        while (w > cap / 2 && s[w] != ' ')
            w--;
        if (w > cap / 2) k = w;
    }
    while (k > 0 && s[k - 1] == ' ')
        k--;
    return k;
}

/* s with a space after every '<' that would open a tag: summaries and
 * titles refuse HTML, but the words of an answer quoting some must stay
 * searchable. Owned; NULL on allocation failure. */
static char *untag(const char *s)
{
    size_t n = strlen(s), o = 0;
    char *out = malloc(2 * n + 1);

    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        char nx = s[i + 1];
        out[o++] = s[i];
        if (s[i] == '<' && ((nx >= 'a' && nx <= 'z') || (nx >= 'A' && nx <= 'Z') || nx == '/' ||
                            nx == '!' || nx == '?'))
            out[o++] = ' ';
    }
    out[o] = '\0';
    return out;
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_lower_or_digit(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* "card_arrival" -> "Card arrival", "aprindeLumina" -> "Aprinde lumina":
 * labels are identifiers, titles are read by people. Owned. */
static char *readable_label(const char *label)
{
    size_t n = strlen(label), o = 0;
    char *out = malloc(2 * n + 1);

    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = label[i];
        bool gap = c == '_' || c == '-' || c == ' ' || c == '.';
        bool hump = is_upper(c) && i > 0 && is_lower_or_digit(label[i - 1]);
        if (gap || hump) {
            if (o && out[o - 1] != ' ') out[o++] = ' ';
            if (gap) continue;
            c = (char)(c - 'A' + 'a');
        }
        out[o++] = c;
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    if (!o) { /* nothing readable: the label as it is */
        free(out);
        return strdup(label);
    }
    if (out[0] >= 'a' && out[0] <= 'z') out[0] = (char)(out[0] - 'a' + 'A');
    return out;
}

/* s[a..b) without ASCII white space at either end, as a new string. */
static char *trimmed(const char *s)
{
    size_t a = 0, b = strlen(s);

    while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '\n'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r' || s[b - 1] == '\n'))
        b--;
    return strndup(s + a, b - a);
}

/* ---- the dataset in memory ---- */

enum eval_part { PART_TRAIN, PART_EXAMPLES, PART_TEST };

struct eval_reader {
    struct sb_kb_eval *ev;
    const char *path;
    enum eval_part part;
};

/* "path:line: message" (line 0: "path: message") with SB_ERR_INVAL. */
__attribute__((format(printf, 4, 5))) static enum sb_err
at(const struct eval_reader *r, size_t line, struct sb_errbuf *eb, const char *fmt, ...)
{
    char msg[SB_ERRBUF_SIZE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line) return sb_fail(eb, SB_ERR_INVAL, "%s:%zu: %s", r->path, line, msg);
    return sb_fail(eb, SB_ERR_INVAL, "%s: %s", r->path, msg);
}

static int article_of(const struct sb_kb_eval *ev, const char *label)
{
    json_t *v = json_object_get(ev->by_label, label);
    return v ? (int)json_integer_value(v) : -1;
}

/* A new article for label; title and answer are taken over (owned). */
static enum sb_err article_add(struct sb_kb_eval *ev, const char *label, char *title, char *answer,
                               int *idx)
{
    struct eval_article *a;

    if (ev->nart == ev->capart) {
        size_t cap = ev->capart ? 2 * ev->capart : 64;
        struct eval_article *v = realloc(ev->art, cap * sizeof(*v));
        if (!v) goto nomem;
        ev->art = v;
        ev->capart = cap;
    }
    a = &ev->art[ev->nart];
    memset(a, 0, sizeof(*a));
    a->label = strdup(label);
    a->texts = json_array();
    a->title = title;
    a->answer = answer;
    ev->nart++; /* from here sb_kb_eval_free owns it */
    if (!a->label || !a->texts || !title ||
        json_object_set_new(ev->by_label, label, json_integer((json_int_t)(ev->nart - 1))))
        return SB_ERR_NOMEM;
    *idx = (int)(ev->nart - 1);
    return SB_OK;
nomem:
    free(title);
    free(answer);
    return SB_ERR_NOMEM;
}

static enum sb_err example_add(struct sb_kb_eval *ev, int idx, const char *text)
{
    json_t *texts = ev->art[idx].texts;

    if (ev->limit && json_array_size(texts) >= (size_t)ev->limit) return SB_OK;
    return json_array_append_new(texts, json_string(text)) ? SB_ERR_NOMEM : SB_OK;
}

static enum sb_err query_add(struct sb_kb_eval *ev, const char *text, int article)
{
    if (ev->nq == ev->capq) {
        size_t cap = ev->capq ? 2 * ev->capq : 256;
        struct eval_query *v = realloc(ev->q, cap * sizeof(*v));
        if (!v) return SB_ERR_NOMEM;
        ev->q = v;
        ev->capq = cap;
    }
    ev->q[ev->nq].text = strdup(text);
    ev->q[ev->nq].article = article;
    if (!ev->q[ev->nq].text) return SB_ERR_NOMEM;
    ev->nq++;
    return SB_OK;
}

/* One labelled utterance of any format, sorted by the part it is in:
 * training utterances make articles, --examples rows join their article,
 * test rows become queries. eb gets "label: is empty" for the reader to
 * put its place in front of. */
static enum sb_err eval_row(struct eval_reader *r, const char *label_in, const char *text,
                            struct sb_errbuf *eb)
{
    struct sb_kb_eval *ev = r->ev;
    char *label = trimmed(label_in);
    enum sb_err rc = SB_OK;
    int idx;

    if (!label) return SB_ERR_NOMEM;
    if (!*label) {
        free(label);
        return sb_fail(eb, SB_ERR_INVAL, "label: is empty");
    }
    idx = article_of(ev, label);
    if (r->part == PART_TEST) {
        if (strcmp(label, EVAL_OOS_LABEL) == 0)
            idx = EVAL_OOS;
        else if (idx < 0)
            idx = EVAL_NO_ARTICLE;
        rc = query_add(ev, text, idx);
    } else if (strcmp(label, EVAL_OOS_LABEL) == 0) {
        /* out-of-scope training data describes no article */
    } else if (idx < 0 && r->part == PART_EXAMPLES) {
        ev->unused++;
    } else {
        if (idx < 0) rc = article_add(ev, label, readable_label(label), NULL, &idx);
        if (!rc) rc = example_add(ev, idx, text);
    }
    free(label);
    return rc;
}

/* ---- CSV: banking77, hwu64 ---- */

static int column_of(json_t *head, const char *name)
{
    for (size_t i = 0; i < json_array_size(head); i++) {
        const char *h = json_string_value(json_array_get(head, i));
        if (strcmp(h, name) == 0) return (int)i;
    }
    return -1;
}

static enum sb_err csv_rows(struct eval_reader *r, struct kb_csv *c, json_t *head,
                            struct sb_errbuf *eb)
{
    const char *label_col = r->ev->kind->label_column;
    int ti = column_of(head, "text"), li = column_of(head, label_col);
    json_t *rec = NULL;
    enum sb_err rc = SB_OK;

    if (ti < 0 || li < 0)
        return at(r, c->rec_line, eb, "the header row needs the columns text and %s (%s)",
                  label_col, r->ev->kind->name);
    while (!rc) {
        rc = kb_csv_next(c, &rec, eb);
        if (rc || !rec) break;
        if (json_array_size(rec) != json_array_size(head))
            rc = at(r, c->rec_line, eb, "CSV: %zu fields where the header has %zu",
                    json_array_size(rec), json_array_size(head));
        else
            rc = eval_row(r, json_string_value(json_array_get(rec, (size_t)li)),
                          json_string_value(json_array_get(rec, (size_t)ti)), eb);
        if (rc == SB_ERR_INVAL && strncmp(eb->msg, "label:", 6) == 0)
            rc = at(r, c->rec_line, eb, "%s:%s", label_col, eb->msg + 6);
        json_decref(rec);
        rec = NULL;
    }
    return rc;
}

static enum sb_err read_csv(struct eval_reader *r, const char *text, size_t len,
                            struct sb_errbuf *eb)
{
    struct kb_csv c;
    json_t *head = NULL;
    enum sb_err rc;

    kb_csv_init(&c, text, len);
    rc = kb_csv_next(&c, &head, eb);
    if (!rc && !head)
        return at(r, 0, eb, "is empty (a header row text,%s is needed)", r->ev->kind->label_column);
    if (!rc) rc = csv_rows(r, &c, head, eb);
    if (rc == SB_ERR_INVAL && strncmp(eb->msg, "CSV:", 4) == 0) {
        char where[SB_ERRBUF_SIZE + 32];
        snprintf(where, sizeof(where), "%s:%zu", r->path, c.rec_line);
        rc = kb_fail_prefix(eb, rc, where);
    }
    json_decref(head);
    return rc;
}

/* ---- JSON: clinc150, ro-intents ---- */

/* A list of [text, label] pairs; oos lists count as out of scope whatever
 * their label says. */
static enum sb_err clinc_list(struct eval_reader *r, json_t *root, const char *key, bool oos,
                              struct sb_errbuf *eb)
{
    json_t *list = json_object_get(root, key), *v;
    size_t i;

    if (!list || json_is_null(list)) return SB_OK;
    if (!json_is_array(list)) return at(r, 0, eb, "%s: must be a list of [text, label] pairs", key);
    json_array_foreach(list, i, v)
    {
        const char *text = json_string_value(json_array_get(v, 0));
        const char *label = json_string_value(json_array_get(v, 1));
        enum sb_err rc;
        if (!json_is_array(v) || json_array_size(v) != 2 || !text || !label)
            return at(r, 0, eb, "%s[%zu]: must be a [text, label] pair", key, i);
        rc = eval_row(r, oos ? EVAL_OOS_LABEL : label, text, eb);
        if (rc == SB_ERR_INVAL) return at(r, 0, eb, "%s[%zu][1]: is empty", key, i);
        if (rc) return rc;
    }
    return SB_OK;
}

/* TRAIN: "train" ("oos_train" makes no article); TEST and --examples: the
 * held-out "test" + "oos_test" when the file has them, else the
 * validation lists. */
static enum sb_err read_clinc(struct eval_reader *r, json_t *root, struct sb_errbuf *eb)
{
    const char *key, *oos_key;

    if (!json_is_object(root)) return at(r, 0, eb, "must be a JSON object (clinc150)");
    if (r->part == PART_TRAIN) {
        key = "train";
        oos_key = NULL;
    } else if (json_object_get(root, "test")) {
        key = "test";
        oos_key = "oos_test";
    } else {
        key = "val";
        oos_key = "oos_val";
    }
    if (!json_object_get(root, key))
        return at(r, 0, eb, "has no \"%s\" list (clinc150: train, val, test, oos_*)",
                  r->part == PART_TRAIN ? "train" : "test\" or \"val");
    {
        enum sb_err rc = clinc_list(r, root, key, false, eb);
        if (rc || !oos_key) return rc;
        return clinc_list(r, root, oos_key, true, eb);
    }
}

static enum sb_err read_rasa(struct eval_reader *r, json_t *root, struct sb_errbuf *eb)
{
    json_t *list = json_object_get(json_object_get(root, "rasa_nlu_data"), "common_examples");
    json_t *v;
    size_t i;

    if (!json_is_array(list))
        return at(r, 0, eb, "has no rasa_nlu_data.common_examples list (Rasa NLU JSON)");
    json_array_foreach(list, i, v)
    {
        const char *text = json_string_value(json_object_get(v, "text"));
        const char *intent = json_string_value(json_object_get(v, "intent"));
        enum sb_err rc;
        if (!text || !intent)
            return at(r, 0, eb, "rasa_nlu_data.common_examples[%zu]: needs text and intent", i);
        rc = eval_row(r, intent, text, eb);
        if (rc == SB_ERR_INVAL)
            return at(r, 0, eb, "rasa_nlu_data.common_examples[%zu]: intent: is empty", i);
        if (rc) return rc;
    }
    return SB_OK;
}

/* ---- aia-bde: FAQs as JSON lines, queries as TSV ---- */

/* The FAQ's id as a label: the number as text, or the string. */
static bool faq_label(json_t *id, char *out, size_t cap)
{
    if (json_is_integer(id)) {
        snprintf(out, cap, "%lld", (long long)json_integer_value(id));
        return true;
    }
    if (!json_is_string(id)) return false;
    snprintf(out, cap, "%s", json_string_value(id));
    return *out != '\0' && strlen(json_string_value(id)) < cap;
}

static enum sb_err faq_row(struct eval_reader *r, json_t *row, size_t line, struct sb_errbuf *eb)
{
    const char *q = json_string_value(json_object_get(row, "question"));
    const char *answer = json_string_value(json_object_get(row, "answer"));
    char label[128];
    char *title;
    int idx;
    enum sb_err rc;

    if (!json_is_object(row))
        return at(r, line, eb, "must be a JSON object {id, question, answer}");
    if (!faq_label(json_object_get(row, "id"), label, sizeof(label)))
        return at(r, line, eb, "id: must be a number or short text");
    if (!q || !answer) return at(r, line, eb, "question and answer: must be text");
    title = trimmed(q);
    if (title && !*title) {
        free(title);
        return at(r, line, eb, "question: is empty");
    }
    if (article_of(r->ev, label) >= 0) {
        free(title);
        return at(r, line, eb, "id: %s is given twice", label);
    }
    rc = article_add(r->ev, label, title, strdup(answer), &idx);
    if (!rc) rc = example_add(r->ev, idx, r->ev->art[idx].title);
    return rc;
}

static enum sb_err read_faqs(struct eval_reader *r, const char *text, size_t len,
                             struct sb_errbuf *eb)
{
    const char *p = text, *end = text + len;
    enum sb_err rc = SB_OK;

    for (size_t line = 1; !rc && p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_error_t err;
        json_t *row;

        if (strspn(p, " \t\r") < n) {
            row = json_loadb(p, n, 0, &err);
            if (!row)
                rc = at(r, line, eb, "JSON: %s", err.text);
            else
                rc = faq_row(r, row, line, eb);
            json_decref(row);
        }
        p = nl ? nl + 1 : end;
    }
    return rc;
}

/* The tab-separated fields of line[0..n) as NUL-terminated strings in
 * buf (which holds n + 1 bytes); returns how many, at most max. */
static size_t tsv_split(const char *line, size_t n, char *buf, char **field, size_t max)
{
    size_t k = 0;

    if (n && line[n - 1] == '\r') n--;
    memcpy(buf, line, n);
    buf[n] = '\0';
    field[k++] = buf;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\t') {
            buf[i] = '\0';
            if (k < max) field[k] = buf + i + 1;
            k++;
        }
    return k;
}

#define TSV_MAX_COLUMNS 16

struct tsv {
    size_t columns;
    int id_col, query_col;
};

static enum sb_err tsv_header(struct eval_reader *r, char **f, size_t k, struct tsv *t,
                              struct sb_errbuf *eb)
{
    t->columns = k;
    t->id_col = t->query_col = -1;
    if (k > TSV_MAX_COLUMNS) return at(r, 1, eb, "more than %d columns", TSV_MAX_COLUMNS);
    for (size_t i = 0; i < k; i++) {
        if (strcmp(f[i], "faq_id") == 0) t->id_col = (int)i;
        if (strcmp(f[i], "query") == 0) t->query_col = (int)i;
    }
    if (t->id_col < 0 || t->query_col < 0)
        return at(r, 1, eb, "the header row needs the columns faq_id and query, tab-separated");
    return SB_OK;
}

static enum sb_err tsv_row(struct eval_reader *r, const struct tsv *t, char **f, size_t k,
                           size_t line, struct sb_errbuf *eb)
{
    enum sb_err rc;

    if (k != t->columns)
        return at(r, line, eb, "%zu tab-separated fields where the header has %zu", k, t->columns);
    rc = eval_row(r, f[t->id_col], f[t->query_col], eb);
    if (rc == SB_ERR_INVAL) return at(r, line, eb, "faq_id: is empty");
    return rc;
}

static enum sb_err read_tsv(struct eval_reader *r, const char *text, size_t len,
                            struct sb_errbuf *eb)
{
    const char *p = text, *end = text + len;
    char *buf = malloc(len + 1), *f[TSV_MAX_COLUMNS];
    struct tsv t = {0};
    size_t line = 1;
    enum sb_err rc = SB_OK;

    if (!buf) return SB_ERR_NOMEM;
    for (; !rc && p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t k;

        if (strspn(p, " \r") >= n) { /* blank line */
            p = nl ? nl + 1 : end;
            continue;
        }
        k = tsv_split(p, n, buf, f, TSV_MAX_COLUMNS);
        if (!t.columns)
            rc = tsv_header(r, f, k, &t, eb);
        else
            rc = tsv_row(r, &t, f, k, line, eb);
        p = nl ? nl + 1 : end;
    }
    if (!rc && !t.columns) rc = at(r, 0, eb, "is empty (a header row faq_id, type, query)");
    free(buf);
    return rc;
}

/* ---- reading a file ---- */

static enum sb_err read_json(struct eval_reader *r, const char *text, size_t len,
                             struct sb_errbuf *eb)
{
    json_error_t err;
    json_t *root = json_loadb(text, len, 0, &err);
    enum sb_err rc;

    if (!root) return at(r, (size_t)(err.line > 0 ? err.line : 0), eb, "JSON: %s", err.text);
    rc = r->ev->kind->format == F_CLINC ? read_clinc(r, root, eb) : read_rasa(r, root, eb);
    json_decref(root);
    return rc;
}

static enum sb_err read_part(struct sb_kb_eval *ev, const char *path, enum eval_part part,
                             struct sb_errbuf *eb)
{
    struct eval_reader r = {.ev = ev, .path = path, .part = part};
    char *text = NULL;
    size_t len = 0, bad;
    enum sb_err rc = sb_read_file(path, EVAL_MAX_FILE, &text, &len, eb);

    if (rc) return rc;
    bad = kb_utf8_bad_line(text, len);
    if (bad)
        rc = at(&r, bad, eb, "is not valid UTF-8");
    else if (ev->kind->format == F_CSV)
        rc = read_csv(&r, text, len, eb);
    else if (ev->kind->format == F_AIA)
        rc = part == PART_TRAIN ? read_faqs(&r, text, len, eb) : read_tsv(&r, text, len, eb);
    else
        rc = read_json(&r, text, len, eb);
    free(text);
    return rc;
}

enum sb_err sb_kb_eval_load(const struct sb_kb_eval_opts *o, struct sb_kb_eval **out,
                            struct sb_errbuf *eb)
{
    struct sb_kb_eval *ev = calloc(1, sizeof(*ev));
    enum sb_err rc = SB_OK;

    *out = NULL;
    if (!ev || !(ev->by_label = json_object())) {
        free(ev);
        return SB_ERR_NOMEM;
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(kinds); i++)
        if (strcmp(o->kind, kinds[i].name) == 0) ev->kind = &kinds[i];
    ev->limit = o->limit_per_intent > 0 ? o->limit_per_intent : 0;
    if (!ev->kind)
        rc = sb_fail(eb, SB_ERR_INVAL,
                     "unknown KIND '%.40s' (banking77, hwu64, clinc150, aia-bde, ro-intents)",
                     o->kind);
    if (!rc) rc = read_part(ev, o->train, PART_TRAIN, eb);
    if (!rc && !ev->nart)
        rc = sb_fail(eb, SB_ERR_INVAL, "%s: no training examples in scope", o->train);
    if (!rc && o->examples) rc = read_part(ev, o->examples, PART_EXAMPLES, eb);
    if (!rc) rc = read_part(ev, o->test, PART_TEST, eb);
    if (!rc && !ev->nq) rc = sb_fail(eb, SB_ERR_INVAL, "%s: no test queries", o->test);
    if (rc) {
        if (rc == SB_ERR_NOMEM) sb_fail(eb, rc, "out of memory reading the dataset");
        sb_kb_eval_free(ev);
        return rc;
    }
    *out = ev;
    return SB_OK;
}

void sb_kb_eval_free(struct sb_kb_eval *ev)
{
    if (!ev) return;
    for (size_t i = 0; i < ev->nart; i++) {
        free(ev->art[i].label);
        free(ev->art[i].title);
        free(ev->art[i].answer);
        json_decref(ev->art[i].texts);
    }
    for (size_t i = 0; i < ev->nq; i++)
        free(ev->q[i].text);
    free(ev->art);
    free(ev->q);
    json_decref(ev->by_label);
    free(ev);
}

/* ---- building the knowledge base ---- */

struct build {
    struct sb_kb *kb;
    const char *locale;
    json_t *slugs; /* slugs taken */
    json_t *probe; /* a one-item array for checking one example question */
    struct sb_kb_eval_stats *st;
};

/* A unique slug for label: "card_arrival" -> "card-arrival", FAQ 12 ->
 * "faq-12"; -2, -3, ... when labels fold to the same slug. */
static enum sb_err make_slug(struct build *b, const struct sb_kb_eval *ev, const char *label,
                             char *out, size_t cap)
{
    char base[SB_KB_MAX_SLUG + 1];

    if (ev->kind->format == F_AIA) {
        char name[160];
        snprintf(name, sizeof(name), "faq %s", label);
        kb_slug_from_title(name, base, sizeof(base));
    } else {
        kb_slug_from_title(label, base, sizeof(base));
    }
    snprintf(out, cap, "%s", base);
    for (int n = 2; json_object_get(b->slugs, out); n++)
        snprintf(out, cap, "%.100s-%d", base, n);
    return json_object_set_new(b->slugs, out, json_true()) ? SB_ERR_NOMEM : SB_OK;
}

/* Whether one example question passes the article checks on its own. */
static bool example_ok(struct build *b, const char *text)
{
    struct sb_kb_article probe = {
        .slug = "probe", .locale = b->locale, .title = "probe", .examples = b->probe};
    json_t *s = json_string(text);

    if (!s || json_array_set_new(b->probe, 0, s)) return false;
    return sb_kb_validate(b->kb, &probe, NULL) == SB_OK;
}

/* The example questions as saved: cut to SB_KB_MAX_ITEM bytes, those the
 * checks refuse and repeats left out, at most SB_KB_MAX_EXAMPLES. */
static json_t *clean_examples(struct build *b, json_t *texts)
{
    json_t *out = json_array(), *seen = json_object(), *v;
    size_t i;

    if (!out || !seen) goto nomem;
    json_array_foreach(texts, i, v)
    {
        const char *t = json_string_value(v);
        size_t n = strlen(t), k = cut_len(t, n, SB_KB_MAX_ITEM, true);
        json_t *s = json_stringn(t, k);
        if (!s) goto nomem;
        if (k < n) b->st->cut++;
        if (!k || !example_ok(b, json_string_value(s))) {
            b->st->skipped_invalid++;
        } else if (json_object_get(seen, json_string_value(s))) {
            b->st->skipped_repeated++;
        } else if (json_array_size(out) >= SB_KB_MAX_EXAMPLES) {
            b->st->skipped_over++;
        } else {
            json_object_set_new(seen, json_string_value(s), json_true());
            json_array_append(out, s);
        }
        json_decref(s);
    }
    json_decref(seen);
    return out;
nomem:
    json_decref(out);
    json_decref(seen);
    return NULL;
}

/* Text cut to cap bytes with tags defused, as a new string. */
static char *field_text(const char *s, size_t cap)
{
    char *u = untag(s);

    if (u) u[cut_len(u, strlen(u), cap, true)] = '\0';
    return u;
}

static enum sb_err save_article(struct build *b, const struct sb_kb_eval *ev,
                                struct eval_article *art, struct sb_errbuf *eb)
{
    char *title = field_text(art->title, SB_KB_MAX_TITLE);
    char *summary = field_text(art->answer ? art->answer : art->title, SB_KB_MAX_SUMMARY);
    char *body =
        art->answer
            ? strndup(art->answer, cut_len(art->answer, strlen(art->answer), SB_KB_MAX_BODY, false))
            : strdup("");
    json_t *examples = clean_examples(b, art->texts);
    struct sb_kb_article a = {.locale = b->locale, .status = "published", .author = "eval"};
    struct sb_kb_saved saved;
    struct sb_errbuf why;
    enum sb_err rc = make_slug(b, ev, art->label, art->slug, sizeof(art->slug));

    if (!rc && (!title || !summary || !body || !examples)) rc = SB_ERR_NOMEM;
    if (rc) goto out;
    a.slug = art->slug;
    a.title = title;
    a.summary = summary;
    a.body = body;
    a.examples = examples;
    /* The body is Markdown and may hold what its checks refuse; the
     * summary carries the same answer, so the article goes without it. */
    if (sb_kb_validate(b->kb, &a, &why) != SB_OK) a.body = "";
    if (sb_kb_validate(b->kb, &a, &why) != SB_OK) {
        b->st->articles_skipped++;
        if (!b->st->note[0])
            snprintf(b->st->note, sizeof(b->st->note), "%.60s: %.180s", art->label, why.msg);
        goto out;
    }
    rc = sb_kb_save(b->kb, &a, 0, 0, &saved, eb);
    if (rc) goto out;
    art->id = saved.id;
    b->st->articles++;
    b->st->examples += (int)json_array_size(examples);
out:
    free(title);
    free(summary);
    free(body);
    json_decref(examples);
    return rc;
}

enum sb_err sb_kb_eval_build(struct sb_kb_eval *ev, struct sb_kb *kb, const char *locale,
                             struct sb_kb_eval_stats *st, struct sb_errbuf *eb)
{
    sqlite3 *db = kb->db; /* the store's handle (sb_store_db) */
    struct build b = {.kb = kb, .locale = locale, .st = st};
    int64_t t0 = sb_mono_ns();
    enum sb_err rc = SB_OK;

    memset(st, 0, sizeof(*st));
    st->unused = ev->unused;
    b.slugs = json_object();
    b.probe = json_array();
    if (!b.slugs || !b.probe || json_array_append_new(b.probe, json_null())) {
        rc = SB_ERR_NOMEM;
        goto out;
    }
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sb_fail(eb, SB_ERR_DB, "BEGIN: %s", sqlite3_errmsg(db));
        goto out;
    }
    for (size_t i = 0; i < ev->nart && !rc; i++)
        rc = save_article(&b, ev, &ev->art[i], eb);
    if (!rc && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = sb_fail(eb, SB_ERR_DB, "COMMIT: %s", sqlite3_errmsg(db));
    if (rc) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        for (size_t i = 0; i < ev->nart; i++)
            ev->art[i].id = 0;
    }
    st->build_ms = (double)(sb_mono_ns() - t0) / 1e6;
out:
    if (rc == SB_ERR_NOMEM) sb_fail(eb, rc, "out of memory building the knowledge base");
    json_decref(b.slugs);
    json_decref(b.probe);
    return rc;
}

/* ---- scoring ---- */

static enum sb_err search(struct sb_kb *kb, const struct sb_kb_eval_run *run, const char *text,
                          const char *locale, struct sb_kb_result *res, double *ms)
{
    int64_t t0 = sb_mono_ns();
    enum sb_err rc = run->fts ? sb_kb_search_fts(kb, text, locale, EVAL_TOP, res)
                              : sb_kb_search(kb, text, locale, EVAL_TOP, res);

    *ms = (double)(sb_mono_ns() - t0) / 1e6;
    return rc;
}

/* Counts one query's result against what it should have been. */
static void tally(const struct sb_kb_eval *ev, const struct eval_query *q,
                  const struct sb_kb_result *res, const struct sb_kb_eval_run *run,
                  struct sb_kb_eval_stats *st)
{
    const struct sb_kb_hit *top = res->n ? &res->hit[0] : NULL;
    bool answers = top && top->confidence >= run->threshold;
    int64_t want = q->article >= 0 ? ev->art[q->article].id : 0;
    int rank = -1;

    if (run->each) {
        bool right = q->article >= 0 && res->n && res->hit[0].id == ev->art[q->article].id;
        run->each(run->arg, q->article == EVAL_OOS, right, res);
    }
    if (q->article == EVAL_OOS) {
        st->n_oos++;
        if (!answers)
            st->oos_declined++;
        else if (run->miss)
            run->miss(run->arg, q->text, NULL, top, true);
        return;
    }
    st->n++;
    if (q->article == EVAL_NO_ARTICLE) st->no_article++;
    for (int i = 0; i < res->n && i < EVAL_TOP && rank < 0; i++)
        if (want && res->hit[i].id == want) rank = i;
    if (rank == 0) st->top1++;
    if (rank >= 0) st->top3++;
    if (rank == 0 && answers) st->answered_right++;
    if (rank != 0 && answers) st->answered_wrong++;
    if (rank != 0 && run->miss)
        run->miss(run->arg, q->text, q->article >= 0 ? ev->art[q->article].slug : "(no article)",
                  top, answers);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile p (0..1) of sorted v[0..n). */
static double percentile(const double *v, size_t n, double p)
{
    size_t k = (size_t)(p * (double)n + 0.999999);

    if (!n) return 0;
    if (k < 1) k = 1;
    return v[k > n ? n - 1 : k - 1];
}

enum sb_err sb_kb_eval_score(struct sb_kb_eval *ev, struct sb_kb *kb, const char *locale,
                             const struct sb_kb_eval_run *run, struct sb_kb_eval_stats *st,
                             struct sb_errbuf *eb)
{
    double *ms = malloc((ev->nq + 1) * sizeof(*ms));
    struct sb_kb_result res;
    enum sb_err rc;

    if (!ms) return sb_fail(eb, SB_ERR_NOMEM, "out of memory scoring");
    /* The first search builds the engine's index: timed on its own, so the
     * latencies are those of a running server. */
    rc = search(kb, run, ev->q[0].text, locale, &res, &st->index_ms);
    sb_kb_result_cleanup(&res);
    for (size_t i = 0; i < ev->nq && !rc; i++) {
        rc = search(kb, run, ev->q[i].text, locale, &res, &ms[i]);
        if (!rc) tally(ev, &ev->q[i], &res, run, st);
        sb_kb_result_cleanup(&res);
    }
    if (rc) {
        free(ms);
        return sb_fail(eb, rc, "search: %s", sb_strerror(rc));
    }
    qsort(ms, ev->nq, sizeof(*ms), by_value);
    st->p50_ms = percentile(ms, ev->nq, 0.50);
    st->p99_ms = percentile(ms, ev->nq, 0.99);
    free(ms);
    return SB_OK;
}

/* ---- the report ---- */

static json_t *share(int k, int n)
{
    return n ? json_real((double)(int64_t)((double)k / n * 10000 + 0.5) / 10000) : json_null();
}

static json_t *millis(double ms)
{
    return json_real((double)(int64_t)(ms * 1000 + 0.5) / 1000);
}

json_t *sb_kb_eval_json(const struct sb_kb_eval_stats *st)
{
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o}", "top1",
        share(st->top1, st->n), "top3", share(st->top3, st->n), "in_scope_accuracy",
        share(st->answered_right, st->n), "answered_wrong", share(st->answered_wrong, st->n),
        "oos_recall", share(st->oos_declined, st->n_oos), "p50_ms", millis(st->p50_ms), "p99_ms",
        millis(st->p99_ms), "n", st->n, "n_oos", st->n_oos, "articles", st->articles, "examples",
        st->examples, "skipped", st->skipped_invalid + st->skipped_repeated + st->skipped_over,
        "cut", st->cut, "build_ms", millis(st->build_ms), "index_ms", millis(st->index_ms));
}

/*
 * kb_export.c - write the knowledge base out as the files kb_import.c
 * reads: DIR/{locale}/{slug}.md with YAML front matter and the Markdown
 * body, and DIR/{locale}/_categories.yaml with the category names.
 *
 * Every string in the front matter is double-quoted with escapes, so no
 * title can turn into YAML syntax (a ':', '#', a leading space or quote,
 * "yes", "null"); an export imported again gives back the same articles,
 * byte for byte. Files are replaced atomically (temporary file, fsync,
 * rename) and only when their content changed, so an export into a git
 * checkout shows exactly what editors changed.
 *
 * Uses: the kb_articles and kb_categories tables through the kb handle's
 * connection, sb_read_file and sb_buf (util.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kb_files.h"

#define MAX_EXPORT_FILE (4 << 20) /* far above the field caps; stored rows are bounded */

/* ---- YAML double-quoted scalars ---- */

/* Decodes one UTF-8 sequence at s (len > 0 left); returns its length and
 * the code point, 0 when malformed. */
static size_t utf8_next(const unsigned char *s, size_t len, unsigned *cp)
{
    size_t n;
    unsigned c = s[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (!n || n > len) return 0;
    c &= 0x3Fu >> (n - 1);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    *cp = c;
    return n;
}

/* The characters libyaml would not read back as themselves inside double
 * quotes: YAML's non-printable ones and its extra line breaks (NEL, LS,
 * PS), which a reader folds; the BOM, which a reader may drop. */
static bool needs_escape(unsigned cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF;
}

static enum sb_err put_escape(struct sb_buf *b, unsigned cp)
{
    switch (cp) {
    case '\t':
        return sb_buf_append(b, "\\t", 2);
    case '\n':
        return sb_buf_append(b, "\\n", 2);
    case '\r':
        return sb_buf_append(b, "\\r", 2);
    case '"':
        return sb_buf_append(b, "\\\"", 2);
    case '\\':
        return sb_buf_append(b, "\\\\", 2);
    default:
        return sb_buf_printf(b, "\\u%04X", cp);
    }
}

enum sb_err kb_yaml_quote(struct sb_buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* run: bytes copied as they are, not yet appended */
    enum sb_err rc = sb_buf_append(b, "\"", 1);

    while (!rc && i < len) {
        unsigned cp;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (!n) return SB_ERR_INVAL;
        if (cp == '"' || cp == '\\' || needs_escape(cp)) {
            rc = sb_buf_append(b, p + run, i - run);
            if (!rc) rc = put_escape(b, cp);
            run = i + n;
        }
        i += n;
    }
    if (!rc) rc = sb_buf_append(b, p + run, i - run);
    if (!rc) rc = sb_buf_append(b, "\"", 1);
    return rc;
}

/* ---- the article file ---- */

static enum sb_err put_text(struct sb_buf *b, const char *key, const char *v)
{
    enum sb_err rc = sb_buf_printf(b, "%s: ", key);
    if (!rc) rc = kb_yaml_quote(b, v, strlen(v));
    if (!rc) rc = sb_buf_append(b, "\n", 1);
    return rc;
}

/* A list as a block sequence, one quoted item a line; [] when empty. */
static enum sb_err put_list(struct sb_buf *b, const char *key, const char *json_text)
{
    json_t *arr = json_loads(json_text, 0, NULL);
    enum sb_err rc;
    size_t i;
    json_t *v;

    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        json_decref(arr);
        return sb_buf_printf(b, "%s: []\n", key);
    }
    rc = sb_buf_printf(b, "%s:\n", key);
    json_array_foreach(arr, i, v)
    {
        if (rc) break;
        rc = sb_buf_append(b, "  - ", 4);
        if (!rc)
            rc = kb_yaml_quote(b, json_string_value(v) ? json_string_value(v) : "",
                               json_string_value(v) ? json_string_length(v) : 0);
        if (!rc) rc = sb_buf_append(b, "\n", 1);
    }
    json_decref(arr);
    return rc;
}

enum ex_col {
    EX_SLUG,
    EX_LOCALE,
    EX_GROUP,
    EX_TITLE,
    EX_SUMMARY,
    EX_BODY,
    EX_CATEGORY,
    EX_TAGS,
    EX_EXAMPLES,
    EX_STATUS,
    EX_THRESHOLD
};

static const char *col(sqlite3_stmt *s, int c)
{
    const char *t = (const char *)sqlite3_column_text(s, c);
    return t ? t : "";
}

/* The file text of the article row s is on, in the order of the demo
 * files; group only when it is not the slug (the import's default). */
static enum sb_err article_text(sqlite3_stmt *s, struct sb_buf *b)
{
    enum sb_err rc = sb_buf_append(b, "---\n", 4);

    if (!rc) rc = put_text(b, "title", col(s, EX_TITLE));
    if (!rc) rc = put_text(b, "slug", col(s, EX_SLUG));
    if (!rc) rc = put_text(b, "locale", col(s, EX_LOCALE));
    if (!rc && *col(s, EX_GROUP) && strcmp(col(s, EX_GROUP), col(s, EX_SLUG)) != 0)
        rc = put_text(b, "group", col(s, EX_GROUP));
    if (!rc) rc = put_text(b, "category", col(s, EX_CATEGORY));
    if (!rc) rc = put_list(b, "tags", col(s, EX_TAGS));
    if (!rc) rc = put_text(b, "status", col(s, EX_STATUS));
    if (!rc) rc = put_text(b, "summary", col(s, EX_SUMMARY));
    if (!rc) rc = put_list(b, "examples", col(s, EX_EXAMPLES));
    if (!rc && sqlite3_column_type(s, EX_THRESHOLD) != SQLITE_NULL) {
        char t[32];
        snprintf(t, sizeof(t), "%.15g", sqlite3_column_double(s, EX_THRESHOLD));
        rc = put_text(b, "answer_threshold", t);
    }
    if (!rc) rc = sb_buf_append(b, "---\n", 4);
    if (!rc) rc = sb_buf_append(b, col(s, EX_BODY), (size_t)sqlite3_column_bytes(s, EX_BODY));
    return rc;
}

/* ---- files ---- */

/* Locales and slugs become path parts: letters, digits, '-' and '_' only,
 * whatever an older version or a hand edit left in the database. */
static bool safe_name(const char *s)
{
    if (!*s || *s == '-' || strlen(s) > 128) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

static enum sb_err make_dirs(const char *path, struct sb_errbuf *eb)
{
    char tmp[4096];
    size_t n = strlen(path);

    if (n >= sizeof(tmp)) return sb_fail(eb, SB_ERR_INVAL, "%.60s...: path too long", path);
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0') continue;
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return sb_fail(eb, SB_ERR_IO, "%s: %s", tmp, strerror(errno));
        tmp[i] = path[i];
    }
    return SB_OK;
}

static bool same_content(const char *path, const struct sb_buf *b)
{
    char *old = NULL;
    size_t len = 0;
    bool same;

    if (sb_read_file(path, MAX_EXPORT_FILE, &old, &len, NULL)) return false;
    same = len == b->len && memcmp(old, b->data, len) == 0;
    free(old);
    return same;
}

/* Replaces path with b atomically: a reader sees the old file or the new
 * one, never half of it. */
static enum sb_err write_atomic(const char *path, const struct sb_buf *b, bool *written,
                                struct sb_errbuf *eb)
{
    char tmp[4200];
    int fd;
    size_t off = 0;

    *written = false;
    if (same_content(path, b)) return SB_OK;
    snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) return sb_fail(eb, SB_ERR_IO, "%s: %s", tmp, strerror(errno));
    while (off < b->len) {
        ssize_t w = write(fd, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) goto fail;
        off += (size_t)w;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        fd = -1;
        goto fail;
    }
    *written = true;
    return SB_OK;
fail:
    sb_fail(eb, SB_ERR_IO, "%s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    unlink(tmp);
    return SB_ERR_IO;
}

/* DIR/locale/name from b. */
static enum sb_err put_file(const char *dir, const char *locale, const char *name,
                            const struct sb_buf *b, struct sb_kb_export_stats *st,
                            struct sb_errbuf *eb)
{
    char path[4096];
    bool written;
    enum sb_err rc;
    int n = snprintf(path, sizeof(path), "%s/%s", dir, locale);

    if (n < 0 || (size_t)n >= sizeof(path) - 200)
        return sb_fail(eb, SB_ERR_INVAL, "%.60s...: path too long", dir);
    rc = make_dirs(path, eb);
    if (rc) return rc;
    snprintf(path + n, sizeof(path) - (size_t)n, "/%s", name);
    rc = write_atomic(path, b, &written, eb);
    if (!rc && written) st->written++;
    return rc;
}

/* ---- the export ---- */

static enum sb_err export_articles(struct sb_kb *kb, const char *dir, const char *locale,
                                   const char *status, struct sb_kb_export_stats *st,
                                   struct sb_errbuf *eb)
{
    sqlite3_stmt *s = NULL;
    struct sb_buf b;
    enum sb_err rc = SB_OK;
    int r;

    if (sqlite3_prepare_v2(kb->db,
                           "SELECT slug, locale, group_key, title, summary, body, category, tags,"
                           " examples, status, answer_threshold FROM kb_articles"
                           " WHERE (?1 IS NULL OR locale = ?1) AND (?2 IS NULL OR status = ?2)"
                           " ORDER BY locale, slug",
                           -1, &s, NULL) != SQLITE_OK)
        return sb_fail(eb, SB_ERR_DB, "kb export: %s", sqlite3_errmsg(kb->db));
    sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    sb_buf_init(&b, MAX_EXPORT_FILE);
    while (!rc && (r = sqlite3_step(s)) == SQLITE_ROW) {
        char name[160];
        if (!safe_name(col(s, EX_LOCALE)) || !safe_name(col(s, EX_SLUG))) {
            rc = sb_fail(eb, SB_ERR_INVAL, "kb export: article %.40s/%.40s: not a usable file name",
                         col(s, EX_LOCALE), col(s, EX_SLUG));
            break;
        }
        sb_buf_reset(&b);
        snprintf(name, sizeof(name), "%s.md", col(s, EX_SLUG));
        rc = article_text(s, &b);
        if (rc == SB_ERR_INVAL)
            rc = sb_fail(eb, rc, "kb export: %s/%s: not valid UTF-8", col(s, EX_LOCALE),
                         col(s, EX_SLUG));
        if (!rc) rc = put_file(dir, col(s, EX_LOCALE), name, &b, st, eb);
        if (!rc) st->articles++;
    }
    if (!rc && r != SQLITE_DONE)
        rc = sb_fail(eb, SB_ERR_DB, "kb export: %s", sqlite3_errmsg(kb->db));
    sb_buf_cleanup(&b);
    sqlite3_finalize(s);
    return rc;
}

/* One "slug": {name, description, position} entry. */
static enum sb_err category_text(sqlite3_stmt *s, struct sb_buf *b)
{
    const char *slug = col(s, 1), *name = col(s, 2), *desc = col(s, 3);
    enum sb_err rc = kb_yaml_quote(b, slug, strlen(slug));

    if (!rc) rc = sb_buf_append(b, ":\n  name: ", 10);
    if (!rc) rc = kb_yaml_quote(b, name, strlen(name));
    if (!rc) rc = sb_buf_append(b, "\n  description: ", 16);
    if (!rc) rc = kb_yaml_quote(b, desc, strlen(desc));
    if (!rc) rc = sb_buf_printf(b, "\n  position: %d\n", sqlite3_column_int(s, 4));
    return rc;
}

/* DIR/{locale}/_categories.yaml for each locale with named categories. */
static enum sb_err export_categories(struct sb_kb *kb, const char *dir, const char *locale,
                                     struct sb_kb_export_stats *st, struct sb_errbuf *eb)
{
    sqlite3_stmt *s = NULL;
    struct sb_buf b;
    char cur[64] = "";
    enum sb_err rc = SB_OK;
    int r;

    if (sqlite3_prepare_v2(kb->db,
                           "SELECT locale, slug, name, description, position FROM kb_categories"
                           " WHERE ?1 IS NULL OR locale = ?1 ORDER BY locale, position, slug",
                           -1, &s, NULL) != SQLITE_OK)
        return sb_fail(eb, SB_ERR_DB, "kb export: %s", sqlite3_errmsg(kb->db));
    sqlite3_bind_text(s, 1, locale, -1, SQLITE_STATIC);
    sb_buf_init(&b, MAX_EXPORT_FILE);
    for (;;) {
        r = sqlite3_step(s);
        /* A locale's file is written when the next locale (or the end) comes. */
        if (*cur && (r != SQLITE_ROW || strcmp(cur, col(s, 0)) != 0)) {
            rc = put_file(dir, cur, "_categories.yaml", &b, st, eb);
            if (rc) break;
            st->category_files++;
            cur[0] = '\0';
        }
        if (r != SQLITE_ROW) break;
        if (!*cur) {
            if (!safe_name(col(s, 0)) || strlen(col(s, 0)) >= sizeof(cur)) {
                rc = sb_fail(eb, SB_ERR_INVAL,
                             "kb export: categories of locale %.40s: not a "
                             "usable folder name",
                             col(s, 0));
                break;
            }
            snprintf(cur, sizeof(cur), "%s", col(s, 0));
            sb_buf_reset(&b);
            rc = sb_buf_printf(&b,
                               "# Category names of the %s articles: slug -> name, "
                               "description, position (lowest first).\n",
                               cur);
        }
        if (!rc) rc = category_text(s, &b);
        if (rc) break;
    }
    if (!rc && r != SQLITE_DONE)
        rc = sb_fail(eb, SB_ERR_DB, "kb export: %s", sqlite3_errmsg(kb->db));
    sb_buf_cleanup(&b);
    sqlite3_finalize(s);
    return rc;
}

enum sb_err sb_kb_export_dir(struct sb_kb *kb, const char *dir, const char *locale,
                             const char *status, struct sb_kb_export_stats *out,
                             struct sb_errbuf *eb)
{
    struct sb_kb_export_stats st = {0};
    enum sb_err rc;

    if (status && !kb_valid_status(status))
        return sb_fail(eb, SB_ERR_INVAL, "status: must be draft, published or archived");
    rc = make_dirs(dir, eb);
    /* One read transaction: the files show one moment of the database. */
    if (!rc && sqlite3_exec(kb->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        rc = sb_fail(eb, SB_ERR_DB, "kb export: %s", sqlite3_errmsg(kb->db));
    if (rc) return rc;
    rc = export_articles(kb, dir, locale, status, &st, eb);
    if (!rc) rc = export_categories(kb, dir, locale, &st, eb);
    sqlite3_exec(kb->db, "COMMIT", NULL, NULL, NULL);
    if (!rc && out) *out = st;
    return rc;
}

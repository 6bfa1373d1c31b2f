/*
 * kb_import.c - import a folder of Markdown articles with YAML front
 * matter (parsed by libyaml) into the knowledge base, in one transaction.
 *
 * File shape:   ---\n<YAML mapping>\n---\n<Markdown body>
 * Keys: title, slug, locale, category, tags (list), status, summary,
 * examples (list). Unknown keys are errors so a typo is not silently lost.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "kb_int.h"
#include "sb_util.h"

#define MAX_FILE_BYTES (1 << 20)
#define MAX_DEPTH 8

struct front {
    json_t *obj; /* keys -> string or array of strings */
    const char *body;
};

static json_t *node_json(yaml_document_t *doc, yaml_node_t *node)
{
    if (!node) return NULL;
    if (node->type == YAML_SCALAR_NODE)
        return json_stringn((const char *)node->data.scalar.value, node->data.scalar.length);
    if (node->type == YAML_SEQUENCE_NODE) {
        json_t *arr = json_array();
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++) {
            yaml_node_t *item = yaml_document_get_node(doc, *it);
            if (!item || item->type != YAML_SCALAR_NODE) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, node_json(doc, item));
        }
        return arr;
    }
    return NULL;
}

/* Splits text into front matter and body; the body pointer borrows text. */
static enum sb_err parse_front(const char *path, char *text, struct front *fm, struct sb_errbuf *eb)
{
    static const char *const allowed[] = {"title", "slug",   "locale",  "category",
                                          "tags",  "status", "summary", "examples"};
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;
    char *end;
    size_t ylen;
    enum sb_err rc = SB_OK;

    if (strncmp(text, "---\n", 4) != 0)
        return sb_fail(eb, SB_ERR_INVAL, "%s: must start with a '---' front matter line", path);
    end = strstr(text + 4, "\n---");
    if (!end || (end[4] != '\n' && end[4] != '\0'))
        return sb_fail(eb, SB_ERR_INVAL, "%s: front matter has no closing '---' line", path);
    ylen = (size_t)(end + 1 - (text + 4));
    fm->body = end[4] ? end + 5 : end + 4;

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text + 4, ylen);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = sb_fail(eb, SB_ERR_INVAL, "%s:%zu: YAML: %s", path, parser.problem_mark.line + 2,
                     parser.problem ? parser.problem : "parse error");
        yaml_parser_delete(&parser);
        return rc;
    }
    root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        rc = sb_fail(eb, SB_ERR_INVAL, "%s: front matter must be a mapping", path);
        goto out;
    }
    fm->obj = json_object();
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&doc, p->value);
        const char *key;
        bool known = false;
        json_t *val;

        if (!k || k->type != YAML_SCALAR_NODE) {
            rc = sb_fail(eb, SB_ERR_INVAL, "%s: keys must be plain words", path);
            goto out;
        }
        key = (const char *)k->data.scalar.value;
        for (size_t i = 0; i < SB_ARRAY_LEN(allowed); i++)
            if (strcmp(key, allowed[i]) == 0) known = true;
        if (!known) {
            rc = sb_fail(eb, SB_ERR_INVAL, "%s: unknown key '%s'", path, key);
            goto out;
        }
        val = node_json(&doc, v);
        if (!val) {
            rc = sb_fail(eb, SB_ERR_INVAL, "%s: '%s' must be text or a list of text", path, key);
            goto out;
        }
        json_object_set_new(fm->obj, key, val);
    }
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

static const char *str_of(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static enum sb_err import_file(struct sb_kb *kb, const char *path, int *counts,
                               struct sb_errbuf *eb)
{
    char *text = NULL;
    struct front fm = {0};
    struct sb_kb_article a = {0};
    enum sb_kb_change change;
    enum sb_err rc;
    size_t len;

    rc = sb_read_file(path, MAX_FILE_BYTES, &text, &len, eb);
    if (rc) return rc;
    if (!sb_utf8_valid(text, len)) {
        free(text);
        return sb_fail(eb, SB_ERR_INVAL, "%s: not UTF-8", path);
    }
    rc = parse_front(path, text, &fm, eb);
    if (rc) goto out;
    a.title = str_of(fm.obj, "title");
    a.slug = str_of(fm.obj, "slug");
    a.locale = str_of(fm.obj, "locale");
    a.summary = str_of(fm.obj, "summary");
    a.category = str_of(fm.obj, "category");
    a.status = str_of(fm.obj, "status");
    a.tags = json_object_get(fm.obj, "tags");
    a.examples = json_object_get(fm.obj, "examples");
    a.body = fm.body;
    if (!a.title || !a.slug || !a.locale) {
        rc = sb_fail(eb, SB_ERR_INVAL, "%s: title, slug and locale are required text", path);
        goto out;
    }
    if (a.status && strcmp(a.status, "draft") && strcmp(a.status, "published") &&
        strcmp(a.status, "archived")) {
        rc = sb_fail(eb, SB_ERR_INVAL, "%s: status must be draft, published or archived", path);
        goto out;
    }
    if ((a.tags && !json_is_array(a.tags)) || (a.examples && !json_is_array(a.examples))) {
        rc = sb_fail(eb, SB_ERR_INVAL, "%s: tags and examples must be lists", path);
        goto out;
    }
    rc = sb_kb_upsert(kb, &a, &change, eb);
    if (!rc) counts[change]++;
out:
    json_decref(fm.obj);
    free(text);
    return rc;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static enum sb_err walk(struct sb_kb *kb, const char *dir, int depth, int *counts,
                        struct sb_errbuf *eb)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, name_cmp);
    enum sb_err rc = SB_OK;

    if (n < 0) return sb_fail(eb, SB_ERR_IO, "%s: %s", dir, strerror(errno));
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char path[4096];
        struct stat sb;
        size_t len = strlen(name);

        if (rc || name[0] == '.') continue;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (stat(path, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) {
            if (depth < MAX_DEPTH) rc = walk(kb, path, depth + 1, counts, eb);
        } else if (len > 3 && strcmp(name + len - 3, ".md") == 0 &&
                   strcmp(name, "README.md") != 0) {
            rc = import_file(kb, path, counts, eb);
        }
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

enum sb_err sb_kb_import_dir(struct sb_kb *kb, const char *dir, int *added, int *changed,
                             int *unchanged, struct sb_errbuf *eb)
{
    int counts[3] = {0, 0, 0};
    enum sb_err rc;

    /* One transaction: the server sees all of the import or none of it. */
    if (sqlite3_exec(kb->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sb_fail(eb, SB_ERR_DB, "kb import: %s", sqlite3_errmsg(kb->db));
    rc = walk(kb, dir, 0, counts, eb);
    if (rc) {
        sqlite3_exec(kb->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (sqlite3_exec(kb->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(kb->db, "ROLLBACK", NULL, NULL, NULL);
        return sb_fail(eb, SB_ERR_DB, "kb import: %s", sqlite3_errmsg(kb->db));
    }
    *added = counts[SB_KB_ADDED];
    *changed = counts[SB_KB_CHANGED];
    *unchanged = counts[SB_KB_UNCHANGED];
    return SB_OK;
}

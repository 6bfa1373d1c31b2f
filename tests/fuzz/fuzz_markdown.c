/*
 * fuzz_markdown.c - the article body renderer, sb_kb_render_markdown()
 * (kb/kb_markdown.c), on any bytes up to an article's largest body.
 *
 * Besides crashes it checks what the renderer promises the help center
 * and the editor's preview: the HTML holds only the tags and attributes
 * cmark's safe mode writes, no attribute value breaks out of its quotes,
 * and no link or image URL has a scheme that runs code or reads files
 * (javascript:, vbscript:, file:, data: other than the image types) once
 * a browser has decoded its entities and dropped tabs and newlines. A
 * broken promise aborts, which libFuzzer reports as a crash.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_kb.h"

static const char *const allowed_tags[] = {"p",  "h1",  "h2", "h3",         "h4",   "h5",  "h6",
                                           "a",  "img", "em", "strong",     "code", "pre", "ul",
                                           "ol", "li",  "hr", "blockquote", "br",   "del"};
static const char *const allowed_attrs[] = {"href", "src", "alt", "title", "class", "start"};

static void broken(const char *what, const char *html, size_t at)
{
    fprintf(stderr, "fuzz_markdown: %s at byte %zu of the HTML:\n%.200s\n", what, at, html + at);
    abort();
}

static bool in_list(const char *s, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == n && strncmp(s, list[i], n) == 0) return true;
    return false;
}

/* The URL as a browser reads it from the attribute: entities decoded,
 * tabs and newlines dropped, leading spaces and controls skipped, folded
 * to lower case. Only the first bytes matter for the scheme. */
static void browser_url(const char *v, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n && o + 1 < cap;) {
        unsigned ch = (unsigned char)v[i];
        if (ch == '&') {
            const char *semi = memchr(v + i, ';', n - i);
            size_t elen = semi ? (size_t)(semi - (v + i)) + 1 : 0;
            if (elen > 3 && v[i + 1] == '#') {
                bool hex = v[i + 2] == 'x' || v[i + 2] == 'X';
                ch = (unsigned)strtoul(v + i + 2 + hex, NULL, hex ? 16 : 10);
            } else if (elen == 5 && strncmp(v + i, "&amp;", 5) == 0) {
                ch = '&';
            } else if (elen == 6 && strncmp(v + i, "&quot;", 6) == 0) {
                ch = '"';
            } else if (elen == 4 && strncmp(v + i, "&lt;", 4) == 0) {
                ch = '<';
            } else if (elen == 4 && strncmp(v + i, "&gt;", 4) == 0) {
                ch = '>';
            } else {
                elen = 1;
            }
            i += elen;
        } else {
            i++;
        }
        if (ch == '\t' || ch == '\n' || ch == '\r') continue;
        if (o == 0 && ch <= ' ') continue;
        out[o++] = (char)tolower((int)(ch & 0xFF));
    }
    out[o] = '\0';
}

static void check_url(const char *html, const char *v, size_t n)
{
    static const char *const bad[] = {"javascript:", "vbscript:", "file:", "data:"};
    static const char *const images[] = {"data:image/png", "data:image/gif", "data:image/jpeg",
                                         "data:image/webp"};
    char url[64];

    browser_url(v, n, url, sizeof(url));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (strncmp(url, bad[i], strlen(bad[i])) != 0) continue;
        for (size_t k = 0; k < sizeof(images) / sizeof(images[0]); k++)
            if (strncmp(url, images[k], strlen(images[k])) == 0) return;
        broken("a URL with a dangerous scheme", html, (size_t)(v - html));
    }
}

/* Checks one tag at html[at] ('<'); returns the index after its '>'. */
static size_t check_tag(const char *html, size_t at)
{
    static const char comment[] = "<!-- raw HTML omitted -->";
    const char *s = html + at + 1;
    size_t n;

    if (strncmp(html + at, comment, sizeof(comment) - 1) == 0) return at + sizeof(comment) - 1;
    if (*s == '/') s++;
    n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789");
    if (!in_list(s, n, allowed_tags, sizeof(allowed_tags) / sizeof(allowed_tags[0])))
        broken("a tag cmark does not write", html, at);
    s += n;
    for (;;) {
        const char *name, *value, *q;
        if (*s == '>') return (size_t)(s - html) + 1;
        if (strncmp(s, " />", 3) == 0) return (size_t)(s - html) + 3;
        if (*s != ' ') broken("a tag with an unexpected byte", html, (size_t)(s - html));
        name = ++s;
        n = strspn(s, "abcdefghijklmnopqrstuvwxyz");
        if (!in_list(name, n, allowed_attrs, sizeof(allowed_attrs) / sizeof(allowed_attrs[0])) ||
            s[n] != '=' || s[n + 1] != '"')
            broken("an attribute cmark does not write", html, (size_t)(name - html));
        value = s + n + 2;
        q = strchr(value, '"');
        if (!q) broken("an attribute value without its closing quote", html, (size_t)(s - html));
        if (memchr(value, '<', (size_t)(q - value)) || memchr(value, '>', (size_t)(q - value)))
            broken("an angle bracket inside an attribute value", html, (size_t)(value - html));
        if ((n == 4 && strncmp(name, "href", 4) == 0) || (n == 3 && strncmp(name, "src", 3) == 0))
            check_url(html, value, (size_t)(q - value));
        s = q + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *html;

    if (size > SB_KB_MAX_BODY) return 0;
    html = sb_kb_render_markdown((const char *)data, size);
    if (!html) abort();
    for (size_t i = 0; html[i];) {
        if (html[i] == '<')
            i = check_tag(html, i);
        else
            i++;
    }
    free(html);
    return 0;
}

/*
 * kb_markdown.c - article bodies from Markdown to HTML with cmark, the
 * CommonMark reference implementation. Every page that shows a body (the
 * help center, the editor's preview and article view) gets its HTML from
 * here and nowhere else, so this is the one place that makes a body safe.
 *
 * cmark's default mode is the safe one (since 0.29; CMARK_OPT_SAFE is
 * kept for compatibility and CMARK_OPT_UNSAFE turns it off): raw HTML
 * blocks and inline HTML are replaced by a comment, and links or images
 * whose URL is javascript:, vbscript:, file: or data: (other than
 * data:image/png|gif|jpeg|webp) get an empty URL. The URL is checked
 * after entities and escapes are decoded and without regard to case, and
 * what is left is percent-encoded, so "&#106;avascript:" and
 * "JaVaScRiPt:" are caught and a tab or space inside a scheme cannot
 * make one. Text, code blocks and attribute values are escaped. We never
 * pass CMARK_OPT_UNSAFE; tests/unit/test_kb_editor.c checks the rendered
 * HTML of hostile bodies, not the Markdown.
 */
#include <stdlib.h>
#include <string.h>

#include <cmark.h>

#include "sb_kb.h"

char *sb_kb_render_markdown(const char *md, size_t len)
{
    /* cmark aborts on allocation failure, so NULL only comes from a NULL
     * input; an empty body renders as an empty string. */
    if (!md) return strdup("");
    /* VALIDATE_UTF8: the preview renders text no validation has seen. */
    return cmark_markdown_to_html(
        md, len, CMARK_OPT_DEFAULT | CMARK_OPT_SAFE | CMARK_OPT_SMART | CMARK_OPT_VALIDATE_UTF8);
}

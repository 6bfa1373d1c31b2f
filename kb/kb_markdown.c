/*
 * kb_markdown.c - article bodies from Markdown to HTML with cmark, the
 * CommonMark reference implementation.
 *
 * cmark's default mode is the safe one: raw HTML blocks and inline HTML
 * are replaced by a comment, and links or images whose URL is javascript:,
 * vbscript:, file: or data: (other than a few image types) get an empty
 * URL. We never pass CMARK_OPT_UNSAFE, so no tag an editor types reaches a
 * page; the rest of the HTML is produced by cmark itself and escaped.
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
    return cmark_markdown_to_html(md, len, CMARK_OPT_DEFAULT | CMARK_OPT_SMART);
}

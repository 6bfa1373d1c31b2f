/*
 * test_attachments.c - core/conv/attachments.c: accepted types from
 * Content-Type headers, the signature each file must start with, file names
 * from X-Filename, and storage by content hash (the same bytes twice are
 * one file; the folder holds no temporary files afterwards).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attachments.h"
#include "sb_util.h"

#define LIT(s) (s), sizeof(s) - 1

static void types_come_from_content_type_headers(void **state)
{
    (void)state;
    assert_string_equal(attachment_type("image/png"), "image/png");
    assert_string_equal(attachment_type("IMAGE/JPEG; charset=x"), "image/jpeg");
    assert_string_equal(attachment_type(" application/pdf"), "application/pdf");
    assert_null(attachment_type("image/svg+xml"));
    assert_null(attachment_type("text/html"));
    assert_null(attachment_type("image/pngx"));
    assert_null(attachment_type("image/pn"));
    assert_null(attachment_type(""));
    assert_null(attachment_type(NULL));
}

static void signatures_must_match_the_type(void **state)
{
    (void)state;
    assert_true(attachment_sniff("image/png", LIT("\x89PNG\r\n\x1a\nrest")));
    assert_false(attachment_sniff("image/png", LIT("\x89PNG\r\n")));
    assert_true(attachment_sniff("image/jpeg", LIT("\xff\xd8\xff\xe0")));
    assert_false(attachment_sniff("image/jpeg", LIT("\xff\xd8")));
    assert_true(attachment_sniff("image/gif", LIT("GIF87a...")));
    assert_true(attachment_sniff("image/gif", LIT("GIF89a...")));
    assert_false(attachment_sniff("image/gif", LIT("GIF88a...")));
    assert_true(attachment_sniff("image/webp", LIT("RIFF\x10\0\0\0WEBPVP8 ")));
    assert_false(attachment_sniff("image/webp", LIT("RIFF\x10\0\0\0WAVEfmt ")));
    assert_false(attachment_sniff("image/webp", LIT("RIFF\x10\0\0\0WEB")));
    assert_true(attachment_sniff("application/pdf", LIT("%PDF-1.7")));
    assert_false(attachment_sniff("application/pdf", LIT("%PDF")));
    /* the right bytes under another type are refused too */
    assert_false(attachment_sniff("image/jpeg", LIT("\x89PNG\r\n\x1a\nrest")));
    assert_false(attachment_sniff("text/html", LIT("<html>")));
    assert_false(attachment_sniff("image/png", "", 0));
    assert_true(attachment_inline("image/gif"));
    assert_false(attachment_inline("application/pdf"));
}

static void names_are_decoded_and_checked(void **state)
{
    char out[256], long_name[700];
    (void)state;
    assert_true(attachment_name_decode("A%C3%A7%C3%A3o%201.png", out, sizeof(out)));
    assert_string_equal(out, "A\xC3\xA7\xC3\xA3o 1.png");
    assert_true(attachment_name_decode("..%2F..%2Fetc%2Fpasswd", out, sizeof(out)));
    assert_string_equal(out, "passwd");
    assert_true(attachment_name_decode("C:%5Cme%5C.photo.png", out, sizeof(out)));
    assert_string_equal(out, "photo.png");
    assert_false(attachment_name_decode("a%ZZ", out, sizeof(out)));
    assert_false(attachment_name_decode("a%2", out, sizeof(out)));
    assert_false(attachment_name_decode("%00x", out, sizeof(out)));
    assert_false(attachment_name_decode("a%0Ab", out, sizeof(out)));
    assert_false(attachment_name_decode("%FF%FE", out, sizeof(out)));
    assert_false(attachment_name_decode("dir%2F", out, sizeof(out)));
    assert_false(attachment_name_decode(NULL, out, sizeof(out)));
    memset(long_name, 'n', 201);
    long_name[201] = '\0';
    assert_false(attachment_name_decode(long_name, out, sizeof(out)));
    long_name[200] = '\0';
    assert_true(attachment_name_decode(long_name, out, sizeof(out)));
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void files_are_stored_once_by_content_hash(void **state)
{
    char tmpl[] = "/tmp/sb-att-XXXXXX", sha[65], sha2[65], path[1200], sub[1200], *data = NULL;
    struct sb_errbuf eb = {{0}};
    size_t len = 0;
    (void)state;

    assert_non_null(mkdtemp(tmpl));
    assert_int_equal(attachment_store(tmpl, LIT("%PDF-1.4 hello"), sha, &eb), SB_OK);
    assert_int_equal(strlen(sha), 64);
    attachment_path(tmpl, sha, path, sizeof(path));
    assert_int_equal(sb_read_file(path, 1024, &data, &len, &eb), SB_OK);
    assert_int_equal(len, 14);
    assert_memory_equal(data, "%PDF-1.4 hello", 14);
    free(data);
    assert_int_equal(attachment_store(tmpl, LIT("%PDF-1.4 hello"), sha2, &eb), SB_OK);
    assert_string_equal(sha, sha2);
    snprintf(sub, sizeof(sub), "%s/attachments/%.2s", tmpl, sha);
    assert_int_equal(count_files(sub), 1); /* no temporary file left behind */
    unlink(path);
    rmdir(sub);
    snprintf(sub, sizeof(sub), "%s/attachments", tmpl);
    rmdir(sub);
    rmdir(tmpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(types_come_from_content_type_headers),
        cmocka_unit_test(signatures_must_match_the_type),
        cmocka_unit_test(names_are_decoded_and_checked),
        cmocka_unit_test(files_are_stored_once_by_content_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * attachments.c - the accepted attachment types and their signatures
 * (what a file claims to be must be what its first bytes say), file names
 * from the X-Filename header, and storage by SHA-256 under
 * DATA/attachments/, so the same file sent twice is kept once. Uses POSIX
 * file calls and sb_sha256_hex().
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attachments.h"
#include "sb_config.h"
#include "sb_util.h"

struct kind {
    const char *type;
    const char *magic;
    size_t magic_len;
    bool inline_ok;
};

static const struct kind kinds[] = {
    {"image/png", "\x89PNG\r\n\x1a\n", 8, true},
    {"image/jpeg", "\xff\xd8\xff", 3, true},
    {"image/gif", "GIF8", 4, true},  /* then "7a" or "9a" */
    {"image/webp", "RIFF", 4, true}, /* then a size, then "WEBP" */
    {"application/pdf", "%PDF-", 5, false},
};

static const struct kind *kind_of(const char *type)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(kinds); i++)
        if (strcmp(kinds[i].type, type) == 0) return &kinds[i];
    return NULL;
}

const char *attachment_type(const char *content_type)
{
    size_t n;
    if (!content_type) return NULL;
    while (*content_type == ' ')
        content_type++;
    n = strcspn(content_type, "; \t");
    for (size_t i = 0; i < SB_ARRAY_LEN(kinds); i++)
        if (strlen(kinds[i].type) == n && strncasecmp(kinds[i].type, content_type, n) == 0)
            return kinds[i].type;
    return NULL;
}

bool attachment_sniff(const char *type, const void *data, size_t len)
{
    const struct kind *k = kind_of(type);
    const unsigned char *p = data;

    if (!k || len < k->magic_len || memcmp(p, k->magic, k->magic_len) != 0) return false;
    if (strcmp(type, "image/gif") == 0)
        return len >= 6 && (p[4] == '7' || p[4] == '9') && p[5] == 'a';
    if (strcmp(type, "image/webp") == 0) return len >= 12 && memcmp(p + 8, "WEBP", 4) == 0;
    return true;
}

bool attachment_inline(const char *type)
{
    const struct kind *k = kind_of(type);
    return k && k->inline_ok;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

bool attachment_name_decode(const char *header, char *out, size_t cap)
{
    char buf[ATTACHMENT_NAME_MAX + 1];
    size_t n = 0;
    const char *base;

    if (!header) return false;
    for (const char *p = header; *p; p++) {
        int ch = (unsigned char)*p;
        if (ch == '%') {
            int hi = hexval((unsigned char)p[1]), lo = hi < 0 ? -1 : hexval((unsigned char)p[2]);
            if (hi < 0 || lo < 0) return false;
            ch = hi * 16 + lo;
            p += 2;
        }
        if (ch < 0x20 || ch == 0x7f || n >= ATTACHMENT_NAME_MAX) return false;
        buf[n++] = (char)ch;
    }
    buf[n] = '\0';
    if (!sb_utf8_valid(buf, n)) return false;
    /* "C:\Users\me\photo.png" or "../x.png": keep the last part only. */
    base = buf;
    for (const char *p = buf; *p; p++)
        if (*p == '/' || *p == '\\') base = p + 1;
    while (*base == '.' || *base == ' ')
        base++;
    if (!*base || strlen(base) >= cap) return false;
    snprintf(out, cap, "%s", base);
    return true;
}

void attachment_path(const char *data_dir, const char *sha256, char *out, size_t cap)
{
    snprintf(out, cap, "%s/attachments/%.2s/%s", data_dir, sha256, sha256);
}

static enum sb_err make_dir(const char *path, struct sb_errbuf *eb)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return sb_fail(eb, SB_ERR_IO, "%s: %s", path, strerror(errno));
    return SB_OK;
}

static enum sb_err sync_dir(const char *path, struct sb_errbuf *eb)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    enum sb_err rc = SB_OK;
    if (fd < 0) return sb_fail(eb, SB_ERR_IO, "%s: %s", path, strerror(errno));
    if (fsync(fd) != 0) rc = sb_fail(eb, SB_ERR_IO, "fsync %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

static enum sb_err write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return SB_ERR_IO;
        data += n;
        len -= (size_t)n;
    }
    return SB_OK;
}

enum sb_err attachment_store(const char *data_dir, const void *data, size_t len, char sha256[65],
                             struct sb_errbuf *eb)
{
    char dir[SB_PATH_MAX + 32], sub[SB_PATH_MAX + 40], path[SB_PATH_MAX + 120],
        tmp[SB_PATH_MAX + 160], rnd[17];
    struct stat sb;
    enum sb_err rc;
    int fd;

    sb_sha256_hex(data, len, sha256);
    snprintf(dir, sizeof(dir), "%s/attachments", data_dir);
    snprintf(sub, sizeof(sub), "%s/%.2s", dir, sha256);
    attachment_path(data_dir, sha256, path, sizeof(path));
    if (stat(path, &sb) == 0 && (size_t)sb.st_size == len) return SB_OK; /* already kept */
    rc = make_dir(dir, eb);
    if (!rc) rc = make_dir(sub, eb);
    if (!rc) rc = sb_random_hex(rnd, 8);
    if (rc) return rc;
    snprintf(tmp, sizeof(tmp), "%s.%s.tmp", path, rnd);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return sb_fail(eb, SB_ERR_IO, "%s: %s", tmp, strerror(errno));
    rc = write_all(fd, data, len);
    if (!rc && fsync(fd) != 0) rc = SB_ERR_IO;
    if (close(fd) != 0 && !rc) rc = SB_ERR_IO;
    if (!rc && rename(tmp, path) != 0) rc = SB_ERR_IO;
    if (rc) {
        int err = errno;
        unlink(tmp);
        return sb_fail(eb, rc, "%s: %s", path, strerror(err));
    }
    /* The new name must survive a crash as well as the bytes. */
    return sync_dir(sub, eb);
}

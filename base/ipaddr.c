/*
 * ipaddr.c - addresses and network lists (see ipaddr.h). Uses inet_pton
 * and inet_ntop only; nothing here allocates.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void set_v6(struct ipaddr *out, const uint8_t b[16])
{
    memset(out, 0, sizeof(*out));
    if (memcmp(b, v4_mapped, sizeof(v4_mapped)) == 0) {
        out->family = AF_INET;
        memcpy(out->b, b + 12, 4);
    } else {
        out->family = AF_INET6;
        memcpy(out->b, b, 16);
    }
}

bool ipaddr_parse(const char *text, size_t len, struct ipaddr *out)
{
    char buf[IPADDR_TEXT_MAX];
    uint8_t b[16];

    while (len && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof(buf)) return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, b) == 1) {
        memset(out, 0, sizeof(*out));
        out->family = AF_INET;
        memcpy(out->b, b, 4);
        return true;
    }
    if (inet_pton(AF_INET6, buf, b) == 1) {
        set_v6(out, b);
        return true;
    }
    return false;
}

bool ipaddr_from_sockaddr(const struct sockaddr *sa, struct ipaddr *out)
{
    memset(out, 0, sizeof(*out));
    if (!sa) return false;
    if (sa->sa_family == AF_INET) {
        out->family = AF_INET;
        memcpy(out->b, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        set_v6(out, ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
        return true;
    }
    return false;
}

void ipaddr_format(const struct ipaddr *a, char out[IPADDR_TEXT_MAX])
{
    if (a->family == 0 || !inet_ntop(a->family, a->b, out, IPADDR_TEXT_MAX))
        snprintf(out, IPADDR_TEXT_MAX, "unknown");
}

bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

bool ipaddr_is_loopback(const struct ipaddr *a)
{
    static const uint8_t v6_loopback[16] = {[15] = 1};
    if (a->family == AF_INET) return a->b[0] == 127;
    return a->family == AF_INET6 && memcmp(a->b, v6_loopback, 16) == 0;
}

/* The first bits of a and b agree. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

static enum sb_err parse_net(const char *text, size_t len, struct ipnet *out, struct sb_errbuf *eb)
{
    const char *slash = memchr(text, '/', len);
    size_t alen = slash ? (size_t)(slash - text) : len;
    int max;

    if (!ipaddr_parse(text, alen, &out->addr))
        return sb_fail(eb, SB_ERR_INVAL, "'%.*s' is not an IP address or network", (int)len, text);
    max = out->addr.family == AF_INET ? 32 : 128;
    out->bits = max;
    if (slash) {
        char digits[8];
        char *end;
        long bits;
        size_t dlen = len - alen - 1;
        if (dlen == 0 || dlen >= sizeof(digits))
            return sb_fail(eb, SB_ERR_INVAL, "'%.*s': bad prefix length", (int)len, text);
        memcpy(digits, slash + 1, dlen);
        digits[dlen] = '\0';
        bits = strtol(digits, &end, 10);
        if (*end || bits < 0 || bits > max)
            return sb_fail(eb, SB_ERR_INVAL, "'%.*s': prefix length must be 0..%d", (int)len, text,
                           max);
        out->bits = (int)bits;
    }
    return SB_OK;
}

enum sb_err ipnet_list_parse(const char *text, struct ipnet_list *out, struct sb_errbuf *eb)
{
    const char *p = text;

    out->n = 0;
    for (;;) {
        size_t len;
        enum sb_err rc;
        p += strspn(p, ", \t");
        if (!*p) return SB_OK;
        len = strcspn(p, ", \t");
        if (out->n == IPNET_LIST_MAX)
            return sb_fail(eb, SB_ERR_LIMIT, "more than %d networks", IPNET_LIST_MAX);
        rc = parse_net(p, len, &out->net[out->n], eb);
        if (rc) return rc;
        out->n++;
        p += len;
    }
}

bool ipnet_list_contains(const struct ipnet_list *l, const struct ipaddr *a)
{
    for (int i = 0; i < l->n; i++) {
        const struct ipnet *net = &l->net[i];
        if (net->addr.family == a->family && prefix_equal(net->addr.b, a->b, net->bits))
            return true;
    }
    return false;
}

/* One X-Forwarded-For entry: an address, tolerating a port some proxies
 * add ("192.0.2.1:4711", "[2001:db8::1]:4711"). */
static bool parse_entry(const char *text, size_t len, struct ipaddr *out)
{
    while (len && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    if (len && *text == '[') {
        const char *close = memchr(text, ']', len);
        return close && ipaddr_parse(text + 1, (size_t)(close - text - 1), out);
    }
    if (ipaddr_parse(text, len, out)) return true;
    const char *colon = memchr(text, ':', len);
    return colon && !memchr(colon + 1, ':', len - (size_t)(colon - text) - 1) &&
           ipaddr_parse(text, (size_t)(colon - text), out);
}

/* Right to left is the order in which the proxies wrote the entries: each
 * trusted proxy vouches for the entry to its left, and nobody for what
 * stands left of the first untrusted one. */
void ipaddr_forwarded_client(const char *const *lines, int nlines, const struct ipnet_list *trusted,
                             struct ipaddr *client)
{
    for (int i = nlines - 1; i >= 0; i--) {
        const char *line = lines[i];
        size_t end = strlen(line);
        for (;;) {
            size_t start = end;
            struct ipaddr hop;
            while (start && line[start - 1] != ',')
                start--;
            if (!parse_entry(line + start, end - start, &hop)) {
                if (start < end && strspn(line + start, " \t") < end - start) return;
            } else {
                *client = hop;
                if (!ipnet_list_contains(trusted, &hop)) return;
            }
            if (start == 0) break;
            end = start - 1;
        }
    }
}

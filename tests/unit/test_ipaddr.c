/*
 * test_ipaddr.c - base/ipaddr.c: addresses parse and print canonically
 * (IPv4-mapped IPv6 becomes IPv4), networks match by prefix, bad lists are
 * refused, and the client behind proxies is the right-most
 * X-Forwarded-For entry that is not a trusted proxy (issue 14: the
 * left-most, which the client writes, was taken).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ipaddr.h"

static struct ipaddr addr(const char *text)
{
    struct ipaddr a;
    assert_true(ipaddr_parse(text, strlen(text), &a));
    return a;
}

static void assert_text(const struct ipaddr *a, const char *want)
{
    char out[IPADDR_TEXT_MAX];
    ipaddr_format(a, out);
    assert_string_equal(out, want);
}

static struct ipnet_list list(const char *text)
{
    struct ipnet_list l;
    struct sb_errbuf eb = {{0}};
    assert_int_equal(ipnet_list_parse(text, &l, &eb), SB_OK);
    return l;
}

static void test_parse_and_format(void **state)
{
    struct ipaddr a;
    (void)state;
    a = addr(" 192.0.2.1\t");
    assert_text(&a, "192.0.2.1");
    a = addr("2001:DB8::1");
    assert_text(&a, "2001:db8::1");
    a = addr("::ffff:198.51.100.7");
    assert_int_equal(a.family, AF_INET);
    assert_text(&a, "198.51.100.7");
    for (const char *const *bad = (const char *const[]){"", " ", "1.2.3", "1.2.3.4.5", "300.1.1.1",
                                                        "example.com", "1.2.3.4:80", "[::1]", NULL};
         *bad; bad++)
        assert_false(ipaddr_parse(*bad, strlen(*bad), &a));
    memset(&a, 0, sizeof(a));
    assert_text(&a, "unknown");
}

static void test_loopback(void **state)
{
    (void)state;
    assert_true(ipaddr_is_loopback(&(struct ipaddr){0}) == false);
    struct ipaddr a = addr("127.8.9.10");
    assert_true(ipaddr_is_loopback(&a));
    a = addr("::1");
    assert_true(ipaddr_is_loopback(&a));
    a = addr("::ffff:127.0.0.1");
    assert_true(ipaddr_is_loopback(&a));
    a = addr("10.0.0.1");
    assert_false(ipaddr_is_loopback(&a));
    a = addr("::2");
    assert_false(ipaddr_is_loopback(&a));
}

static void test_networks_match_by_prefix(void **state)
{
    struct ipnet_list l = list("10.0.0.0/8, 192.0.2.1 2001:db8:a::/48,172.16.0.0/12");
    (void)state;
    assert_int_equal(l.n, 4);
    struct ipaddr a = addr("10.255.1.2");
    assert_true(ipnet_list_contains(&l, &a));
    a = addr("11.0.0.1");
    assert_false(ipnet_list_contains(&l, &a));
    a = addr("192.0.2.1");
    assert_true(ipnet_list_contains(&l, &a));
    a = addr("192.0.2.2");
    assert_false(ipnet_list_contains(&l, &a));
    a = addr("172.31.255.255");
    assert_true(ipnet_list_contains(&l, &a));
    a = addr("172.32.0.0");
    assert_false(ipnet_list_contains(&l, &a));
    a = addr("2001:db8:a:ffff::1");
    assert_true(ipnet_list_contains(&l, &a));
    a = addr("2001:db8:b::1");
    assert_false(ipnet_list_contains(&l, &a));
    /* families never mix: ::a00:1 is not 10.0.0.1 */
    a = addr("::a00:1");
    assert_false(ipnet_list_contains(&l, &a));
    /* /0 takes a whole family */
    l = list("0.0.0.0/0");
    a = addr("203.0.113.9");
    assert_true(ipnet_list_contains(&l, &a));
    a = addr("::1");
    assert_false(ipnet_list_contains(&l, &a));
    l = list("");
    assert_int_equal(l.n, 0);
}

static void test_bad_lists_refused(void **state)
{
    struct ipnet_list l;
    (void)state;
    for (const char *const *bad =
             (const char *const[]){"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1",
                                   "10.0.0.0/8x", "localhost", "1.2.3.4/8/8", NULL};
         *bad; bad++) {
        struct sb_errbuf eb = {{0}};
        assert_int_equal(ipnet_list_parse(*bad, &l, &eb), SB_ERR_INVAL);
        assert_true(eb.msg[0] != '\0');
    }
    char many[33 * 12 + 1] = "";
    for (int i = 0; i < 33; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "10.0.0.%d,", i);
    struct sb_errbuf eb = {{0}};
    assert_int_equal(ipnet_list_parse(many, &l, &eb), SB_ERR_LIMIT);
}

/* The client for these X-Forwarded-For lines from trusted peer 127.0.0.1
 * with trusted proxies 127.0.0.0/8 and 10.0.0.0/8. */
static void assert_client(const char *const *lines, int n, const char *want)
{
    struct ipnet_list trusted = list("127.0.0.0/8, 10.0.0.0/8");
    struct ipaddr client = addr("127.0.0.1");
    ipaddr_forwarded_client(lines, n, &trusted, &client);
    assert_text(&client, want);
}

static void test_forwarded_client_is_rightmost_untrusted(void **state)
{
    (void)state;
    /* the attack: the client writes anything to the left */
    assert_client((const char *[]){"6.6.6.6, 198.51.100.7"}, 1, "198.51.100.7");
    assert_client((const char *[]){"198.51.100.7"}, 1, "198.51.100.7");
    /* a chain of trusted proxies is walked through */
    assert_client((const char *[]){"6.6.6.6, 198.51.100.7, 10.1.1.1, 127.0.0.5"}, 1,
                  "198.51.100.7");
    /* several header lines are one list, in order */
    assert_client((const char *[]){"6.6.6.6", "198.51.100.8", "10.2.2.2"}, 3, "198.51.100.8");
    /* ports and brackets, IPv6, odd blanks and empty entries */
    assert_client((const char *[]){"6.6.6.6,198.51.100.9:4711"}, 1, "198.51.100.9");
    assert_client((const char *[]){"[2001:db8::7]:443 , "}, 1, "2001:db8::7");
    assert_client((const char *[]){"\t2001:db8::8\t,,10.0.0.1"}, 1, "2001:db8::8");
    /* every hop trusted: the left-most */
    assert_client((const char *[]){"10.9.9.9, 127.0.0.2"}, 1, "10.9.9.9");
    /* garbage stops the walk at the last hop we could vouch for */
    assert_client((const char *[]){"198.51.100.7, unknown"}, 1, "127.0.0.1");
    assert_client((const char *[]){"198.51.100.7, garbage, 10.3.3.3"}, 1, "10.3.3.3");
    /* no header: the peer */
    assert_client(NULL, 0, "127.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_networks_match_by_prefix),
        cmocka_unit_test(test_bad_lists_refused),
        cmocka_unit_test(test_forwarded_client_is_rightmost_untrusted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

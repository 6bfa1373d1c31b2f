/*
 * test_crypto.c - sb.crypto against published vectors (RFC 4231, RFC 2202,
 * FIPS 180-2), its refusals of bad hex and base64, byte safety, and the
 * budget: C work on big strings is charged, so a hashing loop ends.
 * Runs chunks in a bare sandbox state with sb.crypto only, plus one real
 * plugin to show lua_api_install() installs it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>

#include "plugin_env.h"

struct box {
    struct lua_budget budget;
    lua_State *L;
};

static void box_open(struct box *b, uint64_t instr_limit)
{
    memset(b, 0, sizeof(*b));
    b->budget.mem_limit = 64 * 1024 * 1024;
    b->budget.instr_limit = instr_limit;
    /* The deadline is far: a test of the budget must not pass by the clock. */
    b->budget.deadline_ms = 60000;
    b->L = sandbox_new(&b->budget);
    assert_non_null(b->L);
    lua_newtable(b->L);
    lua_crypto_open(b->L);
    lua_setglobal(b->L, "sb");
    sandbox_lock_globals(b->L);
}

static void box_close(struct box *b)
{
    lua_close(b->L);
}

/* Runs chunk (which returns one value) and returns rc; the value is left
 * on the stack on success. */
static enum sb_err run(struct box *b, const char *chunk, struct sb_errbuf *eb)
{
    if (luaL_loadbufferx(b->L, chunk, strlen(chunk), "=test", "t") != LUA_OK)
        fail_msg("chunk does not compile: %s", lua_tostring(b->L, -1));
    return sandbox_call(b->L, 0, 1, eb);
}

/* The chunk's string result, copied into out. */
static const char *eval(struct box *b, const char *chunk, char *out, size_t cap)
{
    struct sb_errbuf eb = {{0}};
    if (run(b, chunk, &eb)) fail_msg("%s: %s", chunk, eb.msg);
    snprintf(out, cap, "%s", lua_isnil(b->L, -1) ? "nil" : luaL_tolstring(b->L, -1, NULL));
    lua_settop(b->L, 0);
    return out;
}

#define EVAL(b, chunk) eval(b, chunk, buf, sizeof(buf))

static void test_known_vectors(void **state)
{
    struct box b;
    char buf[256];
    (void)state;
    box_open(&b, 1000000);
    /* RFC 4231, test case 2 */
    assert_string_equal(
        EVAL(&b, "return sb.crypto.hex(sb.crypto.hmac_sha256('Jefe', 'what do ya want for "
                 "nothing?'))"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 2202, HMAC-SHA1 test case 2 */
    assert_string_equal(
        EVAL(&b,
             "return sb.crypto.hex(sb.crypto.hmac_sha1('Jefe', 'what do ya want for nothing?'))"),
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    /* FIPS 180-2, "abc" */
    assert_string_equal(EVAL(&b, "return sb.crypto.hex(sb.crypto.sha256('abc'))"),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* raw bytes: 32 of them, not hex */
    assert_string_equal(EVAL(&b, "return #sb.crypto.sha256('')"), "32");
    assert_string_equal(EVAL(&b, "return #sb.crypto.hmac_sha1('k', 'd')"), "20");
    /* RFC 4648 section 10 */
    assert_string_equal(EVAL(&b, "return sb.crypto.base64('foobar')"), "Zm9vYmFy");
    assert_string_equal(EVAL(&b, "return sb.crypto.base64('fooba')"), "Zm9vYmE=");
    assert_string_equal(EVAL(&b, "return sb.crypto.base64('foob')"), "Zm9vYg==");
    assert_string_equal(EVAL(&b, "return sb.crypto.base64('')"), "");
    box_close(&b);
}

static void test_bytes_round_trip_with_nuls_and_high_bytes(void **state)
{
    struct box b;
    char buf[256];
    (void)state;
    box_open(&b, 1000000);
    assert_string_equal(EVAL(&b, "return sb.crypto.hex('\\0\\1\\255a')"), "0001ff61");
    assert_string_equal(EVAL(&b, "local s = '\\0x\\0\\255\\128' .. string.rep('z', 100) "
                                 "return sb.crypto.unhex(sb.crypto.hex(s)) == s "
                                 "and sb.crypto.unbase64(sb.crypto.base64(s)) == s "
                                 "and sb.crypto.unbase64(sb.crypto.base64(s:sub(1, 101))) == "
                                 "s:sub(1, 101)"),
                        "true");
    assert_string_equal(EVAL(&b, "return sb.crypto.unhex('00FFaB') == '\\0\\255\\171'"), "true");
    assert_string_equal(EVAL(&b, "return sb.crypto.hex(sb.crypto.unhex('00FFaB'))"), "00ffab");
    /* a NUL inside the key changes the MAC: the length is the string's */
    assert_string_equal(EVAL(&b, "return sb.crypto.hmac_sha256('a\\0b', 'x') ~= "
                                 "sb.crypto.hmac_sha256('a', 'x')"),
                        "true");
    /* unpadded base64 decodes too */
    assert_string_equal(EVAL(&b, "return sb.crypto.unbase64('Zm9vYg')"), "foob");
    box_close(&b);
}

static void test_bad_hex_and_base64_give_nil(void **state)
{
    static const char *const bad[] = {
        "return sb.crypto.unhex('abc')",           /* odd length */
        "return sb.crypto.unhex('zz')",            /* not hex */
        "return sb.crypto.unhex('0g')",            /* not hex */
        "return sb.crypto.unbase64('Zm9v!')",      /* not the alphabet */
        "return sb.crypto.unbase64('Zm9 v')",      /* whitespace */
        "return sb.crypto.unbase64('Z')",          /* a lone sixth of a byte */
        "return sb.crypto.unbase64('Zm=v')",       /* padding inside */
        "return sb.crypto.unbase64('Zm9vY===')",   /* three pads */
        "return sb.crypto.unbase64('Zm9vYg=')",    /* half padded */
        "return sb.crypto.unbase64('Zm9vYh==')",   /* stray bits in the last char */
        "return sb.crypto.unbase64('Zm9vYmFy-_')", /* URL alphabet is not this one */
    };
    struct box b;
    char buf[256];
    (void)state;
    box_open(&b, 1000000);
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        EVAL(&b, bad[i]);
        if (strcmp(buf, "nil") != 0) fail_msg("%s gave '%s', not nil", bad[i], buf);
    }
    box_close(&b);
}

static void test_equal_is_false_for_different_lengths_and_contents(void **state)
{
    struct box b;
    char buf[256];
    (void)state;
    box_open(&b, 1000000);
    assert_string_equal(EVAL(&b, "return sb.crypto.equal('abc', 'abc')"), "true");
    assert_string_equal(EVAL(&b, "return sb.crypto.equal('', '')"), "true");
    assert_string_equal(EVAL(&b, "return sb.crypto.equal('abc', 'abd')"), "false");
    assert_string_equal(EVAL(&b, "return sb.crypto.equal('abc', 'abcd')"), "false");
    assert_string_equal(EVAL(&b, "return sb.crypto.equal('abcd', 'abc')"), "false");
    assert_string_equal(EVAL(&b, "return sb.crypto.equal('', 'a')"), "false");
    assert_string_equal(EVAL(&b, "return sb.crypto.equal('a\\0b', 'a\\0c')"), "false");
    box_close(&b);
}

static void test_random_gives_n_bytes_and_refuses_too_many(void **state)
{
    struct box b;
    char buf[256];
    struct sb_errbuf eb = {{0}};
    (void)state;
    box_open(&b, 1000000);
    assert_string_equal(EVAL(&b, "return #sb.crypto.random(32)"), "32");
    assert_string_equal(EVAL(&b, "return #sb.crypto.random(0)"), "0");
    assert_string_equal(EVAL(&b, "return #sb.crypto.random(1024)"), "1024");
    /* 16 random bytes twice are equal with probability 2^-128 */
    assert_string_equal(EVAL(&b, "return sb.crypto.random(16) ~= sb.crypto.random(16)"), "true");
    assert_int_equal(run(&b, "return sb.crypto.random(1025)", &eb), SB_ERR_LUA);
    assert_non_null(strstr(eb.msg, "1024"));
    assert_int_equal(run(&b, "return sb.crypto.random(-1)", &eb), SB_ERR_LUA);
    box_close(&b);
}

/* 200 hashes of 1 MiB are 800 VM instructions: without charging the bytes
 * the loop never meets the 1M-instruction budget (and the deadline is a
 * minute away). Charged at 1 per 64 bytes it is 3.2M: stopped. */
static void test_budget_stops_a_hashing_loop(void **state)
{
    static const char *const loops[] = {
        "local s = string.rep('x', 1 << 20) for i = 1, 200 do sb.crypto.sha256(s) end return 1",
        "local s = string.rep('x', 1 << 20) for i = 1, 200 do sb.crypto.hmac_sha256('k', s) end "
        "return 1",
        "local s = string.rep('x', 1 << 20) for i = 1, 200 do sb.crypto.equal(s, s) end return 1",
        "local s = string.rep('x', 1 << 20) for i = 1, 200 do pcall(sb.crypto.base64, s) end "
        "return 1",
    };
    (void)state;
    for (size_t i = 0; i < SB_ARRAY_LEN(loops); i++) {
        struct box b;
        struct sb_errbuf eb = {{0}};
        box_open(&b, 1000000);
        if (run(&b, loops[i], &eb) != SB_ERR_TIMEOUT)
            fail_msg("not stopped: %s (%s)", loops[i], eb.msg);
        box_close(&b);
    }
    /* and the same loop, 10 times, fits */
    {
        struct box b;
        char buf[256];
        box_open(&b, 1000000);
        assert_string_equal(EVAL(&b, "local s = string.rep('x', 1 << 20) for i = 1, 10 do "
                                     "sb.crypto.sha256(s) end return 1"),
                            "1");
        box_close(&b);
    }
}

static void test_installed_in_every_plugin(void **state)
{
    struct plugin_env e;
    struct sb_errbuf eb = {{0}};
    struct sb_turn t;
    char path[128];
    FILE *f;
    (void)state;

    assert_int_equal(plugin_env_open(&e, "en"), 0);
    snprintf(path, sizeof(path), "%s/sig.lua", e.dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("sb.intent{ name = 'sig', handler = function(ctx)\n"
          "  ctx:reply(sb.crypto.hex(sb.crypto.sha256(ctx.text)))\n"
          "end }\n",
          f);
    fclose(f);
    if (sb_host_load_file(e.host, path, &eb)) fail_msg("%s", eb.msg);
    unlink(path);
    plugin_env_turn(&e, &t, "abc", NULL);
    assert_string_equal(first_reply(&t),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sb_turn_cleanup(&t);
    plugin_env_close(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_vectors),
        cmocka_unit_test(test_bytes_round_trip_with_nuls_and_high_bytes),
        cmocka_unit_test(test_bad_hex_and_base64_give_nil),
        cmocka_unit_test(test_equal_is_false_for_different_lengths_and_contents),
        cmocka_unit_test(test_random_gives_n_bytes_and_refuses_too_many),
        cmocka_unit_test(test_budget_stops_a_hashing_loop),
        cmocka_unit_test(test_installed_in_every_plugin),
    };
    sb_log_set_level(SB_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_config.c - base/config.c: built-in defaults, sb_config_set (numbers,
 * ranges, whole numbers, string lengths), JSON config files (good keys,
 * unknown keys, wrong types, malformed JSON) and SWITCHBOARD_* environment
 * overrides, and the "channels" object of objects.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_config.h"

/* Doubles compared as doubles (cmocka's float assertion narrows to float). */
#define ASSERT_NEAR(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-12)

static const char *const env_names[] = {
    "SWITCHBOARD_BIND",
    "SWITCHBOARD_PORT",
    "SWITCHBOARD_DATA",
    "SWITCHBOARD_PLUGINS",
    "SWITCHBOARD_PUBLIC_URL",
    "SWITCHBOARD_MAX_BODY",
    "SWITCHBOARD_MAX_TEXT",
    "SWITCHBOARD_LUA_MEMORY",
    "SWITCHBOARD_LUA_INSTRUCTIONS",
    "SWITCHBOARD_LUA_DEADLINE_MS",
    "SWITCHBOARD_KB_ANSWER_THRESHOLD",
    "SWITCHBOARD_SSE_KEEPALIVE_S",
    "SWITCHBOARD_HTTP_TIMEOUT_S",
    "SWITCHBOARD_SHUTDOWN_GRACE_S",
    "SWITCHBOARD_SYNCHRONOUS",
    "SWITCHBOARD_DEFAULT_LOCALE",
    "SWITCHBOARD_CHANNELS",
};

static void clear_env(void)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(env_names); i++)
        unsetenv(env_names[i]);
}

struct tmp {
    char dir[64];
    char path[128];
};

static int setup_tmp(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));
    if (!t) return -1;
    snprintf(t->dir, sizeof(t->dir), "/tmp/sb-config-test-XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    snprintf(t->path, sizeof(t->path), "%s/config.json", t->dir);
    clear_env();
    *state = t;
    return 0;
}

static int teardown_tmp(void **state)
{
    struct tmp *t = *state;
    unlink(t->path);
    rmdir(t->dir);
    free(t);
    clear_env();
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* ---- defaults ---- */

static void defaults_are_documented_values(void **state)
{
    struct sb_config c;
    (void)state;

    memset(&c, 0xAB, sizeof(c));
    sb_config_defaults(&c);
    assert_string_equal(c.bind, "127.0.0.1");
    assert_int_equal(c.port, 8080);
    assert_string_equal(c.data_dir, "data");
    assert_string_equal(c.plugins_dir, "plugins");
    assert_string_equal(c.public_url, "");
    assert_int_equal(c.max_body, 64 * 1024);
    assert_int_equal(c.max_text, 8000);
    assert_int_equal(c.lua_memory, 32 * 1024 * 1024);
    assert_int_equal(c.lua_instructions, 10 * 1000 * 1000);
    assert_int_equal(c.lua_deadline_ms, 200);
    ASSERT_NEAR(c.kb_answer_threshold, 0.5);
    assert_int_equal(c.sse_keepalive_s, 15);
    assert_int_equal(c.http_timeout_s, 30);
    assert_int_equal(c.shutdown_grace_s, 10);
    assert_string_equal(c.synchronous, "NORMAL");
    assert_string_equal(c.default_locale, "en");
}

/* ---- sb_config_set ---- */

static void set_accepts_numbers_in_range(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    (void)state;

    sb_config_defaults(&c);
    assert_int_equal(sb_config_set(&c, "port", "0", &eb), SB_OK);
    assert_int_equal(c.port, 0);
    assert_int_equal(sb_config_set(&c, "port", "65535", &eb), SB_OK);
    assert_int_equal(c.port, 65535);
    assert_int_equal(sb_config_set(&c, "port", "9000.0", &eb), SB_OK);
    assert_int_equal(c.port, 9000);
    assert_int_equal(sb_config_set(&c, "max_body", "1048576", &eb), SB_OK);
    assert_int_equal(c.max_body, 1048576);
    assert_int_equal(sb_config_set(&c, "lua_instructions", "1e12", &eb), SB_OK);
    assert_true(c.lua_instructions == 1000000000000ull);
    assert_int_equal(sb_config_set(&c, "kb_answer_threshold", "0.75", &eb), SB_OK);
    ASSERT_NEAR(c.kb_answer_threshold, 0.75);
    assert_int_equal(sb_config_set(&c, "kb_answer_threshold", "0", &eb), SB_OK);
    assert_int_equal(sb_config_set(&c, "kb_answer_threshold", "1", &eb), SB_OK);
    ASSERT_NEAR(c.kb_answer_threshold, 1.0);
    assert_int_equal(sb_config_set(&c, "shutdown_grace_s", "0", &eb), SB_OK);
    assert_int_equal(c.shutdown_grace_s, 0);
}

static void set_rejects_numbers_out_of_range_and_keeps_old_value(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    (void)state;

    sb_config_defaults(&c);
    assert_int_equal(sb_config_set(&c, "port", "65536", &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "port"));
    assert_int_equal(sb_config_set(&c, "port", "-1", &eb), SB_ERR_INVAL);
    assert_int_equal(c.port, 8080);
    assert_int_equal(sb_config_set(&c, "max_body", "1023", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "max_text", "15", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "lua_deadline_ms", "0", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "lua_deadline_ms", "60001", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "lua_instructions", "999", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "kb_answer_threshold", "1.01", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "kb_answer_threshold", "-0.1", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "port", "1e300", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "port", "inf", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "port", "nan", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "kb_answer_threshold", "nan", &eb), SB_ERR_INVAL);
    assert_int_equal(c.max_body, 64 * 1024);
    assert_int_equal(c.max_text, 8000);
    assert_int_equal(c.lua_deadline_ms, 200);
    ASSERT_NEAR(c.kb_answer_threshold, 0.5);
    assert_int_equal(c.port, 8080);
}

static void set_rejects_text_that_is_not_a_number(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    (void)state;

    sb_config_defaults(&c);
    assert_int_equal(sb_config_set(&c, "port", "12abc", &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "not a number"));
    assert_int_equal(sb_config_set(&c, "port", "", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "port", "abc", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "port", "80 ", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "port", "8o8o", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "kb_answer_threshold", "0.5x", &eb), SB_ERR_INVAL);
    assert_int_equal(c.port, 8080);
}

static void set_requires_whole_numbers_for_integer_keys(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    (void)state;

    sb_config_defaults(&c);
    assert_int_equal(sb_config_set(&c, "port", "80.5", &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "whole number"));
    assert_int_equal(sb_config_set(&c, "max_body", "2048.25", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "lua_instructions", "1000.5", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "sse_keepalive_s", "1.000001", &eb), SB_ERR_INVAL);
    assert_int_equal(c.port, 8080);
    assert_int_equal(c.max_body, 64 * 1024);
    assert_int_equal(c.sse_keepalive_s, 15);
    /* Fractions are fine for the one double key. */
    assert_int_equal(sb_config_set(&c, "kb_answer_threshold", "0.333", &eb), SB_OK);
}

static void set_accepts_strings_that_fit_and_rejects_too_long(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    char s[128];
    (void)state;

    sb_config_defaults(&c);
    memset(s, 'b', sizeof(s));
    s[sizeof(c.bind) - 1] = '\0'; /* exactly fills bind[] with its NUL */
    assert_int_equal(sb_config_set(&c, "bind", s, &eb), SB_OK);
    assert_string_equal(c.bind, s);
    s[sizeof(c.bind) - 1] = 'b';
    s[sizeof(c.bind)] = '\0'; /* one byte too many */
    assert_int_equal(sb_config_set(&c, "bind", s, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "too long"));
    assert_int_equal(strlen(c.bind), sizeof(c.bind) - 1);
    assert_int_equal(sb_config_set(&c, "synchronous", "FULL", &eb), SB_OK);
    assert_string_equal(c.synchronous, "FULL");
    assert_int_equal(sb_config_set(&c, "synchronous", "NORMALLY", &eb), SB_ERR_INVAL);
    assert_string_equal(c.synchronous, "FULL");
    assert_int_equal(sb_config_set(&c, "data", "/var/lib/switchboard", &eb), SB_OK);
    assert_string_equal(c.data_dir, "/var/lib/switchboard");
    assert_int_equal(sb_config_set(&c, "default_locale", "pt-BR", &eb), SB_OK);
    assert_string_equal(c.default_locale, "pt-BR");
}

static void set_rejects_unknown_key(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    (void)state;

    sb_config_defaults(&c);
    assert_int_equal(sb_config_set(&c, "prot", "80", &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "prot"));
    assert_int_equal(sb_config_set(&c, "data_dir", "x", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "", "x", &eb), SB_ERR_INVAL);
}

/* ---- sb_config_load_file ---- */

static void load_file_overlays_good_keys(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};

    write_file(t->path, "{\n"
                        "  \"bind\": \"0.0.0.0\",\n"
                        "  \"port\": 9090,\n"
                        "  \"data\": \"/srv/sb\",\n"
                        "  \"max_text\": 4000.0,\n"
                        "  \"lua_instructions\": 2000000,\n"
                        "  \"kb_answer_threshold\": 0.65,\n"
                        "  \"synchronous\": \"FULL\",\n"
                        "  \"default_locale\": \"ro\"\n"
                        "}\n");
    sb_config_defaults(&c);
    assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_OK);
    assert_string_equal(c.bind, "0.0.0.0");
    assert_int_equal(c.port, 9090);
    assert_string_equal(c.data_dir, "/srv/sb");
    assert_int_equal(c.max_text, 4000);
    assert_int_equal(c.lua_instructions, 2000000);
    ASSERT_NEAR(c.kb_answer_threshold, 0.65);
    assert_string_equal(c.synchronous, "FULL");
    assert_string_equal(c.default_locale, "ro");
    /* Keys not in the file keep their defaults. */
    assert_string_equal(c.plugins_dir, "plugins");
    assert_int_equal(c.max_body, 64 * 1024);
}

static void load_file_accepts_empty_object(void **state)
{
    struct tmp *t = *state;
    struct sb_config c, d;
    struct sb_errbuf eb = {{0}};

    write_file(t->path, "{}");
    sb_config_defaults(&c);
    sb_config_defaults(&d);
    assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_OK);
    assert_memory_equal(&c, &d, sizeof(c));
}

static void load_file_rejects_unknown_key(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};

    write_file(t->path, "{\"prot\": 80}");
    sb_config_defaults(&c);
    assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "unknown key"));
    assert_non_null(strstr(eb.msg, "prot"));
}

static void load_file_rejects_wrong_types(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    static const char *const bad[] = {
        "{\"port\": \"8080\"}",
        "{\"port\": true}",
        "{\"port\": null}",
        "{\"port\": [80]}",
        "{\"bind\": 5}",
        "{\"bind\": {\"a\": 1}}",
        "{\"kb_answer_threshold\": \"0.5\"}",
        "{\"synchronous\": false}",
    };

    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        write_file(t->path, bad[i]);
        sb_config_defaults(&c);
        eb.msg[0] = '\0';
        assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_ERR_INVAL);
        assert_non_null(strstr(eb.msg, "must be a"));
    }
    assert_int_equal(c.port, 8080);
}

static void load_file_rejects_out_of_range_and_fractional_values(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};

    write_file(t->path, "{\"port\": 70000}");
    sb_config_defaults(&c);
    assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_ERR_INVAL);
    write_file(t->path, "{\"port\": 80.5}");
    assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "whole number"));
    write_file(t->path, "{\"kb_answer_threshold\": 2}");
    assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_ERR_INVAL);
}

static void load_file_rejects_malformed_json(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    static const char *const bad[] = {
        "",
        "{",
        "{\"port\": }",
        "{\"port\": 80,}",
        "{port: 80}",
        "{\"port\": 80} trailing",
        "{\"port\": 80, \"port\": 81}", /* duplicate keys */
    };

    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        write_file(t->path, bad[i]);
        sb_config_defaults(&c);
        eb.msg[0] = '\0';
        assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_ERR_INVAL);
        assert_non_null(strstr(eb.msg, t->path));
        assert_int_equal(c.port, 8080);
    }
}

static void load_file_rejects_non_object_top_level(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};

    write_file(t->path, "[{\"port\": 80}]");
    sb_config_defaults(&c);
    assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "object"));
}

static void load_file_reports_missing_file(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    char missing[160];

    snprintf(missing, sizeof(missing), "%s/does-not-exist.json", t->dir);
    sb_config_defaults(&c);
    assert_int_equal(sb_config_load_file(&c, missing, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "does-not-exist.json"));
}

/* ---- sb_config_load_env ---- */

static void load_env_overrides_port(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    (void)state;

    clear_env();
    sb_config_defaults(&c);
    assert_int_equal(setenv("SWITCHBOARD_PORT", "4242", 1), 0);
    assert_int_equal(sb_config_load_env(&c, &eb), SB_OK);
    assert_int_equal(c.port, 4242);
    assert_string_equal(c.bind, "127.0.0.1"); /* untouched */
    clear_env();
}

static void load_env_overrides_multi_word_and_string_keys(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    (void)state;

    clear_env();
    sb_config_defaults(&c);
    assert_int_equal(setenv("SWITCHBOARD_LUA_DEADLINE_MS", "150", 1), 0);
    assert_int_equal(setenv("SWITCHBOARD_KB_ANSWER_THRESHOLD", "0.4", 1), 0);
    assert_int_equal(setenv("SWITCHBOARD_DATA", "/tmp/sbdata", 1), 0);
    assert_int_equal(setenv("SWITCHBOARD_PUBLIC_URL", "https://help.example", 1), 0);
    assert_int_equal(sb_config_load_env(&c, &eb), SB_OK);
    assert_int_equal(c.lua_deadline_ms, 150);
    ASSERT_NEAR(c.kb_answer_threshold, 0.4);
    assert_string_equal(c.data_dir, "/tmp/sbdata");
    assert_string_equal(c.public_url, "https://help.example");
    clear_env();
}

static void load_env_overrides_file_values(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};

    write_file(t->path, "{\"port\": 9090, \"bind\": \"0.0.0.0\"}");
    sb_config_defaults(&c);
    assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_OK);
    assert_int_equal(setenv("SWITCHBOARD_PORT", "7070", 1), 0);
    assert_int_equal(sb_config_load_env(&c, &eb), SB_OK);
    assert_int_equal(c.port, 7070);
    assert_string_equal(c.bind, "0.0.0.0");
}

static void load_env_rejects_bad_value(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    (void)state;

    clear_env();
    sb_config_defaults(&c);
    assert_int_equal(setenv("SWITCHBOARD_PORT", "12abc", 1), 0);
    assert_int_equal(sb_config_load_env(&c, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "port"));
    assert_int_equal(c.port, 8080);
    assert_int_equal(setenv("SWITCHBOARD_PORT", "99999", 1), 0);
    assert_int_equal(sb_config_load_env(&c, &eb), SB_ERR_INVAL);
    assert_int_equal(c.port, 8080);
    clear_env();
}

static void load_env_without_variables_changes_nothing(void **state)
{
    struct sb_config c, d;
    struct sb_errbuf eb = {{0}};
    (void)state;

    clear_env();
    sb_config_defaults(&c);
    sb_config_defaults(&d);
    assert_int_equal(sb_config_load_env(&c, &eb), SB_OK);
    assert_memory_equal(&c, &d, sizeof(c));
}

static void answer_policy_keys_and_their_order(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    (void)state;

    sb_config_defaults(&c);
    ASSERT_NEAR(c.kb_clarify_threshold, 0.25);
    ASSERT_NEAR(c.kb_learn_half_life_days, 30);
    assert_int_equal(c.kb_learn_refresh_s, 60);
    assert_int_equal(sb_config_check(&c, &eb), SB_OK);
    assert_int_equal(sb_config_set(&c, "kb_clarify_threshold", "0.4", &eb), SB_OK);
    assert_int_equal(sb_config_set(&c, "kb_learn_half_life_days", "7.5", &eb), SB_OK);
    assert_int_equal(sb_config_set(&c, "kb_learn_refresh_s", "1.5", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "kb_learn_half_life_days", "0", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_check(&c, &eb), SB_OK);
    /* each key alone is fine; together the clarify one may not pass the answer one */
    assert_int_equal(sb_config_set(&c, "kb_answer_threshold", "0.3", &eb), SB_OK);
    assert_int_equal(sb_config_check(&c, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "kb_clarify_threshold"));
    assert_non_null(strstr(eb.msg, "kb_answer_threshold"));
    assert_int_equal(sb_config_set(&c, "kb_clarify_threshold", "0.3", &eb), SB_OK);
    assert_int_equal(sb_config_check(&c, &eb), SB_OK); /* equal: no choices band, allowed */
}

/* Issue 14: the front door's keys, and the checks that tie them. */
static void front_door_keys_are_checked(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    (void)state;

    sb_config_defaults(&c);
    assert_string_equal(c.trusted_proxies, "127.0.0.0/8, ::1");
    assert_int_equal(c.max_conns_per_ip, 256);
    assert_int_equal(c.http_header_timeout_s, 10);
    assert_string_equal(c.metrics_access, "auto");
    assert_string_equal(c.metrics_token, "");
    assert_int_equal(sb_config_check(&c, &eb), SB_OK);
    assert_int_equal(sb_config_set(&c, "trusted_proxies", "10.0.0.0/8 fd00::/8", &eb), SB_OK);
    assert_int_equal(sb_config_check(&c, &eb), SB_OK);
    assert_int_equal(sb_config_set(&c, "trusted_proxies", "10.0.0.0/99", &eb), SB_OK);
    assert_int_equal(sb_config_check(&c, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "trusted_proxies"));
    assert_int_equal(sb_config_set(&c, "trusted_proxies", "", &eb), SB_OK);
    assert_int_equal(sb_config_set(&c, "max_conns_per_ip", "0", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "http_header_timeout_s", "0", &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "metrics_access", "public", &eb), SB_OK);
    assert_int_equal(sb_config_check(&c, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "metrics_access"));
    assert_int_equal(sb_config_set(&c, "metrics_access", "token", &eb), SB_OK);
    assert_int_equal(sb_config_check(&c, &eb), SB_ERR_INVAL); /* no token to ask for */
    assert_int_equal(sb_config_set(&c, "metrics_token", "short", &eb), SB_OK);
    assert_int_equal(sb_config_check(&c, &eb), SB_ERR_INVAL);
    assert_int_equal(sb_config_set(&c, "metrics_token", "0123456789abcdef", &eb), SB_OK);
    assert_int_equal(sb_config_check(&c, &eb), SB_OK);
}

/* ---------- "channels": the channel plugins' settings ---------- */

static void channels_default_to_none(void **state)
{
    struct sb_config c;
    (void)state;
    sb_config_defaults(&c);
    assert_string_equal(c.channels, "");
}

static void load_file_keeps_channels_as_compact_json(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};

    write_file(t->path, "{\"port\": 9000, \"channels\": {\n"
                        "  \"telegram\": {\"bot_token\": \"123:abc\", \"max_attempts\": 5},\n"
                        "  \"whatsapp\": {}\n}}");
    sb_config_defaults(&c);
    assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_OK);
    assert_int_equal(c.port, 9000);
    assert_string_equal(c.channels, "{\"telegram\":{\"bot_token\":\"123:abc\",\"max_attempts\":5},"
                                    "\"whatsapp\":{}}");
}

static void load_file_rejects_channels_that_are_not_objects_of_objects(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    static const struct {
        const char *json, *says;
    } bad[] = {
        {"{\"channels\": [1]}", "'channels' must be an object of objects"},
        {"{\"channels\": \"telegram\"}", "'channels' must be an object of objects"},
        {"{\"channels\": null}", "'channels' must be an object of objects"},
        {"{\"channels\": {\"telegram\": \"token\"}}", "'channels'.'telegram' must be an object"},
        {"{\"channels\": {\"web\": {}, \"sms\": [1]}}", "'channels'.'sms' must be an object"},
        {"{\"channels\": {\"a\": {}, \"a\": {}}}", "duplicate"},
    };

    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        write_file(t->path, bad[i].json);
        sb_config_defaults(&c);
        eb.msg[0] = '\0';
        assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_ERR_INVAL);
        if (!strstr(eb.msg, bad[i].says)) fail_msg("%s: got '%s'", bad[i].json, eb.msg);
        assert_string_equal(c.channels, "");
    }
}

static void load_file_rejects_channels_too_long(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    size_t n = sizeof(c.channels) + 100;
    char *text = malloc(n + 64);
    assert_non_null(text);
    size_t k = (size_t)snprintf(text, 64, "{\"channels\": {\"x\": {\"k\": \"");
    memset(text + k, 'a', n);
    snprintf(text + k + n, 64, "\"}}}");
    write_file(t->path, text);
    free(text);
    sb_config_defaults(&c);
    assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "'channels' is longer than 16383 bytes"));
}

static void env_sets_channels_and_checks_their_shape(void **state)
{
    struct sb_config c;
    struct sb_errbuf eb = {{0}};
    (void)state;

    clear_env();
    sb_config_defaults(&c);
    assert_int_equal(setenv("SWITCHBOARD_CHANNELS", "{\"telegram\": {\"mode\": \"poll\"}}", 1), 0);
    assert_int_equal(sb_config_load_env(&c, &eb), SB_OK);
    assert_string_equal(c.channels, "{\"telegram\":{\"mode\":\"poll\"}}");

    assert_int_equal(setenv("SWITCHBOARD_CHANNELS", "{\"telegram\": 5}", 1), 0);
    assert_int_equal(sb_config_load_env(&c, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "'channels'.'telegram' must be an object"));
    assert_int_equal(setenv("SWITCHBOARD_CHANNELS", "{telegram}", 1), 0);
    assert_int_equal(sb_config_load_env(&c, &eb), SB_ERR_INVAL);
    assert_non_null(strstr(eb.msg, "config channels: not JSON"));
    /* a refused value keeps the one before */
    assert_string_equal(c.channels, "{\"telegram\":{\"mode\":\"poll\"}}");
    /* empty: no channels */
    assert_int_equal(setenv("SWITCHBOARD_CHANNELS", "", 1), 0);
    assert_int_equal(sb_config_load_env(&c, &eb), SB_OK);
    assert_string_equal(c.channels, "");
    clear_env();
}

static void env_channels_replace_the_files(void **state)
{
    struct tmp *t = *state;
    struct sb_config c;
    struct sb_errbuf eb = {{0}};

    clear_env();
    write_file(t->path, "{\"channels\": {\"telegram\": {\"bot_token\": \"from-file\"}}}");
    sb_config_defaults(&c);
    assert_int_equal(sb_config_load_file(&c, t->path, &eb), SB_OK);
    assert_int_equal(setenv("SWITCHBOARD_CHANNELS", "{\"whatsapp\": {}}", 1), 0);
    assert_int_equal(sb_config_load_env(&c, &eb), SB_OK);
    assert_string_equal(c.channels, "{\"whatsapp\":{}}");
    clear_env();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_documented_values),
        cmocka_unit_test(set_accepts_numbers_in_range),
        cmocka_unit_test(set_rejects_numbers_out_of_range_and_keeps_old_value),
        cmocka_unit_test(set_rejects_text_that_is_not_a_number),
        cmocka_unit_test(set_requires_whole_numbers_for_integer_keys),
        cmocka_unit_test(set_accepts_strings_that_fit_and_rejects_too_long),
        cmocka_unit_test(set_rejects_unknown_key),
        cmocka_unit_test(answer_policy_keys_and_their_order),
        cmocka_unit_test(front_door_keys_are_checked),
        cmocka_unit_test_setup_teardown(load_file_overlays_good_keys, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(load_file_accepts_empty_object, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(load_file_rejects_unknown_key, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(load_file_rejects_wrong_types, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(load_file_rejects_out_of_range_and_fractional_values,
                                        setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(load_file_rejects_malformed_json, setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(load_file_rejects_non_object_top_level, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(load_file_reports_missing_file, setup_tmp, teardown_tmp),
        cmocka_unit_test(load_env_overrides_port),
        cmocka_unit_test(load_env_overrides_multi_word_and_string_keys),
        cmocka_unit_test_setup_teardown(load_env_overrides_file_values, setup_tmp, teardown_tmp),
        cmocka_unit_test(load_env_rejects_bad_value),
        cmocka_unit_test(load_env_without_variables_changes_nothing),
        cmocka_unit_test(channels_default_to_none),
        cmocka_unit_test_setup_teardown(load_file_keeps_channels_as_compact_json, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test_setup_teardown(load_file_rejects_channels_that_are_not_objects_of_objects,
                                        setup_tmp, teardown_tmp),
        cmocka_unit_test_setup_teardown(load_file_rejects_channels_too_long, setup_tmp,
                                        teardown_tmp),
        cmocka_unit_test(env_sets_channels_and_checks_their_shape),
        cmocka_unit_test_setup_teardown(env_channels_replace_the_files, setup_tmp, teardown_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

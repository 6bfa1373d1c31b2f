/*
 * test_api.c - the sb.* API as plugins see it, through small plugins
 * written to a temporary folder and loaded into the real host: the
 * per-plugin store, JSON, PCRE2, knowledge-base search, conversation
 * attributes, the customer's words (ctx:t, ctx:pick) and the checks on
 * what a reply may contain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "plugin_env.h"

static void load_source(struct plugin_env *e, const char *name, const char *src)
{
    struct sb_errbuf eb = {{0}};
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", e->dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(src, f);
    fclose(f);
    if (sb_host_load_file(e->host, path, &eb)) fail_msg("%s did not load: %s", name, eb.msg);
    unlink(path);
}

static const char *reply_of(struct plugin_env *e, const char *text, struct sb_turn *t)
{
    plugin_env_turn(e, t, text, NULL);
    return first_reply(t);
}

/* Which intent a text reaches in locale, "" when none answered. */
static const char *answered_in(struct plugin_env *e, const char *locale, const char *text,
                               const char *payload, char *out, size_t cap)
{
    struct sb_turn t;
    sb_turn_init(&t);
    t.conv = &e->conv;
    t.text = text;
    t.payload = payload;
    t.locale = locale;
    t.channel = "web";
    sb_host_run_intents(e->host, &t);
    snprintf(out, cap, "%s", first_reply(&t) ? first_reply(&t) : "");
    sb_turn_cleanup(&t);
    return out;
}

/* `match` by locale: the locale's own pattern, else its language's, else
 * "*"; `payload` as a list selects the intent whatever the text. */
static void test_match_picks_the_pattern_of_the_locale_then_language_then_any(void **state)
{
    struct plugin_env e;
    char out[64];
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    load_source(&e, "by_locale.lua",
                "sb.intent{ name='by_locale', match={ ['pt-PT']='^viva$', pt='^ola$',"
                " ['*']='^hey$' }, payload={ '/a', '/b' },"
                " handler=function(ctx) ctx:reply('hit') end }\n");
    assert_string_equal(answered_in(&e, "pt-PT", "viva", NULL, out, sizeof(out)), "hit");
    assert_string_equal(answered_in(&e, "pt-PT", "ola", NULL, out, sizeof(out)), "");
    assert_string_equal(answered_in(&e, "pt-BR", "ola", NULL, out, sizeof(out)), "hit");
    assert_string_equal(answered_in(&e, "pt-BR", "viva", NULL, out, sizeof(out)), "");
    assert_string_equal(answered_in(&e, "ro", "hey", NULL, out, sizeof(out)), "hit");
    assert_string_equal(answered_in(&e, "ro", "ola", NULL, out, sizeof(out)), "");
    assert_string_equal(answered_in(&e, "ro", "anything", "/b", out, sizeof(out)), "hit");
    assert_string_equal(answered_in(&e, "ro", "anything", "/c", out, sizeof(out)), "");
    plugin_env_close(&e);
}

static void test_store_is_per_plugin_and_survives_reload(void **state)
{
    struct plugin_env e;
    struct sb_turn t;
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    load_source(&e, "a.lua",
                "sb.intent{ name='a', priority=2, match='^set', handler=function(ctx)\n"
                "  sb.store.set('k', { n = 41, tags = {'x', 'y'} }) ctx:reply('set') end }\n"
                "sb.intent{ name='a_get', priority=2, match='^get a', handler=function(ctx)\n"
                "  local v = sb.store.get('k') ctx:reply(v and (v.n + 1 .. v.tags[2]) or 'nil')"
                " end }\n");
    load_source(&e, "b.lua",
                "sb.intent{ name='b', priority=1, match='^get b', handler=function(ctx)\n"
                "  ctx:reply(tostring(sb.store.get('k'))) end }\n");
    assert_string_equal(reply_of(&e, "set", &t), "set");
    sb_turn_cleanup(&t);
    assert_string_equal(reply_of(&e, "get a", &t), "42y");
    sb_turn_cleanup(&t);
    assert_string_equal(reply_of(&e, "get b", &t), "nil"); /* b cannot see a's keys */
    sb_turn_cleanup(&t);
    /* a new version of a.lua still finds what the old one stored */
    load_source(&e, "a.lua",
                "sb.intent{ name='a_get', match='^get a', handler=function(ctx)\n"
                "  ctx:reply('v2 ' .. sb.store.get('k').n) end }\n");
    assert_string_equal(reply_of(&e, "get a", &t), "v2 41");
    sb_turn_cleanup(&t);
    plugin_env_close(&e);
}

static void test_json_round_trip_and_errors(void **state)
{
    struct plugin_env e;
    struct sb_turn t;
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    load_source(&e, "j.lua",
                "sb.intent{ name='j', handler=function(ctx)\n"
                "  local v = sb.json.decode('{\"a\":[1,2,{\"b\":null}],\"s\":\"ç\"}')\n"
                "  local bad, err = sb.json.decode('{\"a\":')\n"
                "  local deep = {} local cur = deep\n"
                "  for i = 1, 100 do cur.x = {} cur = cur.x end\n"
                "  local ok = pcall(sb.json.encode, deep)\n"
                "  ctx:reply(sb.json.encode(v.a) .. '|' .. v.s .. '|' .. tostring(bad) .. '|' ..\n"
                "    tostring(err ~= nil) .. '|' .. tostring(v.a[3].b == sb.json.null) .. '|' ..\n"
                "    tostring(ok))\n"
                "end }\n");
    assert_string_equal(reply_of(&e, "x", &t), "[1,2,{\"b\":null}]|ç|nil|true|true|false");
    sb_turn_cleanup(&t);
    plugin_env_close(&e);
}

static void test_re_match_find_and_bad_patterns(void **state)
{
    struct plugin_env e;
    struct sb_turn t;
    struct sb_errbuf eb = {{0}};
    char path[256];
    FILE *f;
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    load_source(&e, "r.lua",
                "sb.intent{ name='r', match=[[order (PM-\\d+)]], handler=function(ctx)\n"
                "  local whole, id = sb.re.match(ctx.text, [[(PM-\\d+)]])\n"
                "  local s, e = sb.re.find(ctx.text, 'PM')\n"
                "  ctx:reply(ctx.captures[2] .. ' ' .. id .. ' ' .. s .. '-' .. e .. ' ' ..\n"
                "    tostring(sb.re.test('ÇÃO', 'ção', 'i')))\n"
                "end }\n");
    assert_string_equal(reply_of(&e, "where is order PM-123?", &t), "PM-123 PM-123 16-17 true");
    sb_turn_cleanup(&t);
    /* a pre-filter that does not compile fails the load, not a turn */
    snprintf(path, sizeof(path), "%s/bad.lua", e.dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("sb.intent{ name='bad', match='(unclosed', handler=function(ctx) end }", f);
    fclose(f);
    assert_int_not_equal(sb_host_load_file(e.host, path, &eb), SB_OK);
    assert_non_null(strstr(eb.msg, "pattern"));
    unlink(path);
    plugin_env_close(&e);
}

/* A pt-BR conversation's host with the demo knowledge base imported. */
static void open_with_demo_kb(struct plugin_env *e)
{
    struct sb_errbuf eb = {{0}};
    char dir[512];
    int a, c, u;
    assert_int_equal(plugin_env_open(e, "pt-BR"), 0);
    snprintf(dir, sizeof(dir), "%s/kb/demo", SB_SOURCE_DIR);
    assert_int_equal(sb_kb_import_dir(e->kb, dir, &a, &c, &u, &eb), SB_OK);
}

static void test_kb_search_links_use_the_public_url(void **state)
{
    struct plugin_env e;
    struct sb_turn t;
    (void)state;
    open_with_demo_kb(&e);
    load_source(&e, "k.lua",
                "sb.intent{ name='k', handler=function(ctx)\n"
                "  local hits = sb.kb.search(ctx.text, { locale = ctx.locale, limit = 2 })\n"
                "  ctx:reply(tostring(#hits >= 1 and #hits <= 2) .. ' ' .. hits[1].url .. ' ' .. "
                "hits[1].locale .. ' ' ..\n"
                "    tostring(hits[1].confidence > 0 and hits[1].confidence <= 1))\n"
                "end }\n");
    assert_string_equal(reply_of(&e, "esqueci minha senha", &t),
                        "true http://help.example/help/pt-BR/reset-password pt-BR true");
    sb_turn_cleanup(&t);
    plugin_env_close(&e);
}

/* sb.kb.search hands plugins the engine's own decision (sb_kb_decide) and
 * its number of choices, for an answer, a vague question, one out of
 * scope and one with nothing to search for. */
static void test_kb_search_returns_the_engines_decision(void **state)
{
    static const char *const texts[] = {
        "esqueci minha senha", "pedido", "qwzx vbnm plok", "?", "cartão", "entrega"};
    struct plugin_env e;
    struct sb_turn t;
    char want[64];
    int seen[3] = {0};
    (void)state;
    open_with_demo_kb(&e);
    load_source(&e, "d.lua",
                "sb.intent{ name='d', handler=function(ctx)\n"
                "  local _, _, decision, n = sb.kb.search(ctx.text, { locale = ctx.locale })\n"
                "  ctx:reply(decision .. ' ' .. n)\n"
                "end }\n");
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct sb_kb_result r;
        int n = 0;
        enum sb_kb_decision d;
        assert_int_equal(sb_kb_search(e.kb, texts[i], "pt-BR", 3, &r), SB_OK);
        d = sb_kb_decide(e.kb, &r, &n);
        sb_kb_result_cleanup(&r);
        seen[d] = 1;
        snprintf(want, sizeof(want), "%s %d", sb_kb_decision_name(d), n);
        assert_string_equal(reply_of(&e, texts[i], &t), want);
        sb_turn_cleanup(&t);
    }
    /* the texts reach every decision, so none of them is untested */
    assert_true(seen[SB_KB_ANSWER] && seen[SB_KB_CLARIFY] && seen[SB_KB_HANDOFF]);
    plugin_env_close(&e);
}

static void test_attributes_are_saved_with_the_conversation(void **state)
{
    struct plugin_env e;
    struct sb_turn t;
    (void)state;
    assert_int_equal(plugin_env_open(&e, "en"), 0);
    load_source(&e, "s.lua",
                "sb.intent{ name='s', handler=function(ctx)\n"
                "  local n = (ctx:get('count') or 0) + 1\n"
                "  ctx:set('count', n) ctx:set('gone', nil) ctx:reply('count ' .. n) end }\n");
    assert_string_equal(reply_of(&e, "x", &t), "count 1");
    assert_true(t.attrs_changed);
    sb_turn_cleanup(&t);
    assert_string_equal(reply_of(&e, "x", &t), "count 2");
    sb_turn_cleanup(&t);
    assert_int_equal(json_integer_value(json_object_get(e.conv.attrs, "count")), 2);
    plugin_env_close(&e);
}

static void test_unsafe_links_and_oversized_replies_are_refused(void **state)
{
    static const char *const bad[] = {
        "ctx:reply{ text='x', links={{ title='t', url='javascript:alert(1)' }} }",
        "ctx:reply{ text='x', links={'http://a.example'} }",
        "ctx:reply{ text='' }",
        "ctx:reply{ text=string.rep('a', 5000) }",
        "ctx:reply{ text='\\255\\254' }",
        "for i = 1, 11 do ctx:reply('r' .. i) end",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct plugin_env e;
        struct sb_turn t;
        char src[512];
        assert_int_equal(plugin_env_open(&e, "en"), 0);
        load_source(
            &e, "good.lua",
            "sb.intent{ name='good', priority=0, handler=function(ctx) ctx:reply('ok') end }");
        snprintf(src, sizeof(src),
                 "sb.intent{ name='bad', priority=1, handler=function(ctx) %s end }", bad[i]);
        load_source(&e, "bad.lua", src);
        plugin_env_turn(&e, &t, "x", NULL);
        if (strcmp(t.answered_by, "good") != 0) fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(json_array_size(t.replies), 1);
        sb_turn_cleanup(&t);
        plugin_env_close(&e);
    }
}

/* ctx:t reads web/locales by the fallback rule: pt-PT has its own words
 * where Portugal says it differently, and the Brazilian ones elsewhere. */
static void test_t_reads_the_catalogue_with_the_fallback_rule(void **state)
{
    struct plugin_env e;
    struct sb_turn t;
    char want[512];
    (void)state;
    assert_int_equal(plugin_env_open(&e, "pt-PT"), 0);
    load_source(&e, "t.lua",
                "sb.intent{ name='t', handler=function(ctx)\n"
                "  ctx:reply(ctx:t(ctx.text, { day = 'amanhã', time = 9, timezone = 'UTC' }))\n"
                "end }\n");
    /* no pt-PT text: the pt-BR one */
    assert_string_equal(reply_of(&e, "bot.kb.yes", &t),
                        sb_words_get(e.words, "pt-BR", "bot.kb.yes"));
    sb_turn_cleanup(&t);
    /* its own, with the placeholders filled (a number too) */
    assert_string_equal(reply_of(&e, "conv.back", &t),
                        "A nossa equipa volta amanhã às 9 (UTC). Responderemos aqui.");
    sb_turn_cleanup(&t);
    /* a key no catalogue has shows itself */
    assert_string_equal(reply_of(&e, "no.such.words", &t), "no.such.words");
    sb_turn_cleanup(&t);
    plugin_env_close(&e);

    /* a locale without a catalogue: its language's, then en */
    assert_int_equal(plugin_env_open(&e, "ro-MD"), 0);
    load_source(&e, "t.lua",
                "sb.intent{ name='t', handler=function(ctx) ctx:reply(ctx:t(ctx.text)) end }\n");
    snprintf(want, sizeof(want), "%s", sb_words_get(e.words, "ro", "bot.thanks"));
    assert_string_equal(reply_of(&e, "bot.thanks", &t), want);
    sb_turn_cleanup(&t);
    plugin_env_close(&e);
}

static void test_pick_uses_the_same_rule(void **state)
{
    struct plugin_env e;
    struct sb_turn t;
    (void)state;
    assert_int_equal(plugin_env_open(&e, "pt-PT"), 0);
    load_source(
        &e, "p.lua",
        "sb.intent{ name='p', handler=function(ctx)\n"
        "  ctx:reply(ctx:pick{ en = 'en', ['pt-BR'] = 'br', ['pt-AO'] = 'ao', ro = 'ro' })\n"
        "end }\n");
    /* pt-PT: no entry, no bare pt: the first pt-* in name order */
    assert_string_equal(reply_of(&e, "x", &t), "ao");
    sb_turn_cleanup(&t);
    plugin_env_close(&e);
    assert_int_equal(plugin_env_open(&e, "de"), 0);
    load_source(&e, "p.lua",
                "sb.intent{ name='p', handler=function(ctx)\n"
                "  ctx:reply(ctx:pick{ ro = 'ro', en = 'en' } .. ' ' .. ctx:pick{ ro = 'ro' })\n"
                "end }\n");
    /* de: en, and without en any entry */
    assert_string_equal(reply_of(&e, "x", &t), "en ro");
    sb_turn_cleanup(&t);
    plugin_env_close(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_picks_the_pattern_of_the_locale_then_language_then_any),
        cmocka_unit_test(test_store_is_per_plugin_and_survives_reload),
        cmocka_unit_test(test_json_round_trip_and_errors),
        cmocka_unit_test(test_re_match_find_and_bad_patterns),
        cmocka_unit_test(test_kb_search_links_use_the_public_url),
        cmocka_unit_test(test_kb_search_returns_the_engines_decision),
        cmocka_unit_test(test_attributes_are_saved_with_the_conversation),
        cmocka_unit_test(test_unsafe_links_and_oversized_replies_are_refused),
        cmocka_unit_test(test_t_reads_the_catalogue_with_the_fallback_rule),
        cmocka_unit_test(test_pick_uses_the_same_rule),
    };
    sb_log_set_level(SB_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

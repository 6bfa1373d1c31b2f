/*
 * test_settings.c - a channel's settings (lua_settings.c): the schema a
 * plugin declares, checked against the config file's "channels" entry and
 * the environment; the read-only sb.config; the public view with secrets
 * as "set"; secrets scrubbed from sb.log, print and error messages; and
 * the admin list of channels (sb_host_channels_json).
 *
 * lua_settings_apply() is called directly, on a bare sandbox state or on
 * the state of a plugin loaded into the real host, as host_add_channel()
 * calls it while sb.channel{} runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>

#include <lauxlib.h>

#include "plugin_env.h"
#include "sb_util.h"

#define TOKEN "123456:AAH-very-secret-bot-token"

/* The schema of the tests: one of each kind. */
#define SETTINGS                                                                                   \
    "{\n"                                                                                          \
    "  bot_token    = { type = 'string', required = true, secret = true },\n"                      \
    "  secret_token = { type = 'string', secret = true },\n"                                       \
    "  api_base     = { type = 'string', default = 'https://api.telegram.org' },\n"                \
    "  mode         = { type = 'string', default = 'webhook', one_of = { 'webhook', 'poll' } },\n" \
    "  max_attempts = { type = 'integer', default = 20, min = 1, max = 100 },\n"                   \
    "  ratio        = { type = 'number', default = 0.5, description = 'a share' },\n"              \
    "  verbose      = { type = 'boolean', default = false },\n"                                    \
    "  chats        = { type = 'array' },\n"                                                       \
    "  templates    = { type = 'object', default = { hello = { 'a', 'b' } } },\n"                  \
    "}"
static const char *const schema = "return { settings = " SETTINGS " }\n";

struct box {
    struct lua_budget budget;
    lua_State *L;
    struct sb_config cfg;
    bool active;
    json_t *view;
    struct sb_errbuf eb;
};

static void box_open(struct box *b, const char *channels)
{
    memset(b, 0, sizeof(*b));
    b->budget.mem_limit = 16 * 1024 * 1024;
    b->budget.instr_limit = 1000000;
    b->budget.deadline_ms = 60000;
    b->L = sandbox_new(&b->budget);
    assert_non_null(b->L);
    sandbox_lock_globals(b->L);
    sb_config_defaults(&b->cfg);
    snprintf(b->cfg.channels, sizeof(b->cfg.channels), "%s", channels);
}

static void box_close(struct box *b)
{
    json_decref(b->view);
    lua_close(b->L);
}

/* Applies spec_src (a chunk returning the sb.channel table) for channel
 * "telegram"; leaves the stack as it was. */
static enum sb_err apply(struct box *b, const char *spec_src)
{
    enum sb_err rc;
    int top = lua_gettop(b->L);
    if (luaL_loadstring(b->L, spec_src) != LUA_OK) fail_msg("%s", lua_tostring(b->L, -1));
    lua_call(b->L, 0, 1);
    json_decref(b->view);
    b->view = NULL;
    b->eb.msg[0] = '\0';
    rc = lua_settings_apply(b->L, -1, "telegram", &b->cfg, &b->active, &b->view, &b->eb);
    assert_int_equal(lua_gettop(b->L), top + 1); /* the spec only */
    lua_settop(b->L, top);
    return rc;
}

/* Runs chunk in the state as a plugin call; its one result as text. */
static enum sb_err run(struct box *b, const char *chunk, char *out, size_t cap)
{
    enum sb_err rc;
    if (luaL_loadbufferx(b->L, chunk, strlen(chunk), "=test", "t") != LUA_OK)
        fail_msg("%s", lua_tostring(b->L, -1));
    b->eb.msg[0] = '\0';
    rc = sandbox_call(b->L, 0, 1, &b->eb);
    if (rc == SB_OK) {
        snprintf(out, cap, "%s", luaL_tolstring(b->L, -1, NULL));
        lua_settop(b->L, 0);
    }
    return rc;
}

static const char *eval(struct box *b, const char *chunk, char *out, size_t cap)
{
    if (run(b, chunk, out, cap)) fail_msg("%s: %s", chunk, b->eb.msg);
    return out;
}

#define EVAL(b, chunk) eval(b, chunk, buf, sizeof(buf))

static void expect_refused(struct box *b, const char *spec, const char *says)
{
    assert_int_equal(apply(b, spec), SB_ERR_INVAL);
    if (!strstr(b->eb.msg, says)) fail_msg("wanted '%s' in '%s'", says, b->eb.msg);
    assert_non_null(strstr(b->eb.msg, "channel telegram"));
}

static void expect_config_refused(const char *channels, const char *says)
{
    struct box b;
    box_open(&b, channels);
    expect_refused(&b, schema, says);
    if (strstr(b.eb.msg, TOKEN) || strstr(b.eb.msg, "AAH-very"))
        fail_msg("the secret is in the message: %s", b.eb.msg);
    box_close(&b);
}

static void test_values_defaults_and_public_view(void **state)
{
    struct box b;
    char buf[256], *text;
    (void)state;
    box_open(&b, "{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"mode\":\"poll\",\"chats\":[1,2]},"
                 "\"whatsapp\":{}}");
    assert_int_equal(apply(&b, schema), SB_OK);
    assert_true(b.active);
    assert_string_equal(EVAL(&b, "return sb.config.bot_token"), TOKEN);
    assert_string_equal(EVAL(&b, "return sb.config.mode"), "poll");
    assert_string_equal(EVAL(&b, "return sb.config.api_base"), "https://api.telegram.org");
    assert_string_equal(
        EVAL(&b, "return math.type(sb.config.max_attempts) .. sb.config.max_attempts"),
        "integer20");
    assert_string_equal(EVAL(&b, "return sb.config.ratio"), "0.5");
    assert_string_equal(EVAL(&b, "return sb.config.verbose"), "false");
    assert_string_equal(EVAL(&b, "return tostring(sb.config.secret_token)"), "nil");
    assert_string_equal(EVAL(&b, "return #sb.config.chats .. sb.config.chats[2]"), "22");
    assert_string_equal(EVAL(&b, "local n = 0 for _, v in ipairs(sb.config.chats) do n = n + v end "
                                 "return n"),
                        "3");
    assert_string_equal(EVAL(&b, "return sb.config.templates.hello[2]"), "b");
    assert_string_equal(EVAL(&b, "local k = {} for key in pairs(sb.config) do k[#k + 1] = key end "
                                 "table.sort(k) return table.concat(k, ',')"),
                        "api_base,bot_token,chats,max_attempts,mode,ratio,templates,verbose");

    text = json_dumps(b.view, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"api_base\":\"https://api.telegram.org\",\"bot_token\":\"set\","
                              "\"chats\":[1,2],\"max_attempts\":20,\"mode\":\"poll\",\"ratio\":0.5,"
                              "\"secret_token\":null,\"templates\":{\"hello\":[\"a\",\"b\"]},"
                              "\"verbose\":false}");
    free(text);
    box_close(&b);
}

static void test_sb_config_is_read_only_at_every_level(void **state)
{
    static const char *const writes[] = {
        "sb.config.mode = 'poll'",
        "sb.config.new_key = 1",
        "sb.config.chats[1] = 5",
        "sb.config.templates.hello[1] = 'x'",
        "rawset(sb.config, 'mode', 'poll')", /* rawset is not in the sandbox */
        "setmetatable(sb.config, nil)",
        "table.insert(sb.config.chats, 3)",
    };
    struct box b;
    char buf[256];
    (void)state;
    box_open(&b, "{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"chats\":[1,2]}}");
    assert_int_equal(apply(&b, schema), SB_OK);
    for (size_t i = 0; i < SB_ARRAY_LEN(writes); i++)
        if (run(&b, writes[i], buf, sizeof(buf)) == SB_OK) fail_msg("allowed: %s", writes[i]);
    assert_int_equal(run(&b, "sb.config.mode = 'poll'", buf, sizeof(buf)), SB_ERR_LUA);
    assert_non_null(strstr(b.eb.msg, "sb.config is read-only"));
    assert_string_equal(EVAL(&b, "return sb.config.mode .. #sb.config.chats .. sb.config.chats[1]"),
                        "webhook21");
    box_close(&b);
}

static void test_a_channel_without_an_entry_is_inactive_with_defaults(void **state)
{
    struct box b;
    char buf[256];
    (void)state;
    /* required bot_token missing, and an env value: neither matters */
    setenv("SWITCHBOARD_CHANNEL_TELEGRAM_MODE", "poll", 1);
    box_open(&b, "{\"whatsapp\":{}}");
    assert_int_equal(apply(&b, schema), SB_OK);
    assert_false(b.active);
    assert_string_equal(EVAL(&b, "return sb.config.mode"), "webhook");
    assert_true(json_is_null(json_object_get(b.view, "bot_token")));
    box_close(&b);
    box_open(&b, "");
    assert_int_equal(apply(&b, schema), SB_OK);
    assert_false(b.active);
    box_close(&b);
    unsetenv("SWITCHBOARD_CHANNEL_TELEGRAM_MODE");
}

static void test_no_settings_declared(void **state)
{
    struct box b;
    char buf[256];
    (void)state;
    box_open(&b, "{\"telegram\":{}}");
    assert_int_equal(apply(&b, "return { name = 'telegram' }"), SB_OK);
    assert_true(b.active);
    assert_string_equal(EVAL(&b, "return next(sb.config) == nil"), "true");
    assert_int_equal(json_object_size(b.view), 0);
    box_close(&b);
    /* but an entry with keys has nothing to match */
    box_open(&b, "{\"telegram\":{\"token\":\"x\"}}");
    expect_refused(&b, "return { name = 'telegram' }", "unknown setting 'token'");
    box_close(&b);
}

static void test_bad_values_are_refused_naming_channel_and_key(void **state)
{
    (void)state;
    expect_config_refused("{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"bot_tokn\":\"x\"}}",
                          "unknown setting 'bot_tokn' in \"channels\"");
    expect_config_refused("{\"telegram\":{}}",
                          "setting bot_token is required (\"channels\".\"telegram\" "
                          "or SWITCHBOARD_CHANNEL_TELEGRAM_BOT_TOKEN)");
    expect_config_refused("{\"telegram\":{\"bot_token\":12345678}}",
                          "setting bot_token must be a string (\"channels\".\"telegram\")");
    expect_config_refused("{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"max_attempts\":1.5}}",
                          "setting max_attempts must be an integer");
    expect_config_refused("{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"max_attempts\":\"5\"}}",
                          "setting max_attempts must be an integer");
    expect_config_refused("{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"max_attempts\":0}}",
                          "setting max_attempts must be 1..100");
    expect_config_refused("{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"max_attempts\":101}}",
                          "setting max_attempts must be 1..100");
    expect_config_refused("{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"ratio\":\"half\"}}",
                          "setting ratio must be a number");
    expect_config_refused("{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"verbose\":\"true\"}}",
                          "setting verbose must be a boolean");
    expect_config_refused("{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"chats\":{}}}",
                          "setting chats must be an array");
    expect_config_refused("{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"templates\":[]}}",
                          "setting templates must be an object");
    expect_config_refused("{\"telegram\":{\"bot_token\":\"" TOKEN "\",\"mode\":\"push\"}}",
                          "setting mode must be one of \"webhook\", \"poll\"");
    expect_config_refused("{\"telegram\":{\"bot_token\":null}}",
                          "setting bot_token must be a string");
}

static void test_a_secret_is_never_in_the_message(void **state)
{
    static const char *const secret_schema =
        "return { settings = {\n"
        "  key = { type = 'string', secret = true, one_of = { 'alpha-key', 'beta-key' } },\n"
        "  pin = { type = 'integer', secret = true, max = 10 },\n"
        "} }\n";
    struct box b;
    (void)state;
    box_open(&b, "{\"telegram\":{\"key\":\"" TOKEN "\"}}");
    expect_refused(&b, secret_schema, "setting key must be one of");
    assert_null(strstr(b.eb.msg, "AAH-very"));
    box_close(&b);
    box_open(&b, "{\"telegram\":{\"pin\":987654321}}");
    expect_refused(&b, secret_schema, "setting pin must be at most 10");
    assert_null(strstr(b.eb.msg, "987654321"));
    box_close(&b);
}

static void test_environment_overrides_the_file(void **state)
{
    struct box b;
    char buf[256];
    (void)state;
    setenv("SWITCHBOARD_CHANNEL_TELEGRAM_BOT_TOKEN", "from-env-token", 1);
    setenv("SWITCHBOARD_CHANNEL_TELEGRAM_MAX_ATTEMPTS", "7", 1);
    setenv("SWITCHBOARD_CHANNEL_TELEGRAM_CHATS", "[5]", 1);
    box_open(&b, "{\"telegram\":{\"bot_token\":\"from-file-token\",\"max_attempts\":3}}");
    assert_int_equal(apply(&b, schema), SB_OK);
    assert_string_equal(EVAL(&b, "return sb.config.bot_token"), "from-env-token");
    assert_string_equal(EVAL(&b, "return sb.config.max_attempts + sb.config.chats[1]"), "12");
    box_close(&b);
    /* the token need not sit in the file at all */
    box_open(&b, "{\"telegram\":{}}");
    assert_int_equal(apply(&b, schema), SB_OK);
    assert_string_equal(EVAL(&b, "return sb.config.bot_token"), "from-env-token");
    assert_string_equal(json_string_value(json_object_get(b.view, "bot_token")), "set");
    box_close(&b);
    /* and is checked like the file's */
    setenv("SWITCHBOARD_CHANNEL_TELEGRAM_MAX_ATTEMPTS", "seven", 1);
    box_open(&b, "{\"telegram\":{}}");
    expect_refused(
        &b, schema,
        "setting max_attempts must be an integer (SWITCHBOARD_CHANNEL_TELEGRAM_MAX_ATTEMPTS)");
    box_close(&b);
    setenv("SWITCHBOARD_CHANNEL_TELEGRAM_MAX_ATTEMPTS", "500", 1);
    box_open(&b, "{\"telegram\":{}}");
    expect_refused(&b, schema,
                   "max_attempts must be 1..100 (SWITCHBOARD_CHANNEL_TELEGRAM_MAX_ATTEMPTS)");
    box_close(&b);
    unsetenv("SWITCHBOARD_CHANNEL_TELEGRAM_BOT_TOKEN");
    unsetenv("SWITCHBOARD_CHANNEL_TELEGRAM_MAX_ATTEMPTS");
    unsetenv("SWITCHBOARD_CHANNEL_TELEGRAM_CHATS");
}

static void test_bad_schemas_are_refused(void **state)
{
    static const struct {
        const char *spec, *says;
    } bad[] = {
        {"return { settings = 5 }", "settings must be a table"},
        {"return { settings = { token = 'string' } }", "settings.token must be a table"},
        {"return { settings = { token = {} } }", "settings.token needs a type"},
        {"return { settings = { token = { type = 'text' } } }", "settings.token.type must be"},
        {"return { settings = { token = { type = 'string', pattern = '^x' } } }",
         "unknown field 'pattern'"},
        {"return { settings = { token = { type = 'string', requried = true } } }",
         "unknown field 'requried'"},
        {"return { settings = { token = { type = 'string', secret = 'yes' } } }",
         "settings.token.secret must be a boolean"},
        {"return { settings = { n = { type = 'integer', default = 'x' } } }",
         "setting n must be an integer (its default)"},
        {"return { settings = { n = { type = 'string', min = 1 } } }", "min/max are for numbers"},
        {"return { settings = { n = { type = 'string', one_of = { 1 } } } }",
         "settings.n.one_of[1] must be a string"},
        {"return { settings = { n = { type = 'string', one_of = {} } } }",
         "settings.n.one_of must be a list"},
        {"return { settings = { n = { type = 'string', default = 'c', one_of = { 'a', 'b' } } } }",
         "setting n must be one of \"a\", \"b\" (its default)"},
        {"return { settings = { Token = { type = 'string' } } }", "settings keys must be names"},
        {"return { settings = { 'x' } }", "settings keys must be names"},
    };
    (void)state;
    for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
        struct box b;
        box_open(&b, "{\"telegram\":{}}");
        if (apply(&b, bad[i].spec) != SB_ERR_INVAL || !strstr(b.eb.msg, bad[i].says))
            fail_msg("%s: wanted '%s', got '%s'", bad[i].spec, bad[i].says, b.eb.msg);
        box_close(&b);
    }
}

/* The spec is the plugin's table: its metamethods run, and may fail,
 * while the settings are read. The failure is an error, not a crash. */
static void test_a_failing_spec_table_is_an_error(void **state)
{
    struct box b;
    char buf[256];
    (void)state;
    box_open(&b, "{\"telegram\":{}}");
    assert_int_equal(
        apply(&b, "return setmetatable({}, { __index = function() error('boom') end })"),
        SB_ERR_LUA);
    assert_non_null(strstr(b.eb.msg, "channel telegram: settings:"));
    assert_non_null(strstr(b.eb.msg, "boom"));
    /* and the state still works, with no sb.config set */
    assert_string_equal(EVAL(&b, "return 1 + 1"), "2");
    box_close(&b);
}

/* ---------- scrubbing ---------- */

static void scrub(struct box *b, char *msg, size_t cap)
{
    lua_settings_scrub(b->L, msg, cap);
}

static void test_scrub_replaces_every_secret_and_cut_starts(void **state)
{
    static const char *const two = "return { settings = {\n"
                                   "  a = { type = 'string', secret = true },\n"
                                   "  b = { type = 'string', secret = true },\n"
                                   "  c = { type = 'string', secret = true },\n"
                                   "  d = { type = 'string' },\n"
                                   "} }\n";
    struct box b;
    char msg[256], small[24];
    (void)state;
    /* c is too short to scrub (it would eat ordinary words); d is no secret */
    box_open(&b,
             "{\"telegram\":{\"a\":\"s3cr3t-one\",\"b\":\"pw42\",\"c\":\"abc\",\"d\":\"public\"}}");
    assert_int_equal(apply(&b, two), SB_OK);

    snprintf(msg, sizeof(msg), "GET /bots3cr3t-one/x failed; again s3cr3t-one, pw42 abc public");
    scrub(&b, msg, sizeof(msg));
    assert_string_equal(msg, "GET /bot[secret]/x failed; again [secret], [secret] abc public");

    /* a replacement longer than the secret in a full buffer: cut, never
     * overflowing */
    snprintf(small, sizeof(small), "pw42pw42pw42pw42pw42");
    scrub(&b, small, sizeof(small));
    assert_string_equal(small, "[secret][secret][secret");

    /* a buffer that was cut inside a secret loses the secret's start */
    memcpy(small, "token=xxxxxxxxs3cr3t-one", sizeof(small) - 1);
    small[sizeof(small) - 1] = '\0';
    assert_string_equal(small, "token=xxxxxxxxs3cr3t-on");
    scrub(&b, small, sizeof(small));
    assert_string_equal(small, "token=xxxxxxxx[secret]");
    /* but not when the buffer was not full: "s3cr" is then just text */
    snprintf(msg, sizeof(msg), "s3cr");
    scrub(&b, msg, sizeof(msg));
    assert_string_equal(msg, "s3cr");
    box_close(&b);

    /* a state without settings scrubs nothing */
    box_open(&b, "");
    snprintf(msg, sizeof(msg), "s3cr3t-one");
    scrub(&b, msg, sizeof(msg));
    assert_string_equal(msg, "s3cr3t-one");
    box_close(&b);
}

static void test_error_messages_of_the_plugin_are_scrubbed(void **state)
{
    struct box b;
    char buf[256];
    (void)state;
    box_open(&b, "{\"telegram\":{\"bot_token\":\"" TOKEN "\"}}");
    assert_int_equal(apply(&b, schema), SB_OK);
    assert_int_equal(run(&b,
                         "error('POST https://api.telegram.org/bot' .. sb.config.bot_token .. "
                         "'/sendMessage: 401')",
                         buf, sizeof(buf)),
                     SB_ERR_LUA);
    assert_non_null(strstr(b.eb.msg, "/bot[secret]/sendMessage: 401"));
    assert_null(strstr(b.eb.msg, "AAH-very"));
    /* cut by the message buffer in the middle of the token */
    assert_int_equal(
        run(&b, "error(string.rep('.', 230) .. sb.config.bot_token, 0)", buf, sizeof(buf)),
        SB_ERR_LUA);
    assert_null(strstr(b.eb.msg, "123456:AA"));
    assert_non_null(strstr(b.eb.msg, "[secret]"));
    box_close(&b);
}

/* Runs f with stderr going to a file; returns what was written (owned). */
static char *capture_stderr(void (*f)(void *), void *arg)
{
    char path[] = "/tmp/sb-settings-log-XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    char *text = NULL;
    size_t len = 0;
    struct sb_errbuf eb = {{0}};

    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    f(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    assert_int_equal(sb_read_file(path, 1 << 20, &text, &len, &eb), SB_OK);
    unlink(path);
    return text;
}

static void log_turn(void *arg)
{
    struct plugin_env *e = arg;
    struct sb_turn t;
    sb_log_set_level(SB_LOG_INFO);
    plugin_env_turn(e, &t, "hello", NULL);
    sb_log_set_level(SB_LOG_ERROR);
    sb_turn_cleanup(&t);
}

/* Opens a host whose config has TOKEN for telegram and loads a plugin from
 * src (named tg.lua); then applies the test schema to its channels, which
 * is what host_add_channel does once it calls lua_settings_apply. The
 * plugins declare their settings in sb.channel{} as channel plugins do, so
 * the tests hold with and without that call at load. */
static void open_with_plugin(struct plugin_env *e, const char *src)
{
    struct sb_errbuf eb = {{0}};
    char path[128];
    FILE *f;

    assert_int_equal(plugin_env_open(e, "en"), 0);
    snprintf(e->cfg.channels, sizeof(e->cfg.channels), "{\"telegram\":{\"bot_token\":\"%s\"}}",
             TOKEN);
    snprintf(path, sizeof(path), "%s/tg.lua", e->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(src, f);
    fclose(f);
    if (sb_host_load_file(e->host, path, &eb)) fail_msg("%s", eb.msg);
    unlink(path); /* the host applied the settings while the plugin loaded */
}

/* A real plugin in the real host: its sb.log and print lines and its
 * failing intent, as the host logs them, never show the token. */
static void test_plugin_logs_are_scrubbed(void **state)
{
    struct plugin_env e;
    char *log;
    (void)state;

    open_with_plugin(&e, "sb.channel{ name = 'telegram', inbound = function() end,\n"
                         "  deliver = function() end, settings = " SETTINGS " }\n"
                         "sb.intent{ name = 'leaky', handler = function(ctx)\n"
                         "  sb.log('info', 'calling with ' .. sb.config.bot_token)\n"
                         "  print('token', sb.config.bot_token)\n"
                         "  error('failed for ' .. sb.config.bot_token)\n"
                         "end }\n");
    log = capture_stderr(log_turn, &e);
    assert_non_null(strstr(log, "tg: calling with [secret]"));
    assert_non_null(strstr(log, "tg: token\t[secret]"));
    assert_non_null(strstr(log, "failed for [secret]"));
    if (strstr(log, "AAH-very")) fail_msg("the token was logged:\n%s", log);
    free(log);
    plugin_env_close(&e);
}

/* ---------- the admin list ---------- */

static void test_channels_json_shows_secrets_as_set(void **state)
{
    struct plugin_env e;
    char *text;
    json_t *list;
    (void)state;

    open_with_plugin(&e, "sb.channel{ name = 'telegram', inbound = function() end,\n"
                         "  deliver = function() end, settings = " SETTINGS " }\n"
                         "sb.channel{ name = 'whatsapp', inbound = function() end,\n"
                         "  deliver = function() end, settings = " SETTINGS " }\n");
    list = sb_host_channels_json(e.host);
    text = json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        text, "[{\"active\":true,\"name\":\"telegram\",\"settings\":{\"api_base\":\"https://"
              "api.telegram.org\",\"bot_token\":\"set\",\"chats\":null,\"max_attempts\":20,"
              "\"mode\":\"webhook\",\"ratio\":0.5,\"secret_token\":null,\"templates\":{\"hello\":["
              "\"a\",\"b\"]},\"verbose\":false}},"
              "{\"active\":false,\"name\":\"whatsapp\",\"settings\":{\"api_base\":\"https://"
              "api.telegram.org\",\"bot_token\":null,\"chats\":null,\"max_attempts\":20,"
              "\"mode\":\"webhook\",\"ratio\":0.5,\"secret_token\":null,\"templates\":{\"hello\":["
              "\"a\",\"b\"]},\"verbose\":false}}]");
    free(text);
    json_decref(list);
    plugin_env_close(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_defaults_and_public_view),
        cmocka_unit_test(test_sb_config_is_read_only_at_every_level),
        cmocka_unit_test(test_a_channel_without_an_entry_is_inactive_with_defaults),
        cmocka_unit_test(test_no_settings_declared),
        cmocka_unit_test(test_bad_values_are_refused_naming_channel_and_key),
        cmocka_unit_test(test_a_secret_is_never_in_the_message),
        cmocka_unit_test(test_environment_overrides_the_file),
        cmocka_unit_test(test_bad_schemas_are_refused),
        cmocka_unit_test(test_a_failing_spec_table_is_an_error),
        cmocka_unit_test(test_scrub_replaces_every_secret_and_cut_starts),
        cmocka_unit_test(test_error_messages_of_the_plugin_are_scrubbed),
        cmocka_unit_test(test_plugin_logs_are_scrubbed),
        cmocka_unit_test(test_channels_json_shows_secrets_as_set),
    };
    sb_log_set_level(SB_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

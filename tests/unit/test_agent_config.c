/*
 * test_agent_config.c - core/agents/agent_config.c: teams (time zone loaded,
 * hours and holidays parsed, errors naming the field), agent profiles
 * (capacity 1-50, skill shape, at most 50 skills), routing rules and SLA
 * policies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "agent_admin.h"

typedef enum sb_err (*check_fn)(const json_t *in, json_t **out, struct sb_errbuf *eb);

/* Runs f on json; returns its code and leaves the message in msg. */
static enum sb_err run(check_fn f, const char *json, char msg[256])
{
    struct sb_errbuf eb = {{0}};
    json_error_t err;
    json_t *in = json_loads(json, 0, &err), *out = NULL;
    enum sb_err rc;
    if (!in) fail_msg("bad test JSON: %s", err.text);
    rc = f(in, &out, &eb);
    snprintf(msg, 256, "%s", eb.msg);
    json_decref(in);
    json_decref(out);
    return rc;
}

static enum sb_err team_check(const json_t *in, json_t **out, struct sb_errbuf *eb)
{
    return team_validate(in, "billing", NULL, out, eb);
}

static void expect_error(check_fn f, const char *json, const char *prefix)
{
    char msg[256];
    assert_int_equal(run(f, json, msg), SB_ERR_INVAL);
    if (strncmp(msg, prefix, strlen(prefix)) != 0)
        fail_msg("%s -> \"%s\", expected it to start with \"%s\"", json, msg, prefix);
}

static void test_team_checks_zone_hours_and_holidays(void **state)
{
    char msg[256];
    struct sb_errbuf eb = {{0}};
    json_t *in, *out = NULL;
    (void)state;
    in = json_pack("{s:s, s:s, s:{s:[[s,s]]}, s:[s]}", "name", "Billing", "timezone",
                   "Europe/Lisbon", "hours", "mon", "09:00", "18:00", "holidays", "2026-12-25");
    assert_int_equal(team_validate(in, "billing", NULL, &out, &eb), SB_OK);
    assert_string_equal(json_string_value(json_object_get(out, "timezone")), "Europe/Lisbon");
    assert_true(json_is_true(json_object_get(out, "allow_pick")));
    assert_true(json_is_false(json_object_get(out, "require_language")));
    json_decref(out);
    json_decref(in);
    assert_int_equal(run(team_check, "{\"name\":\"Support\"}", msg), SB_OK);
    expect_error(team_check, "{\"name\":\"B\",\"timezone\":\"Mars/Olympus\"}", "timezone:");
    expect_error(team_check, "{\"name\":\"B\",\"timezone\":\"../../etc/passwd\"}", "timezone:");
    expect_error(team_check, "{\"name\":\"B\",\"hours\":{\"mon\":[[\"25:00\",\"26:00\"]]}}",
                 "hours.mon[0]");
    expect_error(team_check, "{\"name\":\"B\",\"hours\":{\"funday\":[]}}", "hours");
    expect_error(team_check, "{\"name\":\"B\",\"holidays\":[\"2026-13-40\"]}", "holidays");
    expect_error(team_check, "{\"timezone\":\"UTC\"}", "name:");
    expect_error(team_check, "{\"name\":\"B\",\"allow_pick\":\"yes\"}", "allow_pick:");
    expect_error(team_check, "{\"name\":\"B\",\"colour\":\"red\"}", "colour:");
    expect_error(team_check, "{\"name\":\"B\",\"outside_hours\":{\"en\":3}}", "outside_hours.en");
    in = json_object();
    assert_int_equal(team_validate(in, "Bad Id", NULL, &out, &eb), SB_ERR_INVAL);
    json_decref(in);
}

static void test_profile_capacity_skills_and_status(void **state)
{
    char msg[256], big[4096];
    (void)state;
    assert_int_equal(run(agent_profile_validate,
                         "{\"capacity\":6,\"skills\":[\"lang:pt-BR\",\"topic:billing\"],"
                         "\"teams\":[\"default\"],\"status\":\"online\"}",
                         msg),
                     SB_OK);
    assert_int_equal(run(agent_profile_validate, "{}", msg), SB_OK);
    expect_error(agent_profile_validate, "{\"capacity\":0}", "capacity:");
    expect_error(agent_profile_validate, "{\"capacity\":51}", "capacity:");
    expect_error(agent_profile_validate, "{\"capacity\":\"4\"}", "capacity:");
    expect_error(agent_profile_validate, "{\"skills\":[\"billing\"]}", "skills[0]");
    expect_error(agent_profile_validate, "{\"skills\":[\"lang:pt BR\"]}", "skills[0]");
    expect_error(agent_profile_validate, "{\"skills\":[\"Lang:en\"]}", "skills[0]");
    expect_error(agent_profile_validate, "{\"status\":\"busy\"}", "status:");
    expect_error(agent_profile_validate, "{\"teams\":[\"No Such\"]}", "teams[0]");
    {
        char *p = big;
        p += snprintf(p, 32, "{\"skills\":[");
        for (int i = 0; i < 51; i++)
            p += snprintf(p, 32, "%s\"topic:t%d\"", i ? "," : "", i);
        snprintf(p, 8, "]}");
    }
    expect_error(agent_profile_validate, big, "skills:");
    assert_true(agent_skill_valid("lang:pt-BR"));
    assert_true(agent_skill_valid("topic:a_b-C9"));
    assert_false(agent_skill_valid(":x"));
    assert_false(agent_skill_valid("topic:"));
}

static void test_rules_and_policies(void **state)
{
    char msg[256];
    (void)state;
    assert_int_equal(run(routing_rules_validate,
                         "{\"rules\":[{\"match\":{\"channel\":\"web\",\"locale\":\"pt-BR\","
                         "\"topic\":\"billing\",\"attrs\":{\"plan\":\"pro\"}},\"team\":\"billing\","
                         "\"priority\":1,\"skills\":[\"lang:pt-BR\"]},{\"team\":\"default\"}]}",
                         msg),
                     SB_OK);
    assert_int_equal(run(routing_rules_validate, "[]", msg), SB_OK);
    expect_error(routing_rules_validate, "{\"rules\":[{\"team\":\"a\",\"priority\":3}]}",
                 "rules[0].priority");
    expect_error(routing_rules_validate, "{\"rules\":[{\"team\":\"a\"},{\"match\":{}}]}",
                 "rules[1].team");
    expect_error(routing_rules_validate,
                 "{\"rules\":[{\"team\":\"a\",\"match\":{\"country\":\"pt\"}}]}",
                 "rules[0].match.country");
    expect_error(routing_rules_validate,
                 "{\"rules\":[{\"team\":\"a\",\"match\":{\"attrs\":{\"x\":[1]}}}]}",
                 "rules[0].match.attrs.x");
    expect_error(routing_rules_validate, "{\"rule\":[]}", "rules:");
    assert_int_equal(
        run(sla_policies_validate,
            "{\"policies\":[{\"channel\":\"*\",\"priority\":0,\"first_response_min\":10,"
            "\"next_response_min\":30,\"resolution_min\":null}]}",
            msg),
        SB_OK);
    expect_error(sla_policies_validate,
                 "{\"policies\":[{\"priority\":0,\"first_response_min\":0,"
                 "\"next_response_min\":1,\"resolution_min\":1}]}",
                 "policies[0].first_response_min");
    expect_error(sla_policies_validate,
                 "{\"policies\":[{\"priority\":0,\"first_response_min\":1,"
                 "\"resolution_min\":1}]}",
                 "policies[0].next_response_min");
    expect_error(sla_policies_validate,
                 "{\"policies\":[{\"priority\":0,\"first_response_min\":1,\"next_response_min\":1,"
                 "\"resolution_min\":1},{\"channel\":\"*\",\"priority\":0,\"first_response_min\":1,"
                 "\"next_response_min\":1,\"resolution_min\":1}]}",
                 "policies[1]");
    expect_error(sla_policies_validate, "{\"policies\":[{\"priority\":5}]}",
                 "policies[0].priority");
    expect_error(sla_policies_validate, "{\"policies\":[{\"channel\":\"W EB\",\"priority\":0}]}",
                 "policies[0].channel");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_team_checks_zone_hours_and_holidays),
        cmocka_unit_test(test_profile_capacity_skills_and_status),
        cmocka_unit_test(test_rules_and_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

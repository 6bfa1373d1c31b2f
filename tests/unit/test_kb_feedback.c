/*
 * test_kb_feedback.c - which "did this help?" votes are stored (issue 14,
 * feedback poisoning): a customer's vote only for an article the bot
 * answered that conversation with, once; never for a draft or an article
 * shown elsewhere; a help-center vote once per page view. A refused vote
 * stores nothing.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "kb_store_env.h"
#include "sb_kb.h"
#include "sb_log.h"
#include "sb_store.h"

struct env {
    char path[64];
    struct sb_store *st;
    struct sb_kb *kb;
    int64_t shown, other, draft;
};

static int64_t add_article(struct sb_kb *kb, const char *slug, const char *status)
{
    struct sb_errbuf eb = {{0}};
    struct sb_kb_saved saved;
    struct sb_kb_article a = {
        .slug = slug, .locale = "en", .title = slug, .summary = "Said.", .status = status};
    if (sb_kb_save(kb, &a, 0, 0, &saved, &eb)) fail_msg("save %s: %s", slug, eb.msg);
    return saved.id;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    if (!e || kb_store_env_open(e->path, "kbfeedback", &e->st, &e->kb)) return -1;
    e->shown = add_article(e->kb, "shown", "published");
    e->other = add_article(e->kb, "other", "published");
    e->draft = add_article(e->kb, "secret-draft", "draft");
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    kb_store_env_close(e->path, e->st, e->kb);
    free(e);
    return 0;
}

static int votes(struct env *e)
{
    sqlite3_stmt *s;
    int n;
    assert_int_equal(
        sqlite3_prepare_v2(sb_store_db(e->st), "SELECT count(*) FROM kb_feedback", -1, &s, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

static void a_customer_votes_only_on_what_the_bot_showed_them(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};

    assert_int_equal(sb_kb_note_shown(e->kb, 7, e->shown), SB_OK);
    /* never shown in this conversation: refused, nothing stored */
    assert_int_equal(sb_kb_vote(e->kb, e->other, "bot", false, 7, &eb), SB_ERR_NOT_FOUND);
    assert_non_null(strstr(eb.msg, "not shown"));
    assert_int_equal(sb_kb_vote(e->kb, 999999, "bot", false, 7, &eb), SB_ERR_NOT_FOUND);
    /* shown in conversation 7, not in 8 */
    assert_int_equal(sb_kb_vote(e->kb, e->shown, "bot", false, 8, &eb), SB_ERR_NOT_FOUND);
    assert_int_equal(votes(e), 0);
    /* the legitimate vote counts */
    assert_int_equal(sb_kb_vote(e->kb, e->shown, "bot", true, 7, &eb), SB_OK);
    assert_int_equal(votes(e), 1);
}

static void a_draft_is_never_shown_so_never_voted_on(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};

    /* even if something claims to have shown it */
    assert_int_equal(sb_kb_note_shown(e->kb, 7, e->draft), SB_OK);
    assert_int_equal(sb_kb_vote(e->kb, e->draft, "bot", false, 7, &eb), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_kb_vote_view(e->kb, e->draft, false, "1.abc", NULL, &eb), SB_ERR_NOT_FOUND);
    assert_int_equal(votes(e), 0);
}

static void a_conversation_votes_once_per_article(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};

    assert_int_equal(sb_kb_note_shown(e->kb, 7, e->shown), SB_OK);
    assert_int_equal(sb_kb_note_shown(e->kb, 7, e->shown), SB_OK); /* shown again */
    assert_int_equal(sb_kb_vote(e->kb, e->shown, "bot", false, 7, &eb), SB_OK);
    for (int i = 0; i < 50; i++)
        assert_int_equal(sb_kb_vote(e->kb, e->shown, "bot", false, 7, &eb), SB_ERR_EXISTS);
    assert_non_null(strstr(eb.msg, "already voted"));
    assert_int_equal(sb_kb_vote(e->kb, e->shown, "bot", true, 7, &eb), SB_ERR_EXISTS);
    assert_int_equal(votes(e), 1);
    /* another conversation shown the same article has its own vote */
    assert_int_equal(sb_kb_note_shown(e->kb, 9, e->shown), SB_OK);
    assert_int_equal(sb_kb_vote(e->kb, e->shown, "bot", true, 9, &eb), SB_OK);
    assert_int_equal(votes(e), 2);
}

static void a_page_view_votes_once(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};

    assert_int_equal(sb_kb_vote_view(e->kb, e->shown, true, "100.aa", "v1", &eb), SB_OK);
    assert_int_equal(sb_kb_vote_view(e->kb, e->shown, false, "100.aa", "v1", &eb), SB_ERR_EXISTS);
    assert_int_equal(sb_kb_vote_view(e->kb, e->shown, false, "100.bb", "v1", &eb), SB_OK);
    assert_int_equal(sb_kb_vote_view(e->kb, 999999, false, "100.cc", "v1", &eb), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_kb_vote_view(e->kb, e->shown, false, "", "v1", &eb), SB_ERR_INVAL);
    assert_int_equal(votes(e), 2);
    /* help-center votes only come with a page view */
    assert_int_equal(sb_kb_vote(e->kb, e->shown, "help", true, 0, &eb), SB_ERR_INVAL);
    assert_int_equal(votes(e), 2);
}

static void an_agent_names_any_article_that_exists(void **state)
{
    struct env *e = *state;
    struct sb_errbuf eb = {{0}};

    assert_int_equal(sb_kb_vote(e->kb, e->other, "agent", true, 5, &eb), SB_OK);
    assert_int_equal(sb_kb_vote(e->kb, 999999, "agent", true, 5, &eb), SB_ERR_NOT_FOUND);
    assert_int_equal(votes(e), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_customer_votes_only_on_what_the_bot_showed_them),
        T(a_draft_is_never_shown_so_never_voted_on),
        T(a_conversation_votes_once_per_article),
        T(a_page_view_votes_once),
        T(an_agent_names_any_article_that_exists),
    };
    sb_log_set_level(SB_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

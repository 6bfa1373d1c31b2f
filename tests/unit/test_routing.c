/*
 * test_routing.c - core/agents/routing.c: hand-written cases for the choices the
 * contract names (least busy, then longest idle; priority before age;
 * closed teams wait; a skip sends the conversation elsewhere), and
 * properties checked after every step of seeded random runs against an
 * independent model: capacity is never exceeded, every offer goes to an
 * eligible agent (and the best one), skipped agents never see the
 * conversation again, queues are served in order, and nothing that some
 * agent could take is left waiting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "routing.h"

static const char *const no_skills[1] = {NULL};

static void agent(struct sb_router *r, int64_t id, bool online, double cap, const char *skill,
                  const char *team, int64_t last)
{
    const char *skills[1] = {skill};
    const char *teams[1] = {team};
    assert_int_equal(sb_router_agent_set(r, id, online, cap, skill ? skills : no_skills,
                                         skill ? 1 : 0, teams, 1, last),
                     SB_OK);
}

static void queue(struct sb_router *r, int64_t conv, const char *team, int prio, int64_t at,
                  const char *skill)
{
    const char *skills[1] = {skill};
    assert_int_equal(sb_router_enqueue(r, conv, team, prio, 0, at, 1.0, skill ? skills : no_skills,
                                       skill ? 1 : 0),
                     SB_OK);
}

static void test_least_busy_then_longest_idle_then_lowest_id(void **state)
{
    struct sb_router *r = sb_router_new();
    struct sb_offer out[8];
    agent(r, 1, true, 4, NULL, "support", 100);
    agent(r, 2, true, 4, NULL, "support", 50);
    agent(r, 3, true, 2, NULL, "support", 10);
    /* 3 is the longest idle of three empty agents */
    queue(r, 10, "support", 0, 1, NULL);
    assert_int_equal(sb_router_route(r, 1000, out, 8), 1);
    assert_int_equal(out[0].agent, 3);
    /* now 3 is at 1/2, the others at 0: 2 (idle since 50) before 1 */
    queue(r, 11, "support", 0, 2, NULL);
    assert_int_equal(sb_router_route(r, 1001, out, 8), 1);
    assert_int_equal(out[0].agent, 2);
    queue(r, 12, "support", 0, 3, NULL);
    assert_int_equal(sb_router_route(r, 1002, out, 8), 1);
    assert_int_equal(out[0].agent, 1);
    /* loads 1/4, 1/4, 1/2: 1 and 2 tie on load; 2 was assigned at 1001, 1 at 1002 */
    queue(r, 13, "support", 0, 4, NULL);
    assert_int_equal(sb_router_route(r, 1003, out, 8), 1);
    assert_int_equal(out[0].agent, 2);
    /* equal load and idle time: the lowest id */
    sb_router_free(r);
    r = sb_router_new();
    agent(r, 7, true, 1, NULL, "t", 5);
    agent(r, 4, true, 1, NULL, "t", 5);
    queue(r, 1, "t", 0, 1, NULL);
    assert_int_equal(sb_router_route(r, 9, out, 8), 1);
    assert_int_equal(out[0].agent, 4);
    sb_router_free(r);
}

static void test_priority_before_age_and_due_before_queue_time(void **state)
{
    struct sb_router *r = sb_router_new();
    struct sb_offer out[8];
    agent(r, 1, false, 1, NULL, "t", 0);
    queue(r, 1, "t", 0, 100, NULL);
    queue(r, 2, "t", 2, 300, NULL);
    queue(r, 3, "t", 1, 200, NULL);
    const char *const none[1] = {NULL};
    /* same priority: an earlier SLA due time goes first whatever the age */
    assert_int_equal(sb_router_enqueue(r, 4, "t", 0, 5000, 50, 1.0, none, 0), SB_OK);
    assert_int_equal(sb_router_enqueue(r, 5, "t", 0, 4000, 60, 1.0, none, 0), SB_OK);
    assert_int_equal(sb_router_route(r, 1, out, 8), 0);
    int64_t expect[] = {2, 3, 5, 4, 1};
    for (int i = 0; i < 5; i++) {
        agent(r, 1, true, 1, NULL, "t", 0);
        assert_int_equal(sb_router_route(r, 10 + i, out, 8), 1);
        assert_int_equal(out[0].conv, expect[i]);
        assert_int_equal(sb_router_release(r, 1, out[0].conv), SB_OK);
    }
    sb_router_free(r);
}

static void test_closed_team_waits_until_it_opens(void **state)
{
    struct sb_router *r = sb_router_new();
    struct sb_offer out[8];
    agent(r, 1, true, 4, NULL, "night", 0);
    sb_router_team_open(r, "night", false);
    queue(r, 1, "night", 0, 1, NULL);
    assert_int_equal(sb_router_route(r, 1, out, 8), 0);
    agent(r, 1, true, 4, NULL, "night", 0); /* an agent event does not open it either */
    assert_int_equal(sb_router_route(r, 2, out, 8), 0);
    assert_int_equal(sb_router_queued(r), 1);
    sb_router_team_open(r, "night", true);
    assert_int_equal(sb_router_route(r, 3, out, 8), 1);
    assert_int_equal(out[0].conv, 1);
    sb_router_free(r);
}

static void test_skip_reassigns_and_never_offers_again(void **state)
{
    struct sb_router *r = sb_router_new();
    struct sb_offer out[8];
    agent(r, 1, true, 4, NULL, "t", 0);
    agent(r, 2, true, 4, NULL, "t", 10);
    queue(r, 9, "t", 0, 1, NULL);
    assert_int_equal(sb_router_route(r, 100, out, 8), 1);
    assert_int_equal(out[0].agent, 1);
    assert_int_equal(sb_router_agent_load(r, 1), 1000);
    assert_int_equal(sb_router_skip(r, 9, 1), SB_OK);
    assert_int_equal(sb_router_agent_load(r, 1), 0);
    assert_int_equal(sb_router_route(r, 101, out, 8), 1);
    assert_int_equal(out[0].agent, 2);
    assert_int_equal(sb_router_skip(r, 9, 2), SB_OK);
    /* both skipped: it waits, even though both have room */
    assert_int_equal(sb_router_route(r, 102, out, 8), 0);
    agent(r, 3, true, 4, NULL, "t", 0);
    assert_int_equal(sb_router_route(r, 103, out, 8), 1);
    assert_int_equal(out[0].agent, 3);
    sb_router_free(r);
}

static void test_unservable_head_does_not_block_but_nobody_jumps_the_line(void **state)
{
    struct sb_router *r = sb_router_new();
    struct sb_offer out[8];
    agent(r, 1, true, 1, "lang:en", "t", 0);
    queue(r, 1, "t", 0, 1, "lang:ro"); /* nobody speaks it */
    queue(r, 2, "t", 0, 2, "lang:en");
    queue(r, 3, "t", 0, 3, NULL);
    assert_int_equal(sb_router_route(r, 5, out, 8), 1);
    /* 2 and 3 both fit agent 1: the older one */
    assert_int_equal(out[0].conv, 2);
    assert_int_equal(sb_router_release(r, 1, 2), SB_OK);
    assert_int_equal(sb_router_route(r, 6, out, 8), 1);
    assert_int_equal(out[0].conv, 3);
    assert_int_equal(sb_router_queued(r), 1);
    sb_router_free(r);
}

static void test_offline_agent_loses_offers_but_keeps_holds(void **state)
{
    struct sb_router *r = sb_router_new();
    struct sb_offer out[8];
    agent(r, 1, true, 2, NULL, "t", 0);
    queue(r, 1, "t", 0, 1, NULL);
    queue(r, 2, "t", 0, 2, NULL);
    assert_int_equal(sb_router_route(r, 5, out, 8), 2);
    assert_int_equal(sb_router_hold(r, 1, 1, 1.0), SB_OK); /* accepted */
    agent(r, 1, false, 2, NULL, "t", 5);
    assert_int_equal(sb_router_agent_load(r, 1), 1000);
    assert_int_equal(sb_router_queued(r), 1);
    agent(r, 2, true, 2, NULL, "t", 0);
    assert_int_equal(sb_router_route(r, 6, out, 8), 1);
    assert_int_equal(out[0].conv, 2);
    assert_int_equal(out[0].agent, 2);
    sb_router_free(r);
}

static void test_many_arrivals_in_one_turn_never_exceed_capacity(void **state)
{
    struct sb_router *r = sb_router_new();
    struct sb_offer out[64];
    agent(r, 1, true, 2, NULL, "t", 0);
    agent(r, 2, true, 1.5, NULL, "t", 0);
    const char *const none[1] = {NULL};
    for (int i = 0; i < 40; i++)
        assert_int_equal(sb_router_enqueue(r, i + 1, "t", 0, 0, i, 0.5, none, 0), SB_OK);
    assert_int_equal(sb_router_route(r, 1, out, 64), 7);
    assert_int_equal(sb_router_agent_load(r, 1), 2000);
    assert_int_equal(sb_router_agent_load(r, 2), 1500);
    assert_int_equal(sb_router_route(r, 2, out, 64), 0);
    sb_router_free(r);
}

static void test_bad_input_is_refused(void **state)
{
    struct sb_router *r = sb_router_new();
    const char *const none[1] = {NULL};
    const char *const empty[1] = {""};
    assert_int_equal(sb_router_enqueue(r, 1, "", 0, 0, 0, 1.0, none, 0), SB_ERR_INVAL);
    assert_int_equal(sb_router_enqueue(r, 1, NULL, 0, 0, 0, 1.0, none, 0), SB_ERR_INVAL);
    assert_int_equal(sb_router_enqueue(r, 1, "t", 0, 0, 0, 0.0, none, 0), SB_ERR_INVAL);
    assert_int_equal(sb_router_enqueue(r, 1, "t", 0, 0, 0, 1.0, empty, 1), SB_ERR_INVAL);
    assert_int_equal(sb_router_agent_set(r, 1, true, -1, none, 0, none, 0, 0), SB_ERR_INVAL);
    assert_int_equal(sb_router_remove(r, 42), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_router_release(r, 1, 42), SB_ERR_NOT_FOUND);
    assert_int_equal(sb_router_hold(r, 99, 1, 1.0), SB_ERR_NOT_FOUND);
    sb_router_free(NULL);
    sb_router_free(r);
}

/* ------- the random model ------- */

#define NA 10
#define NT 3
#define NS 4
#define MAXC 3000

static uint64_t rng;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static int pick(int n)
{
    return (int)(next_rand() % (uint64_t)n);
}

static const char *skill_names[NS] = {"lang:en", "lang:pt", "topic:billing", "topic:tech"};
static const char *team_names[NT] = {"a", "b", "c"};

struct m_agent {
    bool online;
    int64_t cap, load, last;
    unsigned skills, teams;
};
enum { M_NONE, M_QUEUED, M_OFFERED, M_HELD };
struct m_conv {
    int state, team, prio, agent;
    int64_t due, at, weight;
    unsigned skills;
    bool skipped[NA];
};
struct model {
    struct m_agent a[NA];
    struct m_conv c[MAXC];
    bool open[NT];
    int nconv;
    int64_t clock;
    struct sb_router *r;
};

static void m_push_agent(struct model *m, int i)
{
    const char *skills[NS], *teams[NT];
    int ns = 0, nt = 0;
    for (int s = 0; s < NS; s++)
        if (m->a[i].skills & (1u << s)) skills[ns++] = skill_names[s];
    for (int t = 0; t < NT; t++)
        if (m->a[i].teams & (1u << t)) teams[nt++] = team_names[t];
    assert_int_equal(sb_router_agent_set(m->r, i + 1, m->a[i].online, (double)m->a[i].cap / 1000,
                                         skills, ns, teams, nt, m->a[i].last),
                     SB_OK);
    if (!m->a[i].online)
        for (int c = 0; c < m->nconv; c++)
            if (m->c[c].state == M_OFFERED && m->c[c].agent == i) {
                m->c[c].state = M_QUEUED;
                m->a[i].load -= m->c[c].weight;
            }
}

static bool m_eligible(const struct model *m, int ai, int ci)
{
    const struct m_agent *a = &m->a[ai];
    const struct m_conv *c = &m->c[ci];
    return a->online && (a->teams & (1u << c->team)) && (a->skills & c->skills) == c->skills &&
           a->load + c->weight <= a->cap && !c->skipped[ai];
}

static bool m_before(const struct model *m, int x, int y)
{
    const struct m_conv *a = &m->c[x], *b = &m->c[y];
    int64_t da = a->due > 0 ? a->due : INT64_MAX, db = b->due > 0 ? b->due : INT64_MAX;
    if (a->prio != b->prio) return a->prio > b->prio;
    if (da != db) return da < db;
    if (a->at != b->at) return a->at < b->at;
    return x < y;
}

static bool m_agent_before(const struct model *m, int x, int y)
{
    const struct m_agent *a = &m->a[x], *b = &m->a[y];
    if (a->load * b->cap != b->load * a->cap) return a->load * b->cap < b->load * a->cap;
    if (a->last != b->last) return a->last < b->last;
    return x < y;
}

static void m_check_offer(struct model *m, const struct sb_offer *o)
{
    int ci = (int)o->conv - 1, ai = (int)o->agent - 1;
    assert_true(ci >= 0 && ci < m->nconv && ai >= 0 && ai < NA);
    assert_int_equal(m->c[ci].state, M_QUEUED);
    assert_true(m->open[m->c[ci].team]);
    /* online, in the team, every skill, room, not skipped */
    assert_true(m_eligible(m, ai, ci));
    /* the best eligible agent */
    for (int j = 0; j < NA; j++)
        if (j != ai && m_eligible(m, j, ci)) assert_false(m_agent_before(m, j, ai));
    /* no earlier conversation of the team and priority that this agent
     * could take is passed over */
    for (int k = 0; k < m->nconv; k++)
        if (k != ci && m->c[k].state == M_QUEUED && m->c[k].team == m->c[ci].team &&
            m->c[k].prio == m->c[ci].prio && m_before(m, k, ci))
            assert_false(m_eligible(m, ai, k));
    m->c[ci].state = M_OFFERED;
    m->c[ci].agent = ai;
    m->a[ai].load += m->c[ci].weight;
    m->a[ai].last = m->clock;
}

static void m_route(struct model *m)
{
    struct sb_offer out[16];
    int max = pick(4) == 0 ? 3 : 16, n;
    m->clock++;
    do {
        n = sb_router_route(m->r, m->clock, out, max);
        for (int i = 0; i < n; i++)
            m_check_offer(m, &out[i]);
    } while (n == max);
    int queued = 0;
    for (int c = 0; c < m->nconv; c++) {
        if (m->c[c].state != M_QUEUED) continue;
        queued++;
        if (!m->open[m->c[c].team]) continue;
        /* work conservation: nobody could take it */
        for (int a = 0; a < NA; a++)
            if (m_eligible(m, a, c))
                fail_msg("conv %d waits but agent %d could take it", c + 1, a + 1);
    }
    assert_int_equal(sb_router_queued(m->r), queued);
    for (int a = 0; a < NA; a++) {
        assert_int_equal(sb_router_agent_load(m->r, a + 1), m->a[a].load);
        assert_true(m->a[a].load <= m->a[a].cap);
    }
}

static void m_arrive(struct model *m)
{
    if (m->nconv >= MAXC) return;
    int ci = m->nconv++;
    struct m_conv *c = &m->c[ci];
    memset(c, 0, sizeof(*c));
    c->team = pick(NT);
    c->prio = pick(3);
    c->due = pick(3) == 0 ? 0 : 1000 + pick(50);
    c->at = m->clock;
    c->weight = pick(4) == 0 ? 500 : 1000;
    c->skills = pick(3) == 0 ? 0 : (1u << pick(NS)) | (pick(3) == 0 ? 1u << pick(NS) : 0);
    c->state = M_QUEUED;
    const char *skills[NS];
    int ns = 0;
    for (int s = 0; s < NS; s++)
        if (c->skills & (1u << s)) skills[ns++] = skill_names[s];
    assert_int_equal(sb_router_enqueue(m->r, ci + 1, team_names[c->team], c->prio, c->due, c->at,
                                       (double)c->weight / 1000, skills, ns),
                     SB_OK);
}

/* A random conversation in state st, or -1. */
static int m_find(struct model *m, int st)
{
    if (!m->nconv) return -1;
    int start = pick(m->nconv);
    for (int k = 0; k < m->nconv; k++) {
        int c = (start + k) % m->nconv;
        if (m->c[c].state == st) return c;
    }
    return -1;
}

static void m_step(struct model *m)
{
    int what = pick(100), c;
    if (what < 30) {
        int n = pick(20) == 0 ? 100 + pick(300) : 1 + pick(3);
        for (int i = 0; i < n; i++)
            m_arrive(m);
    } else if (what < 50) { /* resolved or transferred */
        if ((c = m_find(m, pick(2) ? M_HELD : M_OFFERED)) < 0) return;
        assert_int_equal(sb_router_release(m->r, m->c[c].agent + 1, c + 1), SB_OK);
        m->a[m->c[c].agent].load -= m->c[c].weight;
        m->c[c].state = M_NONE;
    } else if (what < 62) { /* accepted */
        if ((c = m_find(m, M_OFFERED)) < 0) return;
        assert_int_equal(
            sb_router_hold(m->r, m->c[c].agent + 1, c + 1, (double)m->c[c].weight / 1000), SB_OK);
        m->c[c].state = M_HELD;
    } else if (what < 74) { /* declined or expired */
        if ((c = m_find(m, M_OFFERED)) < 0) return;
        int a = m->c[c].agent;
        assert_int_equal(sb_router_skip(m->r, c + 1, a + 1), SB_OK);
        m->a[a].load -= m->c[c].weight;
        m->c[c].skipped[a] = true;
        m->c[c].state = M_QUEUED;
    } else if (what < 86) { /* online / offline */
        int a = pick(NA);
        m->a[a].online = !m->a[a].online;
        m_push_agent(m, a);
    } else if (what < 90) { /* capacity, skills, teams change (never below the load) */
        int a = pick(NA);
        m->a[a].cap = (1 + pick(6)) * 1000;
        if (m->a[a].cap < m->a[a].load) m->a[a].cap = (m->a[a].load + 999) / 1000 * 1000;
        m->a[a].skills = (unsigned)pick(1 << NS);
        m->a[a].teams = (unsigned)pick(1 << NT);
        m_push_agent(m, a);
    } else if (what < 92) { /* open or close a team */
        int t = pick(NT);
        m->open[t] = pick(3) != 0;
        sb_router_team_open(m->r, team_names[t], m->open[t]);
    } else if (what < 96) { /* picked by hand by an agent with room */
        if ((c = m_find(m, pick(2) ? M_QUEUED : M_OFFERED)) < 0) return;
        int a = pick(NA);
        if (m->a[a].load + m->c[c].weight > m->a[a].cap) return;
        assert_int_equal(sb_router_hold(m->r, a + 1, c + 1, (double)m->c[c].weight / 1000), SB_OK);
        if (m->c[c].state == M_OFFERED) m->a[m->c[c].agent].load -= m->c[c].weight;
        m->a[a].load += m->c[c].weight;
        m->c[c].state = M_HELD;
        m->c[c].agent = a;
    } else if (what < 98) { /* new priority, due time or team while waiting or offered */
        if ((c = m_find(m, pick(2) ? M_QUEUED : M_OFFERED)) < 0) return;
        struct m_conv *mc = &m->c[c];
        mc->prio = pick(3);
        mc->due = pick(3) == 0 ? 0 : 1000 + pick(50);
        mc->team = pick(NT);
        const char *skills[NS];
        int ns = 0;
        for (int s = 0; s < NS; s++)
            if (mc->skills & (1u << s)) skills[ns++] = skill_names[s];
        assert_int_equal(sb_router_enqueue(m->r, c + 1, team_names[mc->team], mc->prio, mc->due,
                                           mc->at, (double)mc->weight / 1000, skills, ns),
                         SB_OK);
    } else { /* left the queue (returned to the bot) */
        if ((c = m_find(m, M_QUEUED)) < 0) return;
        assert_int_equal(sb_router_remove(m->r, c + 1), SB_OK);
        m->c[c].state = M_NONE;
    }
}

/* What a unit of work does with the router (handoff.c): changes a copy,
 * then either adopts it (commit) or throws it away (rollback). Either way
 * the model must go on matching: an adopted copy is the router, and a
 * dropped copy's changes never reach the original. */
static void m_copy(struct model *m)
{
    struct sb_router *c = sb_router_clone(m->r);
    struct sb_offer out[8];
    assert_non_null(c);
    if (pick(2)) {
        sb_router_free(m->r);
        m->r = c;
        return;
    }
    assert_int_equal(sb_router_enqueue(c, 100000, team_names[0], 2, 1, 1, 1.0, NULL, 0), SB_OK);
    sb_router_route(c, m->clock, out, 8);
    for (int a = 0; a < NA; a++)
        sb_router_agent_set(c, a + 1, false, 0, NULL, 0, NULL, 0, 0);
    sb_router_free(c);
}

static void random_runs(bool copies)
{
    static struct model m;
    for (uint64_t seed = 1; seed <= 16; seed++) {
        memset(&m, 0, sizeof(m));
        rng = seed * 0x9e3779b97f4a7c15ull;
        m.r = sb_router_new();
        assert_non_null(m.r);
        for (int t = 0; t < NT; t++)
            m.open[t] = true;
        for (int a = 0; a < NA; a++) {
            m.a[a].online = pick(3) != 0;
            m.a[a].cap = (1 + pick(6)) * 1000;
            m.a[a].skills = (unsigned)pick(1 << NS) | 1u;
            m.a[a].teams = (unsigned)pick(1 << NT) | (1u << (a % NT));
            m.a[a].last = pick(100);
            m_push_agent(&m, a);
        }
        for (int step = 0; step < 600; step++) {
            /* sometimes several events in one loop turn before routing */
            int events = pick(3) == 0 ? 2 + pick(4) : 1;
            for (int e = 0; e < events; e++)
                m_step(&m);
            if (copies && pick(4) == 0) m_copy(&m);
            m_route(&m);
        }
        sb_router_free(m.r);
    }
}

static void test_properties_hold_over_random_runs(void **state)
{
    (void)state;
    random_runs(false);
}

static void test_a_copy_carries_on_as_the_router_and_a_dropped_one_changes_nothing(void **state)
{
    (void)state;
    random_runs(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_least_busy_then_longest_idle_then_lowest_id),
        cmocka_unit_test(test_priority_before_age_and_due_before_queue_time),
        cmocka_unit_test(test_closed_team_waits_until_it_opens),
        cmocka_unit_test(test_skip_reassigns_and_never_offers_again),
        cmocka_unit_test(test_unservable_head_does_not_block_but_nobody_jumps_the_line),
        cmocka_unit_test(test_offline_agent_loses_offers_but_keeps_holds),
        cmocka_unit_test(test_many_arrivals_in_one_turn_never_exceed_capacity),
        cmocka_unit_test(test_bad_input_is_refused),
        cmocka_unit_test(test_properties_hold_over_random_runs),
        cmocka_unit_test(test_a_copy_carries_on_as_the_router_and_a_dropped_one_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

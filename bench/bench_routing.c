/*
 * bench_routing.c - the routing core's cost per event in steady state:
 * 500 agents (capacity 4, a few skills, 5 teams), every agent full and
 * 5,000 conversations waiting. Each event is timed with its route():
 * an arrival (enqueue + route), a release (release + route, which offers
 * the freed room), an agent going offline or back online (agent_set +
 * route; the same agent comes back at the next toggle). Prints one JSON
 * line: mean, p50, p99 and max in µs of wall-clock time per kind and over
 * all events, and over all events in thread CPU time ("all_cpu"); plus
 * one full pass over every queue (what a team opening costs).
 *
 *   build-rt/bench_routing [events] [seed]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "routing.h"

#define AGENTS 500
#define TEAMS 5
#define QUEUED 5000
#define MAX_HELD 8

static const char *skill_names[] = {"lang:en", "lang:pt", "lang:ro", "topic:billing", "topic:tech"};
static const char *team_names[TEAMS] = {"sales", "support", "billing", "tech", "vip"};

static uint64_t rng = 0x2545f4914f6cdd1dull;
static unsigned pick(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

struct bench_agent {
    const char *skills[5];
    int nskills;
    const char *teams[2];
    int nteams;
    bool online;
    int64_t held[MAX_HELD];
    int nheld;
};

static struct bench_agent agents[AGENTS];
static struct sb_router *r;
static int64_t next_conv = 1, clock_ms = 1000000;

static double clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double now_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

/* This thread's CPU time: on a shared machine the wall-clock maximum is
 * mostly time spent preempted, which this leaves out. */
static double cpu_us(void)
{
    return clock_us(CLOCK_THREAD_CPUTIME_ID);
}

static void set_agent(int i)
{
    struct bench_agent *a = &agents[i];
    if (sb_router_agent_set(r, i + 1, a->online, 4.0, a->skills, a->nskills, a->teams, a->nteams,
                            0)) {
        fprintf(stderr, "agent_set failed\n");
        exit(1);
    }
}

/* One in ten is an e-mail (weight 0.5). */
static double weight_of(int64_t conv)
{
    return conv % 10 == 0 ? 0.5 : 1.0;
}

static void arrive(void)
{
    const char *skills[2] = {skill_names[pick(3)], skill_names[3 + pick(2)]};
    int nskills = pick(4) == 0 ? 2 : 1;
    int64_t conv = next_conv++;
    if (sb_router_enqueue(r, conv, team_names[pick(TEAMS)], pick(10) == 0 ? 1 : 0,
                          clock_ms + 300000, clock_ms, weight_of(conv), skills, nskills)) {
        fprintf(stderr, "enqueue failed\n");
        exit(1);
    }
}

/* Routes and accepts every offer at once (sb_router_hold, timed with the
 * event), so an agent going offline keeps its conversations. */
static int route(void)
{
    struct sb_offer out[256];
    int n, total = 0;
    clock_ms++;
    do {
        n = sb_router_route(r, clock_ms, out, 256);
        for (int i = 0; i < n; i++) {
            struct bench_agent *a = &agents[out[i].agent - 1];
            if (a->nheld == MAX_HELD ||
                sb_router_hold(r, out[i].agent, out[i].conv, weight_of(out[i].conv)) != SB_OK) {
                fprintf(stderr, "hold failed\n");
                exit(1);
            }
            a->held[a->nheld++] = out[i].conv;
        }
        total += n;
    } while (n == 256);
    return total;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void summary(const char *name, double *t, int n, bool last)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += t[i];
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    printf("\"%s\": {\"n\": %d, \"mean_us\": %.2f, \"p50_us\": %.2f, \"p99_us\": %.2f, "
           "\"max_us\": %.2f}%s",
           name, n, n ? sum / n : 0, n ? t[n / 2] : 0, n ? t[(int)(n * 0.99)] : 0, n ? t[n - 1] : 0,
           last ? "" : ", ");
}

int main(int argc, char **argv)
{
    int events = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20000;
    if (argc > 2) rng = (uint64_t)strtoull(argv[2], NULL, 10) | 1;
    if (events < 4) events = 4;
    r = sb_router_new();
    if (!r) return 1;
    for (int i = 0; i < AGENTS; i++) {
        struct bench_agent *a = &agents[i];
        a->skills[a->nskills++] = skill_names[i % 3];
        a->skills[a->nskills++] = skill_names[3 + i % 2];
        if (pick(3) == 0) a->skills[a->nskills++] = skill_names[3 + (i + 1) % 2];
        if (pick(4) == 0) a->skills[a->nskills++] = skill_names[(i + 1) % 3];
        a->teams[a->nteams++] = team_names[i % TEAMS];
        if (pick(2) == 0) a->teams[a->nteams++] = team_names[(i + 1 + pick(TEAMS - 1)) % TEAMS];
        a->online = true;
        set_agent(i);
    }
    /* Fill every agent, then leave QUEUED waiting. */
    double t0 = now_us();
    while (sb_router_queued(r) < QUEUED) {
        for (int i = 0; i < 500; i++)
            arrive();
        route();
    }
    double fill_ms = (now_us() - t0) / 1000;

    double *all = malloc(sizeof(double) * (size_t)events);
    double *cpu = malloc(sizeof(double) * (size_t)events);
    double *kind[3];
    int nkind[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++)
        kind[k] = malloc(sizeof(double) * (size_t)events);
    if (!all || !cpu || !kind[0] || !kind[1] || !kind[2]) return 1;
    int offers = 0;
    for (int e = 0; e < events; e++) {
        int k = e % 3; /* arrival, release, toggle: the queue stays near QUEUED */
        int ai = (int)pick(AGENTS);
        struct bench_agent *a = &agents[ai];
        double cpu_start = cpu_us(), start = now_us();
        if (k == 0) {
            arrive();
        } else if (k == 1) {
            while (a->nheld == 0) {
                ai = (int)pick(AGENTS);
                a = &agents[ai];
            }
            cpu_start = cpu_us(); /* outside the wall-clock interval */
            start = now_us();
            int h = (int)pick((unsigned)a->nheld);
            if (sb_router_release(r, ai + 1, a->held[h])) {
                fprintf(stderr, "release failed\n");
                return 1;
            }
            a->held[h] = a->held[--a->nheld];
        } else {
            /* toggles alternate: a random agent goes offline, then the
             * same agent comes back online (and is offered work) */
            static int away = -1;
            if (away >= 0) {
                ai = away;
                a = &agents[ai];
                away = -1;
            } else {
                away = ai;
            }
            cpu_start = cpu_us(); /* outside the wall-clock interval */
            start = now_us();
            a->online = !a->online;
            set_agent(ai);
        }
        offers += route();
        double dt = now_us() - start;
        cpu[e] = cpu_us() - cpu_start;
        all[e] = dt;
        kind[k][nkind[k]++] = dt;
    }
    /* A team opening makes route() look at every queue once (the rare
     * full pass); release a few agents first so it has work to do. */
    for (int i = 0; i < 50; i++) {
        struct bench_agent *a = &agents[i];
        while (a->nheld)
            sb_router_release(r, i + 1, a->held[--a->nheld]);
    }
    sb_router_team_open(r, team_names[0], false);
    route();
    sb_router_team_open(r, team_names[0], true);
    double full_start = now_us();
    int full_offers = route();
    double full_us = now_us() - full_start;
    printf("{\"bench\": \"routing\", \"agents\": %d, \"teams\": %d, \"queued\": %d, "
           "\"events\": %d, \"offers\": %d, \"fill_ms\": %.1f, \"full_pass_us\": %.1f, "
           "\"full_pass_offers\": %d, ",
           AGENTS, TEAMS, sb_router_queued(r), events, offers, fill_ms, full_us, full_offers);
    summary("arrival", kind[0], nkind[0], false);
    summary("release", kind[1], nkind[1], false);
    summary("toggle", kind[2], nkind[2], false);
    summary("all", all, events, false);
    summary("all_cpu", cpu, events, true);
    printf("}\n");
    for (int k = 0; k < 3; k++)
        free(kind[k]);
    free(all);
    free(cpu);
    sb_router_free(r);
    return 0;
}

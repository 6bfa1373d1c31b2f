/*
 * kb_learn.c - the answer policy (answer, clarify or hand off) and what
 * the knowledge base learns from outcomes: per-article answer thresholds
 * and confidence adjustments computed from "did this help?" votes and
 * hand-offs right after an answer, with decay, a per-conversation dedupe
 * and a Beta prior (the rules are in sb_kb.h).
 *
 * Both live in one in-memory hash table keyed by article id, so the
 * search path pays a lookup per hit. The table is rebuilt from SQLite
 * (kb_feedback, kb_queries, kb_articles): thresholds as soon as an article
 * changed, adjustments at most once per refresh interval. Uses the
 * handle's connection; prepared statements are kept here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"

#define DEFAULT_ANSWER 0.5
#define DEFAULT_CLARIFY 0.25
#define DEFAULT_HALF_LIFE_DAYS 30.0
#define DEFAULT_REFRESH_S 60

/* The smoothing: a Beta(5, 5) prior is 10 pseudo-signals split evenly, so
 * one vote barely moves the posterior mean; SATURATE consistent signals
 * reach the bound. */
#define PRIOR_SIGNALS 10.0
#define SATURATE_SIGNALS 50.0
/* A help-center vote has no conversation behind it, only a page view
 * and an address: it weighs half. */
#define ANONYMOUS_WEIGHT 0.5
/* Signals older than this many half-lives weigh under 0.1%: not read. */
#define WINDOW_HALF_LIVES 10
/* Another process's writes (PRAGMA data_version) are looked for at most
 * this often; decay moves on even without new signals at least this. */
#define CHECK_MS 1000
#define DECAY_REFRESH_MS (3600 * 1000)
#define MAX_CHOICES 3

#define MS_PER_DAY (86400.0 * 1000)

enum learn_stmt { LS_SIGNALS, LS_THRESHOLDS, LS_VERSION, LS__COUNT };

/* One signal per (article, conversation): its latest. The hand-offs are
 * the bot's answers (confidence at or above the article's threshold) whose
 * question was then marked "handoff". Help-center votes (no conversation)
 * count once per (article, voter address), their latest: a vote per page
 * view is easy to repeat from one place, and hundreds of them must not
 * outweigh the customers. Help-center votes from before voters were
 * recorded all count. Ties in time go to the unhelpful signal. */
static const char *const learn_sql[LS__COUNT] = {
    [LS_SIGNALS] = "WITH s(article_id, conv, voter, value, weight, at) AS ("
                   "  SELECT article_id, conversation_id, voter,"
                   "    CASE WHEN helpful THEN 1 ELSE -1 END,"
                   "    CASE WHEN conversation_id IS NULL THEN ?3 ELSE 1.0 END, created_at"
                   "  FROM kb_feedback WHERE created_at >= ?1"
                   "  UNION ALL"
                   "  SELECT q.article_id, q.conversation_id, NULL, -1, 1.0, q.created_at"
                   "  FROM kb_queries q JOIN kb_articles a ON a.id = q.article_id"
                   "  WHERE q.outcome = 'handoff' AND q.created_at >= ?1"
                   "    AND q.confidence >= COALESCE(a.answer_threshold, ?2))"
                   " SELECT article_id, value, weight, at FROM ("
                   "  SELECT *, ROW_NUMBER() OVER (PARTITION BY article_id, conv, voter"
                   "    ORDER BY at DESC, value ASC) AS rn FROM s)"
                   " WHERE (conv IS NULL AND voter IS NULL) OR rn = 1",
    [LS_THRESHOLDS] =
        "SELECT id, answer_threshold FROM kb_articles WHERE answer_threshold IS NOT NULL",
    [LS_VERSION] = "PRAGMA data_version",
};

struct learn_entry {
    int64_t id;      /* 0: an empty slot */
    double up, down; /* decayed signal weights, while computing */
    double adj;
    double threshold; /* < 0: none of its own */
};

/* Open addressing with linear probing; cap is a power of two. */
struct learn_map {
    struct learn_entry *e;
    size_t cap, n;
};

struct kb_learn {
    sqlite3_stmt *stmt[LS__COUNT];
    struct sb_kb_policy policy;
    struct learn_map map;
    bool built;
    bool articles_dirty, signals_dirty;
    int64_t checked_ms, computed_ms; /* monotonic */
    int64_t version;                 /* PRAGMA data_version last seen */
};

/* ---------- the table ---------- */

static size_t slot_of(int64_t id, size_t cap)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing */
    return (size_t)(h >> 32) & (cap - 1);
}

static const struct learn_entry *map_find(const struct learn_map *m, int64_t id)
{
    if (!m->cap || id <= 0) return NULL;
    for (size_t i = slot_of(id, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->e[i].id == id) return &m->e[i];
        if (m->e[i].id == 0) return NULL;
    }
}

static enum sb_err map_grow(struct learn_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct learn_entry *e = calloc(cap, sizeof(*e));

    if (!e) return SB_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        size_t j;
        if (!m->e[i].id) continue;
        for (j = slot_of(m->e[i].id, cap); e[j].id; j = (j + 1) & (cap - 1))
            ;
        e[j] = m->e[i];
    }
    free(m->e);
    m->e = e;
    m->cap = cap;
    return SB_OK;
}

/* The entry of id, added (no signals, no threshold) when missing. */
static struct learn_entry *map_get(struct learn_map *m, int64_t id)
{
    size_t i;

    if ((m->n + 1) * 2 > m->cap && map_grow(m)) return NULL; /* load <= 1/2 */
    for (i = slot_of(id, m->cap); m->e[i].id; i = (i + 1) & (m->cap - 1))
        if (m->e[i].id == id) return &m->e[i];
    m->e[i] = (struct learn_entry){.id = id, .threshold = -1};
    m->n++;
    return &m->e[i];
}

static void map_cleanup(struct learn_map *m)
{
    free(m->e);
    memset(m, 0, sizeof(*m));
}

/* ---------- the handle's part ---------- */

static struct kb_learn *learn_of(struct sb_kb *kb)
{
    struct kb_learn *l = kb->learn;

    if (l) return l;
    l = calloc(1, sizeof(*l));
    if (!l) return NULL;
    for (int i = 0; i < LS__COUNT; i++) {
        if (sqlite3_prepare_v3(kb->db, learn_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &l->stmt[i],
                               NULL) != SQLITE_OK) {
            kb_learn_free(l);
            return NULL;
        }
    }
    l->policy = (struct sb_kb_policy){DEFAULT_ANSWER, DEFAULT_CLARIFY, DEFAULT_HALF_LIFE_DAYS,
                                      DEFAULT_REFRESH_S};
    l->version = -1;
    kb->learn = l;
    return l;
}

void kb_learn_free(struct kb_learn *l)
{
    if (!l) return;
    for (int i = 0; i < LS__COUNT; i++)
        sqlite3_finalize(l->stmt[i]);
    map_cleanup(&l->map);
    free(l);
}

void kb_learn_articles_changed(struct sb_kb *kb)
{
    if (kb->learn) kb->learn->articles_dirty = true;
}

void kb_learn_signals_changed(struct sb_kb *kb)
{
    if (kb->learn) kb->learn->signals_dirty = true;
}

enum sb_err sb_kb_set_policy(struct sb_kb *kb, const struct sb_kb_policy *p, struct sb_errbuf *eb)
{
    struct kb_learn *l;

    if (!(p->answer_threshold >= 0 && p->answer_threshold <= 1))
        return sb_fail(eb, SB_ERR_INVAL, "answer threshold: %g is outside 0..1",
                       p->answer_threshold);
    if (!(p->clarify_threshold >= 0 && p->clarify_threshold <= p->answer_threshold))
        return sb_fail(eb, SB_ERR_INVAL,
                       "clarify threshold: %g must be from 0 to the answer threshold %g",
                       p->clarify_threshold, p->answer_threshold);
    if (!(p->half_life_days > 0) || p->refresh_s < 1)
        return sb_fail(eb, SB_ERR_INVAL, "learning: the half-life and refresh must be positive");
    l = learn_of(kb);
    if (!l) return sb_fail(eb, SB_ERR_NOMEM, "kb: cannot prepare the learning statements");
    /* The hand-off signals depend on the answer threshold: recompute. */
    if (l->policy.answer_threshold != p->answer_threshold ||
        l->policy.half_life_days != p->half_life_days)
        l->signals_dirty = true;
    l->policy = *p;
    return SB_OK;
}

void sb_kb_get_policy(struct sb_kb *kb, struct sb_kb_policy *out)
{
    struct kb_learn *l = learn_of(kb);
    *out = l ? l->policy
             : (struct sb_kb_policy){DEFAULT_ANSWER, DEFAULT_CLARIFY, DEFAULT_HALF_LIFE_DAYS,
                                     DEFAULT_REFRESH_S};
}

/* ---------- computing ---------- */

/* The Beta-smoothed balance of the signals, scaled into the bounds. */
static double adjustment_of(double up, double down)
{
    double m = (up - down) / (up + down + PRIOR_SIGNALS);
    m *= (SATURATE_SIGNALS + PRIOR_SIGNALS) / SATURATE_SIGNALS;
    if (m > 1) m = 1;
    if (m < -1) m = -1;
    return m >= 0 ? m * SB_KB_ADJUST_MAX : -m * SB_KB_ADJUST_MIN;
}

static enum sb_err add_signals(struct kb_learn *l, struct learn_map *m, int64_t now_ms)
{
    sqlite3_stmt *s = l->stmt[LS_SIGNALS];
    double half_life_ms = l->policy.half_life_days * MS_PER_DAY;
    int r;

    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, now_ms - (int64_t)(WINDOW_HALF_LIVES * half_life_ms));
    sqlite3_bind_double(s, 2, l->policy.answer_threshold);
    sqlite3_bind_double(s, 3, ANONYMOUS_WEIGHT);
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        struct learn_entry *e = map_get(m, sqlite3_column_int64(s, 0));
        double age = (double)(now_ms - sqlite3_column_int64(s, 3));
        /* a signal from the future (clock moved back) counts in full */
        double w = sqlite3_column_double(s, 2) * (age > 0 ? exp2(-age / half_life_ms) : 1.0);
        if (!e) {
            sqlite3_reset(s);
            return SB_ERR_NOMEM;
        }
        if (sqlite3_column_int(s, 1) > 0)
            e->up += w;
        else
            e->down += w;
    }
    sqlite3_reset(s);
    if (r != SQLITE_DONE) return SB_ERR_DB;
    for (size_t i = 0; i < m->cap; i++)
        if (m->e[i].id) m->e[i].adj = adjustment_of(m->e[i].up, m->e[i].down);
    return SB_OK;
}

/* Keeps the adjustments of the old table when they are not recomputed. */
static enum sb_err copy_adjustments(const struct learn_map *from, struct learn_map *to)
{
    for (size_t i = 0; i < from->cap; i++) {
        struct learn_entry *e;
        if (!from->e[i].id || from->e[i].adj == 0) continue;
        e = map_get(to, from->e[i].id);
        if (!e) return SB_ERR_NOMEM;
        e->adj = from->e[i].adj;
    }
    return SB_OK;
}

static enum sb_err add_thresholds(struct kb_learn *l, struct learn_map *m)
{
    sqlite3_stmt *s = l->stmt[LS_THRESHOLDS];
    int r;

    sqlite3_reset(s);
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        struct learn_entry *e = map_get(m, sqlite3_column_int64(s, 0));
        if (!e) {
            sqlite3_reset(s);
            return SB_ERR_NOMEM;
        }
        e->threshold = sqlite3_column_double(s, 1);
    }
    sqlite3_reset(s);
    return r == SQLITE_DONE ? SB_OK : SB_ERR_DB;
}

/* Builds a new table (signals recomputed or carried over) and swaps it in
 * only when it is whole, so a failure keeps answering from the old one. */
static enum sb_err rebuild(struct kb_learn *l, bool signals, int64_t now_ms)
{
    struct learn_map m = {0};
    enum sb_err rc = signals ? add_signals(l, &m, now_ms) : copy_adjustments(&l->map, &m);

    if (!rc) rc = add_thresholds(l, &m);
    if (rc) {
        map_cleanup(&m);
        return rc;
    }
    map_cleanup(&l->map);
    l->map = m;
    l->built = true;
    l->articles_dirty = false;
    if (signals) {
        l->signals_dirty = false;
        l->computed_ms = sb_mono_ns() / 1000000;
    }
    return SB_OK;
}

static int64_t data_version(struct kb_learn *l)
{
    sqlite3_stmt *s = l->stmt[LS_VERSION];
    int64_t v = -1;
    sqlite3_reset(s);
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return v;
}

/* The freshness rules of sb_kb_adjustment (see sb_kb.h). The fast path is
 * a clock read and two flags. */
static struct kb_learn *fresh(struct sb_kb *kb)
{
    struct kb_learn *l = learn_of(kb);
    int64_t now, version;
    bool signals;

    if (!l) return NULL;
    now = sb_mono_ns() / 1000000;
    if (l->built && !l->articles_dirty && now - l->checked_ms < CHECK_MS) return l;
    l->checked_ms = now;
    version = data_version(l);
    if (version != l->version) {
        /* another connection wrote: articles, votes, anything */
        l->version = version;
        l->articles_dirty = l->signals_dirty = true;
    }
    signals = !l->built || now - l->computed_ms >= DECAY_REFRESH_MS ||
              (l->signals_dirty && now - l->computed_ms >= (int64_t)l->policy.refresh_s * 1000);
    if (signals || l->articles_dirty) rebuild(l, signals, sb_now_ms());
    return l;
}

double sb_kb_threshold(struct sb_kb *kb, int64_t article_id)
{
    struct kb_learn *l = fresh(kb);
    const struct learn_entry *e;

    if (!l) return DEFAULT_ANSWER;
    e = map_find(&l->map, article_id);
    return e && e->threshold >= 0 ? e->threshold : l->policy.answer_threshold;
}

double sb_kb_adjustment(struct sb_kb *kb, int64_t article_id)
{
    struct kb_learn *l = fresh(kb);
    const struct learn_entry *e = l ? map_find(&l->map, article_id) : NULL;
    return e ? e->adj : 0;
}

enum sb_err sb_kb_learn_refresh(struct sb_kb *kb, int64_t now_ms)
{
    struct kb_learn *l = learn_of(kb);
    if (!l) return SB_ERR_NOMEM;
    l->checked_ms = sb_mono_ns() / 1000000;
    l->version = data_version(l);
    return rebuild(l, true, now_ms);
}

/* ---------- the decision ---------- */

enum sb_kb_decision sb_kb_decide(struct sb_kb *kb, const struct sb_kb_result *r, int *nchoices)
{
    struct sb_kb_policy p;
    int n = 0;

    *nchoices = 0;
    if (r->n > 0 && r->hit[0].confidence >= sb_kb_threshold(kb, r->hit[0].id)) return SB_KB_ANSWER;
    sb_kb_get_policy(kb, &p);
    /* Confidences are probabilities of being the right answer, so the
     * chance that one of the choices is right is their sum: "order" is
     * track or cancel (0.19 + 0.17 + ...), worth asking about; a question
     * no article covers spreads almost nothing over its candidates. */
    double sum = 0;
    while (n < r->n && n < MAX_CHOICES && r->hit[n].confidence >= SB_KB_CHOICE_FLOOR)
        sum += r->hit[n++].confidence;
    *nchoices = sum >= p.clarify_threshold ? n : 0;
    /* Nothing to search for ("?", "...") is not a question out of scope:
     * the bot asks again. */
    if (*nchoices > 0 || r->terms == 0) return SB_KB_CLARIFY;
    return SB_KB_HANDOFF;
}

const char *sb_kb_decision_name(enum sb_kb_decision d)
{
    static const char *const names[] = {"answer", "clarify", "handoff"};
    return (unsigned)d < 3 ? names[d] : "handoff";
}

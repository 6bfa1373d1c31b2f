/*
 * routing.c - the routing core (routing.h): agents, per-team queues and the
 * offers made from them. Uses nothing but libc.
 *
 * Layout, chosen so one event costs one team's agents or one agent's
 * queues rather than every conversation times every agent:
 * - team and skill names are interned to small ids; an agent's skills are
 *   a bitset, so "has every required skill" is a few bit tests;
 * - each team's queue is split into sub-queues, one per (required skills,
 *   weight): every conversation of a sub-queue needs the same agent
 *   qualities, so one look at its head (a binary heap ordered by priority,
 *   due time, queue time, id) tells whether an agent can take any of it;
 * - route() keeps what changed since its last call: conversations that may
 *   have gained an agent (queued, back from a skip) and agents that may
 *   have gained a conversation (room freed, online, new skills or teams).
 *   Everything else was already unmatched after the previous call and
 *   stays so, because only those changes can make a pair eligible.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "routing.h"

#define NO_DUE INT64_MAX
#define MAX_CAPACITY 1e6
/* Past this many agents changed at once one full pass is cheaper. */
#define FULL_PASS_AGENTS 64

/* ------- small containers ------- */

/* Grows *p (an array of elem-sized items with *cap slots) to hold need. */
static int grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap) return SB_OK;
    int n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, (size_t)n * elem);
    if (!q) return SB_ERR_NOMEM;
    *p = q;
    *cap = n;
    return SB_OK;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* int64 id -> array index; linear probing with backward-shift deletion. */
struct idmap {
    int64_t *keys;
    int32_t *vals; /* -1 = empty slot */
    size_t cap, n;
};

static void idmap_free(struct idmap *m)
{
    free(m->keys);
    free(m->vals);
}

static int idmap_get(const struct idmap *m, int64_t key)
{
    if (!m->cap) return -1;
    for (size_t i = mix64((uint64_t)key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->vals[i] < 0) return -1;
        if (m->keys[i] == key) return m->vals[i];
    }
}

static int idmap_put(struct idmap *m, int64_t key, int32_t val);

static int idmap_rehash(struct idmap *m, size_t cap)
{
    struct idmap old = *m;
    m->keys = malloc(cap * sizeof(*m->keys));
    m->vals = malloc(cap * sizeof(*m->vals));
    if (!m->keys || !m->vals) {
        free(m->keys);
        free(m->vals);
        *m = old;
        return SB_ERR_NOMEM;
    }
    for (size_t i = 0; i < cap; i++)
        m->vals[i] = -1;
    m->cap = cap;
    m->n = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.vals[i] >= 0) idmap_put(m, old.keys[i], old.vals[i]);
    idmap_free(&old);
    return SB_OK;
}

static int idmap_put(struct idmap *m, int64_t key, int32_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        int rc = idmap_rehash(m, m->cap ? m->cap * 2 : 64);
        if (rc) return rc;
    }
    size_t i = mix64((uint64_t)key) & (m->cap - 1);
    while (m->vals[i] >= 0 && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (m->vals[i] < 0) m->n++;
    m->keys[i] = key;
    m->vals[i] = val;
    return SB_OK;
}

static void idmap_del(struct idmap *m, int64_t key)
{
    if (!m->cap) return;
    size_t mask = m->cap - 1, i = mix64((uint64_t)key) & mask;
    while (m->vals[i] >= 0 && m->keys[i] != key)
        i = (i + 1) & mask;
    if (m->vals[i] < 0) return;
    m->vals[i] = -1;
    m->n--;
    /* Pull later members of the probe run back over the hole so lookups
     * never stop early at it. */
    for (size_t j = (i + 1) & mask; m->vals[j] >= 0; j = (j + 1) & mask) {
        size_t home = mix64((uint64_t)m->keys[j]) & mask;
        bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            m->vals[j] = -1;
            i = j;
        }
    }
}

/* Names -> small ids, never forgotten (teams and skills are few). */
struct names {
    char **names;
    int n, cap;
    struct idmap by_hash; /* FNV hash -> first id with it; collisions chain via next */
    int *next;
    int next_cap;
};

static int64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (int64_t)h;
}

/* The id of name, added when create is set; -1 when absent, -2 when out of
 * memory. */
static int names_id(struct names *t, const char *name, bool create)
{
    int64_t h = hash_name(name);
    int first = idmap_get(&t->by_hash, h);
    for (int i = first; i >= 0; i = t->next[i])
        if (strcmp(t->names[i], name) == 0) return i;
    if (!create) return -1;
    if (grow((void **)&t->names, &t->cap, t->n + 1, sizeof(*t->names)) ||
        grow((void **)&t->next, &t->next_cap, t->n + 1, sizeof(*t->next)))
        return -2;
    char *copy = strdup(name);
    if (!copy || idmap_put(&t->by_hash, h, t->n)) {
        free(copy);
        return -2;
    }
    t->names[t->n] = copy;
    t->next[t->n] = first;
    return t->n++;
}

static void names_free(struct names *t)
{
    for (int i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    free(t->next);
    idmap_free(&t->by_hash);
}

/* ------- the state ------- */

enum conv_state { CONV_FREE, CONV_IDLE, CONV_QUEUED, CONV_OFFERED, CONV_HELD };

struct conv {
    int64_t id;
    enum conv_state state;
    int sq; /* sub-queue of its last enqueue (team, skills, weight); -1 before */
    int heap_pos;
    int priority;
    int64_t due_at; /* NO_DUE when none */
    int64_t queued_at;
    int agent;           /* offered to / held by, when OFFERED or HELD */
    int64_t held_weight; /* thousandths, in that agent's load */
    int64_t *skipped;
    int nskipped, skipped_cap;
    bool dirty;
};

struct subq {
    int team;
    int *skills; /* sorted skill ids */
    int nskills;
    int64_t weight;
    int *heap; /* conversation indices */
    int n, cap;
    bool exhausted; /* route_full: nobody can take any of it */
};

struct team {
    bool open;
    int *members; /* agent indices */
    int nmembers, members_cap;
    int *subqs;
    int nsubqs, subqs_cap;
};

struct agent {
    int64_t id;
    bool online, dirty;
    int64_t capacity, load, last_assigned_at;
    uint64_t *skills;
    int nwords;
    int *teams;
    int nteams;
    int *held; /* conversation indices offered or held */
    int nheld, held_cap;
};

struct sb_router {
    struct names skill_names, team_names;
    struct team *teams; /* indexed by team name id */
    int teams_cap, nteams;
    struct agent *agents;
    int nagents, agents_cap;
    struct idmap agent_ids;
    struct conv *convs;
    int nconvs, convs_cap;
    int *free_convs;
    int nfree, free_cap;
    struct idmap conv_ids;
    struct subq *subqs;
    int nsubqs, subqs_cap;
    int *dirty_convs;
    int ndirty_convs, dirty_convs_cap;
    int *dirty_agents;
    int ndirty_agents, dirty_agents_cap;
    bool full; /* the next route looks at everything */
    int queued;
    struct conv **scratch; /* route's sorted candidates */
    int scratch_cap;
};

struct sb_router *sb_router_new(void)
{
    return calloc(1, sizeof(struct sb_router));
}

void sb_router_free(struct sb_router *r)
{
    if (!r) return;
    for (int i = 0; i < r->nteams; i++) {
        free(r->teams[i].members);
        free(r->teams[i].subqs);
    }
    free(r->teams);
    for (int i = 0; i < r->nagents; i++) {
        free(r->agents[i].skills);
        free(r->agents[i].teams);
        free(r->agents[i].held);
    }
    free(r->agents);
    for (int i = 0; i < r->nconvs; i++)
        free(r->convs[i].skipped);
    free(r->convs);
    for (int i = 0; i < r->nsubqs; i++) {
        free(r->subqs[i].skills);
        free(r->subqs[i].heap);
    }
    free(r->subqs);
    free(r->free_convs);
    free(r->dirty_convs);
    free(r->dirty_agents);
    free(r->scratch);
    idmap_free(&r->agent_ids);
    idmap_free(&r->conv_ids);
    names_free(&r->skill_names);
    names_free(&r->team_names);
    free(r);
}

/* ------- copies ------- */

/* *dst becomes a copy of n elements of size elem at src (NULL when n is 0);
 * false when out of memory (*dst is then NULL). */
static bool copy_array(void *dst, const void *src, size_t n, size_t elem)
{
    void **d = dst;
    *d = NULL;
    if (!n || !src) return true;
    *d = malloc(n * elem);
    if (!*d) return false;
    memcpy(*d, src, n * elem);
    return true;
}

static bool copy_idmap(struct idmap *d, const struct idmap *o)
{
    d->cap = o->cap;
    d->n = o->n;
    return copy_array(&d->keys, o->keys, o->cap, sizeof(*o->keys)) &&
           copy_array(&d->vals, o->vals, o->cap, sizeof(*o->vals));
}

static bool copy_names(struct names *d, const struct names *o)
{
    if (!copy_array(&d->names, o->names, (size_t)o->cap, sizeof(*o->names))) return false;
    for (d->n = 0; d->n < o->n; d->n++)
        if (!(d->names[d->n] = strdup(o->names[d->n]))) return false;
    return copy_array(&d->next, o->next, (size_t)o->next_cap, sizeof(int)) &&
           copy_idmap(&d->by_hash, &o->by_hash);
}

/* Fills c, whose owned pointers are all NULL and counts of owned items 0,
 * from r. Arrays keep their capacity (grow() trusts the *_cap fields). On
 * failure c holds only what it owns, for sb_router_free. */
static bool copy_router(struct sb_router *c, const struct sb_router *r)
{
    if (!copy_names(&c->skill_names, &r->skill_names) ||
        !copy_names(&c->team_names, &r->team_names) || !copy_idmap(&c->agent_ids, &r->agent_ids) ||
        !copy_idmap(&c->conv_ids, &r->conv_ids) ||
        !copy_array(&c->free_convs, r->free_convs, (size_t)r->free_cap, sizeof(int)) ||
        !copy_array(&c->dirty_convs, r->dirty_convs, (size_t)r->dirty_convs_cap, sizeof(int)) ||
        !copy_array(&c->dirty_agents, r->dirty_agents, (size_t)r->dirty_agents_cap, sizeof(int)) ||
        !copy_array(&c->teams, r->teams, (size_t)r->teams_cap, sizeof(*r->teams)) ||
        !copy_array(&c->agents, r->agents, (size_t)r->agents_cap, sizeof(*r->agents)) ||
        !copy_array(&c->convs, r->convs, (size_t)r->convs_cap, sizeof(*r->convs)) ||
        !copy_array(&c->subqs, r->subqs, (size_t)r->subqs_cap, sizeof(*r->subqs)))
        return false;
    /* Each element is the original's until its own arrays are copied. */
    for (; c->nteams < r->nteams; c->nteams++) {
        struct team *t = &c->teams[c->nteams];
        const struct team *o = &r->teams[c->nteams];
        t->subqs = NULL;
        if (!copy_array(&t->members, o->members, (size_t)o->members_cap, sizeof(int)) ||
            !copy_array(&t->subqs, o->subqs, (size_t)o->subqs_cap, sizeof(int)))
            return c->nteams++, false;
    }
    for (; c->nagents < r->nagents; c->nagents++) {
        struct agent *a = &c->agents[c->nagents];
        const struct agent *o = &r->agents[c->nagents];
        a->teams = a->held = NULL;
        if (!copy_array(&a->skills, o->skills, (size_t)o->nwords, sizeof(uint64_t)) ||
            !copy_array(&a->teams, o->teams, (size_t)o->nteams, sizeof(int)) ||
            !copy_array(&a->held, o->held, (size_t)o->held_cap, sizeof(int)))
            return c->nagents++, false;
    }
    for (; c->nconvs < r->nconvs; c->nconvs++) {
        const struct conv *o = &r->convs[c->nconvs];
        if (!copy_array(&c->convs[c->nconvs].skipped, o->skipped, (size_t)o->skipped_cap,
                        sizeof(int64_t)))
            return c->nconvs++, false;
    }
    for (; c->nsubqs < r->nsubqs; c->nsubqs++) {
        struct subq *q = &c->subqs[c->nsubqs];
        const struct subq *o = &r->subqs[c->nsubqs];
        q->heap = NULL;
        if (!copy_array(&q->skills, o->skills, (size_t)o->nskills, sizeof(int)) ||
            !copy_array(&q->heap, o->heap, (size_t)o->cap, sizeof(int)))
            return c->nsubqs++, false;
    }
    return true;
}

struct sb_router *sb_router_clone(const struct sb_router *r)
{
    struct sb_router *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    /* the plain values; copy_router fills the owned arrays */
    c->skill_names.cap = r->skill_names.cap;
    c->skill_names.next_cap = r->skill_names.next_cap;
    c->team_names.cap = r->team_names.cap;
    c->team_names.next_cap = r->team_names.next_cap;
    c->teams_cap = r->teams_cap;
    c->agents_cap = r->agents_cap;
    c->convs_cap = r->convs_cap;
    c->nfree = r->nfree;
    c->free_cap = r->free_cap;
    c->subqs_cap = r->subqs_cap;
    c->ndirty_convs = r->ndirty_convs;
    c->dirty_convs_cap = r->dirty_convs_cap;
    c->ndirty_agents = r->ndirty_agents;
    c->dirty_agents_cap = r->dirty_agents_cap;
    c->full = r->full;
    c->queued = r->queued;
    if (copy_router(c, r)) return c;
    sb_router_free(c);
    return NULL;
}

/* Thousandths, or -1 for a value that is not a finite number in [0, max]. */
static int64_t to_milli(double x)
{
    if (!isfinite(x) || x < 0 || x > MAX_CAPACITY) return -1;
    return llround(x * 1000.0);
}

static int team_id(struct sb_router *r, const char *name, bool create)
{
    if (!name || !*name) return -1;
    int id = names_id(&r->team_names, name, create);
    if (id < 0) return id;
    if (grow((void **)&r->teams, &r->teams_cap, id + 1, sizeof(*r->teams))) return -2;
    for (; r->nteams <= id; r->nteams++) {
        memset(&r->teams[r->nteams], 0, sizeof(r->teams[r->nteams]));
        r->teams[r->nteams].open = true; /* no hours: always open */
    }
    return id;
}

/* ------- queue order and heaps ------- */

/* True when a is served before b. */
static bool conv_before(const struct conv *a, const struct conv *b)
{
    if (a->priority != b->priority) return a->priority > b->priority;
    if (a->due_at != b->due_at) return a->due_at < b->due_at;
    if (a->queued_at != b->queued_at) return a->queued_at < b->queued_at;
    return a->id < b->id;
}

static void heap_set(struct sb_router *r, struct subq *q, int pos, int ci)
{
    q->heap[pos] = ci;
    r->convs[ci].heap_pos = pos;
}

static void heap_up(struct sb_router *r, struct subq *q, int pos)
{
    int ci = q->heap[pos];
    while (pos > 0) {
        int parent = (pos - 1) / 2;
        if (!conv_before(&r->convs[ci], &r->convs[q->heap[parent]])) break;
        heap_set(r, q, pos, q->heap[parent]);
        pos = parent;
    }
    heap_set(r, q, pos, ci);
}

static void heap_down(struct sb_router *r, struct subq *q, int pos)
{
    int ci = q->heap[pos];
    for (;;) {
        int child = 2 * pos + 1;
        if (child >= q->n) break;
        if (child + 1 < q->n &&
            conv_before(&r->convs[q->heap[child + 1]], &r->convs[q->heap[child]]))
            child++;
        if (!conv_before(&r->convs[q->heap[child]], &r->convs[ci])) break;
        heap_set(r, q, pos, q->heap[child]);
        pos = child;
    }
    heap_set(r, q, pos, ci);
}

static int heap_push(struct sb_router *r, int ci)
{
    struct subq *q = &r->subqs[r->convs[ci].sq];
    if (grow((void **)&q->heap, &q->cap, q->n + 1, sizeof(*q->heap))) return SB_ERR_NOMEM;
    q->heap[q->n++] = ci;
    heap_up(r, q, q->n - 1);
    r->queued++;
    return SB_OK;
}

static void heap_remove(struct sb_router *r, int ci)
{
    struct subq *q = &r->subqs[r->convs[ci].sq];
    int pos = r->convs[ci].heap_pos;
    int last = q->heap[--q->n];
    r->queued--;
    if (pos == q->n) return;
    heap_set(r, q, pos, last);
    heap_up(r, q, pos);
    heap_down(r, q, r->convs[last].heap_pos);
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The sub-queue of team for (skills, weight), created when new. skills
 * are sorted and without duplicates. -1 when out of memory. */
static int subq_for(struct sb_router *r, int team, const int *skills, int nskills, int64_t weight)
{
    struct team *t = &r->teams[team];
    for (int i = 0; i < t->nsubqs; i++) {
        struct subq *q = &r->subqs[t->subqs[i]];
        if (q->weight == weight && q->nskills == nskills &&
            (nskills == 0 || memcmp(q->skills, skills, (size_t)nskills * sizeof(int)) == 0))
            return t->subqs[i];
    }
    if (grow((void **)&r->subqs, &r->subqs_cap, r->nsubqs + 1, sizeof(*r->subqs)) ||
        grow((void **)&t->subqs, &t->subqs_cap, t->nsubqs + 1, sizeof(*t->subqs)))
        return -1;
    struct subq *q = &r->subqs[r->nsubqs];
    memset(q, 0, sizeof(*q));
    if (nskills) {
        q->skills = malloc((size_t)nskills * sizeof(int));
        if (!q->skills) return -1;
        memcpy(q->skills, skills, (size_t)nskills * sizeof(int));
    }
    q->team = team;
    q->nskills = nskills;
    q->weight = weight;
    t->subqs[t->nsubqs++] = r->nsubqs;
    return r->nsubqs++;
}

/* ------- dirty marks ------- */

static void mark_conv(struct sb_router *r, int ci)
{
    struct conv *c = &r->convs[ci];
    if (c->dirty) return;
    if (grow((void **)&r->dirty_convs, &r->dirty_convs_cap, r->ndirty_convs + 1, sizeof(int))) {
        r->full = true; /* cannot remember it: look at everything next time */
        return;
    }
    c->dirty = true;
    r->dirty_convs[r->ndirty_convs++] = ci;
}

static void mark_agent(struct sb_router *r, int ai)
{
    struct agent *a = &r->agents[ai];
    if (a->dirty) return;
    if (grow((void **)&r->dirty_agents, &r->dirty_agents_cap, r->ndirty_agents + 1, sizeof(int))) {
        r->full = true;
        return;
    }
    a->dirty = true;
    r->dirty_agents[r->ndirty_agents++] = ai;
}

/* ------- holds ------- */

static int hold_add(struct sb_router *r, int ai, int ci, int64_t weight, enum conv_state st)
{
    struct agent *a = &r->agents[ai];
    if (grow((void **)&a->held, &a->held_cap, a->nheld + 1, sizeof(int))) return SB_ERR_NOMEM;
    a->held[a->nheld++] = ci;
    a->load += weight;
    struct conv *c = &r->convs[ci];
    c->state = st;
    c->agent = ai;
    c->held_weight = weight;
    return SB_OK;
}

/* Ends conv's offer or hold: its weight leaves the agent's load. */
static void hold_drop(struct sb_router *r, int ci)
{
    struct conv *c = &r->convs[ci];
    struct agent *a = &r->agents[c->agent];
    for (int i = 0; i < a->nheld; i++)
        if (a->held[i] == ci) {
            a->held[i] = a->held[--a->nheld];
            break;
        }
    a->load -= c->held_weight;
    c->state = CONV_IDLE;
    mark_agent(r, c->agent);
}

/* Back to its queue if it was ever queued; otherwise only its skips stay. */
static int requeue(struct sb_router *r, int ci)
{
    struct conv *c = &r->convs[ci];
    if (c->sq < 0) return SB_OK;
    int rc = heap_push(r, ci);
    if (rc) return rc;
    c->state = CONV_QUEUED;
    mark_conv(r, ci);
    return SB_OK;
}

/* ------- conversations ------- */

static int conv_find(struct sb_router *r, int64_t id)
{
    return idmap_get(&r->conv_ids, id);
}

static int conv_create(struct sb_router *r, int64_t id)
{
    int ci;
    if (r->nfree) {
        ci = r->free_convs[--r->nfree];
    } else {
        if (grow((void **)&r->convs, &r->convs_cap, r->nconvs + 1, sizeof(*r->convs))) return -1;
        ci = r->nconvs++;
    }
    if (idmap_put(&r->conv_ids, id, ci)) {
        r->convs[ci].state = CONV_FREE;
        r->convs[ci].skipped = NULL;
        if (grow((void **)&r->free_convs, &r->free_cap, r->nfree + 1, sizeof(int)) == SB_OK)
            r->free_convs[r->nfree++] = ci;
        return -1;
    }
    struct conv *c = &r->convs[ci];
    memset(c, 0, sizeof(*c));
    c->id = id;
    c->state = CONV_IDLE;
    c->sq = -1;
    c->agent = -1;
    return ci;
}

static void conv_forget(struct sb_router *r, int ci)
{
    struct conv *c = &r->convs[ci];
    if (c->state == CONV_QUEUED) heap_remove(r, ci);
    if (c->state == CONV_OFFERED || c->state == CONV_HELD) hold_drop(r, ci);
    idmap_del(&r->conv_ids, c->id);
    free(c->skipped);
    c->skipped = NULL;
    c->state = CONV_FREE;
    c->dirty = false;
    /* The free list only grows by what conv_create used, so this succeeds
     * unless memory ran out; then the slot is just not reused. */
    if (grow((void **)&r->free_convs, &r->free_cap, r->nfree + 1, sizeof(int)) == SB_OK)
        r->free_convs[r->nfree++] = ci;
}

static bool is_skipped(const struct conv *c, int64_t agent)
{
    for (int i = 0; i < c->nskipped; i++)
        if (c->skipped[i] == agent) return true;
    return false;
}

/* Interns skills, sorted and without duplicates, into ids[]. */
static int skill_ids(struct sb_router *r, const char *const *skills, int nskills, int *ids,
                     int *nids)
{
    int n = 0;
    for (int i = 0; i < nskills; i++) {
        if (!skills[i] || !*skills[i]) return SB_ERR_INVAL;
        int id = names_id(&r->skill_names, skills[i], true);
        if (id < 0) return SB_ERR_NOMEM;
        ids[n++] = id;
    }
    qsort(ids, (size_t)n, sizeof(int), int_cmp);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (k == 0 || ids[k - 1] != ids[i]) ids[k++] = ids[i];
    *nids = k;
    return SB_OK;
}

int sb_router_enqueue(struct sb_router *r, int64_t conv, const char *team, int priority,
                      int64_t due_at, int64_t queued_at, double weight, const char *const *skills,
                      int nskills)
{
    int64_t w = to_milli(weight);
    if (w <= 0 || nskills < 0 || (nskills && !skills)) return SB_ERR_INVAL;
    int tid = team_id(r, team, true);
    if (tid == -1) return SB_ERR_INVAL;
    if (tid < 0) return SB_ERR_NOMEM;
    int stack_ids[16], *ids = stack_ids, nids = 0, rc;
    if (nskills > (int)SB_ARRAY_LEN(stack_ids)) {
        ids = malloc((size_t)nskills * sizeof(int));
        if (!ids) return SB_ERR_NOMEM;
    }
    rc = skill_ids(r, skills, nskills, ids, &nids);
    if (rc) goto out;
    int sq = subq_for(r, tid, ids, nids, w);
    if (sq < 0) {
        rc = SB_ERR_NOMEM;
        goto out;
    }
    int ci = conv_find(r, conv);
    if (ci < 0 && (ci = conv_create(r, conv)) < 0) {
        rc = SB_ERR_NOMEM;
        goto out;
    }
    struct conv *c = &r->convs[ci];
    bool queued = c->state == CONV_QUEUED;
    if (queued) heap_remove(r, ci);
    c->sq = sq;
    c->priority = priority;
    c->due_at = due_at > 0 ? due_at : NO_DUE;
    c->queued_at = queued_at;
    if (queued || c->state == CONV_IDLE) rc = requeue(r, ci);
out:
    if (ids != stack_ids) free(ids);
    return rc;
}

int sb_router_remove(struct sb_router *r, int64_t conv)
{
    int ci = conv_find(r, conv);
    if (ci < 0) return SB_ERR_NOT_FOUND;
    conv_forget(r, ci);
    return SB_OK;
}

static int agent_find(const struct sb_router *r, int64_t id)
{
    return idmap_get(&r->agent_ids, id);
}

int sb_router_hold(struct sb_router *r, int64_t agent, int64_t conv, double weight)
{
    int64_t w = to_milli(weight);
    int ai = agent_find(r, agent);
    if (ai < 0) return SB_ERR_NOT_FOUND;
    if (w < 0) return SB_ERR_INVAL;
    /* Room in the held list first, so nothing changes when memory runs out. */
    struct agent *a = &r->agents[ai];
    if (grow((void **)&a->held, &a->held_cap, a->nheld + 1, sizeof(int))) return SB_ERR_NOMEM;
    int ci = conv_find(r, conv);
    if (ci < 0 && (ci = conv_create(r, conv)) < 0) return SB_ERR_NOMEM;
    struct conv *c = &r->convs[ci];
    if (c->state == CONV_QUEUED) heap_remove(r, ci);
    if (c->state == CONV_OFFERED || c->state == CONV_HELD) hold_drop(r, ci);
    return hold_add(r, ai, ci, w, CONV_HELD);
}

int sb_router_release(struct sb_router *r, int64_t agent, int64_t conv)
{
    int ai = agent_find(r, agent), ci = conv_find(r, conv);
    if (ai < 0 || ci < 0) return SB_ERR_NOT_FOUND;
    struct conv *c = &r->convs[ci];
    if ((c->state != CONV_OFFERED && c->state != CONV_HELD) || c->agent != ai)
        return SB_ERR_NOT_FOUND;
    conv_forget(r, ci);
    return SB_OK;
}

int sb_router_skip(struct sb_router *r, int64_t conv, int64_t agent)
{
    int ci = conv_find(r, conv);
    if (ci < 0 && (ci = conv_create(r, conv)) < 0) return SB_ERR_NOMEM;
    struct conv *c = &r->convs[ci];
    if (!is_skipped(c, agent)) {
        if (grow((void **)&c->skipped, &c->skipped_cap, c->nskipped + 1, sizeof(int64_t)))
            return SB_ERR_NOMEM;
        c->skipped[c->nskipped++] = agent;
    }
    if ((c->state == CONV_OFFERED || c->state == CONV_HELD) && r->agents[c->agent].id == agent) {
        hold_drop(r, ci);
        return requeue(r, ci);
    }
    return SB_OK;
}

void sb_router_team_open(struct sb_router *r, const char *team, bool open)
{
    int tid = team_id(r, team, true);
    if (tid < 0) return;
    if (open && !r->teams[tid].open) r->full = true;
    r->teams[tid].open = open;
}

/* ------- agents ------- */

static void team_leave(struct team *t, int ai)
{
    for (int i = 0; i < t->nmembers; i++)
        if (t->members[i] == ai) {
            t->members[i] = t->members[--t->nmembers];
            return;
        }
}

int sb_router_agent_set(struct sb_router *r, int64_t agent, bool online, double capacity,
                        const char *const *skills, int nskills, const char *const *teams,
                        int nteams, int64_t last_assigned_at)
{
    int64_t cap = to_milli(capacity);
    if (cap < 0 || nskills < 0 || nteams < 0 || (nskills && !skills) || (nteams && !teams))
        return SB_ERR_INVAL;
    int *sids = NULL, *tids = NULL, nsids = 0, ntids = 0, rc = SB_ERR_NOMEM;
    uint64_t *bits = NULL;
    int nwords = 0;
    sids = malloc((size_t)(nskills + 1) * sizeof(int));
    tids = malloc((size_t)(nteams + 1) * sizeof(int));
    if (!sids || !tids) goto out;
    rc = skill_ids(r, skills, nskills, sids, &nsids);
    if (rc) goto out;
    for (int i = 0; i < nteams; i++) {
        int id = team_id(r, teams[i], true);
        rc = id == -1 ? SB_ERR_INVAL : SB_ERR_NOMEM;
        if (id < 0) goto out;
        bool dup = false;
        for (int k = 0; k < ntids; k++)
            dup = dup || tids[k] == id;
        if (!dup) tids[ntids++] = id;
    }
    nwords = nsids ? sids[nsids - 1] / 64 + 1 : 0;
    rc = SB_ERR_NOMEM;
    if (nwords && !(bits = calloc((size_t)nwords, sizeof(uint64_t)))) goto out;
    for (int i = 0; i < nsids; i++)
        bits[sids[i] / 64] |= 1ull << (sids[i] % 64);

    int ai = agent_find(r, agent);
    if (ai < 0) {
        if (grow((void **)&r->agents, &r->agents_cap, r->nagents + 1, sizeof(*r->agents))) goto out;
        ai = r->nagents;
        memset(&r->agents[ai], 0, sizeof(r->agents[ai]));
        r->agents[ai].id = agent;
        if (idmap_put(&r->agent_ids, agent, ai)) goto out;
        r->nagents++;
    }
    for (int i = 0; i < ntids; i++) {
        struct team *t = &r->teams[tids[i]];
        if (grow((void **)&t->members, &t->members_cap, t->nmembers + 1, sizeof(int))) goto out;
    }
    struct agent *a = &r->agents[ai];
    for (int i = 0; i < a->nteams; i++)
        team_leave(&r->teams[a->teams[i]], ai);
    for (int i = 0; i < ntids; i++) {
        struct team *t = &r->teams[tids[i]];
        t->members[t->nmembers++] = ai;
    }
    free(a->teams);
    a->teams = tids;
    a->nteams = ntids;
    tids = NULL;
    free(a->skills);
    a->skills = bits;
    a->nwords = nwords;
    bits = NULL;
    a->online = online;
    a->capacity = cap;
    a->last_assigned_at = last_assigned_at;
    rc = SB_OK;
    if (!online) {
        /* Offers to an agent who left go back to the queue at once. */
        for (int i = a->nheld - 1; i >= 0; i--) {
            int ci = a->held[i];
            if (r->convs[ci].state != CONV_OFFERED) continue;
            hold_drop(r, ci);
            int e = requeue(r, ci);
            if (e) rc = e;
        }
    }
    mark_agent(r, ai);
out:
    free(sids);
    free(tids);
    free(bits);
    return rc;
}

/* ------- deciding ------- */

static bool has_skills(const struct agent *a, const struct subq *q)
{
    for (int i = 0; i < q->nskills; i++) {
        int s = q->skills[i];
        if (s / 64 >= a->nwords || !(a->skills[s / 64] & (1ull << (s % 64)))) return false;
    }
    return true;
}

/* Can a (a member of the team) take a conversation of q, skips aside? */
static bool fits(const struct agent *a, const struct subq *q)
{
    return a->online && a->load + q->weight <= a->capacity && has_skills(a, q);
}

/* True when a is preferred to b: lower load/capacity, then longer idle,
 * then lower id. Both have capacity > 0 (they fit something). */
static bool agent_before(const struct agent *a, const struct agent *b)
{
    int64_t x = a->load * b->capacity, y = b->load * a->capacity;
    if (x != y) return x < y;
    if (a->last_assigned_at != b->last_assigned_at)
        return a->last_assigned_at < b->last_assigned_at;
    return a->id < b->id;
}

/* The agent conversation ci goes to, or -1. */
static int best_agent(struct sb_router *r, int ci)
{
    const struct conv *c = &r->convs[ci];
    const struct subq *q = &r->subqs[c->sq];
    const struct team *t = &r->teams[q->team];
    int best = -1;
    for (int i = 0; i < t->nmembers; i++) {
        const struct agent *a = &r->agents[t->members[i]];
        if (!fits(a, q) || (c->nskipped && is_skipped(c, a->id))) continue;
        if (best < 0 || agent_before(a, &r->agents[best])) best = t->members[i];
    }
    return best;
}

/* The first conversation in queue order that agent ai can take, or -1. */
static int best_conv(struct sb_router *r, int ai)
{
    const struct agent *a = &r->agents[ai];
    int best = -1;
    for (int i = 0; i < a->nteams; i++) {
        const struct team *t = &r->teams[a->teams[i]];
        if (!t->open) continue;
        for (int k = 0; k < t->nsubqs; k++) {
            const struct subq *q = &r->subqs[t->subqs[k]];
            if (!q->n || !fits(a, q)) continue;
            int cand = q->heap[0];
            if (r->convs[cand].nskipped && is_skipped(&r->convs[cand], a->id)) {
                /* Rare: the head skipped this agent; look at the rest. */
                cand = -1;
                for (int j = 1; j < q->n; j++) {
                    const struct conv *c = &r->convs[q->heap[j]];
                    if (is_skipped(c, a->id)) continue;
                    if (cand < 0 || conv_before(c, &r->convs[cand])) cand = q->heap[j];
                }
                if (cand < 0) continue;
            }
            if (best < 0 || conv_before(&r->convs[cand], &r->convs[best])) best = cand;
        }
    }
    return best;
}

static int offer(struct sb_router *r, int ci, int ai, int64_t now, struct sb_offer *out)
{
    struct conv *c = &r->convs[ci];
    heap_remove(r, ci);
    int rc = hold_add(r, ai, ci, r->subqs[c->sq].weight, CONV_OFFERED);
    if (rc) {
        heap_push(r, ci); /* cannot fail: the slot was just freed */
        return rc;
    }
    r->agents[ai].last_assigned_at = now;
    out->conv = c->id;
    out->agent = r->agents[ai].id;
    return SB_OK;
}

static int cmp_conv_ptr(const void *a, const void *b)
{
    const struct conv *x = *(const struct conv *const *)a, *y = *(const struct conv *const *)b;
    return conv_before(x, y) ? -1 : conv_before(y, x) ? 1 : 0;
}

static void clear_marks(struct sb_router *r)
{
    for (int i = 0; i < r->ndirty_convs; i++)
        r->convs[r->dirty_convs[i]].dirty = false;
    for (int i = 0; i < r->ndirty_agents; i++)
        r->agents[r->dirty_agents[i]].dirty = false;
    r->ndirty_convs = r->ndirty_agents = 0;
}

/* Every queued conversation of open teams in order: each one that some
 * agent can take goes to the best of them. Loads only grow while routing,
 * so one that nobody can take when its turn comes stays so. */
static int route_full(struct sb_router *r, int64_t now, struct sb_offer *out, int max)
{
    if (grow((void **)&r->scratch, &r->scratch_cap, r->queued + 1, sizeof(*r->scratch))) return -1;
    int n = 0, k = 0;
    for (int i = 0; i < r->nsubqs; i++) {
        struct subq *q = &r->subqs[i];
        q->exhausted = false;
        if (!r->teams[q->team].open) continue;
        for (int j = 0; j < q->n; j++)
            r->scratch[k++] = &r->convs[q->heap[j]];
    }
    qsort(r->scratch, (size_t)k, sizeof(*r->scratch), cmp_conv_ptr);
    for (int i = 0; i < k && n < max; i++) {
        int ci = (int)(r->scratch[i] - r->convs);
        struct subq *q = &r->subqs[r->convs[ci].sq];
        if (q->exhausted) continue;
        int ai = best_agent(r, ci);
        if (ai >= 0 && offer(r, ci, ai, now, &out[n]) == SB_OK) n++;
        /* The rest of its sub-queue needs the same and may only skip
         * more agents: if one without skips found nobody, none will. */
        if (ai < 0 && r->convs[ci].nskipped == 0) q->exhausted = true;
    }
    return n;
}

/* Only what changed: the earliest conversation that a changed
 * conversation or a changed agent makes matchable goes first, to its best
 * agent, as route_full would decide it. */
static int route_changes(struct sb_router *r, int64_t now, struct sb_offer *out, int max)
{
    if (grow((void **)&r->scratch, &r->scratch_cap, r->ndirty_convs + 1, sizeof(*r->scratch)))
        return -1;
    int k = 0, n = 0;
    for (int i = 0; i < r->ndirty_convs; i++) {
        struct conv *c = &r->convs[r->dirty_convs[i]];
        if (c->dirty && c->state == CONV_QUEUED && r->teams[r->subqs[c->sq].team].open)
            r->scratch[k++] = c;
    }
    qsort(r->scratch, (size_t)k, sizeof(*r->scratch), cmp_conv_ptr);
    int next = 0;
    while (n < max) {
        while (next < k && r->scratch[next]->state != CONV_QUEUED)
            next++;
        int cand = next < k ? (int)(r->scratch[next] - r->convs) : -1;
        bool from_list = cand >= 0;
        for (int i = 0; i < r->ndirty_agents; i++) {
            int h = best_conv(r, r->dirty_agents[i]);
            if (h >= 0 && (cand < 0 || conv_before(&r->convs[h], &r->convs[cand]))) {
                cand = h;
                from_list = false;
            }
        }
        if (cand < 0) break;
        int ai = best_agent(r, cand);
        if (ai < 0) {
            /* Only a changed conversation can be unmatched here. */
            if (from_list)
                next++;
            else
                break;
            continue;
        }
        if (offer(r, cand, ai, now, &out[n])) break;
        n++;
    }
    return n;
}

int sb_router_route(struct sb_router *r, int64_t now, struct sb_offer *out, int max)
{
    if (max <= 0) return 0;
    bool full = r->full || r->ndirty_agents > FULL_PASS_AGENTS;
    int n = full ? route_full(r, now, out, max) : route_changes(r, now, out, max);
    if (n < 0) {
        r->full = true; /* out of memory: nothing decided, try it all again */
        return 0;
    }
    if (n == max) {
        /* Stopped early: what is left is unknown, so look at everything. */
        r->full = true;
    } else {
        r->full = false;
    }
    clear_marks(r);
    return n;
}

int64_t sb_router_agent_load(const struct sb_router *r, int64_t agent)
{
    int ai = agent_find(r, agent);
    return ai < 0 ? -1 : r->agents[ai].load;
}

int sb_router_queued(const struct sb_router *r)
{
    return r->queued;
}

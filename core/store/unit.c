/*
 * unit.c - the store's units of work: savepoints inside a group-committed
 * batch (sb_store_begin/commit/rollback/flush), plugin calls nested in a
 * unit, and the effects a unit queues to run after its commit
 * (include/sb_store.h, "Effects of a unit of work").
 *
 * Why effects live here: the store is the only part that knows when a
 * write became visible (RELEASE) and when it became durable (COMMIT), and
 * when it was undone (ROLLBACK TO, a failed COMMIT). Callers used to guess
 * (wake streams, change the router, then rebuild the router from the
 * database after every rollback); now they queue and the store decides.
 *
 * Uses store_int.h; no allocation on the usual path once the two effect
 * arrays have grown to the busiest batch seen.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "store_int.h"

/* ------- effect lists ------- */

static enum sb_err fx_reserve(struct store_effects *l, size_t need)
{
    struct store_effect *v;
    size_t cap;
    if (need <= l->cap) return SB_OK;
    cap = l->cap ? l->cap * 2 : 16;
    while (cap < need)
        cap *= 2;
    v = realloc(l->v, cap * sizeof(*v));
    if (!v) return SB_ERR_NOMEM;
    l->v = v;
    l->cap = cap;
    return SB_OK;
}

static void fx_release(const struct store_effect *e)
{
    if (e->free_arg) e->free_arg(e->arg);
}

/* Drops the entries from index from on, newest first (an effect's free may
 * undo what an older one's free expects to find). */
static void fx_drop_from(struct store_effects *l, size_t from)
{
    while (l->n > from)
        fx_release(&l->v[--l->n]);
}

/* Runs every entry in order, then empties the list. The list is taken out
 * first: an effect may queue another (which then runs at once, no unit
 * being open). */
static void fx_run_all(struct store_effects *l)
{
    struct store_effects run = *l;
    *l = (struct store_effects){0};
    for (size_t i = 0; i < run.n; i++) {
        run.v[i].fn(run.v[i].arg, run.v[i].key);
        fx_release(&run.v[i]);
    }
    /* keep the larger array: the next batch is likely as busy */
    if (!l->v) {
        *l = run;
        l->n = 0;
    } else {
        free(run.v);
    }
}

static bool fx_is_queued(const struct store_effects *l, const struct store_effect *e)
{
    if (e->free_arg) return false; /* two owners of one arg: keep both */
    for (size_t i = l->n; i-- > 0;) {
        const struct store_effect *q = &l->v[i];
        if (q->fn == e->fn && q->arg == e->arg && q->key == e->key && q->when == e->when &&
            !q->free_arg)
            return true;
    }
    return false;
}

enum sb_err sb_store_effect(struct sb_store *st, enum sb_effect_when when, sb_effect_fn fn,
                            void *arg, int64_t key, sb_effect_free_fn free_arg)
{
    struct store_effect e = {fn, arg, key, free_arg, when};
    struct store_effects *l;
    if (st->in_unit) {
        l = &st->unit_fx;
        if (fx_is_queued(l, &e)) return SB_OK;
    } else if (when == SB_EFFECT_DURABLE && st->batch_open) {
        l = &st->batch_fx;
    } else {
        /* nothing open: what it follows is already committed */
        fn(arg, key);
        fx_release(&e);
        return SB_OK;
    }
    if (fx_reserve(l, l->n + 1)) {
        fx_release(&e);
        return SB_ERR_NOMEM;
    }
    l->v[l->n++] = e;
    return SB_OK;
}

void sb_store_on_event(struct sb_store *st, sb_store_event_hook fn, void *arg)
{
    st->on_event = fn;
    st->on_event_arg = arg;
}

void sb_store_on_batch_lost(struct sb_store *st, sb_store_lost_hook fn, void *arg)
{
    st->on_lost = fn;
    st->on_lost_arg = arg;
}

void store_event_added(struct sb_store *st, int64_t conv_id)
{
    if (st->on_event) st->on_event(st->on_event_arg, conv_id);
}

void store_effects_drop_all(struct sb_store *st)
{
    fx_drop_from(&st->unit_fx, 0);
    fx_drop_from(&st->batch_fx, 0);
    free(st->unit_fx.v);
    free(st->batch_fx.v);
    st->unit_fx = st->batch_fx = (struct store_effects){0};
    st->plugin_depth = st->pcall_depth = st->pcall_open = 0;
}

/* The unit committed: its unit-commit effects run, its durable ones join
 * the batch's (room for them was reserved before RELEASE). */
static void unit_committed(struct sb_store *st)
{
    struct store_effects run = st->unit_fx;
    st->unit_fx = (struct store_effects){0};
    for (size_t i = 0; i < run.n; i++) {
        struct store_effect *e = &run.v[i];
        if (e->when == SB_EFFECT_DURABLE) {
            /* reserved, unless an effect that ran just before queued more */
            if (fx_reserve(&st->batch_fx, st->batch_fx.n + 1)) {
                sb_error("store: out of memory: an after-commit effect was dropped");
                fx_release(e);
            } else {
                st->batch_fx.v[st->batch_fx.n++] = *e;
            }
            continue;
        }
        e->fn(e->arg, e->key);
        fx_release(e);
    }
    if (!st->unit_fx.v) {
        st->unit_fx = run;
        st->unit_fx.n = 0;
    } else {
        free(run.v);
    }
}

/* ------- units and the batch ------- */

/* Opens the batch transaction unless it is open. */
static enum sb_err batch_begin(struct sb_store *st)
{
    enum sb_err rc;
    if (st->batch_open) return SB_OK;
    rc = store_step_done(st, store_stmt(st, ST_BEGIN));
    if (rc) return rc;
    st->batch_open = true;
    store_note_committed(st); /* everything before BEGIN is durable */
    return SB_OK;
}

bool sb_store_in_unit(const struct sb_store *st)
{
    return st->in_unit;
}

enum sb_err sb_store_begin(struct sb_store *st)
{
    enum sb_err rc;
    if (st->in_unit) return SB_ERR_INVAL;
    /* a unit begun inside a plugin call nests in the call's savepoint */
    rc = sb_store_plugin_write(st);
    if (rc) return rc;
    rc = batch_begin(st);
    if (rc) return rc;
    rc = store_step_done(st, store_stmt(st, ST_SAVEPOINT));
    if (!rc) {
        st->in_unit = true;
        st->plugin_depth = 0;
    }
    return rc;
}

enum sb_err sb_store_commit(struct sb_store *st)
{
    enum sb_err rc;
    if (!st->in_unit) return SB_ERR_INVAL;
    /* Reserve first, so moving the durable effects cannot fail after the
     * writes are released. */
    rc = fx_reserve(&st->batch_fx, st->batch_fx.n + st->unit_fx.n);
    if (!rc) rc = store_step_done(st, store_stmt(st, ST_RELEASE));
    if (rc) {
        sb_store_rollback(st);
        return rc;
    }
    st->in_unit = false;
    unit_committed(st);
    return SB_OK;
}

void sb_store_rollback(struct sb_store *st)
{
    if (!st->in_unit) return;
    /* ROLLBACK TO keeps the savepoint open; RELEASE closes it. */
    store_step_done(st, store_stmt(st, ST_ROLLBACK_TO));
    store_step_done(st, store_stmt(st, ST_RELEASE));
    st->in_unit = false;
    fx_drop_from(&st->unit_fx, 0);
}

enum sb_err sb_store_begin_own(struct sb_store *st, bool *own)
{
    *own = !st->in_unit;
    return *own ? sb_store_begin(st) : SB_OK;
}

enum sb_err sb_store_end_own(struct sb_store *st, bool own, enum sb_err rc)
{
    if (!own) return rc;
    if (!rc)
        rc = sb_store_commit(st); /* a failed commit rolls back itself */
    else
        sb_store_rollback(st);
    return rc;
}

enum sb_err sb_store_flush(struct sb_store *st)
{
    enum sb_err rc;
    if (!st->batch_open) return SB_OK;
    if (st->in_unit) sb_store_rollback(st);
    rc = store_step_done(st, store_stmt(st, ST_COMMIT));
    if (rc && !sqlite3_get_autocommit(st->db)) store_step_done(st, store_stmt(st, ST_ROLLBACK));
    st->batch_open = false;
    if (rc) {
        fx_drop_from(&st->batch_fx, 0);
        if (st->on_lost) st->on_lost(st->on_lost_arg);
        return rc;
    }
    fx_run_all(&st->batch_fx);
    return SB_OK;
}

bool sb_store_pending(const struct sb_store *st)
{
    return st->batch_open;
}

/* ------- plugin calls ------- */

/* A plugin call's savepoint is lazy: begin only counts the call, and the
 * savepoints of every open call not yet holding one are opened, outermost
 * first, before the first write inside them (sb_store_plugin_write, and a
 * unit begun inside a call). A call that wrote nothing has nothing to undo,
 * so most calls (an intent that reads, the web channel's inbound) cost no
 * SQL; a failed call that wrote is undone exactly as before. */

enum sb_err sb_store_plugin_write(struct sb_store *st)
{
    /* Outside a unit a call's savepoint joins the open batch, opening one
     * if needed, rather than being a transaction of its own: a unit begun
     * later inside the call (a channel accepting a message) can then nest
     * in it, and the call's writes are durable with the batch's flush. */
    if (st->pcall_open < st->pcall_depth) {
        enum sb_err rc = batch_begin(st);
        if (rc) return rc;
    }
    while (st->pcall_open < st->pcall_depth) {
        enum sb_err rc = store_step_done(st, store_stmt(st, ST_PLUGIN_SAVEPOINT));
        if (rc) return rc;
        st->pcall_open++;
    }
    return SB_OK;
}

enum sb_err sb_store_plugin_call_begin(struct sb_store *st)
{
#ifndef NDEBUG
    if (st->pcall_depth < STORE_PLUGIN_DEPTH)
        st->pcall_changes[st->pcall_depth] = sqlite3_total_changes64(st->db);
#endif
    st->pcall_depth++;
    /* Deeper than the marks go, an undone call keeps its effects: plugin
     * calls nest one or two deep (a hook inside an intent). */
    if (st->in_unit && st->plugin_depth < STORE_PLUGIN_DEPTH)
        st->plugin_mark[st->plugin_depth] = st->unit_fx.n;
    if (st->in_unit) st->plugin_depth++;
    return SB_OK;
}

void sb_store_plugin_call_end(struct sb_store *st, bool keep)
{
    if (st->pcall_depth == 0) return;
    st->pcall_depth--;
    if (st->pcall_open > st->pcall_depth) {
        /* ROLLBACK TO keeps the savepoint open; RELEASE closes it (and
         * commits, when the savepoint was the transaction). */
        if (!keep) store_step_done(st, store_stmt(st, ST_PLUGIN_ROLLBACK_TO));
        store_step_done(st, store_stmt(st, ST_PLUGIN_RELEASE));
        st->pcall_open = st->pcall_depth;
    }
#ifndef NDEBUG
    else if (st->pcall_depth < STORE_PLUGIN_DEPTH &&
             sqlite3_total_changes64(st->db) != st->pcall_changes[st->pcall_depth]) {
        sb_error("store: a plugin call wrote without sb_store_plugin_write: not undoable");
        assert(!"plugin write without sb_store_plugin_write");
    }
#endif
    if (!st->in_unit || st->plugin_depth == 0) return;
    st->plugin_depth--;
    if (!keep && st->plugin_depth < STORE_PLUGIN_DEPTH)
        fx_drop_from(&st->unit_fx, st->plugin_mark[st->plugin_depth]);
}

/*
 * kb_featmap.c - hashed n-gram features (64-bit keys) to dense ids 0, 1,
 * 2, ... in the order they are first added, by open addressing. The
 * nearest-neighbour index and the learned model keep their per-feature
 * data in an array indexed by these ids, which the map grows with the
 * keys, so a new id always has a zeroed value.
 */
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"

static uint32_t slot_of(uint64_t key, uint32_t cap)
{
    return (uint32_t)(key ^ (key >> 32)) & (cap - 1);
}

int32_t kb_featmap_find(const struct kb_featmap *fm, uint64_t key)
{
    if (!fm->slot_cap) return -1;
    for (uint32_t i = slot_of(key, fm->slot_cap); fm->slot[i]; i = (i + 1) & (fm->slot_cap - 1))
        if (fm->keys[fm->slot[i] - 1] == key) return (int32_t)(fm->slot[i] - 1);
    return -1;
}

bool kb_featmap_same(const struct kb_featmap *a, const struct kb_featmap *b)
{
    return a->n == b->n && (!a->n || !memcmp(a->keys, b->keys, a->n * sizeof(*a->keys)));
}

/* Doubles the slots (kept at most half full), the keys and the values. */
static enum sb_err grow(struct kb_featmap *fm, void **values, size_t size)
{
    uint32_t cap = fm->slot_cap ? fm->slot_cap * 2 : 4096;
    uint32_t *s = calloc(cap, sizeof(*s));
    uint64_t *k = realloc(fm->keys, (cap / 2) * sizeof(*k));
    void *v = k ? realloc(*values, (cap / 2) * size) : NULL;

    if (k) fm->keys = k;
    if (v) *values = v;
    if (!s || !k || !v) {
        free(s);
        return SB_ERR_NOMEM;
    }
    for (uint32_t f = 0; f < fm->n; f++) {
        uint32_t i = slot_of(fm->keys[f], cap);
        while (s[i])
            i = (i + 1) & (cap - 1);
        s[i] = f + 1;
    }
    free(fm->slot);
    fm->slot = s;
    fm->slot_cap = cap;
    return SB_OK;
}

int32_t kb_featmap_add(struct kb_featmap *fm, uint64_t key, void **values, size_t size)
{
    int32_t f = kb_featmap_find(fm, key);
    uint32_t i;

    if (f >= 0) return f;
    if ((fm->n + 1) * 2 > fm->slot_cap && grow(fm, values, size)) return -1;
    fm->keys[fm->n] = key;
    memset((char *)*values + (size_t)fm->n * size, 0, size);
    for (i = slot_of(key, fm->slot_cap); fm->slot[i]; i = (i + 1) & (fm->slot_cap - 1))
        ;
    fm->slot[i] = fm->n + 1;
    return (int32_t)fm->n++;
}

void kb_featmap_free(struct kb_featmap *fm)
{
    free(fm->keys);
    free(fm->slot);
    fm->keys = NULL;
    fm->slot = NULL;
    fm->n = fm->slot_cap = 0;
}

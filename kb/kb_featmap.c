/*
 * kb_featmap.c - hashed n-gram features (64-bit keys) to dense ids 0, 1,
 * 2, ... in the order they are first added, by open addressing. The
 * nearest-neighbour index and the learned model keep their per-feature
 * data in arrays indexed by these ids.
 */
#include <stdlib.h>

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

/* Doubles the slots (kept at most half full) and the key array. */
static enum sb_err grow(struct kb_featmap *fm)
{
    uint32_t cap = fm->slot_cap ? fm->slot_cap * 2 : 4096;
    uint32_t *s = calloc(cap, sizeof(*s));
    uint64_t *k = realloc(fm->keys, (cap / 2) * sizeof(*k));

    if (!s || !k) {
        free(s);
        if (k) fm->keys = k;
        return SB_ERR_NOMEM;
    }
    fm->keys = k;
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

int32_t kb_featmap_add(struct kb_featmap *fm, uint64_t key)
{
    int32_t f = kb_featmap_find(fm, key);
    uint32_t i;

    if (f >= 0) return f;
    if ((fm->n + 1) * 2 > fm->slot_cap && grow(fm)) return -1;
    fm->keys[fm->n] = key;
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

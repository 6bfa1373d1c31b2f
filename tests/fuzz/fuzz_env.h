/*
 * fuzz_env.h - a real store and knowledge base for the fuzz targets that
 * need one (locales, article checks), opened once per process in a
 * temporary file (tests/unit/kb_store_env.h) and removed at exit.
 * Header-only: each target is its own program.
 */
#ifndef FUZZ_ENV_H
#define FUZZ_ENV_H

#include <stdio.h>
#include <stdlib.h>

#include "../unit/kb_store_env.h"
#include "sb_kb.h"

/* The locales the targets' knowledge base knows, the first the default. */
#define FUZZ_LOCALES "en,pt-BR,de,zh-Hant,es-419"

static char fuzz_env_path[64];
static struct sb_store *fuzz_env_store;
static struct sb_kb *fuzz_env_kb;

static void fuzz_env_close(void)
{
    kb_store_env_close(fuzz_env_path, fuzz_env_store, fuzz_env_kb);
}

/* The knowledge base (borrowed); aborts when it cannot be opened. */
static inline struct sb_kb *fuzz_kb(void)
{
    struct sb_errbuf eb = {{0}};

    if (fuzz_env_kb) return fuzz_env_kb;
    if (kb_store_env_open(fuzz_env_path, "fuzz", &fuzz_env_store, &fuzz_env_kb) ||
        sb_kb_set_locales(fuzz_env_kb, FUZZ_LOCALES, &eb)) {
        fprintf(stderr, "fuzz_env: %s\n", eb.msg);
        abort();
    }
    atexit(fuzz_env_close);
    return fuzz_env_kb;
}

#endif

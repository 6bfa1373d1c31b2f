/*
 * words.h - the words the customer sees, from one catalogue file per locale
 * (web/locales/<locale>.json: {"key": "text"}), and the one locale fallback
 * rule that the bot's replies, system messages, Lua's ctx:t and ctx:pick,
 * the help center, the widget and the knowledge base's answer locale use.
 */
#ifndef SB_WORDS_H
#define SB_WORDS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "sb.h"

/* The locale everything falls back to last; its catalogue must exist. */
#define SB_WORDS_LAST "en"

/* The fallback rule. Fills order with indices into have (n locales, in the
 * caller's order of preference) to try for wish, best first, each once:
 *   1. wish itself (case and '-'/'_' ignored: "pt_pt" is pt-PT)
 *   2. its bare language ("pt" for pt-PT)
 *   3. the other locales of that language, in the order of have (pt-BR)
 *   4. last (may be NULL), e.g. "en" or the knowledge base's default
 * wish may be NULL (only step 4). Returns how many it filled, at most cap;
 * 0 when nothing fits. */
size_t sb_locale_chain(const char *wish, const char *const *have, size_t n, const char *last,
                       size_t *order, size_t cap);

/* True when a and b have the same language ("pt-BR", "pt_PT", "pt"): the
 * part before the first '-' or '_', case ignored. */
bool sb_locale_same_language(const char *a, const char *b);

/* For a client that cannot run the rule itself (the widget): an object
 * {tag: locale} over the n locales of have (in the caller's order of
 * preference), with a key for each of them and for each of their
 * languages, in lower case, and as value what the rule picks for that key
 * without a last resort. The rule picks for any other tag what it picks
 * for the tag's language (its steps 2 and 3 look only at the language),
 * so "the tag, else its language" looked up here answers every tag; a
 * language that is not a key has no locale in have. NULL when out of
 * memory. */
json_t *sb_locale_table(const char *const *have, size_t n);

/* Picks from the n names of have (borrowed; sorted here, so the order of a
 * hash table's keys does not matter) the best for wish by the rule with
 * also (may be NULL), then en, as the last resorts: *best indexes the
 * sorted have. False when none fits. */
bool sb_locale_pick(const char **have, size_t n, const char *wish, const char *also, size_t *best);

/* The text of obj ({"en": "...", "pt-BR": "..."}, borrowed) for wish by
 * the rule, with the keys in name order and also (may be NULL, e.g. a
 * site's own default locale), then en, as the last resorts; NULL when none
 * fits or the one picked is not a string. Borrowed from obj. */
const char *sb_locale_pick_text(json_t *obj, const char *wish, const char *also);

struct sb_words;

/* Loads every <locale>.json of dir (a flat object of string texts, each
 * file at most 1 MiB); en.json must be there. *out is owned: sb_words_free. */
enum sb_err sb_words_load(const char *dir, struct sb_words **out, struct sb_errbuf *eb);
void sb_words_free(struct sb_words *w); /* NULL-safe */

/* The text of key for locale: the first catalogue along the fallback rule
 * (last: en) that has it. NULL when none has it, or w is NULL. Borrowed,
 * lives as long as w. */
const char *sb_words_get(const struct sb_words *w, const char *locale, const char *key);

/* The catalogue whose text sb_words_get answers for locale and key: "pt-BR"
 * for pt-AO; NULL when none has key. Borrowed. */
const char *sb_words_locale(const struct sb_words *w, const char *locale, const char *key);

/* sb_words_get without the last resort: the text of key from the
 * catalogues of locale's own language only (pt-PT, pt, pt-BR, ...); NULL
 * when none of them has it. For words that must not come from another
 * language, such as a language's name for itself. */
const char *sb_words_own(const struct sb_words *w, const char *locale, const char *key);

/* The name of locale in its own language, for a menu of languages:
 * "locale.name" of the catalogue of exactly that locale ("Português
 * (Portugal)"), else "language.name" of its language's catalogues
 * ("Português" for pt-AO); NULL when no catalogue of that language names
 * it. Borrowed. */
const char *sb_words_locale_name(const struct sb_words *w, const char *locale);

/* sb_words_get, or the key itself when no catalogue has it (so a missing
 * word shows rather than an empty message). Borrowed. */
const char *sb_words_text(const struct sb_words *w, const char *locale, const char *key);

/* sb_words_get with {name} placeholders filled from names/values (n
 * pairs) into out (cap bytes, cut at cap); an unknown key writes the key
 * itself, so a missing word shows rather than an empty message. Returns out. */
const char *sb_words_format(const struct sb_words *w, const char *locale, const char *key,
                            const char *const *names, const char *const *values, size_t n,
                            char *out, size_t cap);

/* Every key that starts with prefix, resolved for locale, as a new object
 * {key without the prefix: text} (NULL when out of memory). */
json_t *sb_words_json(const struct sb_words *w, const char *locale, const char *prefix);

#endif

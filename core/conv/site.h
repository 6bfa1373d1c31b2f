/*
 * site.h - private to core/: what a site (one web property running the
 * widget, docs/widget.md) may contain, checked field by field, and the
 * views of it that leave the server (public settings, masked secret).
 *
 * A site travels as a JSON object {id, name, origins, secret, title, color,
 * position, locale, greeting, proactive}. Every json_t returned is owned by
 * the caller; every json_t passed in is borrowed.
 */
#ifndef SITE_H
#define SITE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "sb.h"

#define SITE_ID_MAX 40
#define SITE_ORIGIN_MAX 200
#define SITE_SECRET_MIN 32
#define SITE_SECRET_MAX 128

/* The locales the widget's own interface speaks. */
#define SITE_WIDGET_LOCALES "en", "pt-BR", "pt-PT", "ro"

/* True when id matches [a-z0-9-]{1,40}. */
bool site_id_valid(const char *id);

/* "HTTPS://Shop.Example:8443" -> "https://shop.example:8443". False unless
 * in is scheme://host[:port] with scheme http or https, a host of letters,
 * digits, dots and dashes, a port 1-65535 and nothing after it. */
bool site_origin_normalise(const char *in, char *out, size_t cap);

/* The origin (scheme://host[:port]) of an absolute URL such as the server's
 * public URL; false when it has none. */
bool site_origin_of_url(const char *url, char *out, size_t cap);

/* Checks a whole site as sent by PUT or `switchboard site set` and builds
 * the stored form: known keys only, defaults filled in, origins and
 * locales normalised. id comes from the URL (in's own "id", if any, must
 * equal it). secret may be absent (the caller keeps the old one or makes
 * one). default_locale is used when "locale" is absent. On SB_ERR_INVAL
 * eb says which field, e.g. "origins[1]: must look like https://host". */
enum sb_err site_validate(json_t *in, const char *id, const char *default_locale, json_t **out,
                          struct sb_errbuf *eb);

/* What browsers may see: {id, title, color, position, locale, greeting,
 * proactive, locales}. */
json_t *site_public_json(json_t *site);

/* The site for staff, with the secret replaced by "…" and its last four
 * characters. */
json_t *site_masked_json(json_t *site);

#endif

/*
 * attachments.h - private to core/: files customers send with their
 * messages (docs/widget.md, "attachments"): which types are accepted, the
 * signature each must start with, and content-addressed storage under
 * DATA/attachments/.
 */
#ifndef ATTACHMENTS_H
#define ATTACHMENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "sb.h"

#define ATTACHMENTS_PER_MESSAGE 5
#define ATTACHMENT_NAME_MAX 200

/* The accepted type named by a Content-Type header ("image/PNG; x=y" ->
 * "image/png"), as a static string; NULL when it is not one of image/png,
 * image/jpeg, image/gif, image/webp, application/pdf. */
const char *attachment_type(const char *content_type);

/* True when data starts with the signature of type (an accepted type):
 * PNG, JPEG, GIF87a/89a, RIFF....WEBP, %PDF-. */
bool attachment_sniff(const char *type, const void *data, size_t len);

/* True for the types a browser may show inline (the images). */
bool attachment_inline(const char *type);

/* Decodes an X-Filename header (percent-encoded UTF-8) into out[cap]:
 * at most ATTACHMENT_NAME_MAX bytes once decoded, valid UTF-8 without
 * control characters; any folder part is dropped. False when unusable. */
bool attachment_name_decode(const char *header, char *out, size_t cap);

/* Writes data to DATA/attachments/<aa>/<sha256> unless that file exists,
 * durably (temporary file, fsync, rename, fsync of the folder); sha256
 * receives the hex digest. */
enum sb_err attachment_store(const char *data_dir, const void *data, size_t len, char sha256[65],
                             struct sb_errbuf *eb);

/* The path of a stored file into out[cap]. */
void attachment_path(const char *data_dir, const char *sha256, char *out, size_t cap);

#endif

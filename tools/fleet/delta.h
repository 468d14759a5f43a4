/* SPDX-License-Identifier: MIT */
/*
 * delta.h: a bundle (bundle.h) as the edit of an older one, so that a
 * fleet host that holds the older bundle downloads only what changed.
 *
 * A delta turns one exact base, named by its SHA-256 and size, into one
 * exact target: applying it to anything else, or a damaged delta, gives
 * an error and never a plausible bundle.  The result is checked against
 * the target's hash before the caller sees it, so a host ends up with the
 * very bytes of the full bundle, or with nothing.
 *
 * The format, version 1 (text, one operation a line):
 *
 *   nss-scim-delta 1
 *   base SHA256 SIZE        the bundle it applies to (64 hex digits)
 *   target SHA256 SIZE      the bundle it makes
 *   = N                     copy the base's next N lines
 *   - N                     skip the base's next N lines
 *   + TEXT                  a line of the target: TEXT
 *   ~ +ADDED -REMOVED       the base's next line is a group ("G" line):
 *                           it keeps its name and gid, gains the members
 *                           ADDED and loses REMOVED (comma-separated,
 *                           either may be empty), members staying sorted
 *   end
 *
 * Every base line is copied or skipped exactly once, in order.  The edit
 * is made record by record: the bundle's people and groups are sorted by
 * name, so a merge of the two lists finds what was added, removed or
 * changed, and a group that gained or lost a few of its thousands of
 * members costs those names only.
 */
#ifndef SCIM_DELTA_H
#define SCIM_DELTA_H

#include <stddef.h>

#include "util.h"

#define DELTA_VERSION 1
#define SHA256_HEX    65 /* 64 hex digits and a NUL */

/* The SHA-256 of LEN bytes at DATA, in lowercase hex. */
void delta_sha256_hex(const void *data, size_t len, char out[SHA256_HEX]);

/* The same of the file at PATH, read a piece at a time (no copy of it is
 * held whole).  Returns 0 or a negative errno. */
int delta_sha256_file(const char *path, char out[SHA256_HEX]);

/* Writes into OUT the delta from BASE (BLEN bytes) to TARGET (TLEN
 * bytes).  Both should be bundles, but any text of whole lines works; the
 * delta is only smaller when they are.  Returns 0 or -ENOMEM. */
int delta_make(const char *base, size_t blen, const char *target, size_t tlen,
               struct buf *out);

/* Applies DELTA (DLEN bytes) to BASE (BLEN bytes) into OUT (emptied
 * first).  Returns 0 when BASE is the delta's base and the result hashes
 * to its target, which goes into TARGET_HEX; otherwise -EBADE (another
 * base, or a result that is not the target), -EBADMSG (a damaged delta)
 * or -ENOMEM, with one line in ERR.  On failure OUT holds nothing of
 * use. */
int delta_apply(const char *base, size_t blen, const char *delta, size_t dlen,
                struct buf *out, char target_hex[SHA256_HEX], char *err,
                size_t errlen);

/* A line of a text: LEN bytes at offset OFF, without its newline. */
struct delta_span {
	size_t off, len;
};

/* What a delta changed, line by line: GONE, the base's lines it skipped
 * or edited (offsets in the base); CAME, the target's lines it added or
 * edited (offsets in the target), each list in order.  An edited line is
 * in both.  Every other line of the target is a line of the base. */
struct delta_edits {
	struct delta_span *gone, *came;
	size_t ngone, ncame;
};

/* delta_apply(), telling also what changed into ED (emptied first; freed
 * with delta_edits_free() whatever the result). */
int delta_apply_edits(const char *base, size_t blen, const char *delta,
                      size_t dlen, struct buf *out, char target_hex[SHA256_HEX],
                      struct delta_edits *ed, char *err, size_t errlen);
void delta_edits_free(struct delta_edits *ed);

#endif

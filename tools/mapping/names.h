/* SPDX-License-Identifier: MIT */
/*
 * names.h: what a directory name may become on a host, before the mapping
 * (map.h) decides between people and groups.
 *
 * Two rules live here, so that the bridge refresh and a fleet host apply
 * the same ones:
 *   - the reserved names: user and group names that grant privilege or
 *     belong to the system on common distributions (root, admin, wheel,
 *     sudo, docker, lxd, systemd-*, ...).  They are never published, even
 *     where the local files lack them, since a package may create them
 *     later, or a sudoers or polkit default may already trust them.  The
 *     config's reserved_names adds to them.
 *   - the Latin fold: a display name or login name is made of ASCII, or of
 *     Latin letters whose canonical decomposition is an ASCII letter plus
 *     combining marks (é, Å, ş, ő); those marks are dropped.  Any other
 *     character (another script's letter, an invisible or bidi control, a
 *     space other than U+0020, a letter such as ß or ł that does not
 *     decompose) makes the name unusable: nothing is ever deleted silently
 *     to make a name fit.
 */
#ifndef SCIM_NAMES_H
#define SCIM_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why NAME is reserved (a short phrase naming the family and where it
 * comes from), or NULL when it is not.  EXTRA holds the config's own
 * reserved names (NEXTRA of them); an entry ending in '*' reserves every
 * name that starts with what precedes it. */
const char *names_reserved(const char *name, char *const *extra, size_t nextra);

/* Why a reserved_names entry is unusable, or NULL when it is fine. */
const char *names_reserved_entry_invalid(const char *entry);

/* Folds UTF-8 text IN to ASCII into OUT (OUTLEN bytes) by the Latin fold.
 * Returns 0; -EILSEQ when IN is not UTF-8, -EDOM when it holds a character
 * that does not fold or an ASCII control character (its code point in
 * *BAD); -ENAMETOOLONG when OUT is too small.  Printable ASCII passes
 * unchanged: case and punctuation are the name rules' business. */
int names_fold(const char *in, char *out, size_t outlen, uint32_t *bad);

/* Cleans free text S in place for a passwd field such as gecos: drops
 * ASCII and C1 control characters, ':', invisible, joining and
 * bidirectional controls (a U+202E would show the rest of a line of
 * `getent passwd` reversed), and bytes that are not UTF-8.  Other
 * characters, accents and other scripts among them, stay. */
void names_clean_text(char *s);

/* A phrase for a character that names_fold() refused: "an invisible or
 * formatting character", "a control character", "a space other than the
 * ASCII one", or "not a Latin letter with an ASCII base".  Never NULL. */
const char *names_char_kind(uint32_t cp);

#endif

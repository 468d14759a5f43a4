/* SPDX-License-Identifier: MIT */
/*
 * safedir.h: opening a directory that root will write into, safely.
 *
 * scim-cache runs as root and writes the snapshot (and creates its
 * directory) at a path from the config.  If anyone else could write to
 * that directory or to one above it (other than a sticky one such as
 * /tmp), they could swap a name for a symlink between our check and our
 * write, and have root write, truncate or chmod a file of their choosing.
 * So the path is walked from / with openat(O_NOFOLLOW), one component at a
 * time, each checked on its descriptor; the writer then works through the
 * descriptor it gets.  The rule is the reader's own (snap.h): the
 * directory and each ancestor owned by root or the caller, the directory
 * not writable by group or others, an ancestor only if sticky.
 */
#ifndef SNAP_SAFEDIR_H
#define SNAP_SAFEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Opens DIR (an absolute path) as above and returns its descriptor
 * (O_RDONLY|O_DIRECTORY|O_CLOEXEC; close it), or a negative errno with a
 * one-line reason in ERR: -EPERM for a component of the wrong owner or
 * mode, -ELOOP for a symlink, -ENOTDIR, -ENOENT.  With CREATE, missing
 * components are made with MODE (and checked like the others); the mode
 * of those that exist is left alone. */
int safedir_open(const char *dir, bool create, mode_t mode, char *err,
                 size_t errlen);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * helpers.h: two small helpers that the snapshot writer and scim-cache
 * share (libsnap; the modules that run inside other processes do not link
 * them).
 */
#ifndef NSS_SCIM_HELPERS_H
#define NSS_SCIM_HELPERS_H

#include <stddef.h>

/* Writes the message FMT into ERR (ERRLEN bytes; nothing when ERR is NULL)
 * and returns CODE: for "return set_error(err, errlen, -EINVAL, ...)". */
int set_error(char *err, size_t errlen, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Makes room for element N of the array *ARR of *CAP elements of SIZE
 * bytes, N <= *CAP: when N == *CAP it doubles *CAP (FIRST when zero) and
 * reallocates.  Returns 0, or -ENOMEM with *ARR and *CAP as they were. */
int array_grow(void **arr, size_t *cap, size_t n, size_t size, size_t first);

#endif

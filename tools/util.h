/* SPDX-License-Identifier: MIT */
/*
 * util.h: small helpers shared by scim-cache's modules: checked number
 * parsing, printable copies of untrusted text, a growable byte buffer,
 * FNV-1a hashing and atomic file replacement.
 *
 * Nothing here logs or exits.  Functions returning int give 0 or a negative
 * errno.
 */
#ifndef SCIM_UTIL_H
#define SCIM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "helpers.h" /* set_error, array_grow */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parses S as a whole decimal number in [MIN, MAX] (no sign, no spaces, no
 * leading '+').  Returns 0 and writes *OUT, or -EINVAL (not a number) or
 * -ERANGE (outside the range); *OUT untouched on failure. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* Writes into DST (DSTLEN > 0 bytes, always NUL-terminated) a copy of the
 * LEN bytes at SRC that is safe to print: bytes outside printable ASCII
 * become \xNN, a backslash becomes \\, and the copy is cut at
 * PRINTABLE_MAX source bytes with "..." appended.  Returns DST. */
#define PRINTABLE_MAX 64
char *printable(char *dst, size_t dstlen, const char *src, size_t len);

/* A growable NUL-terminated byte buffer.  Zero-initialise to start.  After an
 * allocation failure, err is -ENOMEM and further appends do nothing. */
struct buf {
	char *data;
	size_t len, cap;
	int err;
};
void buf_add(struct buf *b, const void *p, size_t len);
/* Room for MORE bytes past B's length (and a NUL), set aside at once. */
void buf_reserve(struct buf *b, size_t more);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Empties B, keeping its memory. */
void buf_reset(struct buf *b);
/* Frees B's memory and zeroes it; wipes the bytes first when SECRET. */
void buf_free(struct buf *b, bool secret);

/* 64-bit FNV-1a of LEN bytes, continuing from H (start with FNV1A_INIT). */
#define FNV1A_INIT UINT64_C(0xcbf29ce484222325)
uint64_t fnv1a(uint64_t h, const void *p, size_t len);

/* Replaces PATH with LEN bytes at DATA through a temporary file in the same
 * directory (mode MODE, fsynced, renamed over PATH, directory fsynced).
 * On failure PATH is unchanged.  Returns 0 or a negative errno. */
int write_file_atomic(const char *path, const void *data, size_t len,
                      mode_t mode);
/* All LEN bytes at DATA to FD, through EINTR and short writes.  Returns 0
 * or a negative errno. */
int write_all(int fd, const void *data, size_t len);
/* write_file_atomic, with FILL writing the content to FD (0 or a negative
 * errno): for content too large to build in memory first. */
int write_file_atomic_with(const char *path, mode_t mode,
                           int (*fill)(int fd, void *ud), void *ud);

/* Reads a whole regular file of at most MAX bytes into *OUT (NUL-terminated,
 * caller frees) and its length into *LEN.  Returns 0, -ENOENT, -EFBIG or
 * another negative errno.  O_NOFOLLOW: a symlink gives -ELOOP. */
int read_file(const char *path, size_t max, char **out, size_t *len);
/* The same from an open descriptor (read from its current offset). */
int read_fd(int fd, size_t max, char **out, size_t *len);
/* The whole regular file at PATH (at most MAX bytes) mapped privately,
 * read and write (changes stay in this process), not NUL-terminated: for
 * a large file read whole without copying it into the heap.  Only for
 * files nss-scim alone replaces, and then by rename: a file truncated
 * while mapped raises SIGBUS.  An empty file gives NULL and 0.  Returns 0
 * or a negative errno, as read_file().  Unmapped with unmap_file(). */
int map_file(const char *path, size_t max, char **out, size_t *len);
void unmap_file(char *data, size_t len);

/* Creates the directory DIR (absolute) and its missing ancestors, each
 * with exactly MODE (whatever the umask), walking down from / without
 * following a link and refusing a directory that anyone else could write
 * to (safedir.h).  Existing directories are left as they are.  Returns 0
 * or a negative errno with a one-line reason in ERR. */
int make_dirs(const char *dir, mode_t mode, char *err, size_t errlen);

/* ASCII lowercase in place. */
void ascii_lower(char *s);

/* True when the LEN bytes at S are an acceptable SCIM resource id for use in
 * a URL path and the state file: 1..SCIM_ID_MAX bytes of [A-Za-z0-9._-]. */
#define SCIM_ID_MAX 128
bool scim_id_valid(const char *s, size_t len);

/* Seconds since the epoch as a double, monotonic clock seconds. */
double now_wall(void);

/* T (seconds since the epoch) in UTC into BUF, or "never" when T <= 0. */
const char *fmt_utc(double t, char *buf, size_t len);
double now_mono(void);

/* A uniformly random number in [0, n]; n < 2^32. */
uint32_t random_upto(uint32_t n);

#endif

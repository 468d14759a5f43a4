/* SPDX-License-Identifier: MIT */
/*
 * arena.h: memory handed out in large chunks and freed all at once, for
 * the many small strings and member arrays of a whole directory (the
 * snapshot writer's copies, scim-cache's model): one malloc per chunk
 * instead of one per string, a million times over for a large directory.
 */
#ifndef NSS_SCIM_ARENA_H
#define NSS_SCIM_ARENA_H

#include <stddef.h>

struct arena_chunk;

/* Zero-initialise; CHUNK is the usual chunk size in bytes (0: 64 KiB). */
struct arena {
	struct arena_chunk *head;
	size_t chunk;
};

/* LEN bytes aligned for any type, valid until arena_free(); NULL when out
 * of memory.  A request larger than a chunk gets a chunk of its own. */
void *arena_alloc(struct arena *a, size_t len);

/* A copy of the LEN bytes at S plus a NUL; NULL when out of memory. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/* Frees every chunk; A is then empty and reusable. */
void arena_free(struct arena *a);

#endif

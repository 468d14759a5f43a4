/* SPDX-License-Identifier: MIT */
/*
 * arena.c: see arena.h.
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_CHUNK_DEFAULT (64u << 10)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	alignas(max_align_t) char data[];
};

void *arena_alloc(struct arena *a, size_t len)
{
	struct arena_chunk *c = a->head;
	size_t align = alignof(max_align_t);
	size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;

	if (c == NULL || at > c->cap || c->cap - at < len) {
		size_t want = a->chunk ? a->chunk : ARENA_CHUNK_DEFAULT;
		size_t cap = len > want ? len : want;

		if (cap > SIZE_MAX - sizeof(*c))
			return NULL;
		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
		at = 0;
	}
	c->used = at + len;
	return c->data + at;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *c = len < SIZE_MAX ? arena_alloc(a, len + 1) : NULL;

	if (c != NULL) {
		memcpy(c, s, len);
		c[len] = '\0';
	}
	return c;
}

void arena_free(struct arena *a)
{
	while (a->head != NULL) {
		struct arena_chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * table.c: see table.h.  Linear probing at a load of at most one half.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "util.h"

/* Eight bytes a step: FNV-1a, a byte a step, was a visible share of a
 * large refresh (a million member ids hashed).  The id map's numbering
 * keeps FNV-1a, which its file format depends on; this hash is private to
 * the table. */
uint32_t str_hash(const char *key)
{
	size_t len = strlen(key);
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ len, w;

	for (; len >= 8; key += 8, len -= 8) {
		memcpy(&w, key, 8);
		h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, key, len);
	h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return (uint32_t)h;
}

static size_t str_slot(const struct strmap *m, const char *key, uint32_t hash)
{
	size_t i = hash & (m->cap - 1);

	while (m->slots[i].key != NULL &&
	       (m->slots[i].hash != hash || strcmp(m->slots[i].key, key) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int strmap_grow(struct strmap *m)
{
	struct strmap old = *m;
	size_t cap = m->cap ? m->cap * 2 : 64;

	if (cap > SIZE_MAX / sizeof(*m->slots))
		return -ENOMEM;
	m->slots = calloc(cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		*m = old;
		return -ENOMEM;
	}
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key != NULL)
			m->slots[str_slot(m, old.slots[i].key,
			                  old.slots[i].hash)] = old.slots[i];
	free(old.slots);
	return 0;
}

int strmap_put(struct strmap *m, const char *key, size_t value)
{
	uint32_t hash = str_hash(key);
	size_t i;

	if (value >= UINT32_MAX)
		return -EOVERFLOW;
	if ((m->n + 1) * 2 > m->cap && strmap_grow(m) < 0)
		return -ENOMEM;
	i = str_slot(m, key, hash);
	if (m->slots[i].key == NULL) {
		m->slots[i].key = m->borrow ? (char *)key : strdup(key);
		if (m->slots[i].key == NULL)
			return -ENOMEM;
		m->slots[i].hash = hash;
		m->n++;
	}
	m->slots[i].value = (uint32_t)value;
	return 0;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *value)
{
	size_t i;

	if (m->cap == 0)
		return false;
	i = str_slot(m, key, str_hash(key));
	if (m->slots[i].key == NULL)
		return false;
	if (value)
		*value = m->slots[i].value;
	return true;
}

/* Keys looked up together by strmap_get_many: enough to overlap the
 * cache misses, few enough that their slots stay in the cache. */
#define BATCH 16

void strmap_get_many(const struct strmap *m, const char *const *keys, size_t n,
                     uint32_t *values)
{
	if (m->cap == 0) {
		for (size_t i = 0; i < n; i++)
			values[i] = UINT32_MAX;
		return;
	}
	for (size_t b = 0; b < n; b += BATCH) {
		size_t e = n - b < BATCH ? n - b : BATCH;
		uint32_t hash[BATCH] = {0};
		size_t at[BATCH] = {0};

		/* Hash every key and fetch its first slot ... */
		for (size_t i = 0; i < e; i++) {
			hash[i] = str_hash(keys[b + i]);
			at[i] = hash[i] & (m->cap - 1);
			__builtin_prefetch(&m->slots[at[i]]);
		}
		/* ... then the stored key of the slot whose hash matches ... */
		for (size_t i = 0; i < e; i++) {
			while (m->slots[at[i]].key != NULL &&
			       m->slots[at[i]].hash != hash[i])
				at[i] = (at[i] + 1) & (m->cap - 1);
			if (m->slots[at[i]].key != NULL)
				__builtin_prefetch(m->slots[at[i]].key);
		}
		/* ... and compare; a hash shared by another key goes on
		 * probing as strmap_get does. */
		for (size_t i = 0; i < e; i++) {
			const struct strmap_slot *s = &m->slots[at[i]];

			if (s->key != NULL && strcmp(s->key, keys[b + i]) != 0)
				s = &m->slots[str_slot(m, keys[b + i],
				                       hash[i])];
			values[b + i] = s->key != NULL ? s->value : UINT32_MAX;
		}
	}
}

void strmap_free(struct strmap *m)
{
	bool borrow = m->borrow;

	for (size_t i = 0; !borrow && i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	*m = (struct strmap){.borrow = borrow};
}

static size_t num_slot(const struct numset *s, uint32_t v)
{
	size_t i = (size_t)((v * UINT64_C(0x9e3779b97f4a7c15)) >> 20) &
	           (s->cap - 1);

	while (s->slots[i] != 0 && s->slots[i] != v)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int numset_grow(struct numset *s)
{
	struct numset old = *s;
	size_t cap = s->cap ? s->cap * 2 : 64;

	if (cap > SIZE_MAX / sizeof(*s->slots))
		return -ENOMEM;
	s->slots = calloc(cap, sizeof(*s->slots));
	if (s->slots == NULL) {
		*s = old;
		return -ENOMEM;
	}
	s->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i] != 0)
			s->slots[num_slot(s, old.slots[i])] = old.slots[i];
	free(old.slots);
	return 0;
}

int numset_add(struct numset *s, uint32_t v)
{
	size_t i;

	if (v == 0) {
		s->has_zero = true;
		return 0;
	}
	if ((s->n + 1) * 2 > s->cap && numset_grow(s) < 0)
		return -ENOMEM;
	i = num_slot(s, v);
	if (s->slots[i] == 0) {
		s->slots[i] = v;
		s->n++;
	}
	return 0;
}

bool numset_has(const struct numset *s, uint32_t v)
{
	if (v == 0)
		return s->has_zero;
	return s->cap != 0 && s->slots[num_slot(s, v)] == v;
}

void numset_free(struct numset *s)
{
	free(s->slots);
	*s = (struct numset){0};
}

/* SPDX-License-Identifier: MIT */
/*
 * table.h: two small open-addressing hash tables used throughout
 * scim-cache: strings to indices (struct strmap) and a set of 32-bit
 * numbers (struct numset).  Zero-initialise to start; free with *_free.
 * Keys are copied, unless the map borrows them.  Functions returning int
 * give 0 or -ENOMEM.
 */
#ifndef SCIM_TABLE_H
#define SCIM_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap {
	struct strmap_slot {
		char *key;
		uint32_t hash; /* of key: most probes end without a strcmp */
		uint32_t value;
	} * slots;
	size_t cap, n;
	/* Set before the first put: keys are then not copied, and each must
	 * stay unchanged, at its address, for as long as the map is used. */
	bool borrow;
};

/* The hash the tables use: fast, not stable across versions (never store
 * it). */
uint32_t str_hash(const char *key);

/* Sets KEY to VALUE, replacing an earlier value.  VALUE is an index and
 * must be below UINT32_MAX (-EOVERFLOW otherwise). */
int strmap_put(struct strmap *m, const char *key, size_t value);
/* True and *VALUE written when KEY is present. */
bool strmap_get(const struct strmap *m, const char *key, size_t *value);
/* strmap_get for the N KEYS at once, into VALUES (UINT32_MAX when absent):
 * the lookups' cache misses overlap, which is most of their cost in a
 * large map. */
void strmap_get_many(const struct strmap *m, const char *const *keys, size_t n,
                     uint32_t *values);
void strmap_free(struct strmap *m);

struct numset {
	uint32_t *slots; /* 0 marks an empty slot; 0 itself is kept aside */
	size_t cap, n;
	bool has_zero;
};

int numset_add(struct numset *s, uint32_t v);
bool numset_has(const struct numset *s, uint32_t v);
void numset_free(struct numset *s);

#endif

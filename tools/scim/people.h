/* SPDX-License-Identifier: MIT */
/*
 * people.h: the people of a Users listing, kept compactly for the mapping.
 *
 * A parsed resource (struct scim_res) costs about 100 bytes before its
 * strings, so 100,000 people held from the end of the listing to the end
 * of the mapping cost 10 MB of pointers alone.  Here each person is 16
 * bytes plus their strings, packed in an arena: id first, then the other
 * fields that are present, in a fixed order.
 */
#ifndef SCIM_PEOPLE_H
#define SCIM_PEOPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "scim.h"

struct person_rec {
	const char *s; /* id, then each field in `present`, NUL-terminated */
	uint8_t present;
	bool active;
	uint8_t active_attr;
};

struct people {
	struct person_rec *v;
	size_t n;
	struct arena strs;
};

/* Moves the N resources at ITEMS into P (empty on entry): each resource is
 * cleared and ITEMS freed, whether this succeeds or not.  Returns 0 or
 * -ENOMEM (P then empty). */
int people_take(struct people *p, struct scim_res *items, size_t n);

/* Person I of P as a resource: R's strings point into P (R owns nothing
 * and must not be cleared), the group fields are empty. */
void people_get(const struct people *p, size_t i, struct scim_res *r);

void people_free(struct people *p);

#endif

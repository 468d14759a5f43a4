/* SPDX-License-Identifier: MIT */
/*
 * people.c: see people.h.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "people.h"

#define NFIELDS 6

/* The fields after id, in the order they are packed. */
static void fields(struct scim_res *r, char **f[NFIELDS])
{
	f[0] = &r->name;
	f[1] = &r->formatted;
	f[2] = &r->given;
	f[3] = &r->family;
	f[4] = &r->display;
	f[5] = &r->email;
}

/* Packs R into P's next record. */
static int pack(struct people *p, struct scim_res *r)
{
	struct person_rec *rec = &p->v[p->n];
	char **f[NFIELDS], *at;
	size_t len = strlen(r->id) + 1;

	fields(r, f);
	for (int i = 0; i < NFIELDS; i++)
		if (*f[i] != NULL)
			len += strlen(*f[i]) + 1;
	at = arena_alloc(&p->strs, len);
	if (at == NULL)
		return -ENOMEM;
	*rec = (struct person_rec){
	        .s = at, .active = r->active, .active_attr = r->active_attr};
	at = stpcpy(at, r->id) + 1;
	for (int i = 0; i < NFIELDS; i++)
		if (*f[i] != NULL) {
			rec->present |= (uint8_t)(1u << i);
			at = stpcpy(at, *f[i]) + 1;
		}
	p->n++;
	return 0;
}

/* How many people go between returns of freed memory to the system: the
 * packed copies grow while the originals are freed one by one. */
#define TRIM_EVERY 16384

int people_take(struct people *p, struct scim_res *items, size_t n)
{
	int rc = 0;

	*p = (struct people){0};
	p->v = calloc(n ? n : 1, sizeof(*p->v));
	if (p->v == NULL)
		rc = -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = pack(p, &items[i]);
		scim_res_clear(&items[i]);
		if (i % TRIM_EVERY == TRIM_EVERY - 1)
			malloc_trim(0);
	}
	free(items);
	if (rc < 0)
		people_free(p);
	return rc;
}

void people_get(const struct people *p, size_t i, struct scim_res *r)
{
	const struct person_rec *rec = &p->v[i];
	const char *at = rec->s;
	char **f[NFIELDS];

	*r = (struct scim_res){.id = (char *)at,
	                       .active = rec->active,
	                       .active_attr = rec->active_attr};
	fields(r, f);
	for (int k = 0; k < NFIELDS; k++)
		if (rec->present & (1u << k)) {
			at += strlen(at) + 1;
			*f[k] = (char *)at;
		}
}

void people_free(struct people *p)
{
	arena_free(&p->strs);
	free(p->v);
	*p = (struct people){0};
}

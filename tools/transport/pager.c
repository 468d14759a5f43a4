/* SPDX-License-Identifier: MIT */
/*
 * pager.c: see pager.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pager.h"
#include "util.h"

void pager_init(struct pager *p, uint32_t max_pages)
{
	*p = (struct pager){.max_pages = max_pages,
	                    .next_start = 1,
	                    .total = -1,
	                    .ids = {.borrow = true}};
}

uint64_t pager_start(const struct pager *p)
{
	return p->next_start;
}

/* Keeps R unless its id was seen; returns 1 when kept, 0 when a duplicate
 * (R is then cleared), -ENOMEM. */
static int keep(struct pager *p, struct scim_res *r)
{
	if (strmap_get(&p->ids, r->id, NULL)) {
		scim_res_clear(r);
		return 0;
	}
	if (array_grow((void **)&p->items, &p->cap, p->n, sizeof(*p->items),
	               256) < 0)
		return -ENOMEM;
	if (strmap_put(&p->ids, r->id, p->n) < 0)
		return -ENOMEM;
	p->items[p->n++] = *r;
	*r = (struct scim_res){0};
	return 1;
}

static int take_page(struct pager *p, struct scim_page *page, size_t *fresh)
{
	int r = 0;

	*fresh = 0;
	for (size_t i = 0; r >= 0 && i < page->nres; i++) {
		r = keep(p, &page->res[i]);
		if (r > 0)
			(*fresh)++;
	}
	scim_page_clear(page);
	return r < 0 ? r : 0;
}

int pager_feed(struct pager *p, struct scim_page *page, char *err,
               size_t errlen)
{
	uint64_t start = p->next_start;
	size_t got = page->nres, fresh;

	if (p->total < 0)
		p->total = page->total;
	else if (page->total != p->total) {
		int64_t now = page->total;

		scim_page_clear(page);
		return set_error(err, errlen, -EPROTO,
		                 "totalResults changed from %" PRId64
		                 " to %" PRId64 " during the listing",
		                 p->total, now);
	}
	if (take_page(p, page, &fresh) < 0)
		return set_error(err, errlen, -ENOMEM, "out of memory");
	p->pages++;
	if ((uint64_t)p->n > (uint64_t)p->total)
		return set_error(
		        err, errlen, -EPROTO,
		        "listed %zu distinct resources but totalResults is "
		        "%" PRId64,
		        p->n, p->total);
	if (p->confirming || (p->total == 0 && got == 0))
		return PAGER_DONE;
	if (got == 0)
		return set_error(err, errlen, -EPROTO,
		                 "listing ended after %zu of %" PRId64
		                 " resources",
		                 p->n, p->total);
	if (fresh == 0)
		return set_error(
		        err, errlen, -EPROTO,
		        "the page at startIndex %" PRIu64
		        " repeated resources already listed (the server "
		        "ignores startIndex?)",
		        start);
	p->next_start += got;
	if ((uint64_t)p->n == (uint64_t)p->total)
		p->confirming = true;
	else if (p->pages >= p->max_pages)
		return set_error(err, errlen, -EPROTO,
		                 "more than %u pages; raise max_pages?",
		                 p->max_pages);
	return PAGER_MORE;
}

void pager_take(struct pager *p, struct scim_res **items, size_t *n)
{
	/* The array grew by doubling; a large listing is held for the whole
	 * run, so give back the room it will not use. */
	if (p->n > 0 && p->n < p->cap) {
		struct scim_res *a = realloc(p->items, p->n * sizeof(*a));

		if (a != NULL)
			p->items = a;
	}
	*items = p->items;
	*n = p->n;
	p->items = NULL;
	p->n = p->cap = 0;
	strmap_free(&p->ids);
}

void pager_free(struct pager *p)
{
	for (size_t i = 0; i < p->n; i++)
		scim_res_clear(&p->items[i]);
	free(p->items);
	strmap_free(&p->ids);
	p->items = NULL;
	p->n = p->cap = 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * pager.h: the paging rules of a SCIM listing, as a state machine fed with
 * parsed pages, so that they can be tested without HTTP.
 *
 *   pager_init(); loop { GET ?startIndex=pager_start()&count=page_size;
 *                        parse; r = pager_feed(); if r <= 0 break; }
 *
 * The rules (offset paging as bridges really do it, where ordering is not
 * stable between requests): advance startIndex by the number of resources
 * received; deduplicate by id; stop when the unique count reaches
 * totalResults, after one more request that must bring nothing new (so
 * that a totalResults that is too small is caught); cap the number of
 * pages; fail on a page that brings only resources already seen (a server
 * that ignores startIndex), on a listing that ends short of totalResults,
 * on more unique resources than totalResults and on a totalResults that
 * changes during the listing.  Any failure fails the whole listing.
 */
#ifndef SCIM_PAGER_H
#define SCIM_PAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "scim.h"
#include "table.h"

#define PAGER_MORE 1
#define PAGER_DONE 0

struct pager {
	uint32_t max_pages;
	uint32_t pages;
	uint64_t next_start;
	int64_t total;   /* -1 until the first page */
	bool confirming; /* unique == total; one more page to confirm */
	struct scim_res *items;
	size_t n, cap;
	struct strmap ids; /* id -> index in items; keys are the items' ids */
};

void pager_init(struct pager *p, uint32_t max_pages);

/* The startIndex of the next request (1-based). */
uint64_t pager_start(const struct pager *p);

/* Takes PAGE's resources (PAGE is left empty).  Returns PAGER_MORE,
 * PAGER_DONE, -EPROTO with a one-line reason in ERR, or -ENOMEM. */
int pager_feed(struct pager *p, struct scim_page *page, char *err,
               size_t errlen);

/* Hands the collected resources to the caller (*ITEMS to free with
 * scim_res_clear on each and free), leaving P empty. */
void pager_take(struct pager *p, struct scim_res **items, size_t *n);

void pager_free(struct pager *p);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * client.c: see client.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "pager.h"

#define URL_MAX 4096

static const char *kind_path(enum scim_kind kind)
{
	return kind == SCIM_USERS ? "Users" : "Groups";
}

/* BODY is the listing's one buffer, reused from page to page: a page of
 * groups can be megabytes, and a fresh buffer each time is as many fresh
 * pages to fault in. */
static int fetch_page(struct http *h, const char *url, enum scim_kind kind,
                      struct buf *body, struct scim_page *page, char *err,
                      size_t errlen)
{
	char why[256];
	long status;
	int r;

	r = http_get(h, url, body, &status, err, errlen);
	if (r == 0) {
		r = scim_parse_list(body->data ? body->data : "", body->len,
		                    kind, page, why, sizeof(why));
		if (r < 0)
			snprintf(err, errlen, "GET %s: %s", http_req_path(url),
			         why);
	}
	return r;
}

/* Replaces G's member ids by the positions of those people in the
 * listing of Users (USERS: id -> position); ids nobody has are left out,
 * as the mapping would leave them out. */
static int resolve_members(const struct strmap *users, struct scim_res *g)
{
	uint32_t *v;
	size_t k = 0;

	if (g->members == NULL)
		return 0;
	v = malloc((g->nmembers ? g->nmembers : 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	strmap_get_many(users, (const char *const *)g->members, g->nmembers, v);
	for (size_t i = 0; i < g->nmembers; i++)
		if (v[i] != UINT32_MAX)
			v[k++] = v[i];
	free(g->members);
	g->members = NULL;
	free(g->member_users);
	g->member_users = v;
	g->nmember_users = k;
	return 0;
}

static int resolve_page(const struct strmap *users, struct scim_page *page)
{
	int r = 0;

	for (size_t i = 0; r == 0 && users && i < page->nres; i++)
		r = resolve_members(users, &page->res[i]);
	return r;
}

/* Lists KIND into *ITEMS.  With USERS (id -> position in the Users
 * listing), the members of each group are resolved as soon as its page
 * arrives. */
static int list(struct http *h, const struct scim_config *cfg,
                enum scim_kind kind, client_progress_fn progress, void *ud,
                const struct strmap *users, struct scim_res **items, size_t *n,
                char *err, size_t errlen)
{
	struct pager p;
	struct buf body = {0};
	char url[URL_MAX];
	int r;

	pager_init(&p, cfg->max_pages);
	do {
		struct scim_page page = {0};

		snprintf(url, sizeof(url),
		         "%s/%s?startIndex=%" PRIu64 "&count=%u", cfg->url,
		         kind_path(kind), pager_start(&p), cfg->page_size);
		r = fetch_page(h, url, kind, &body, &page, err, errlen);
		if (r == 0)
			r = resolve_page(users, &page);
		if (r == 0)
			r = pager_feed(&p, &page, err, errlen);
		scim_page_clear(&page);
		if (r >= 0 && progress)
			progress(kind, p.pages, p.n, (long long)p.total, ud);
	} while (r == PAGER_MORE);
	if (r == 0)
		pager_take(&p, items, n);
	else if (r == -EPROTO) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "listing %s: %s", kind_path(kind), why);
	}
	pager_free(&p);
	buf_free(&body, false);
	return r;
}

/* Replaces G's members with those of GET /Groups/{id}. */
static int fetch_members(struct http *h, const struct scim_config *cfg,
                         const struct strmap *users, struct scim_res *g,
                         char *err, size_t errlen)
{
	struct scim_res full = {0};
	struct buf body = {0};
	char url[URL_MAX], why[256];
	long status;
	int r;

	if (!scim_id_valid(g->id, strlen(g->id)))
		return 0; /* mapping skips it */
	snprintf(url, sizeof(url), "%s/Groups/%s", cfg->url, g->id);
	r = http_get(h, url, &body, &status, err, errlen);
	if (r == 0) {
		r = scim_parse_resource(body.data ? body.data : "", body.len,
		                        SCIM_GROUPS, &full, why, sizeof(why));
		if (r < 0)
			snprintf(err, errlen, "GET /Groups/%s: %s", g->id, why);
	}
	if (r == 0 && strcmp(full.id, g->id) != 0) {
		snprintf(err, errlen, "GET /Groups/%s: answered another id",
		         g->id);
		r = -EPROTO;
	}
	if (r == 0) {
		free(g->members);
		g->members = full.members;
		g->nmembers = full.nmembers;
		g->has_members = true;
		full.members = NULL;
		full.nmembers = 0;
		r = resolve_members(users, g);
	}
	scim_res_clear(&full);
	buf_free(&body, false);
	return r;
}

int client_read_directory(struct http *h, const struct scim_config *cfg,
                          client_progress_fn progress, void *ud,
                          struct directory *dir, char *err, size_t errlen)
{
	struct directory d = {0};
	struct strmap users = {.borrow = true};
	struct scim_res *people = NULL;
	size_t npeople = 0;
	int r;

	r = list(h, cfg, SCIM_USERS, progress, ud, NULL, &people, &npeople, err,
	         errlen);
	/* Packed at once: the people are held through the listing of the
	 * groups and the mapping. */
	if (r == 0 && people_take(&d.people, people, npeople) < 0)
		r = set_error(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < d.people.n; i++)
		if (strmap_put(&users, d.people.v[i].s, i) < 0)
			r = set_error(err, errlen, -ENOMEM, "out of memory");
	if (r == 0)
		r = list(h, cfg, SCIM_GROUPS, progress, ud, &users, &d.groups,
		         &d.ngroups, err, errlen);
	for (size_t i = 0; r == 0 && i < d.ngroups; i++)
		if (d.groups[i].nmembers == 0)
			r = fetch_members(h, cfg, &users, &d.groups[i], err,
			                  errlen);
	strmap_free(&users);
	if (r < 0) {
		client_directory_free(&d);
		return r;
	}
	*dir = d;
	return 0;
}

void client_directory_free_groups(struct directory *dir)
{
	for (size_t i = 0; i < dir->ngroups; i++)
		scim_res_clear(&dir->groups[i]);
	free(dir->groups);
	dir->groups = NULL;
	dir->ngroups = 0;
}

void client_directory_free(struct directory *dir)
{
	people_free(&dir->people);
	client_directory_free_groups(dir);
	*dir = (struct directory){0};
}

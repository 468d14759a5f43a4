/* SPDX-License-Identifier: MIT */
/*
 * fuzz-scim.c: a libFuzzer target over scim-cache's handling of one
 * bridge response: the first byte picks Users or Groups, the rest is the
 * body.  A ListResponse goes through the pager and the whole mapping (with
 * default config, a small local passwd/group and an empty id map); any
 * body also goes through the single-resource, error and health parsers.
 *
 * It is also a differential check of scim_parse_list(): every body is
 * parsed with each of its test switches (scim.h), and any difference in
 * the return, the error or any field of any resource aborts, naming what
 * differs.  The fast reader, json-c element by element and json-c on the
 * whole body must agree; so must the fast reader and json-c element by
 * element without the fallback to the whole body, which would otherwise
 * cover up an element the reader took and json-c alone would not.
 *
 * Build with -fsanitize=fuzzer for fuzzing, or link replay-main.c for
 * a plain driver that replays files and deterministic mutations of them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "idmap.h"
#include "local.h"
#include "map.h"
#include "pager.h"
#include "scim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char local_passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                                   "daemon:x:1:1::/:/bin/sh\n";
static const char local_group[] = "root:x:0:\nsudo:x:27:\n";

static void map_page(enum scim_kind kind, struct scim_page *page)
{
	struct scim_config cfg;
	struct localdb local = {0};
	struct idmap ids;
	struct pager pg;
	struct scim_res *items = NULL;
	struct model m = {0};
	struct skiplist sk = {0};
	struct map_input in = {0};
	char err[256];
	size_t n = 0;

	if (config_defaults(&cfg) < 0)
		return;
	localdb_parse(&local, local_passwd, strlen(local_passwd), false);
	localdb_parse(&local, local_group, strlen(local_group), true);
	idmap_init(&ids, cfg.uid_min, cfg.uid_max);
	pager_init(&pg, 10);
	if (pager_feed(&pg, page, err, sizeof(err)) >= 0)
		pager_take(&pg, &items, &n);
	in.cfg = &cfg;
	in.local = &local;
	if (kind == SCIM_USERS) {
		in.users = items;
		in.nusers = n;
	} else {
		in.groups = items;
		in.ngroups = n;
	}
	if (map_build(&in, &ids, &m, &sk, err, sizeof(err)) == 0) {
		model_free(&m);
		skiplist_free(&sk);
	}
	for (size_t i = 0; i < n; i++)
		scim_res_clear(&items[i]);
	free(items);
	pager_free(&pg);
	idmap_free(&ids);
	localdb_free(&local);
	config_free(&cfg);
}

struct parsed {
	int rc;
	char err[256];
	struct scim_page page;
};

static void parse_with(unsigned flags, const char *body, size_t size,
                       enum scim_kind kind, struct parsed *out)
{
	*out = (struct parsed){0};
	scim_parse_test_flags = flags;
	out->rc = scim_parse_list(body, size, kind, &out->page, out->err,
	                          sizeof(out->err));
	scim_parse_test_flags = 0;
}

static void differ(unsigned flags, size_t res, const char *what)
{
	fprintf(stderr,
	        "fuzz-scim: test flags %u differ from the fast "
	        "reader's: %s",
	        flags, what);
	if (res != SIZE_MAX)
		fprintf(stderr, " of resource %zu", res);
	fputc('\n', stderr);
	abort();
}

static bool same_str(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* scim.h's promise that the strings of a resource are one block starting
 * at id, in the order of struct scim_res. */
static void check_packed(const struct scim_res *r, size_t i)
{
	const char *s[] = {r->id,     r->name,    r->formatted, r->given,
	                   r->family, r->display, r->email};
	const char *next = r->id;

	for (size_t k = 0; k < sizeof(s) / sizeof(s[0]); k++) {
		if (s[k] == NULL)
			continue;
		if (s[k] != next) {
			fprintf(stderr, "fuzz-scim: resource %zu not packed\n",
			        i);
			abort();
		}
		next = s[k] + strlen(s[k]) + 1;
	}
}

static void compare_res(unsigned path, size_t i, const struct scim_res *a,
                        const struct scim_res *b)
{
	static const struct {
		const char *name;
		size_t off;
	} strs[] = {
	        {"id", offsetof(struct scim_res, id)},
	        {"name", offsetof(struct scim_res, name)},
	        {"formatted", offsetof(struct scim_res, formatted)},
	        {"given", offsetof(struct scim_res, given)},
	        {"family", offsetof(struct scim_res, family)},
	        {"display", offsetof(struct scim_res, display)},
	        {"email", offsetof(struct scim_res, email)},
	};

	for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++)
		if (!same_str(*(char *const *)((const char *)a + strs[k].off),
		              *(char *const *)((const char *)b + strs[k].off)))
			differ(path, i, strs[k].name);
	if (a->active != b->active || a->active_attr != b->active_attr)
		differ(path, i, "active");
	if (a->has_members != b->has_members)
		differ(path, i, "has_members");
	if (a->nmembers != b->nmembers)
		differ(path, i, "nmembers");
	if ((a->members == NULL) != (b->members == NULL))
		differ(path, i, "members");
	for (size_t k = 0; k < a->nmembers; k++)
		if (!same_str(a->members[k], b->members[k]))
			differ(path, i, "a member");
	if (a->member_users != NULL || b->member_users != NULL ||
	    a->nmember_users != 0 || b->nmember_users != 0)
		differ(path, i, "member_users");
	check_packed(a, i);
	check_packed(b, i);
}

static void compare(unsigned path, const struct parsed *a,
                    const struct parsed *b)
{
	if (a->rc != b->rc)
		differ(path, SIZE_MAX, "the return");
	if (strcmp(a->err, b->err) != 0)
		differ(path, SIZE_MAX, "the error");
	if (a->page.total != b->page.total)
		differ(path, SIZE_MAX, "totalResults");
	if (a->page.start_index != b->page.start_index)
		differ(path, SIZE_MAX, "startIndex");
	if (a->page.nres != b->page.nres)
		differ(path, SIZE_MAX, "the number of resources");
	if (a->rc == 0 && (a->page.res == NULL || b->page.res == NULL))
		differ(path, SIZE_MAX, "the resource array");
	for (size_t i = 0; i < a->page.nres; i++)
		compare_res(path, i, &a->page.res[i], &b->page.res[i]);
}

/* Parses with FLAGS and compares with *WANT. */
static void parse_compared(unsigned flags, const char *body, size_t size,
                           enum scim_kind kind, const struct parsed *want)
{
	struct parsed other;

	parse_with(flags, body, size, kind, &other);
	compare(flags, want, &other);
	scim_page_clear(&other.page);
}

/* The page with every test switch, compared; the default reading is left
 * in *FAST. */
static void parse_all(const char *body, size_t size, enum scim_kind kind,
                      struct parsed *fast)
{
	struct parsed split;

	parse_with(0, body, size, kind, fast);
	parse_compared(SCIM_PARSE_NO_FAST, body, size, kind, fast);
	parse_compared(SCIM_PARSE_NO_SPLIT, body, size, kind, fast);
	parse_with(SCIM_PARSE_NO_FALLBACK, body, size, kind, &split);
	parse_compared(SCIM_PARSE_NO_FALLBACK | SCIM_PARSE_NO_FAST, body, size,
	               kind, &split);
	scim_page_clear(&split.page);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum scim_kind kind;
	struct parsed list;
	struct scim_res res = {0};
	const char *body;
	char err[256], a[128], b[128];

	if (size == 0)
		return 0;
	kind = (data[0] & 1) ? SCIM_GROUPS : SCIM_USERS;
	body = (const char *)data + 1;
	size--;
	parse_all(body, size, kind, &list);
	if (list.rc == 0)
		map_page(kind, &list.page);
	scim_page_clear(&list.page);
	if (scim_parse_resource(body, size, kind, &res, err, sizeof(err)) == 0)
		scim_res_clear(&res);
	scim_parse_error_detail(body, size, a, sizeof(a));
	scim_parse_health(body, size, a, sizeof(a), b, sizeof(b));
	return 0;
}

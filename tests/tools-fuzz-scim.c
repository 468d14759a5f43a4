/*
 * tools-fuzz-scim.c: a libFuzzer target over scim-cache's handling of one
 * bridge response: the first byte picks Users or Groups, the rest is the
 * body.  A ListResponse goes through the pager and the whole mapping (with
 * default config, a small local passwd/group and an empty id map); any
 * body also goes through the single-resource, error and health parsers.
 *
 * Build with -fsanitize=fuzzer for fuzzing, or link tools-fuzz-main.c for
 * a plain driver that replays files and deterministic mutations of them.
 */
#include <stddef.h>
#include <stdint.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum scim_kind kind;
	struct scim_page page = {0};
	struct scim_res res = {0};
	const char *body;
	char err[256], a[128], b[128];

	if (size == 0)
		return 0;
	kind = (data[0] & 1) ? SCIM_GROUPS : SCIM_USERS;
	body = (const char *)data + 1;
	size--;
	if (scim_parse_list(body, size, kind, &page, err, sizeof(err)) == 0)
		map_page(kind, &page);
	scim_page_clear(&page);
	if (scim_parse_resource(body, size, kind, &res, err, sizeof(err)) == 0)
		scim_res_clear(&res);
	scim_parse_error_detail(body, size, a, sizeof(a));
	scim_parse_health(body, size, a, sizeof(a), b, sizeof(b));
	return 0;
}

/*
 * fuzz-scim: one SCIM ListResponse page, as the bridge would send it,
 * through parsing and mapping.  The first byte says whether the page lists
 * Users or Groups; the rest is the body.  Whatever the bytes, every mapped
 * name must pass the snapshot's validator and every number must lie in the
 * configured range and never be 0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "idmap.h"
#include "local.h"
#include "map.h"
#include "model.h"
#include "scim.h"
#include "snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(bool ok)
{
	if (!ok)
		abort();
}

static void check_model(const struct model *m, const struct scim_config *c)
{
	for (size_t i = 0; i < m->nusers; i++) {
		const struct model_user *u = &m->users[i];

		must(snap_name_valid(u->name, strlen(u->name)));
		must(u->uid != 0 && u->uid >= c->uid_min &&
		     u->uid <= c->uid_max);
		must(snap_field_valid(u->gecos, strlen(u->gecos)));
	}
	for (size_t i = 0; i < m->ngroups; i++) {
		const struct model_group *g = &m->groups[i];

		must(snap_name_valid(g->name, strlen(g->name)));
		must(g->gid != 0 && g->gid >= c->uid_min &&
		     g->gid <= c->uid_max);
	}
}

/* Maps the page's resources as the users or the groups of a directory. */
static void map_page(const struct scim_page *p, bool groups,
                     const struct scim_config *c)
{
	struct localdb local;
	struct idmap ids;
	struct model out;
	struct skiplist skipped;
	struct map_input in;
	char err[256];

	memset(&local, 0, sizeof(local));
	memset(&out, 0, sizeof(out));
	memset(&skipped, 0, sizeof(skipped));
	memset(&in, 0, sizeof(in));
	localdb_parse(&local, "root:x:0:0::/root:/bin/sh\n", 27, false);
	localdb_parse(&local, "root:x:0:\n", 10, true);
	idmap_init(&ids, c->uid_min, c->uid_max);
	in.cfg = c;
	in.local = &local;
	if (groups) {
		in.groups = p->res;
		in.ngroups = p->nres;
	} else {
		in.users = p->res;
		in.nusers = p->nres;
	}
	if (map_build(&in, &ids, &out, &skipped, err, sizeof(err)) == 0)
		check_model(&out, c);
	model_free(&out);
	skiplist_free(&skipped);
	idmap_free(&ids);
	localdb_free(&local);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scim_config cfg;
	static bool ready;
	struct scim_page page;
	enum scim_kind kind;
	char err[256];

	if (!ready) {
		must(config_defaults(&cfg) == 0);
		/* A small range makes collisions and a full range reachable. */
		cfg.uid_min = 200000;
		cfg.uid_max = 200063;
		ready = true;
	}
	if (size < 1)
		return 0;
	kind = data[0] & 1 ? SCIM_GROUPS : SCIM_USERS;
	memset(&page, 0, sizeof(page));
	if (scim_parse_list((const char *)data + 1, size - 1, kind, &page, err,
	                    sizeof(err)) == 0)
		map_page(&page, kind == SCIM_GROUPS, &cfg);
	scim_page_clear(&page);
	return 0;
}

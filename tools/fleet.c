/* SPDX-License-Identifier: MIT */
/*
 * fleet.c: a host's local rules over a bundle's directory; see fleet.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "names.h"
#include "snap.h"
#include "table.h"

/* The group that is U's private group: named like U, with U's gid. */
static const struct model_group *private_group(const struct model *m,
                                               const struct model_user *u)
{
	const struct model_group *g = model_find_group(m, u->name);

	return g != NULL && g->gid == u->gid ? g : NULL;
}

static bool local_id(const struct fleet_rules *r, uint32_t id)
{
	return numset_has(&r->local->ids, id);
}

static bool in_range(const struct fleet_rules *r, uint32_t id)
{
	return snap_id_valid(id, r->id_min, r->id_max);
}

/* Whether U stays; when not, why goes into SKIPPED. */
static int check_person(const struct model *in, const struct fleet_rules *r,
                        const struct model_user *u, struct skiplist *skipped,
                        bool *keep)
{
	const struct model_group *pg = private_group(in, u);
	const char *why = names_reserved(u->name, r->reserved, r->nreserved);

	*keep = false;
	if (strmap_get(&r->local->users, u->name, NULL))
		return skiplist_add(skipped, 'u', SKIP_LOCAL_NAME, u->name,
		                    "login name %s belongs to a local user",
		                    u->name);
	if (pg != NULL && strmap_get(&r->local->groups, pg->name, NULL))
		return skiplist_add(
		        skipped, 'u', SKIP_LOCAL_NAME, u->name,
		        "private group %s would shadow a local group",
		        pg->name);
	if (why != NULL)
		return skiplist_add(skipped, 'u', SKIP_RESERVED_NAME, u->name,
		                    "login name %s is reserved: %s", u->name,
		                    why);
	if (local_id(r, u->uid) || local_id(r, u->gid))
		return skiplist_add(skipped, 'u', SKIP_LOCAL_ID, u->name,
		                    "uid %u or gid %u is a local number",
		                    u->uid, u->gid);
	if (!in_range(r, u->uid) || !in_range(r, u->gid))
		return skiplist_add(
		        skipped, 'u', SKIP_ID_RANGE, u->name,
		        "uid %u or gid %u is outside uid_min-uid_max", u->uid,
		        u->gid);
	*keep = true;
	return 0;
}

static int check_group(const struct fleet_rules *r, const struct model_group *g,
                       struct skiplist *skipped, bool *keep)
{
	const char *why = names_reserved(g->name, r->reserved, r->nreserved);

	*keep = false;
	if (strmap_get(&r->local->groups, g->name, NULL))
		return skiplist_add(skipped, 'g', SKIP_LOCAL_NAME, g->name,
		                    "group name %s belongs to a local group",
		                    g->name);
	if (why != NULL)
		return skiplist_add(skipped, 'g', SKIP_RESERVED_NAME, g->name,
		                    "group name %s is reserved: %s", g->name,
		                    why);
	if (local_id(r, g->gid))
		return skiplist_add(skipped, 'g', SKIP_LOCAL_ID, g->name,
		                    "gid %u is a local number", g->gid);
	if (!in_range(r, g->gid))
		return skiplist_add(skipped, 'g', SKIP_ID_RANGE, g->name,
		                    "gid %u is outside uid_min-uid_max",
		                    g->gid);
	*keep = true;
	return 0;
}

/* A host's locks, by what identifies a person across renames (state.h):
 * KEYS holds SCIM ids and uid:NUMBER keys; NAMES the names of locks that
 * an older fleet host keyed by name. */
struct lock_match {
	struct strmap keys, names;
};

static int lock_match_init(struct lock_match *m, const struct locks *l)
{
	int rc = 0;

	*m = (struct lock_match){0};
	for (size_t i = 0; rc == 0 && l && i < l->n; i++)
		rc = strcmp(l->ids[i], l->names[i]) == 0
		             ? strmap_put(&m->names, l->names[i], 0)
		             : strmap_put(&m->keys, l->ids[i], 0);
	return rc;
}

static bool lock_matches(const struct lock_match *m, const struct model_user *u)
{
	char key[sizeof(LOCK_UID_PREFIX) + 10];

	if (m->keys.n == 0 && m->names.n == 0)
		return false;
	snprintf(key, sizeof(key), LOCK_UID_PREFIX "%u", u->uid);
	return strmap_get(&m->keys, key, NULL) ||
	       (u->scim_id != NULL && strmap_get(&m->keys, u->scim_id, NULL)) ||
	       strmap_get(&m->names, u->name, NULL);
}

static void lock_match_free(struct lock_match *m)
{
	strmap_free(&m->keys);
	strmap_free(&m->names);
}

static int add_people(const struct model *in, const struct fleet_rules *r,
                      const struct lock_match *locked, struct strmap *kept,
                      struct strmap *dropped, struct model *out,
                      struct skiplist *skipped)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < in->nusers; i++) {
		struct model_user u = in->users[i];
		bool keep;

		rc = check_person(in, r, &u, skipped, &keep);
		if (rc == 0 && !keep)
			rc = strmap_put(dropped, u.name, 0);
		if (rc < 0 || !keep)
			continue;
		u.active = u.active && !lock_matches(locked, &u);
		rc = model_add_user(out, &u);
		if (rc == 0)
			rc = strmap_put(kept, u.name, 0);
	}
	return rc;
}

static int add_groups(const struct model *in, const struct fleet_rules *r,
                      const struct strmap *kept, const struct strmap *dropped,
                      struct model *out, struct skiplist *skipped)
{
	const char **v = NULL;
	size_t cap = 0;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < in->ngroups; i++) {
		const struct model_group *g = &in->groups[i];
		const struct model_user *owner = model_find_user(in, g->name);
		size_t n = 0;
		bool keep;

		/* A left-out person's private group goes with them, without
		 * a second report. */
		if (owner != NULL && owner->gid == g->gid &&
		    strmap_get(dropped, g->name, NULL))
			continue;
		rc = check_group(r, g, skipped, &keep);
		if (rc < 0 || !keep)
			continue;
		if (g->nmembers > cap) {
			const char **a = realloc(v, g->nmembers * sizeof(*a));

			if (a == NULL) {
				rc = -ENOMEM;
				break;
			}
			v = a;
			cap = g->nmembers;
		}
		for (size_t j = 0; j < g->nmembers; j++)
			if (strmap_get(kept, g->members[j], NULL))
				v[n++] = g->members[j];
		rc = model_add_group(out, g->name, g->gid,
		                     (const char *const *)v, n, g->scim_id);
	}
	free(v);
	return rc;
}

/* True when RULES leave every person and group of IN as they are: the
 * usual case, in which a copy of a large directory is work for nothing. */
static bool untouched(const struct model *in, const struct fleet_rules *r,
                      const struct lock_match *locked)
{
	struct skiplist scratch = {0};
	bool keep = true;

	for (size_t i = 0; keep && i < in->nusers; i++)
		if (lock_matches(locked, &in->users[i]) ||
		    check_person(in, r, &in->users[i], &scratch, &keep) < 0)
			keep = false;
	for (size_t i = 0; keep && i < in->ngroups; i++)
		if (check_group(r, &in->groups[i], &scratch, &keep) < 0)
			keep = false;
	skiplist_free(&scratch);
	return keep;
}

int fleet_apply_local(struct model *in, const struct fleet_rules *rules,
                      bool take, struct model *out, struct skiplist *skipped)
{
	struct strmap kept = {0}, dropped = {0};
	struct lock_match locked;
	int rc;

	rc = lock_match_init(&locked, rules->locks);
	if (rc == 0 && take && untouched(in, rules, &locked)) {
		lock_match_free(&locked);
		*out = *in;
		*in = (struct model){0};
		return 0;
	}
	*out = (struct model){0};
	if (rc == 0)
		rc = add_people(in, rules, &locked, &kept, &dropped, out,
		                skipped);
	if (rc == 0)
		rc = add_groups(in, rules, &kept, &dropped, out, skipped);
	lock_match_free(&locked);
	strmap_free(&kept);
	strmap_free(&dropped);
	if (rc < 0) {
		model_free(out);
		return rc;
	}
	model_sort(out);
	return 0;
}

/* ---- download and sign ------------------------------------------------ */

int fleet_download(struct http *h, const struct scim_config *cfg,
                   const struct http_validators *cond, struct fleet_download *d,
                   char *err, size_t errlen)
{
	struct buf body = {0};
	EVP_PKEY *pub = NULL;
	size_t signed_len = 0;
	char why[512];
	int rc;

	*d = (struct fleet_download){0};
	/* The key first: a host that cannot check a bundle must not fetch
	 * one. */
	rc = bundle_load_public(cfg->verify_key, &pub, err, errlen);
	if (rc == 0)
		rc = http_get_cond(h, cfg->source, cond, &body, &d->status,
		                   &d->got, err, errlen);
	if (rc == 0 && d->status != 304) {
		d->bytes = body.len;
		rc = bundle_verify(body.data ? body.data : "", body.len, pub,
		                   &signed_len, why, sizeof(why));
		if (rc == 0)
			rc = bundle_parse(body.data, signed_len, &d->info,
			                  &d->model, why, sizeof(why));
		/* Verified: the key that signed it is verify_key. */
		if (rc == 0)
			bundle_keyid(pub, d->info.keyid);
		if (rc < 0)
			snprintf(err, errlen, "bundle %.200s: %s",
			         http_req_path(cfg->source), why);
	}
	EVP_PKEY_free(pub);
	buf_free(&body, false);
	if (rc < 0)
		fleet_download_free(d);
	return rc;
}

void fleet_download_free(struct fleet_download *d)
{
	model_free(&d->model);
	*d = (struct fleet_download){0};
}

int fleet_sign(const struct model *m, const struct scim_config *cfg,
               struct bundle_info *info, struct buf *out, char *err,
               size_t errlen)
{
	EVP_PKEY *key = NULL;
	int rc = bundle_load_private(cfg->bundle_key, &key, err, errlen);

	if (rc == 0)
		rc = bundle_write(m, info, key, out, err, errlen);
	EVP_PKEY_free(key);
	return rc;
}

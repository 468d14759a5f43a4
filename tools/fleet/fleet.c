/* SPDX-License-Identifier: MIT */
/*
 * fleet.c: a host's local rules over a bundle's directory; see fleet.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

bool fleet_rules_keep(const struct model *m, const struct fleet_rules *rules)
{
	struct lock_match none = {0};

	if (rules->locks != NULL && rules->locks->n > 0)
		return false;
	for (size_t i = 0; i < m->nusers; i++)
		if (strmap_get(&rules->local->groups, m->users[i].name, NULL))
			return false;
	return untouched(m, rules, &none);
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

/* A file server's validators must change with every manifest: nginx's
 * are the mtime in whole seconds and the size, and a manifest that a lock
 * or a second refresh replaces within the same second is often the same
 * size, so hosts asking conditionally would keep getting a 304 for the
 * one it replaced.  Each manifest's mtime is therefore set at least a
 * second past its predecessor's (PREV_SEC; 0 when there was none). */
static void manifest_mtime_after(const char *path, time_t prev_sec)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {0}};
	struct stat st;

	if (prev_sec == 0 || lstat(path, &st) < 0 ||
	    st.st_mtim.tv_sec > prev_sec)
		return;
	ts[1].tv_sec = prev_sec + 1;
	/* Best effort: a failure leaves only a conditional GET less sure. */
	(void)utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* ---- acceptance ------------------------------------------------------- */

int fleet_accept(const struct fleet_held *held, const struct fleet_offer *o,
                 double now, char *err, size_t errlen)
{
	char t[64];

	if (o->not_modified) {
		if (held->valid_until > 0 && now >= held->valid_until)
			return set_error(
			        err, errlen, -ETIME,
			        "the source's bundle (generation %" PRIu64
			        ") expired at %s and was not renewed; is the "
			        "source host refreshing?",
			        held->generation,
			        fmt_utc(held->valid_until, t, sizeof(t)));
		return 0;
	}
	if (held->keyid != NULL && o->keyid != NULL &&
	    strcmp(held->keyid, o->keyid) != 0)
		return set_error(err, errlen, -EKEYREJECTED,
		                 "signed by key %s, not by verify_key (%s)",
		                 o->keyid, held->keyid);
	if ((double)o->valid_until <= now)
		return set_error(err, errlen, -ETIME,
		                 "bundle generation %" PRIu64 " expired at %s "
		                 "(the source host has not re-signed it)",
		                 o->generation,
		                 fmt_utc((double)o->valid_until, t, sizeof(t)));
	if (o->generation < held->generation)
		return set_error(err, errlen, -ESTALE,
		                 "bundle generation %" PRIu64 " is older than "
		                 "generation %" PRIu64 ", already applied (a "
		                 "replayed or rolled-back bundle)",
		                 o->generation, held->generation);
	if (o->generation == held->generation && held->generation > 0 &&
	    o->held_content[0] && strcmp(o->held_content, o->content) != 0)
		return set_error(err, errlen, -EEXIST,
		                 "bundle generation %" PRIu64 " repeats with "
		                 "other content; refusing it",
		                 o->generation);
	return 0;
}

/* ---- download --------------------------------------------------------- */

static bool absent(long status)
{
	/* Object storage answers 403 for a missing object to a reader who
	 * may not list the bucket. */
	return status == 403 || status == 404 || status == 410;
}

/* The length of the signed part of the LEN bytes at DATA (all but the
 * last line), or -EBADMSG. */
static int signed_part(const char *data, size_t len, size_t *end, char *why,
                       size_t whylen)
{
	if (len == 0 || data[len - 1] != '\n')
		return set_error(why, whylen, -EBADMSG, "not whole lines");
	*end = len - 1;
	while (*end > 0 && data[*end - 1] != '\n')
		(*end)--;
	return 0;
}

/* The bundle of the verified LEN bytes at DATA into D: the signed part
 * is parsed. */
static int parse_signed(const char *data, size_t len, struct fleet_download *d,
                        char *why, size_t whylen)
{
	size_t end = 0;
	int rc = signed_part(data, len, &end, why, whylen);

	return rc < 0 ? rc
	              : bundle_parse(data, end, &d->info, &d->model, why,
	                             whylen);
}

/* Room for N names in *V. */
static bool grow_names(char ***v, size_t n)
{
	char **a = realloc(*v, n * sizeof(*a));

	if (a != NULL)
		*v = a;
	return a != NULL;
}

/* The names of the records the delta removed or replaced, from the base
 * lines GONE names. */
static int gone_names(const char *base, const struct delta_edits *ed,
                      struct fleet_download *d)
{
	for (size_t i = 0; i < ed->ngone; i++) {
		char kind, name[SNAP_NAME_MAX + 1], ***v, *copy;
		size_t *n;

		if (!bundle_line_name(base + ed->gone[i].off, ed->gone[i].len,
		                      &kind, name))
			continue; /* a line of the header */
		v = kind == 'P' ? &d->gone_users : &d->gone_groups;
		n = kind == 'P' ? &d->ngone_users : &d->ngone_groups;
		copy = strdup(name);
		if (copy == NULL ||
		    ((*n & (*n - 1)) == 0 && !grow_names(v, *n ? 2 * *n : 1))) {
			free(copy);
			return -ENOMEM;
		}
		(*v)[(*n)++] = copy;
	}
	return 0;
}

/* Storage without a manifest: the bundle alone, as before manifests. */
static int legacy(struct http *h, const struct scim_config *cfg,
                  const struct http_validators *cond, EVP_PKEY *pub,
                  const struct fleet_held *held, const char *held_digest,
                  struct fleet_download *d, char *err, size_t errlen)
{
	struct buf body = {0};
	size_t signed_len = 0;
	char why[512], hex[17], id[BUNDLE_KEYID];
	int rc = http_get_cond(h, cfg->source, cond, &body, &d->status, &d->got,
	                       err, errlen);

	d->bytes += body.len;
	if (rc == 0 && d->status == 304 && held != NULL) {
		struct fleet_offer o = {.not_modified = true};

		rc = fleet_accept(held, &o, now_wall(), err, errlen);
	} else if (rc == 0 && d->status != 304) {
		rc = bundle_verify(body.data ? body.data : "", body.len, pub,
		                   &signed_len, why, sizeof(why));
		if (rc == 0)
			rc = bundle_parse(body.data, signed_len, &d->info,
			                  &d->model, why, sizeof(why));
		if (rc < 0)
			snprintf(err, errlen, "bundle %.200s: %s",
			         http_req_path(cfg->source), why);
		/* Verified: the key that signed it is verify_key. */
		if (rc == 0)
			bundle_keyid(pub, d->info.keyid);
		snprintf(hex, sizeof(hex), "%016" PRIx64, d->info.digest);
		if (rc == 0 && held != NULL && bundle_keyid(pub, id) == 0) {
			struct fleet_offer o = {
			        .generation = d->info.generation,
			        .valid_until = d->info.valid_until,
			        .keyid = d->info.keyid,
			        .content = hex,
			        .held_content = held_digest};

			rc = fleet_accept(held, &o, now_wall(), err, errlen);
		}
	}
	buf_free(&body, false);
	return rc;
}

/* GETs URL, which must be SIZE bytes hashing to HASH: the manifest binds
 * every file it names so, and storage can neither forge nor swap one. */
static int get_bound(struct http *h, const char *url, const char *what,
                     const char *hash, size_t size, struct buf *body,
                     struct fleet_download *d, char *err, size_t errlen)
{
	char got[SHA256_HEX];
	long status = 0;
	int rc = http_get(h, url, body, &status, err, errlen);

	d->bytes += body->len;
	if (rc < 0 && absent(status))
		return set_error(err, errlen, -ENOENT,
		                 "the manifest names %.200s, which storage "
		                 "does not have (yet: a copy under way?)",
		                 http_req_path(url));
	if (rc < 0)
		return rc;
	delta_sha256_hex(body->data ? body->data : "", body->len, got);
	if (body->len != size || strcmp(got, hash) != 0)
		return set_error(
		        err, errlen, -EBADE,
		        "%s %.200s does not match the manifest "
		        "(tampered, truncated, swapped, or a copy under "
		        "way)",
		        what, http_req_path(url));
	return 0;
}

/* The bundle the manifest M names, into OUT: the host's own copy when it
 * is that bundle, else through a delta from it, else downloaded whole. */
static int content(struct http *h, const struct scim_config *cfg,
                   const struct manifest *m, struct buf *out,
                   struct fleet_download *d, struct delta_edits *ed, char *err,
                   size_t errlen)
{
	char path[PATH_MAX], url[4096], have[SHA256_HEX] = "",
	                                target[SHA256_HEX];
	const struct manifest_delta *use = NULL;
	char *base = NULL;
	size_t blen = 0;
	int rc = 0;

	if (cfg->state_dir != NULL &&
	    state_path(cfg->state_dir, FLEET_BASE, path) == 0 &&
	    map_file(path, BUNDLE_MAX, &base, &blen) == 0)
		delta_sha256_hex(base ? base : "", blen, have);
	if (have[0] && strcmp(have, m->hash) == 0 && blen == m->size) {
		buf_reset(out);
		buf_add(out, base, blen);
		unmap_file(base, blen);
		d->how = "held";
		return out->err ? set_error(err, errlen, -ENOMEM,
		                            "out of memory")
		                : 0;
	}
	for (size_t i = 0; have[0] && i < m->ndeltas; i++)
		if (strcmp(m->deltas[i].base, have) == 0)
			use = &m->deltas[i];
	if (use != NULL) {
		struct buf delta = {0};
		char why[512];

		rc = manifest_sibling(cfg->source, use->base, m->hash, url,
		                      sizeof(url));
		if (rc == 0)
			rc = get_bound(h, url, "delta", use->hash, use->size,
			               &delta, d, err, errlen);
		if (rc == 0) {
			rc = delta_apply_edits(base, blen, delta.data,
			                       delta.len, out, target, ed, why,
			                       sizeof(why));
			if (rc == 0 && strcmp(target, m->hash) != 0)
				rc = set_error(why, sizeof(why), -EBADE,
				               "it makes %.16s, not the "
				               "manifest's bundle %.16s",
				               target, m->hash);
			if (rc < 0)
				snprintf(err, errlen, "delta %.200s: %s",
				         http_req_path(url), why);
			if (rc == 0 && ed != NULL &&
			    gone_names(base, ed, d) < 0)
				rc = set_error(err, errlen, -ENOMEM,
				               "out of memory");
		}
		buf_free(&delta, false);
		unmap_file(base, blen);
		d->how = "delta";
		return rc;
	}
	unmap_file(base, blen);
	d->how = "full";
	return get_bound(h, cfg->source, "bundle", m->hash, m->size, out, d,
	                 err, errlen);
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The edited part of BODY, a bundle a delta made (ED), into D; a bundle
 * that this cannot read is read whole instead (D not EDITED): it is then
 * bundle_parse()'s to say what is wrong with it. */
static int parse_edited(const struct buf *body, const struct delta_edits *ed,
                        struct fleet_download *d)
{
	size_t end = 0;
	char why[512];

	if (signed_part(body->data, body->len, &end, why, sizeof(why)) < 0 ||
	    bundle_parse_edited(body->data, end, ed->came, ed->ncame, &d->info,
	                        &d->model, why, sizeof(why)) < 0)
		return 0;
	d->edited = true;
	return 0;
}

int fleet_download(struct http *h, const struct scim_config *cfg,
                   const struct http_validators *cond,
                   const struct fleet_held *held, struct fleet_download *d,
                   char *err, size_t errlen)
{
	struct buf body = {0};
	struct fleet_held mine;
	struct manifest m;
	EVP_PKEY *pub = NULL;
	char why[512], murl[4096], path[PATH_MAX], id[BUNDLE_KEYID] = "";
	struct delta_edits ed = {0};
	bool want;
	const char *held_sha = held && held->sha256 ? held->sha256 : "";
	const char *held_digest = held && held->digest ? held->digest : "";
	int rc;

	*d = (struct fleet_download){0};
	/* The key first: a host that cannot check a bundle must not fetch
	 * one. */
	rc = bundle_load_public(cfg->verify_key, &pub, err, errlen);
	if (rc == 0)
		rc = bundle_keyid(pub, id) == 0
		             ? manifest_sibling(cfg->source, NULL, NULL, murl,
		                                sizeof(murl))
		             : set_error(err, errlen, -EINVAL,
		                         "verify_key is unusable");
	if (rc < 0)
		goto out;
	if (held != NULL) {
		mine = *held;
		mine.keyid = id;
		held = &mine;
		/* What a run that did not publish left is no base. */
		if (state_path(cfg->state_dir, FLEET_BASE_NEXT, path) == 0)
			unlink(path);
	}
	rc = http_get_cond(h, murl, cond, &body, &d->status, &d->got, why,
	                   sizeof(why));
	d->bytes = body.len;
	if (rc < 0 && absent(d->status)) {
		*d = (struct fleet_download){0};
		rc = legacy(h, cfg, cond, pub, held, held_digest, d, err,
		            errlen);
		goto out;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s", why);
		goto out;
	}
	d->manifest = true;
	if (d->status == 304) {
		struct fleet_offer o = {.not_modified = true};

		rc = held ? fleet_accept(held, &o, now_wall(), err, errlen) : 0;
		goto out;
	}
	rc = manifest_read(body.data ? body.data : "", body.len, pub, &m, why,
	                   sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "manifest %.200s: %s",
		         http_req_path(murl), why);
		goto out;
	}
	if (held != NULL) {
		struct fleet_offer o = {.generation = m.generation,
		                        .valid_until = m.valid_until,
		                        .keyid = m.keyid,
		                        .content = m.hash,
		                        .held_content = held_sha};

		rc = fleet_accept(held, &o, now_wall(), err, errlen);
		if (rc < 0)
			goto out;
	}
	/* The bundle the host applied, accepted again: its snapshot may
	 * stand, with the manifest's times (refresh.c). */
	if (held != NULL && held->reusable != NULL && held_sha[0] &&
	    strcmp(held_sha, m.hash) == 0 && held->reusable(held->ud)) {
		d->how = "same";
		d->info.generation = m.generation;
		d->info.created = m.created;
		d->info.valid_until = m.valid_until;
		memcpy(d->info.keyid, m.keyid, BUNDLE_KEYID);
		memcpy(d->sha256, m.hash, SHA256_HEX);
		goto out;
	}
	/* A delta from the bundle the live snapshot was made from needs
	 * only the records it changed, when that snapshot can be patched. */
	want = held != NULL && held->patchable != NULL && held_sha[0] &&
	       held->patchable(held->ud);
	rc = content(h, cfg, &m, &body, d, want ? &ed : NULL, err, errlen);
	if (rc == 0 && want && strcmp(d->how, "delta") == 0)
		rc = parse_edited(&body, &ed, d);
	if (rc == 0 && !d->edited) {
		rc = parse_signed(body.data, body.len, d, why, sizeof(why));
		if (rc < 0)
			snprintf(err, errlen, "bundle %.200s: %s",
			         http_req_path(cfg->source), why);
	}
	if (rc == 0) {
		/* Freshness is the manifest's; the bundle's own times say
		 * only when its content was first signed. */
		d->info.generation = m.generation;
		d->info.created = m.created;
		d->info.valid_until = m.valid_until;
		memcpy(d->info.keyid, m.keyid, BUNDLE_KEYID);
		memcpy(d->sha256, m.hash, SHA256_HEX);
	}
	/* Kept until the snapshot is published (fleet_remember()); no copy
	 * for a check, nor when it is the one already kept. */
	if (rc == 0 && held != NULL && strcmp(d->how, "held") != 0 &&
	    state_path(cfg->state_dir, FLEET_BASE_NEXT, path) == 0) {
		if (write_file_atomic(path, body.data, body.len, 0600) < 0)
			unlink(path); /* the next change downloads more */
		else if (d->edited)
			snprintf(d->body_path, sizeof(d->body_path), "%s",
			         path);
	}
out:
	EVP_PKEY_free(pub);
	/* What fleet_download_parse() reads: the copy kept, so that the
	 * bundle is not held twice while the snapshot is patched. */
	if (rc == 0 && d->edited && d->body_path[0] == '\0') {
		d->body = body;
		body = (struct buf){0};
	}
	buf_free(&body, false);
	delta_edits_free(&ed);
	if (rc < 0)
		fleet_download_free(d);
	return rc;
}

int fleet_download_parse(struct fleet_download *d, char *err, size_t errlen)
{
	struct bundle_info was = d->info;
	char why[512];
	int rc;

	model_free(&d->model);
	free_names(d->gone_users, d->ngone_users);
	free_names(d->gone_groups, d->ngone_groups);
	d->gone_users = d->gone_groups = NULL;
	d->ngone_users = d->ngone_groups = 0;
	d->edited = false;
	if (d->body.data == NULL) {
		char *p = NULL, got[SHA256_HEX];
		size_t len = 0;

		rc = map_file(d->body_path, BUNDLE_MAX, &p, &len);
		if (rc == 0)
			delta_sha256_hex(p ? p : "", len, got);
		/* Kept by this run a moment ago, and checked all the same. */
		if (rc == 0 && strcmp(got, d->sha256) != 0)
			rc = -ESTALE;
		if (rc == 0)
			rc = parse_signed(p ? p : "", len, d, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "%.300s: %s", d->body_path,
			         strerror(-rc));
		unmap_file(p, len);
	} else {
		rc = parse_signed(d->body.data, d->body.len, d, why,
		                  sizeof(why));
	}
	/* Freshness stays the manifest's. */
	d->info.generation = was.generation;
	d->info.created = was.created;
	d->info.valid_until = was.valid_until;
	memcpy(d->info.keyid, was.keyid, BUNDLE_KEYID);
	buf_free(&d->body, false);
	if (rc < 0)
		return set_error(err, errlen, rc, "bundle: %s", why);
	return 0;
}

void fleet_download_free(struct fleet_download *d)
{
	model_free(&d->model);
	free_names(d->gone_users, d->ngone_users);
	free_names(d->gone_groups, d->ngone_groups);
	buf_free(&d->body, false);
	*d = (struct fleet_download){0};
}

void fleet_remember(struct status *st, const char *state_dir,
                    const struct fleet_download *d)
{
	char next[PATH_MAX], base[PATH_MAX];

	if (d->status == 304)
		return;
	status_set_str(st, ST_BUNDLE_SHA256, d->manifest ? d->sha256 : NULL);
	if (!d->manifest || state_dir == NULL ||
	    state_path(state_dir, FLEET_BASE_NEXT, next) < 0 ||
	    state_path(state_dir, FLEET_BASE, base) < 0)
		return;
	/* Nothing to rename when the base was the bundle already. */
	if (rename(next, base) < 0 && errno != ENOENT)
		unlink(next);
}

/* ---- a source host ---------------------------------------------------- */

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

/* The source's recent bundles: FLEET_HISTORY/index lists their hashes,
 * newest first, each held as FLEET_HISTORY/HASH. */
struct history {
	char dir[PATH_MAX];
	char hash[MANIFEST_DELTAS + 1][SHA256_HEX];
	size_t n;
};

static int history_load(const struct scim_config *cfg, struct history *hs,
                        char *err, size_t errlen)
{
	char path[PATH_MAX], *text = NULL, *line, *save = NULL;
	size_t len;

	*hs = (struct history){0};
	if (state_path(cfg->state_dir, FLEET_HISTORY, hs->dir) < 0 ||
	    (mkdir(hs->dir, 0700) < 0 && errno != EEXIST))
		return set_error(err, errlen, -errno ? -errno : -ENAMETOOLONG,
		                 "cannot make %s/%s: %s", cfg->state_dir,
		                 FLEET_HISTORY, strerror(errno));
	if (state_path(hs->dir, "index", path) < 0 ||
	    read_file(path, 4096, &text, &len) < 0)
		return 0;
	for (line = strtok_r(text, "\n", &save);
	     line != NULL && hs->n < MANIFEST_DELTAS + 1;
	     line = strtok_r(NULL, "\n", &save))
		if (strlen(line) == 64 &&
		    strspn(line, "0123456789abcdef") == 64)
			memcpy(hs->hash[hs->n++], line, SHA256_HEX);
	free(text);
	return 0;
}

/* Puts HASH first, keeps MANIFEST_DELTAS more, and removes the files of
 * the others. */
static int history_save(struct history *hs, const char *hash)
{
	char path[PATH_MAX];
	struct buf b = {0};
	size_t n = 0;
	DIR *dir;
	struct dirent *e;
	int rc;

	memmove(hs->hash[1], hs->hash[0], sizeof(hs->hash) - SHA256_HEX);
	memcpy(hs->hash[0], hash, SHA256_HEX);
	for (size_t i = 0; i <= hs->n && i < MANIFEST_DELTAS + 1; i++)
		if (i == 0 || strcmp(hs->hash[i], hash) != 0)
			memmove(hs->hash[n++], hs->hash[i], SHA256_HEX);
	hs->n = n;
	for (size_t i = 0; i < hs->n; i++)
		buf_printf(&b, "%s\n", hs->hash[i]);
	rc = b.err ? b.err
	     : state_path(hs->dir, "index", path) < 0
	             ? -ENAMETOOLONG
	             : write_file_atomic(path, b.data, b.len, 0600);
	buf_free(&b, false);
	if (rc < 0 || (dir = opendir(hs->dir)) == NULL)
		return rc;
	while ((e = readdir(dir)) != NULL) {
		bool keep = e->d_name[0] == '.' || !strcmp(e->d_name, "index");

		for (size_t i = 0; !keep && i < hs->n; i++)
			keep = strcmp(e->d_name, hs->hash[i]) == 0;
		if (!keep)
			unlinkat(dirfd(dir), e->d_name, 0);
	}
	closedir(dir);
	return 0;
}

/* Removes the deltas beside BUNDLE_FILE that M does not name. */
static void prune_deltas(const char *bundle_file, const struct manifest *m)
{
	char dirname[PATH_MAX], name[PATH_MAX];
	const char *slash = strrchr(bundle_file, '/'), *base;
	size_t blen;
	DIR *dir;
	struct dirent *e;

	if (slash == NULL)
		return;
	snprintf(dirname, sizeof(dirname), "%.*s",
	         (int)(slash - bundle_file + 1), bundle_file);
	base = slash + 1;
	blen = strlen(base);
	if ((dir = opendir(dirname)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		bool keep = false;

		/* BUNDLE.<16 hex>.<16 hex>.delta */
		if (len != blen + 34 + strlen(DELTA_SUFFIX) ||
		    strncmp(n, base, blen) != 0 || n[blen] != '.' ||
		    strspn(n + blen + 1, "0123456789abcdef") != 16 ||
		    n[blen + 17] != '.' ||
		    strspn(n + blen + 18, "0123456789abcdef") != 16 ||
		    strcmp(n + blen + 34, DELTA_SUFFIX) != 0)
			continue;
		for (size_t i = 0; !keep && i < m->ndeltas; i++) {
			manifest_sibling(base, m->deltas[i].base, m->hash, name,
			                 sizeof(name));
			keep = strcmp(name, n) == 0;
		}
		if (!keep)
			unlinkat(dirfd(dir), n, 0);
	}
	closedir(dir);
}

/* Writes the deltas from the history's bundles to BUNDLE (HASH) beside
 * bundle_file, naming them in M. */
static int write_deltas(const struct scim_config *cfg, const struct history *hs,
                        const struct buf *bundle, struct manifest *m, char *err,
                        size_t errlen)
{
	struct buf d = {0};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < hs->n && m->ndeltas < MANIFEST_DELTAS;
	     i++) {
		char path[PATH_MAX], *base = NULL;
		size_t blen = 0;
		struct manifest_delta *md = &m->deltas[m->ndeltas];

		if (strcmp(hs->hash[i], m->hash) == 0 ||
		    state_path(hs->dir, hs->hash[i], path) < 0 ||
		    read_file(path, BUNDLE_MAX, &base, &blen) < 0)
			continue; /* that host downloads the full bundle */
		rc = delta_make(base, blen, bundle->data, bundle->len, &d);
		free(base);
		if (rc < 0)
			return set_error(err, errlen, rc, "out of memory");
		/* Only a delta smaller than the bundle saves anything. */
		if (d.len >= bundle->len / 2)
			continue;
		memcpy(md->base, hs->hash[i], SHA256_HEX);
		delta_sha256_hex(d.data, d.len, md->hash);
		md->size = d.len;
		rc = manifest_sibling(cfg->bundle_file, md->base, m->hash, path,
		                      sizeof(path));
		if (rc == 0)
			rc = write_file_atomic(path, d.data, d.len, 0644);
		if (rc < 0)
			rc = set_error(err, errlen, rc,
			               "cannot write %.300s: %s", path,
			               strerror(-rc));
		else
			m->ndeltas++;
	}
	buf_free(&d, false);
	return rc;
}

/* The manifest beside bundle_file, when it is ours, valid, and names the
 * bundle there: what re-confirmation re-signs. */
static bool current_manifest(const struct scim_config *cfg, EVP_PKEY *key,
                             const char *mpath, struct manifest *m)
{
	char *text = NULL, *bundle = NULL, hash[SHA256_HEX], why[256];
	size_t len = 0, blen = 0;
	bool ok = false;

	if (read_file(mpath, MANIFEST_MAX, &text, &len) == 0 &&
	    manifest_read(text, len, key, m, why, sizeof(why)) == 0 &&
	    read_file(cfg->bundle_file, BUNDLE_MAX, &bundle, &blen) == 0) {
		delta_sha256_hex(bundle, blen, hash);
		ok = blen == m->size && strcmp(hash, m->hash) == 0;
	}
	free(text);
	free(bundle);
	return ok;
}

int fleet_publish(const struct model *m, const struct scim_config *cfg,
                  struct bundle_info *info, const char *held_digest,
                  double reconfirm, enum fleet_published *what, size_t *ndeltas,
                  char *err, size_t errlen)
{
	struct manifest mf = {0}, old;
	struct history hs;
	struct buf b = {0}, mb = {0};
	EVP_PKEY *key = NULL;
	char mpath[PATH_MAX], hex[17];
	bool same;
	int rc;

	*what = FLEET_KEPT;
	*ndeltas = 0;
	rc = bundle_load_private(cfg->bundle_key, &key, err, errlen);
	if (rc == 0)
		rc = bundle_write(m, info, key, &b, err, errlen);
	if (rc == 0)
		rc = manifest_sibling(cfg->bundle_file, NULL, NULL, mpath,
		                      sizeof(mpath));
	if (rc < 0)
		goto out;
	snprintf(hex, sizeof(hex), "%016" PRIx64, info->digest);
	same = strcmp(held_digest, hex) == 0 &&
	       current_manifest(cfg, key, mpath, &old);
	if (same && (double)info->created - (double)old.created < reconfirm) {
		*ndeltas = old.ndeltas;
		goto out;
	}
	if (same) {
		/* Re-confirmation: the bundle and its deltas stay byte for
		 * byte, so every host's conditional GET of them stays a 304. */
		mf = old;
		*what = FLEET_RESIGNED;
	} else {
		delta_sha256_hex(b.data, b.len, mf.hash);
		mf.size = b.len;
		rc = history_load(cfg, &hs, err, errlen);
		if (rc == 0)
			rc = write_deltas(cfg, &hs, &b, &mf, err, errlen);
		/* The bundle and deltas first, the manifest last: a host
		 * reading storage midway sees the old manifest, whose files
		 * are still there, or the new one, whose files are. */
		if (rc == 0) {
			char path[PATH_MAX];

			rc = state_path(hs.dir, mf.hash, path);
			if (rc == 0)
				rc = write_file_atomic(path, b.data, b.len,
				                       0600);
			if (rc == 0)
				rc = history_save(&hs, mf.hash);
			if (rc < 0)
				rc = set_error(err, errlen, rc,
				               "cannot keep the bundle in "
				               "%s: %s",
				               hs.dir, strerror(-rc));
		}
		if (rc == 0) {
			rc = write_file_atomic(cfg->bundle_file, b.data, b.len,
			                       0644);
			if (rc < 0)
				rc = set_error(
				        err, errlen, rc,
				        "cannot write bundle_file %.300s: "
				        "%s",
				        cfg->bundle_file, strerror(-rc));
		}
		*what = FLEET_WRITTEN;
	}
	mf.generation = info->generation;
	mf.created = info->created;
	mf.valid_until = info->valid_until;
	if (rc == 0)
		rc = manifest_write(&mf, key, &mb, err, errlen);
	if (rc == 0) {
		struct stat prev;
		time_t prev_sec =
		        lstat(mpath, &prev) == 0 ? prev.st_mtim.tv_sec : 0;

		rc = write_file_atomic(mpath, mb.data, mb.len, 0644);
		if (rc < 0)
			rc = set_error(err, errlen, rc,
			               "cannot write %.300s: %s", mpath,
			               strerror(-rc));
		else
			manifest_mtime_after(mpath, prev_sec);
	}
	if (rc == 0)
		prune_deltas(cfg->bundle_file, &mf);
	*ndeltas = mf.ndeltas;
out:
	if (rc < 0)
		*what = FLEET_KEPT;
	EVP_PKEY_free(key);
	buf_free(&b, false);
	buf_free(&mb, false);
	return rc;
}

/*
 * writer.c: build a complete snapshot in a new file and publish it.
 *
 * Records are collected in memory, checked as a whole (unique names and ids,
 * members that exist), written in key order with MDB_APPEND into a temporary
 * file in the snapshot's directory, read back through the reader, and only
 * then renamed over the live path.  A failure at any step removes the
 * temporary file and leaves the live snapshot as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "record.h"
#include "snap.h"

struct wuser {
	struct snap_user u; /* strings owned */
};

struct wgroup {
	struct snap_group g; /* name and members owned */
};

struct snap_writer {
	uint32_t id_min, id_max;
	struct wuser *users;
	size_t nusers, users_cap;
	struct wgroup *groups;
	size_t ngroups, groups_cap;
};

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

int snap_writer_new(uint32_t id_min, uint32_t id_max, struct snap_writer **out)
{
	struct snap_writer *w;

	if (id_min == 0 || id_min > id_max || id_max > SNAP_ID_LIMIT)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->id_min = id_min;
	w->id_max = id_max;
	*out = w;
	return 0;
}

static void user_clear(struct snap_user *u)
{
	free((char *)u->name);
	free((char *)u->gecos);
	free((char *)u->home);
	free((char *)u->shell);
}

static void group_clear(struct snap_group *g)
{
	for (size_t i = 0; i < g->nmembers; i++)
		free((char *)g->members[i]);
	free((void *)g->members);
	free((char *)g->name);
}

void snap_writer_free(struct snap_writer *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->nusers; i++)
		user_clear(&w->users[i].u);
	for (size_t i = 0; i < w->ngroups; i++)
		group_clear(&w->groups[i].g);
	free(w->users);
	free(w->groups);
	free(w);
}

/* Grows an array of SIZE-byte items to hold one more. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t want;
	void *p;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : 64;
	if (want > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*arr, want * size);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = want;
	return 0;
}

static bool field_ok(const char *s)
{
	return s != NULL && snap_field_valid(s, strlen(s));
}

static bool path_ok(const char *s)
{
	return field_ok(s) && s[0] == '/';
}

static int check_user(const struct snap_writer *w, const struct snap_user *u,
                      char *err, size_t errlen)
{
	if (u->name == NULL || !snap_name_valid(u->name, strlen(u->name)))
		return fail(err, errlen, -EINVAL, "invalid user name");
	if (!snap_id_valid(u->uid, w->id_min, w->id_max) ||
	    !snap_id_valid(u->gid, w->id_min, w->id_max))
		return fail(err, errlen, -EINVAL,
		            "user %s: uid %u or gid %u outside %u-%u", u->name,
		            u->uid, u->gid, w->id_min, w->id_max);
	if (!field_ok(u->gecos))
		return fail(err, errlen, -EINVAL, "user %s: invalid gecos",
		            u->name);
	if (!path_ok(u->home) || !path_ok(u->shell))
		return fail(err, errlen, -EINVAL,
		            "user %s: home and shell must be absolute paths "
		            "without ':' or control characters",
		            u->name);
	return 0;
}

int snap_writer_add_user(struct snap_writer *w, const struct snap_user *u,
                         char *err, size_t errlen)
{
	struct snap_user c = {0};
	int r;

	r = check_user(w, u, err, errlen);
	if (r < 0)
		return r;
	if (grow((void **)&w->users, &w->users_cap, w->nusers,
	         sizeof(*w->users)) < 0)
		return fail(err, errlen, -ENOMEM, "out of memory");
	c.name = strdup(u->name);
	c.gecos = strdup(u->gecos);
	c.home = strdup(u->home);
	c.shell = strdup(u->shell);
	c.uid = u->uid;
	c.gid = u->gid;
	c.active = u->active;
	if (!c.name || !c.gecos || !c.home || !c.shell) {
		user_clear(&c);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	w->users[w->nusers++].u = c;
	return 0;
}

static int copy_members(const struct snap_group *g, struct snap_group *c)
{
	char **m;

	m = calloc(g->nmembers ? g->nmembers : 1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	c->members = (const char *const *)m;
	for (size_t i = 0; i < g->nmembers; i++) {
		m[i] = strdup(g->members[i]);
		if (m[i] == NULL)
			return -ENOMEM;
		c->nmembers = i + 1;
	}
	return 0;
}

int snap_writer_add_group(struct snap_writer *w, const struct snap_group *g,
                          char *err, size_t errlen)
{
	struct snap_group c = {0};

	if (g->name == NULL || !snap_name_valid(g->name, strlen(g->name)))
		return fail(err, errlen, -EINVAL, "invalid group name");
	if (!snap_id_valid(g->gid, w->id_min, w->id_max))
		return fail(err, errlen, -EINVAL,
		            "group %s: gid %u outside %u-%u", g->name, g->gid,
		            w->id_min, w->id_max);
	if (g->nmembers > SNAP_MEMBERS_MAX)
		return fail(err, errlen, -EINVAL, "group %s: too many members",
		            g->name);
	for (size_t i = 0; i < g->nmembers; i++)
		if (g->members[i] == NULL ||
		    !snap_name_valid(g->members[i], strlen(g->members[i])))
			return fail(err, errlen, -EINVAL,
			            "group %s: invalid member name", g->name);
	if (grow((void **)&w->groups, &w->groups_cap, w->ngroups,
	         sizeof(*w->groups)) < 0)
		return fail(err, errlen, -ENOMEM, "out of memory");
	c.gid = g->gid;
	c.name = strdup(g->name);
	if (c.name == NULL || copy_members(g, &c) < 0) {
		group_clear(&c);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	w->groups[w->ngroups++].g = c;
	return 0;
}

/* ---- whole-directory checks ------------------------------------------ */

/* Sorted views over the collected records, in the orders LMDB stores them:
 * ids numerically, names as strcmp() orders them (which is LMDB's byte
 * order, since names hold no NUL). */
struct order {
	const struct snap_user **by_uid, **by_uname;
	const struct snap_group **by_gid, **by_gname;
};

static int cmp_uid(const void *a, const void *b)
{
	const struct snap_user *x = *(const struct snap_user *const *)a;
	const struct snap_user *y = *(const struct snap_user *const *)b;

	return (x->uid > y->uid) - (x->uid < y->uid);
}

static int cmp_uname(const void *a, const void *b)
{
	return strcmp((*(const struct snap_user *const *)a)->name,
	              (*(const struct snap_user *const *)b)->name);
}

static int cmp_gid(const void *a, const void *b)
{
	const struct snap_group *x = *(const struct snap_group *const *)a;
	const struct snap_group *y = *(const struct snap_group *const *)b;

	return (x->gid > y->gid) - (x->gid < y->gid);
}

static int cmp_gname(const void *a, const void *b)
{
	return strcmp((*(const struct snap_group *const *)a)->name,
	              (*(const struct snap_group *const *)b)->name);
}

static void order_free(struct order *o)
{
	free(o->by_uid);
	free(o->by_uname);
	free(o->by_gid);
	free(o->by_gname);
}

static int order_build(const struct snap_writer *w, struct order *o)
{
	size_t nu = w->nusers ? w->nusers : 1, ng = w->ngroups ? w->ngroups : 1;

	o->by_uid = calloc(nu, sizeof(*o->by_uid));
	o->by_uname = calloc(nu, sizeof(*o->by_uname));
	o->by_gid = calloc(ng, sizeof(*o->by_gid));
	o->by_gname = calloc(ng, sizeof(*o->by_gname));
	if (!o->by_uid || !o->by_uname || !o->by_gid || !o->by_gname)
		return -ENOMEM;
	for (size_t i = 0; i < w->nusers; i++)
		o->by_uid[i] = o->by_uname[i] = &w->users[i].u;
	for (size_t i = 0; i < w->ngroups; i++)
		o->by_gid[i] = o->by_gname[i] = &w->groups[i].g;
	qsort(o->by_uid, w->nusers, sizeof(*o->by_uid), cmp_uid);
	qsort(o->by_uname, w->nusers, sizeof(*o->by_uname), cmp_uname);
	qsort(o->by_gid, w->ngroups, sizeof(*o->by_gid), cmp_gid);
	qsort(o->by_gname, w->ngroups, sizeof(*o->by_gname), cmp_gname);
	return 0;
}

static const struct snap_user *find_user(const struct snap_writer *w,
                                         const struct order *o,
                                         const char *name)
{
	struct snap_user key = {.name = name};
	const struct snap_user *kp = &key, **hit;

	hit = bsearch(&kp, o->by_uname, w->nusers, sizeof(*o->by_uname),
	              cmp_uname);
	return hit ? *hit : NULL;
}

static int check_unique(const struct snap_writer *w, const struct order *o,
                        char *err, size_t errlen)
{
	for (size_t i = 1; i < w->nusers; i++) {
		if (o->by_uid[i]->uid == o->by_uid[i - 1]->uid)
			return fail(err, errlen, -EINVAL,
			            "uid %u given to both %s and %s",
			            o->by_uid[i]->uid, o->by_uid[i - 1]->name,
			            o->by_uid[i]->name);
		if (strcmp(o->by_uname[i]->name, o->by_uname[i - 1]->name) == 0)
			return fail(err, errlen, -EINVAL, "user name %s twice",
			            o->by_uname[i]->name);
	}
	for (size_t i = 1; i < w->ngroups; i++) {
		if (o->by_gid[i]->gid == o->by_gid[i - 1]->gid)
			return fail(err, errlen, -EINVAL,
			            "gid %u given to both %s and %s",
			            o->by_gid[i]->gid, o->by_gid[i - 1]->name,
			            o->by_gid[i]->name);
		if (strcmp(o->by_gname[i]->name, o->by_gname[i - 1]->name) == 0)
			return fail(err, errlen, -EINVAL, "group name %s twice",
			            o->by_gname[i]->name);
	}
	return 0;
}

static int check_members(const struct snap_writer *w, const struct order *o,
                         char *err, size_t errlen)
{
	for (size_t i = 0; i < w->ngroups; i++) {
		const struct snap_group *g = &w->groups[i].g;

		for (size_t j = 0; j < g->nmembers; j++)
			if (find_user(w, o, g->members[j]) == NULL)
				return fail(err, errlen, -EINVAL,
				            "group %s: member %s is not a user",
				            g->name, g->members[j]);
	}
	return 0;
}

/* ---- user -> gids ----------------------------------------------------- */

/* One membership: the user (by index in w->users) and the gid. */
struct link {
	size_t user;
	uint32_t gid;
};

static int cmp_link(const void *a, const void *b)
{
	const struct link *x = a, *y = b;

	if (x->user != y->user)
		return (x->user > y->user) - (x->user < y->user);
	return (x->gid > y->gid) - (x->gid < y->gid);
}

/* Every user's gids: links sorted by user then gid, without duplicates, and
 * STARTS[i] .. STARTS[i + 1] the range of user i. */
struct memberships {
	struct link *links;
	size_t *starts;
	uint32_t *gids; /* scratch for one user */
};

static void memberships_free(struct memberships *ms)
{
	free(ms->links);
	free(ms->starts);
	free(ms->gids);
}

static int memberships_build(const struct snap_writer *w, const struct order *o,
                             struct memberships *ms)
{
	size_t n = 0, k = 0, most = 0;

	for (size_t i = 0; i < w->ngroups; i++)
		n += w->groups[i].g.nmembers;
	ms->links = calloc(n ? n : 1, sizeof(*ms->links));
	ms->starts = calloc(w->nusers + 1, sizeof(*ms->starts));
	if (ms->links == NULL || ms->starts == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < w->ngroups; i++) {
		const struct snap_group *g = &w->groups[i].g;

		for (size_t j = 0; j < g->nmembers; j++) {
			const struct wuser *u = (const struct wuser *)find_user(
			        w, o, g->members[j]);

			ms->links[k].user = (size_t)(u - w->users);
			ms->links[k++].gid = g->gid;
		}
	}
	qsort(ms->links, n, sizeof(*ms->links), cmp_link);
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || cmp_link(&ms->links[k - 1], &ms->links[i]) != 0)
			ms->links[k++] = ms->links[i];
	for (size_t i = 0, u = 0; u <= w->nusers; u++) {
		ms->starts[u] = i;
		while (i < k && ms->links[i].user == u)
			i++;
		if (u > 0 && ms->starts[u] - ms->starts[u - 1] > most)
			most = ms->starts[u] - ms->starts[u - 1];
	}
	ms->gids = calloc(most ? most : 1, sizeof(*ms->gids));
	return ms->gids ? 0 : -ENOMEM;
}

/* ---- tables ----------------------------------------------------------- */

/* One kind (users or groups) laid out as the reader expects: the records
 * back to back, their offsets, and the two hash tables. */
struct tables {
	struct rec_buf records, offsets, byname, byid;
};

static void tables_free(struct tables *t)
{
	rec_buf_free(&t->records);
	rec_buf_free(&t->offsets);
	rec_buf_free(&t->byname);
	rec_buf_free(&t->byid);
}

/* A power of two at least twice N, so probe runs stay short and end. */
static size_t table_cap(size_t n)
{
	size_t cap = 8;

	while (cap < 2 * n)
		cap *= 2;
	return cap;
}

static void slot_put(uint32_t *slots, size_t cap, uint32_t hash, uint32_t value)
{
	size_t mask = cap - 1;

	for (size_t k = 0;; k++) {
		uint32_t *s = &slots[(hash + k) & mask];

		if (*s == 0) {
			*s = value;
			return;
		}
	}
}

/* Fills the byname and byid tables for N entries named NAMES[i] with ids
 * IDS[i]; slot values are index + 1. */
static int hash_tables(struct tables *t, size_t n, const char *const *names,
                       const uint32_t *ids)
{
	size_t cap = table_cap(n);
	uint32_t *byname = calloc(cap, sizeof(*byname));
	uint32_t *byid = calloc(cap, sizeof(*byid));

	if (byname == NULL || byid == NULL) {
		free(byname);
		free(byid);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		slot_put(byname, cap, rec_hash_name(names[i], strlen(names[i])),
		         (uint32_t)i + 1);
		slot_put(byid, cap, rec_hash_id(ids[i]), (uint32_t)i + 1);
	}
	for (size_t i = 0; i < cap; i++) {
		rec_put_le32(&t->byname, byname[i]);
		rec_put_le32(&t->byid, byid[i]);
	}
	free(byname);
	free(byid);
	return t->byname.err ? t->byname.err : t->byid.err;
}

/* Closes one record: its end is the next record's start. */
static int record_done(struct tables *t)
{
	if (t->records.len > UINT32_MAX)
		return -EFBIG;
	rec_put_le32(&t->offsets, (uint32_t)t->records.len);
	return t->records.err ? t->records.err : t->offsets.err;
}

static int user_tables(const struct snap_writer *w, const struct order *o,
                       const struct memberships *ms, struct tables *t)
{
	const char **names = calloc(w->nusers + 1, sizeof(*names));
	uint32_t *ids = calloc(w->nusers + 1, sizeof(*ids));
	int r = names && ids ? 0 : -ENOMEM;

	rec_put_le32(&t->offsets, 0);
	for (size_t i = 0; r == 0 && i < w->nusers; i++) {
		const struct snap_user *u = o->by_uid[i];
		size_t idx = (size_t)((const struct wuser *)u - w->users),
		       n = 0;

		for (size_t l = ms->starts[idx]; l < ms->starts[idx + 1]; l++)
			ms->gids[n++] = ms->links[l].gid;
		rec_encode_user(&t->records, u, ms->gids, n);
		r = record_done(t);
		names[i] = u->name;
		ids[i] = u->uid;
	}
	if (r == 0)
		r = hash_tables(t, w->nusers, names, ids);
	free(names);
	free(ids);
	return r;
}

static int group_tables(const struct snap_writer *w, const struct order *o,
                        struct tables *t)
{
	const char **names = calloc(w->ngroups + 1, sizeof(*names));
	uint32_t *ids = calloc(w->ngroups + 1, sizeof(*ids));
	int r = names && ids ? 0 : -ENOMEM;

	rec_put_le32(&t->offsets, 0);
	for (size_t i = 0; r == 0 && i < w->ngroups; i++) {
		rec_encode_group(&t->records, o->by_gid[i]);
		r = record_done(t);
		names[i] = o->by_gid[i]->name;
		ids[i] = o->by_gid[i]->gid;
	}
	if (r == 0)
		r = hash_tables(t, w->ngroups, names, ids);
	free(names);
	free(ids);
	return r;
}

/* ---- writing ---------------------------------------------------------- */

struct wctx {
	MDB_txn *txn;
	MDB_dbi dbi;
	char *err;
	size_t errlen;
};

static int put(struct wctx *c, const char *key, const struct rec_buf *b)
{
	MDB_val k = {strlen(key), (void *)key}, v = {b->len, b->data};
	int rc;

	if (b->err)
		return fail(c->err, c->errlen, b->err, "encoding %s: %s", key,
		            strerror(-b->err));
	rc = mdb_put(c->txn, c->dbi, &k, &v, 0);
	if (rc == MDB_MAP_FULL)
		return fail(c->err, c->errlen, -ENOSPC, "snapshot map full");
	if (rc != 0)
		return fail(c->err, c->errlen,
		            rc > 0 && rc < MDB_KEYEXIST ? -rc : -EIO,
		            "writing the snapshot: %s", mdb_strerror(rc));
	return 0;
}

static int put_tables(struct wctx *c, const struct tables *t,
                      const char *records, const char *offsets,
                      const char *byname, const char *byid)
{
	int r = put(c, records, &t->records);

	if (r == 0)
		r = put(c, offsets, &t->offsets);
	if (r == 0)
		r = put(c, byname, &t->byname);
	if (r == 0)
		r = put(c, byid, &t->byid);
	return r;
}

static int write_all(struct wctx *c, const struct snap_writer *w,
                     const struct order *o, const struct snap_meta *m)
{
	struct memberships ms = {0};
	struct tables users = {0}, groups = {0};
	struct rec_buf meta = {0};
	int r;

	r = memberships_build(w, o, &ms);
	if (r == 0)
		r = user_tables(w, o, &ms, &users);
	if (r == 0)
		r = group_tables(w, o, &groups);
	if (r < 0) {
		r = fail(c->err, c->errlen, r, "building the tables: %s",
		         strerror(-r));
		goto out;
	}
	rec_encode_meta(&meta, m);
	r = put(c, TABLE_META, &meta);
	if (r == 0)
		r = put_tables(c, &users, TABLE_USER_RECORDS,
		               TABLE_USER_OFFSETS, TABLE_USER_BYNAME,
		               TABLE_USER_BYID);
	if (r == 0)
		r = put_tables(c, &groups, TABLE_GROUP_RECORDS,
		               TABLE_GROUP_OFFSETS, TABLE_GROUP_BYNAME,
		               TABLE_GROUP_BYID);
out:
	memberships_free(&ms);
	tables_free(&users);
	tables_free(&groups);
	rec_buf_free(&meta);
	return r;
}

/* A map big enough for any snapshot of this size; the file only grows as
 * far as pages are written. */
static size_t map_size(const struct snap_writer *w)
{
	size_t est = 1u << 20;

	for (size_t i = 0; i < w->ngroups; i++)
		est += 64 + w->groups[i].g.nmembers * (SNAP_NAME_MAX + 8);
	est += w->nusers * (4 * SNAP_NAME_MAX + 3 * 256);
	return est < (64u << 20) ? (64u << 20) : est * 4;
}

/* LMDB reports a short write (a full filesystem) as EIO; say which. */
static int commit_failed(const char *tmp, int rc, char *err, size_t errlen)
{
	struct statvfs sv;

	if (rc == EIO && statvfs(tmp, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < (1u << 20))
		rc = ENOSPC;
	if (rc == ENOSPC)
		return fail(err, errlen, -ENOSPC,
		            "writing %s: no space left on the snapshot's "
		            "filesystem",
		            tmp);
	return fail(err, errlen, rc > 0 && rc < MDB_KEYEXIST ? -rc : -EIO,
	            "committing %s: %s", tmp, mdb_strerror(rc));
}

static int write_file(const struct snap_writer *w, const struct order *o,
                      const char *tmp, const struct snap_meta *m, char *err,
                      size_t errlen)
{
	struct wctx c = {.err = err, .errlen = errlen};
	MDB_env *env = NULL;
	int rc;

	rc = mdb_env_create(&env);
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, map_size(w));
	if (rc == 0)
		rc = mdb_env_open(env, tmp,
		                  MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &c.txn);
	if (rc == 0)
		rc = mdb_dbi_open(c.txn, NULL, 0, &c.dbi);
	if (rc != 0) {
		rc = fail(err, errlen, rc > 0 && rc < MDB_KEYEXIST ? -rc : -EIO,
		          "creating %s: %s", tmp, mdb_strerror(rc));
		goto out;
	}
	rc = write_all(&c, w, o, m);
	if (rc == 0) {
		rc = mdb_txn_commit(c.txn);
		c.txn = NULL;
		if (rc == 0)
			rc = mdb_env_sync(env, 1);
		if (rc != 0)
			rc = commit_failed(tmp, rc, err, errlen);
	}
out:
	if (c.txn != NULL)
		mdb_txn_abort(c.txn);
	mdb_env_close(env);
	return rc;
}

/* ---- verification ----------------------------------------------------- */

static int verify_users(struct snap_reader *r, const struct snap_writer *w,
                        char *buf, size_t buflen)
{
	struct snap_cursor cur = {0};
	struct passwd pw = {0};
	size_t n = 0;
	int rc;

	while ((rc = snap_getpwent(r, &cur, &pw, buf, buflen)) == 0)
		n++;
	if (rc < 0 || n != w->nusers)
		return -EBADMSG;
	for (size_t i = 0; i < w->nusers; i++) {
		const struct snap_user *u = &w->users[i].u;

		rc = snap_getpwnam(r, u->name, &pw, buf, buflen);
		if (rc != 0 || pw.pw_uid != u->uid)
			return -EBADMSG;
	}
	return 0;
}

static int verify_groups(struct snap_reader *r, const struct snap_writer *w,
                         char *buf, size_t buflen)
{
	struct snap_cursor cur = {0};
	struct group gr = {0};
	size_t n = 0;
	int rc;

	while ((rc = snap_getgrent(r, &cur, &gr, buf, buflen)) == 0)
		n++;
	if (rc < 0 || n != w->ngroups)
		return -EBADMSG;
	for (size_t i = 0; i < w->ngroups; i++) {
		const struct snap_group *g = &w->groups[i].g;

		rc = snap_getgrnam(r, g->name, &gr, buf, buflen);
		if (rc != 0 || gr.gr_gid != g->gid)
			return -EBADMSG;
	}
	return 0;
}

/* Reads the new file back through the reader that NSS uses. */
static int verify(const char *tmp, const struct snap_writer *w,
                  const struct snap_meta *m, char *err, size_t errlen)
{
	size_t buflen = 4 * SNAP_FIELD_MAX + 256;
	struct snap_reader *r = NULL;
	struct snap_meta got;
	char *buf = NULL;
	int rc;

	/* The largest group decides the buffer. */
	for (size_t i = 0; i < w->ngroups; i++) {
		size_t need =
		        256 + w->groups[i].g.nmembers * (SNAP_NAME_MAX + 9);

		if (need > buflen)
			buflen = need;
	}
	buf = malloc(buflen);
	rc = buf ? snap_reader_new(tmp, geteuid(), &r) : -ENOMEM;
	if (rc == 0)
		rc = snap_get_meta(r, &got);
	if (rc == 0 && (got.generation != m->generation ||
	                got.nusers != w->nusers || got.ngroups != w->ngroups))
		rc = -EBADMSG;
	if (rc == 0)
		rc = verify_users(r, w, buf, buflen);
	if (rc == 0)
		rc = verify_groups(r, w, buf, buflen);
	if (rc != 0)
		rc = fail(err, errlen, rc < 0 ? rc : -EBADMSG,
		          "verifying the new snapshot: %s",
		          snap_strerror(rc < 0 ? rc : -EBADMSG));
	snap_reader_free(r);
	free(buf);
	return rc;
}

/* ---- publish ---------------------------------------------------------- */

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int dir_of(const char *path, char *dir, size_t len)
{
	char copy[PATH_MAX];

	if (strlen(path) >= sizeof(copy))
		return -ENAMETOOLONG;
	memcpy(copy, path, strlen(path) + 1);
	if ((size_t)snprintf(dir, len, "%s", dirname(copy)) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Removes what an interrupted publish (a crash, kill -9) left beside PATH:
 * files named PATH.new.XXXXXX.  Publishes are serialized by the caller, so
 * none of them is in use. */
static void remove_leftovers(const char *path)
{
	char pattern[PATH_MAX + 16];
	glob_t g;

	if ((size_t)snprintf(pattern, sizeof(pattern), "%s.new.??????", path) >=
	    sizeof(pattern))
		return;
	if (glob(pattern, GLOB_NOSORT | GLOB_NOESCAPE, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		unlink(g.gl_pathv[i]);
	globfree(&g);
}

/* Creates an empty, private temporary file beside PATH; TMP gets its name. */
static int make_temp(const char *path, char *tmp, size_t len, char *err,
                     size_t errlen)
{
	int fd;

	if ((size_t)snprintf(tmp, len, "%s.new.XXXXXX", path) >= len)
		return fail(err, errlen, -ENAMETOOLONG, "path too long: %s",
		            path);
	remove_leftovers(path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, -errno,
		            "creating a file beside %s: %s", path,
		            strerror(errno));
	close(fd);
	return 0;
}

/* Readers look at the file's link count at most every SNAP_RECHECK_MS by a
 * coarse clock.  Waiting that long, plus the clock's resolution, means that
 * any lookup starting after we return has checked since the rename. */
static void wait_for_readers(void)
{
	struct timespec res = {0, 0}, wait;
	long ns;

	clock_getres(CLOCK_MONOTONIC_COARSE, &res);
	ns = (long)SNAP_RECHECK_MS * 1000000 + res.tv_nsec + 1000000;
	wait.tv_sec = res.tv_sec + ns / 1000000000;
	wait.tv_nsec = ns % 1000000000;
	while (nanosleep(&wait, &wait) < 0 && errno == EINTR)
		;
}

static int finish(const char *tmp, const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int rc;

	if (chmod(tmp, 0644) < 0)
		return fail(err, errlen, -errno, "chmod %s: %s", tmp,
		            strerror(errno));
	rc = fsync_path(tmp, O_RDONLY);
	if (rc < 0)
		return fail(err, errlen, rc, "fsync %s: %s", tmp,
		            strerror(-rc));
	rc = dir_of(path, dir, sizeof(dir));
	if (rc < 0)
		return fail(err, errlen, rc, "path too long: %s", path);
	if (rename(tmp, path) < 0)
		return fail(err, errlen, -errno, "rename %s to %s: %s", tmp,
		            path, strerror(errno));
	/* Published; a failed directory fsync only weakens durability. */
	rc = fsync_path(dir, O_RDONLY | O_DIRECTORY);
	if (rc < 0)
		fail(err, errlen, 0, "fsync %s: %s", dir, strerror(-rc));
	wait_for_readers();
	return 0;
}

/* The reader takes absolute paths only; a relative PATH is taken from the
 * current directory. */
static int absolute(const char *path, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '/') {
		if (strlen(path) >= len)
			return -ENAMETOOLONG;
		memcpy(out, path, strlen(path) + 1);
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -errno;
	if ((size_t)snprintf(out, len, "%s/%s", cwd, path) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int snap_writer_publish(struct snap_writer *w, const char *relpath,
                        const struct snap_meta *meta, char *err, size_t errlen)
{
	struct order o = {0};
	struct snap_meta m = *meta;
	char tmp[PATH_MAX], path[PATH_MAX];
	int rc;

	if (err && errlen)
		err[0] = '\0';
	rc = absolute(relpath, path, sizeof(path));
	if (rc < 0)
		return fail(err, errlen, rc, "snapshot path too long: %s",
		            relpath);
	m.version = SNAP_FORMAT_VERSION;
	m.id_min = w->id_min;
	m.id_max = w->id_max;
	m.nusers = (uint32_t)w->nusers;
	m.ngroups = (uint32_t)w->ngroups;
	m.nactive = 0;
	for (size_t i = 0; i < w->nusers; i++)
		m.nactive += w->users[i].u.active;
	if (!snap_text_valid(m.source, strnlen(m.source, sizeof(m.source))))
		return fail(err, errlen, -EINVAL, "invalid snapshot source");
	if (order_build(w, &o) < 0) {
		order_free(&o);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	rc = check_unique(w, &o, err, errlen);
	if (rc == 0)
		rc = check_members(w, &o, err, errlen);
	if (rc == 0)
		rc = make_temp(path, tmp, sizeof(tmp), err, errlen);
	if (rc == 0) {
		rc = write_file(w, &o, tmp, &m, err, errlen);
		if (rc == 0)
			rc = verify(tmp, w, &m, err, errlen);
		if (rc == 0)
			rc = finish(tmp, path, err, errlen);
		if (rc != 0)
			unlink(tmp);
	}
	order_free(&o);
	return rc;
}

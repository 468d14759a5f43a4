/*
 * writer.c: build a complete snapshot in a new file and publish it.
 *
 * Records are collected in memory, checked as a whole (unique names and ids,
 * members that exist), written into a temporary file in the snapshot's
 * directory, read back through the reader, and only then renamed over the
 * live path.  A failure at any step removes the temporary file and leaves
 * the live snapshot as it was.
 *
 * Memory stays close to one copy of the directory: a borrowing writer keeps
 * the caller's strings instead of copying them; members are found through a
 * hash of the user names; each table is encoded straight into the file's
 * map (MDB_WRITEMAP, MDB_RESERVE) and its pages are handed back to the
 * page cache as soon as they are written; the read-back reopens the reader
 * every few thousand entries so that the new file is never mapped whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <lmdb.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "record.h"
#include "snap.h"

#define RELEASE_EVERY (1u << 20) /* bytes written between page releases */
#define VERIFY_SLICE  8192       /* lookups between reader reopens */
#define SPARE_PAGES   16         /* map pages beyond the estimate */

struct snap_writer {
	uint32_t id_min, id_max;
	bool borrow; /* keep the caller's strings; set once at creation */
	struct snap_user *users;
	size_t nusers, users_cap;
	struct snap_group *groups;
	size_t ngroups, groups_cap;
	struct arena copies; /* a copying writer's strings and arrays */
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

static int writer_new(uint32_t id_min, uint32_t id_max, bool borrow,
                      struct snap_writer **out)
{
	struct snap_writer *w;

	if (id_min == 0 || id_min > id_max || id_max > SNAP_ID_LIMIT)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->id_min = id_min;
	w->id_max = id_max;
	w->borrow = borrow;
	*out = w;
	return 0;
}

int snap_writer_new(uint32_t id_min, uint32_t id_max, struct snap_writer **out)
{
	return writer_new(id_min, id_max, false, out);
}

int snap_writer_new_borrowing(uint32_t id_min, uint32_t id_max,
                              struct snap_writer **out)
{
	return writer_new(id_min, id_max, true, out);
}

void snap_writer_free(struct snap_writer *w)
{
	if (w == NULL)
		return;
	arena_free(&w->copies);
	free(w->users);
	free(w->groups);
	free(w);
}

/* S itself when W borrows, else a copy that lives as long as W. */
static const char *keep_str(struct snap_writer *w, const char *s)
{
	return w->borrow ? s : arena_strndup(&w->copies, s, strlen(s));
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
	struct snap_user c = *u;
	int r;

	r = check_user(w, u, err, errlen);
	if (r < 0)
		return r;
	if (grow((void **)&w->users, &w->users_cap, w->nusers,
	         sizeof(*w->users)) < 0)
		return fail(err, errlen, -ENOMEM, "out of memory");
	c.name = keep_str(w, u->name);
	c.gecos = keep_str(w, u->gecos);
	c.home = keep_str(w, u->home);
	c.shell = keep_str(w, u->shell);
	if (!c.name || !c.gecos || !c.home || !c.shell)
		return fail(err, errlen, -ENOMEM, "out of memory");
	w->users[w->nusers++] = c;
	return 0;
}

static int check_group(const struct snap_writer *w, const struct snap_group *g,
                       char *err, size_t errlen)
{
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
	return 0;
}

/* G's member array itself when W borrows, else a copy in W's chunks. */
static const char *const *keep_members(struct snap_writer *w,
                                       const struct snap_group *g)
{
	const char **m;

	if (w->borrow)
		return g->members;
	m = arena_alloc(&w->copies,
	                (g->nmembers ? g->nmembers : 1) * sizeof(*m));
	for (size_t i = 0; m != NULL && i < g->nmembers; i++) {
		m[i] = keep_str(w, g->members[i]);
		if (m[i] == NULL)
			return NULL;
	}
	return m;
}

int snap_writer_add_group(struct snap_writer *w, const struct snap_group *g,
                          char *err, size_t errlen)
{
	struct snap_group c = *g;
	int r;

	r = check_group(w, g, err, errlen);
	if (r < 0)
		return r;
	if (grow((void **)&w->groups, &w->groups_cap, w->ngroups,
	         sizeof(*w->groups)) < 0)
		return fail(err, errlen, -ENOMEM, "out of memory");
	c.name = keep_str(w, g->name);
	c.members = keep_members(w, g);
	if (c.name == NULL || c.members == NULL)
		return fail(err, errlen, -ENOMEM, "out of memory");
	w->groups[w->ngroups++] = c;
	return 0;
}

/* ---- whole-directory checks ------------------------------------------ */

/* Sorted views over the collected records, in the orders LMDB stores them:
 * ids numerically, names as strcmp() orders them (which is LMDB's byte
 * order, since names hold no NUL).  NAMES finds a user by name: slots hold
 * index in w->users + 1, 0 when empty. */
struct order {
	const struct snap_user **by_uid, **by_uname;
	const struct snap_group **by_gid, **by_gname;
	uint32_t *names;
	size_t names_cap;
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
	free(o->names);
}

/* A power of two at least twice N, so probe runs stay short and end. */
static size_t table_cap(size_t n)
{
	size_t cap = 8;

	while (cap < 2 * n)
		cap *= 2;
	return cap;
}

/* The slot of NAME in O->names: its user's, or the empty one where it
 * would go. */
static size_t name_slot(const struct snap_writer *w, const struct order *o,
                        const char *name)
{
	size_t mask = o->names_cap - 1;
	size_t i = rec_hash_name(name, strlen(name)) & mask;

	while (o->names[i] != 0 &&
	       strcmp(w->users[o->names[i] - 1].name, name) != 0)
		i = (i + 1) & mask;
	return i;
}

static int names_build(const struct snap_writer *w, struct order *o)
{
	if (w->nusers >= UINT32_MAX)
		return -ENOMEM;
	o->names_cap = table_cap(w->nusers);
	o->names = calloc(o->names_cap, sizeof(*o->names));
	if (o->names == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < w->nusers; i++) {
		size_t s = name_slot(w, o, w->users[i].name);

		if (o->names[s] == 0) /* a repeat is check_unique()'s */
			o->names[s] = (uint32_t)i + 1;
	}
	return 0;
}

/* The index in w->users of the user NAME, or SIZE_MAX. */
static size_t find_user(const struct snap_writer *w, const struct order *o,
                        const char *name)
{
	uint32_t v = o->names[name_slot(w, o, name)];

	return v ? (size_t)v - 1 : SIZE_MAX;
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
		o->by_uid[i] = o->by_uname[i] = &w->users[i];
	for (size_t i = 0; i < w->ngroups; i++)
		o->by_gid[i] = o->by_gname[i] = &w->groups[i];
	qsort(o->by_uid, w->nusers, sizeof(*o->by_uid), cmp_uid);
	qsort(o->by_uname, w->nusers, sizeof(*o->by_uname), cmp_uname);
	qsort(o->by_gid, w->ngroups, sizeof(*o->by_gid), cmp_gid);
	qsort(o->by_gname, w->ngroups, sizeof(*o->by_gname), cmp_gname);
	return names_build(w, o);
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
		const struct snap_group *g = &w->groups[i];

		for (size_t j = 0; j < g->nmembers; j++)
			if (find_user(w, o, g->members[j]) == SIZE_MAX)
				return fail(err, errlen, -EINVAL,
				            "group %s: member %s is not a user",
				            g->name, g->members[j]);
	}
	return 0;
}

/* ---- user -> gids ----------------------------------------------------- */

/* Every user's gids: GIDS[STARTS[i] .. STARTS[i] + COUNT[i]) are user i's,
 * ascending and without repeats. */
struct memberships {
	size_t *starts;
	uint32_t *count;
	uint32_t *gids;
};

static void memberships_free(struct memberships *ms)
{
	free(ms->starts);
	free(ms->count);
	free(ms->gids);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Sorts user U's gids and drops repeats. */
static void memberships_tidy(struct memberships *ms, size_t u)
{
	uint32_t *g = ms->gids + ms->starts[u];
	size_t n = ms->starts[u + 1] - ms->starts[u], k = 0;

	qsort(g, n, sizeof(*g), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || g[k - 1] != g[i])
			g[k++] = g[i];
	ms->count[u] = (uint32_t)k;
}

static int memberships_build(const struct snap_writer *w, const struct order *o,
                             struct memberships *ms)
{
	size_t n = 0;

	ms->starts = calloc(w->nusers + 1, sizeof(*ms->starts));
	ms->count = calloc(w->nusers + 1, sizeof(*ms->count));
	if (ms->starts == NULL || ms->count == NULL)
		return -ENOMEM;
	/* Count each user's memberships, then place the gids. */
	for (size_t i = 0; i < w->ngroups; i++)
		for (size_t j = 0; j < w->groups[i].nmembers; j++)
			ms->starts[find_user(w, o, w->groups[i].members[j])]++;
	for (size_t u = 0; u <= w->nusers; u++) {
		size_t c = ms->starts[u];

		ms->starts[u] = n;
		n += c;
	}
	ms->gids = calloc(n ? n : 1, sizeof(*ms->gids));
	if (ms->gids == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < w->ngroups; i++)
		for (size_t j = 0; j < w->groups[i].nmembers; j++) {
			size_t u = find_user(w, o, w->groups[i].members[j]);

			ms->gids[ms->starts[u] + ms->count[u]++] =
			        w->groups[i].gid;
		}
	for (size_t u = 0; u < w->nusers; u++)
		memberships_tidy(ms, u);
	return 0;
}

/* ---- sizes ------------------------------------------------------------ */

static size_t user_size(const struct snap_user *u, size_t ngids)
{
	return 4 + 4 + 1 + 2 + strlen(u->name) + 2 + strlen(u->gecos) + 2 +
	       strlen(u->home) + 2 + strlen(u->shell) + 4 + 4 * ngids;
}

static size_t group_size(const struct snap_group *g)
{
	size_t n = 4 + 4 + 2 + strlen(g->name);

	for (size_t i = 0; i < g->nmembers; i++)
		n += strlen(g->members[i]) + 1;
	return n;
}

/* ---- writing ---------------------------------------------------------- */

struct wctx {
	MDB_txn *txn;
	MDB_dbi dbi;
	size_t page;
	char *err;
	size_t errlen;
};

/* One value being filled in place: [p, p + len) in the writable map.
 * Bytes before DONE are final; pages wholly before RELEASED went back to
 * the page cache. */
struct value {
	uint8_t *p;
	size_t len, done, released;
};

static int put_err(struct wctx *c, const char *key, int rc)
{
	if (rc == MDB_MAP_FULL)
		return fail(c->err, c->errlen, -ENOSPC, "snapshot map full");
	return fail(c->err, c->errlen, rc > 0 && rc < MDB_KEYEXIST ? -rc : -EIO,
	            "writing %s in the snapshot: %s", key, mdb_strerror(rc));
}

/* Reserves LEN bytes for KEY; V points at them until the next put. */
static int reserve(struct wctx *c, const char *key, size_t len, struct value *v)
{
	MDB_val k = {strlen(key), (void *)key}, d = {len, NULL};
	int rc = mdb_put(c->txn, c->dbi, &k, &d, MDB_RESERVE);

	if (rc == 0 && d.mv_data == NULL)
		rc = EIO;
	if (rc != 0)
		return put_err(c, key, rc);
	*v = (struct value){.p = d.mv_data, .len = len};
	return 0;
}

/* Drops the mapping of V's pages written so far: they are dirty in the
 * page cache (the map is shared), so nothing is lost, but they stop
 * counting towards our resident memory.  ALL: the value is complete. */
static void release(struct wctx *c, struct value *v, bool all)
{
	uintptr_t from = (uintptr_t)(v->p + v->released);
	uintptr_t to = (uintptr_t)(v->p + v->done);

	if (!all && v->done - v->released < RELEASE_EVERY)
		return;
	from = (from + c->page - 1) & ~(uintptr_t)(c->page - 1);
	to &= ~(uintptr_t)(c->page - 1);
	if (to > from)
		madvise((void *)from, to - from, MADV_DONTNEED);
	v->released = v->done;
}

static void fill(struct wctx *c, struct value *v, const struct rec_buf *b)
{
	memcpy(v->p + v->done, b->data, b->len);
	v->done += b->len;
	release(c, v, false);
}

static void put_le32_at(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)x;
	p[1] = (uint8_t)(x >> 8);
	p[2] = (uint8_t)(x >> 16);
	p[3] = (uint8_t)(x >> 24);
}

/* The offsets table from the record sizes SIZE(i). */
struct kind {
	const char *records, *offsets, *byname, *byid;
	size_t n;
	size_t (*size)(const struct snap_writer *, const struct order *,
	               const struct memberships *, size_t);
	int (*encode)(const struct snap_writer *, const struct order *,
	              const struct memberships *, size_t, struct rec_buf *);
	const char *(*name)(const struct order *, size_t);
	uint32_t (*id)(const struct order *, size_t);
};

static size_t user_size_at(const struct snap_writer *w, const struct order *o,
                           const struct memberships *ms, size_t i)
{
	size_t idx = (size_t)(o->by_uid[i] - w->users);

	return user_size(o->by_uid[i], ms->count[idx]);
}

static int user_encode_at(const struct snap_writer *w, const struct order *o,
                          const struct memberships *ms, size_t i,
                          struct rec_buf *b)
{
	size_t idx = (size_t)(o->by_uid[i] - w->users);

	return rec_encode_user(b, o->by_uid[i], ms->gids + ms->starts[idx],
	                       ms->count[idx]);
}

static const char *user_name_at(const struct order *o, size_t i)
{
	return o->by_uid[i]->name;
}

static uint32_t user_id_at(const struct order *o, size_t i)
{
	return o->by_uid[i]->uid;
}

static size_t group_size_at(const struct snap_writer *w, const struct order *o,
                            const struct memberships *ms, size_t i)
{
	(void)w;
	(void)ms;
	return group_size(o->by_gid[i]);
}

static int group_encode_at(const struct snap_writer *w, const struct order *o,
                           const struct memberships *ms, size_t i,
                           struct rec_buf *b)
{
	(void)w;
	(void)ms;
	return rec_encode_group(b, o->by_gid[i]);
}

static const char *group_name_at(const struct order *o, size_t i)
{
	return o->by_gid[i]->name;
}

static uint32_t group_id_at(const struct order *o, size_t i)
{
	return o->by_gid[i]->gid;
}

/* Writes the offsets table of K and returns the records' total size in
 * *TOTAL. */
static int put_offsets(struct wctx *c, const struct snap_writer *w,
                       const struct order *o, const struct memberships *ms,
                       const struct kind *k, size_t *total)
{
	struct value v = {0};
	size_t at = 0;
	int r;

	r = reserve(c, k->offsets, 4 * (k->n + 1), &v);
	for (size_t i = 0; r == 0 && i <= k->n; i++) {
		if (at > UINT32_MAX)
			return fail(c->err, c->errlen, -EFBIG,
			            "building the tables: %s", strerror(EFBIG));
		put_le32_at(v.p + 4 * i, (uint32_t)at);
		if (i < k->n)
			at += k->size(w, o, ms, i);
	}
	if (r == 0) {
		v.done = v.len;
		release(c, &v, true);
		*total = at;
	}
	return r;
}

static int put_records(struct wctx *c, const struct snap_writer *w,
                       const struct order *o, const struct memberships *ms,
                       const struct kind *k, size_t total)
{
	struct rec_buf b = {0};
	struct value v = {0};
	int r;

	r = reserve(c, k->records, total, &v);
	for (size_t i = 0; r == 0 && i < k->n; i++) {
		rec_buf_reset(&b);
		r = k->encode(w, o, ms, i, &b);
		if (r == 0 && b.len > v.len - v.done)
			r = -EIO; /* the sizes above disagree with the encoder
			           */
		if (r == 0)
			fill(c, &v, &b);
		else
			r = fail(c->err, c->errlen, r, "encoding %s: %s",
			         k->records, strerror(-r));
	}
	rec_buf_free(&b);
	if (r == 0 && v.done != v.len)
		return fail(c->err, c->errlen, -EIO, "encoding %s: %s",
		            k->records, strerror(EIO));
	if (r == 0)
		release(c, &v, true);
	return r;
}

static void slot_put(uint8_t *slots, size_t cap, uint32_t hash, uint32_t value)
{
	size_t mask = cap - 1;

	for (size_t k = 0;; k++) {
		uint8_t *s = slots + 4 * ((hash + k) & mask);

		if (rec_get_le32(s) == 0) {
			put_le32_at(s, value);
			return;
		}
	}
}

/* One hash table of K, by name or by id; slot values are index + 1. */
static int put_hash(struct wctx *c, const struct order *o, const struct kind *k,
                    bool byname)
{
	size_t cap = table_cap(k->n);
	struct value v = {0};
	int r;

	r = reserve(c, byname ? k->byname : k->byid, 4 * cap, &v);
	if (r < 0)
		return r;
	memset(v.p, 0, v.len);
	for (size_t i = 0; i < k->n; i++) {
		const char *name = k->name(o, i);
		uint32_t h = byname ? rec_hash_name(name, strlen(name))
		                    : rec_hash_id(k->id(o, i));

		slot_put(v.p, cap, h, (uint32_t)i + 1);
	}
	v.done = v.len;
	release(c, &v, true);
	return 0;
}

static int put_kind(struct wctx *c, const struct snap_writer *w,
                    const struct order *o, const struct memberships *ms,
                    const struct kind *k)
{
	size_t total = 0;
	int r;

	if (k->n >= UINT32_MAX)
		return fail(c->err, c->errlen, -EFBIG, "too many entries");
	r = put_offsets(c, w, o, ms, k, &total);
	if (r == 0)
		r = put_records(c, w, o, ms, k, total);
	if (r == 0)
		r = put_hash(c, o, k, true);
	if (r == 0)
		r = put_hash(c, o, k, false);
	return r;
}

static int put_meta(struct wctx *c, const struct snap_meta *m)
{
	struct rec_buf b = {0};
	MDB_val k = {strlen(TABLE_META), (void *)TABLE_META}, d;
	int r = rec_encode_meta(&b, m);

	if (r < 0)
		r = fail(c->err, c->errlen, r, "encoding %s: %s", TABLE_META,
		         strerror(-r));
	d = (MDB_val){b.len, b.data};
	if (r == 0 && (r = mdb_put(c->txn, c->dbi, &k, &d, 0)) != 0)
		r = put_err(c, TABLE_META, r);
	rec_buf_free(&b);
	return r;
}

static const struct kind user_kind = {
        TABLE_USER_RECORDS,
        TABLE_USER_OFFSETS,
        TABLE_USER_BYNAME,
        TABLE_USER_BYID,
        0,
        user_size_at,
        user_encode_at,
        user_name_at,
        user_id_at,
};

static const struct kind group_kind = {
        TABLE_GROUP_RECORDS,
        TABLE_GROUP_OFFSETS,
        TABLE_GROUP_BYNAME,
        TABLE_GROUP_BYID,
        0,
        group_size_at,
        group_encode_at,
        group_name_at,
        group_id_at,
};

static int write_all(struct wctx *c, const struct snap_writer *w,
                     const struct order *o, const struct memberships *ms,
                     const struct snap_meta *m)
{
	struct kind users = user_kind, groups = group_kind;
	int r;

	users.n = w->nusers;
	groups.n = w->ngroups;
	r = put_meta(c, m);
	if (r == 0)
		r = put_kind(c, w, o, ms, &users);
	if (r == 0)
		r = put_kind(c, w, o, ms, &groups);
	return r;
}

/* Pages for a value of LEN bytes: its overflow pages, if any, and a share
 * of a leaf, counted as a whole page to stay on the safe side. */
static size_t value_pages(size_t len, size_t page)
{
	return 1 + (len + 64 + page - 1) / page;
}

/* A map (and file) size that holds everything written, allocated up front:
 * a full filesystem then fails here with ENOSPC instead of a SIGBUS on a
 * store into the map. */
static size_t map_size(const struct snap_writer *w,
                       const struct memberships *ms, size_t page)
{
	size_t pages =
	        2 + SPARE_PAGES + value_pages(SNAP_SOURCE_MAX + 64, page);
	size_t urec = 0, grec = 0;

	for (size_t i = 0; i < w->nusers; i++)
		urec += user_size(&w->users[i], ms->count[i]);
	for (size_t i = 0; i < w->ngroups; i++)
		grec += group_size(&w->groups[i]);
	pages += value_pages(urec, page) + value_pages(grec, page);
	pages += value_pages(4 * (w->nusers + 1), page) +
	         value_pages(4 * (w->ngroups + 1), page);
	pages += 2 * value_pages(4 * table_cap(w->nusers), page) +
	         2 * value_pages(4 * table_cap(w->ngroups), page);
	return (pages + pages / 64) * page;
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

/* Allocates the whole map on disk before anything is stored into it: LMDB
 * has only made the file as long as the map, with holes. */
static int preallocate(MDB_env *env, const char *tmp, size_t size, char *err,
                       size_t errlen)
{
	int fd, rc;

	if (mdb_env_get_fd(env, &fd) != 0)
		return fail(err, errlen, -EBADF, "creating %s: no descriptor",
		            tmp);
	rc = posix_fallocate(fd, 0, (off_t)size);
	if (rc == 0)
		return 0;
	return commit_failed(tmp, rc, err, errlen);
}

/* Cuts TMP to the pages LMDB used: the map was sized with room to spare. */
static int trim(MDB_env *env, const char *tmp, size_t page, char *err,
                size_t errlen)
{
	MDB_envinfo info;

	mdb_env_info(env, &info);
	if (truncate(tmp, (off_t)((info.me_last_pgno + 1) * page)) < 0)
		return fail(err, errlen, -errno, "truncating %s: %s", tmp,
		            strerror(errno));
	return 0;
}

static int open_env(MDB_env **env, const char *tmp, size_t size)
{
	int rc = mdb_env_create(env);

	if (rc == 0)
		rc = mdb_env_set_mapsize(*env, size);
	if (rc == 0)
		rc = mdb_env_open(*env, tmp,
		                  MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC |
		                          MDB_WRITEMAP,
		                  0600);
	return rc;
}

static int write_file(const struct snap_writer *w, const struct order *o,
                      const struct memberships *ms, const char *tmp,
                      const struct snap_meta *m, char *err, size_t errlen)
{
	struct wctx c = {.err = err, .errlen = errlen};
	size_t size;
	MDB_env *env = NULL;
	int rc;

	c.page = (size_t)sysconf(_SC_PAGESIZE);
	size = map_size(w, ms, c.page);
	rc = open_env(&env, tmp, size);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &c.txn);
	if (rc == 0)
		rc = mdb_dbi_open(c.txn, NULL, 0, &c.dbi);
	if (rc != 0) {
		rc = fail(err, errlen, rc > 0 && rc < MDB_KEYEXIST ? -rc : -EIO,
		          "creating %s: %s", tmp, mdb_strerror(rc));
		goto out;
	}
	rc = preallocate(env, tmp, size, err, errlen);
	if (rc < 0)
		goto out;
	rc = write_all(&c, w, o, ms, m);
	if (rc == 0) {
		rc = mdb_txn_commit(c.txn);
		c.txn = NULL;
		if (rc == 0)
			rc = mdb_env_sync(env, 1);
		if (rc != 0)
			rc = commit_failed(tmp, rc, err, errlen);
	}
	if (rc == 0)
		rc = trim(env, tmp, c.page, err, errlen);
out:
	if (c.txn != NULL)
		mdb_txn_abort(c.txn);
	mdb_env_close(env);
	return rc;
}

/* ---- verification ----------------------------------------------------- */

/* The read-back reader, reopened every VERIFY_SLICE lookups: unmapping
 * drops the pages read so far, so the new file is never resident whole. */
struct vreader {
	const char *path;
	struct snap_reader *r;
	size_t since;
};

static int vreader_next(struct vreader *v)
{
	if (v->r != NULL && ++v->since < VERIFY_SLICE)
		return 0;
	snap_reader_free(v->r);
	v->r = NULL;
	v->since = 0;
	return snap_reader_new(v->path, geteuid(), &v->r);
}

static int verify_users(struct vreader *v, const struct snap_writer *w,
                        char *buf, size_t buflen)
{
	struct snap_cursor cur = {0};
	struct passwd pw = {0};
	size_t n = 0;
	int rc;

	while ((rc = vreader_next(v)) == 0 &&
	       (rc = snap_getpwent(v->r, &cur, &pw, buf, buflen)) == 0)
		n++;
	if (rc < 0 || n != w->nusers)
		return -EBADMSG;
	for (size_t i = 0; i < w->nusers; i++) {
		const struct snap_user *u = &w->users[i];

		rc = vreader_next(v);
		if (rc == 0)
			rc = snap_getpwnam(v->r, u->name, &pw, buf, buflen);
		if (rc != 0 || pw.pw_uid != u->uid)
			return -EBADMSG;
	}
	return 0;
}

static int verify_groups(struct vreader *v, const struct snap_writer *w,
                         char *buf, size_t buflen)
{
	struct snap_cursor cur = {0};
	struct group gr = {0};
	size_t n = 0;
	int rc;

	while ((rc = vreader_next(v)) == 0 &&
	       (rc = snap_getgrent(v->r, &cur, &gr, buf, buflen)) == 0)
		n++;
	if (rc < 0 || n != w->ngroups)
		return -EBADMSG;
	for (size_t i = 0; i < w->ngroups; i++) {
		const struct snap_group *g = &w->groups[i];

		rc = vreader_next(v);
		if (rc == 0)
			rc = snap_getgrnam(v->r, g->name, &gr, buf, buflen);
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
	struct vreader v = {.path = tmp};
	struct snap_meta got;
	char *buf = NULL;
	int rc;

	/* The largest group decides the buffer. */
	for (size_t i = 0; i < w->ngroups; i++) {
		size_t need = 256 + w->groups[i].nmembers * (SNAP_NAME_MAX + 9);

		if (need > buflen)
			buflen = need;
	}
	buf = malloc(buflen);
	rc = buf ? vreader_next(&v) : -ENOMEM;
	if (rc == 0)
		rc = snap_get_meta(v.r, &got);
	if (rc == 0 && (got.generation != m->generation ||
	                got.nusers != w->nusers || got.ngroups != w->ngroups))
		rc = -EBADMSG;
	if (rc == 0)
		rc = verify_users(&v, w, buf, buflen);
	if (rc == 0)
		rc = verify_groups(&v, w, buf, buflen);
	if (rc != 0)
		rc = fail(err, errlen, rc < 0 ? rc : -EBADMSG,
		          "verifying the new snapshot: %s",
		          snap_strerror(rc < 0 ? rc : -EBADMSG));
	snap_reader_free(v.r);
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
	struct memberships ms = {0};
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
		m.nactive += w->users[i].active;
	if (!snap_text_valid(m.source, strnlen(m.source, sizeof(m.source))))
		return fail(err, errlen, -EINVAL, "invalid snapshot source");
	if (order_build(w, &o) < 0) {
		order_free(&o);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	rc = check_unique(w, &o, err, errlen);
	if (rc == 0)
		rc = check_members(w, &o, err, errlen);
	if (rc == 0 && memberships_build(w, &o, &ms) < 0)
		rc = fail(err, errlen, -ENOMEM, "out of memory");
	if (rc == 0)
		rc = make_temp(path, tmp, sizeof(tmp), err, errlen);
	if (rc == 0) {
		rc = write_file(w, &o, &ms, tmp, &m, err, errlen);
		memberships_free(&ms);
		ms = (struct memberships){0};
		if (rc == 0)
			rc = verify(tmp, w, &m, err, errlen);
		if (rc == 0)
			rc = finish(tmp, path, err, errlen);
		if (rc != 0)
			unlink(tmp);
	}
	memberships_free(&ms);
	order_free(&o);
	return rc;
}

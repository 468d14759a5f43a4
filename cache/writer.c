/* SPDX-License-Identifier: MIT */
/*
 * writer.c: build a complete snapshot in a new file and publish it.
 *
 * Records are collected in memory, checked as a whole (unique names and ids,
 * members that exist), written into a temporary file in the snapshot's
 * directory, read back through the reader, and only then renamed over the
 * live path.  A failure at any step removes the temporary file and leaves
 * the live snapshot as it was.
 *
 * The writer runs as root at a path from the config, so it first opens the
 * snapshot's directory through safedir_open() (refusing one that anyone
 * else could write to), creates the temporary file in it with
 * O_EXCL|O_NOFOLLOW, and from then on works through those descriptors:
 * nothing is created, truncated, chmodded or renamed by a path that could
 * lead elsewhere.  LMDB opens the file by name itself; that it opened ours
 * is checked by inode.
 *
 * Memory stays close to one copy of the directory: a borrowing writer keeps
 * the caller's strings instead of copying them; each table is encoded
 * straight into the file's map (MDB_WRITEMAP, MDB_RESERVE) and its pages
 * are handed back to the page cache as soon as they are written; the
 * read-back reopens the reader every few thousand entries so that the new
 * file is never mapped whole.
 *
 * Time goes into what a directory has a million of, memberships, so each
 * is looked at as few times as can be: a member is found once (by address
 * when it is the user's own name string, else by hash and content), the
 * names' hashes, lengths and the records' sizes are computed once, and the
 * read-back walks the file in order instead of jumping around it.
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
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "helpers.h"
#include "record.h"
#include "safedir.h"
#include "snap.h"
#include "testpoint.h"
#include "writer-int.h"

#define RELEASE_EVERY (1u << 20) /* bytes written between page releases */
#define VERIFY_SLICE  1024       /* lookups between reader reopens */
#define SPARE_PAGES   16         /* map pages beyond the estimate */

/* Zeroed room for N items of SIZE bytes (never NULL for zero items, so
 * NULL always means out of memory), for the writer's own arrays.  They are
 * mapped and unmapped directly: freed, they go back to the system at once
 * instead of staying in the heap, where they would add to what the
 * read-back and the rest of the refresh hold. */
#define ARRAY_HEAD 16 /* keeps the length; keeps items aligned */

static void *zalloc(size_t n, size_t size)
{
	size_t len;
	uint8_t *p;

	if (n == 0)
		n = 1;
	if (n > (SIZE_MAX - ARRAY_HEAD) / size)
		return NULL;
	len = ARRAY_HEAD + n * size;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	         -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, &len, sizeof(len));
	return p + ARRAY_HEAD;
}

/* Frees what zalloc() gave; NULL is fine. */
static void zfree(void *a)
{
	size_t len;

	if (a == NULL)
		return;
	memcpy(&len, (uint8_t *)a - ARRAY_HEAD, sizeof(len));
	munmap((uint8_t *)a - ARRAY_HEAD, len);
}

/* ---- user names by address ------------------------------------------ */

/* A borrowing writer's caller usually gives as a member the very string it
 * gave as that user's name (scim-cache interns names).  Such a member was
 * validated with its user and is found at publish by its address, without
 * reading or hashing its bytes; any other member is validated and found by
 * content.  Open addressing; a slot holds the name and its user's
 * position, a NULL name is an empty slot. */
struct ptr_slot {
	const char *p;
	uint32_t pos;
};

struct ptrs {
	struct ptr_slot *slot; /* NULL: none kept */
	size_t mask, n;
};

static size_t ptr_hash(const char *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15u;

	return (size_t)(h ^ (h >> 32));
}

static void ptrs_put(struct ptrs *t, const char *p, uint32_t pos)
{
	size_t i = ptr_hash(p) & t->mask;

	while (t->slot[i].p != NULL)
		i = (i + 1) & t->mask;
	t->slot[i] = (struct ptr_slot){p, pos};
	t->n++;
}

/* The position of the user whose name is the string at P, or UINT32_MAX. */
static uint32_t known_find(const struct ptrs *t, const char *p)
{
	if (t->slot == NULL)
		return UINT32_MAX;
	for (size_t i = ptr_hash(p) & t->mask; t->slot[i].p != NULL;
	     i = (i + 1) & t->mask)
		if (t->slot[i].p == p)
			return t->slot[i].pos;
	return UINT32_MAX;
}

struct snap_writer {
	uint32_t id_min, id_max;
	bool borrow; /* keep the caller's strings; set once at creation */
	struct snap_user *users;
	size_t nusers, users_cap;
	struct snap_group *groups;
	size_t ngroups, groups_cap;
	struct arena copies; /* a copying writer's strings and arrays */
	struct ptrs known;   /* a borrowing writer's user names, or none */
};

/* W->known holding every user name added so far, with room for at least
 * N. */
static int known_build(struct snap_writer *w, size_t n)
{
	struct ptrs t = {.mask = table_cap(n) - 1};

	t.slot = zalloc(t.mask + 1, sizeof(*t.slot));
	if (t.slot == NULL)
		return -ENOMEM;
	for (size_t u = 0; u < w->nusers; u++)
		ptrs_put(&t, w->users[u].name, (uint32_t)u);
	zfree(w->known.slot);
	w->known = t;
	return 0;
}

/* Room in W->known for one more name; it stays at most half full. */
static int known_reserve(struct snap_writer *w)
{
	if (w->known.slot != NULL && 2 * (w->known.n + 1) <= w->known.mask + 1)
		return 0;
	return known_build(w, 2 * (w->nusers + 1));
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
	zfree(w->known.slot);
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
int snap_writer_reserve(struct snap_writer *w, size_t users, size_t groups)
{
	if (users > w->users_cap) {
		void *p = reallocarray(w->users, users, sizeof(*w->users));

		if (p == NULL)
			return -ENOMEM;
		w->users = p;
		w->users_cap = users;
	}
	if (groups > w->groups_cap) {
		void *p = reallocarray(w->groups, groups, sizeof(*w->groups));

		if (p == NULL)
			return -ENOMEM;
		w->groups = p;
		w->groups_cap = groups;
	}
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

int writer_check_user(uint32_t id_min, uint32_t id_max,
                      const struct snap_user *u, char *err, size_t errlen)
{
	if (u->name == NULL || !snap_name_valid(u->name, strlen(u->name)))
		return set_error(err, errlen, -EINVAL, "invalid user name");
	if (!snap_id_valid(u->uid, id_min, id_max) ||
	    !snap_id_valid(u->gid, id_min, id_max))
		return set_error(err, errlen, -EINVAL,
		                 "user %s: uid %u or gid %u outside %u-%u",
		                 u->name, u->uid, u->gid, id_min, id_max);
	if (!field_ok(u->gecos))
		return set_error(err, errlen, -EINVAL, "user %s: invalid gecos",
		                 u->name);
	if (!path_ok(u->home) || !path_ok(u->shell))
		return set_error(
		        err, errlen, -EINVAL,
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

	r = writer_check_user(w->id_min, w->id_max, u, err, errlen);
	if (r < 0)
		return r;
	if (w->nusers >= UINT32_MAX - 1 ||
	    array_grow((void **)&w->users, &w->users_cap, w->nusers,
	               sizeof(*w->users), 64) < 0 ||
	    (w->borrow && known_reserve(w) < 0))
		return set_error(err, errlen, -ENOMEM, "out of memory");
	c.name = keep_str(w, u->name);
	c.gecos = keep_str(w, u->gecos);
	c.home = keep_str(w, u->home);
	c.shell = keep_str(w, u->shell);
	if (!c.name || !c.gecos || !c.home || !c.shell)
		return set_error(err, errlen, -ENOMEM, "out of memory");
	if (w->borrow)
		ptrs_put(&w->known, c.name, (uint32_t)w->nusers);
	w->users[w->nusers++] = c;
	return 0;
}

int writer_check_group(uint32_t id_min, uint32_t id_max,
                       const struct snap_group *g, char *err, size_t errlen)
{
	if (g->name == NULL || !snap_name_valid(g->name, strlen(g->name)))
		return set_error(err, errlen, -EINVAL, "invalid group name");
	if (!snap_id_valid(g->gid, id_min, id_max))
		return set_error(err, errlen, -EINVAL,
		                 "group %s: gid %u outside %u-%u", g->name,
		                 g->gid, id_min, id_max);
	if (g->nmembers > SNAP_MEMBERS_MAX)
		return set_error(err, errlen, -EINVAL,
		                 "group %s: too many members", g->name);
	return 0;
}

static int check_group(const struct snap_writer *w, const struct snap_group *g,
                       char *err, size_t errlen)
{
	int r = writer_check_group(w->id_min, w->id_max, g, err, errlen);

	if (r < 0)
		return r;
	/* A user's own name string was validated with the user. */
	for (size_t i = 0; i < g->nmembers; i++) {
		const char *m = g->members[i];

		if (m == NULL || (known_find(&w->known, m) == UINT32_MAX &&
		                  !snap_name_valid(m, strlen(m))))
			return set_error(err, errlen, -EINVAL,
			                 "group %s: invalid member name",
			                 g->name);
	}
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
	if (array_grow((void **)&w->groups, &w->groups_cap, w->ngroups,
	               sizeof(*w->groups), 64) < 0)
		return set_error(err, errlen, -ENOMEM, "out of memory");
	c.name = keep_str(w, g->name);
	c.members = keep_members(w, g);
	if (c.name == NULL || c.members == NULL)
		return set_error(err, errlen, -ENOMEM, "out of memory");
	w->groups[w->ngroups++] = c;
	return 0;
}

/* ---- the index -------------------------------------------------------- */

/* What publish derives from the collected records, each part computed
 * once and used by the checks, the encoders and the read-back.  Users and
 * groups are named by their position in w->users and w->groups.
 *
 * BY_UID and BY_GID are the order of the records in the file (by id).
 * UHASH and GHASH are rec_hash_name() of every name, ULEN the length of
 * every user name.  UOFF and GOFF are the offsets tables (n + 1 entries, in
 * file order).  GIDS[MSTART[u] .. MSTART[u] + MCOUNT[u]) are user u's
 * groups, ascending and without repeats. */
struct index {
	uint32_t *by_uid, *by_gid;
	uint32_t *uhash, *ghash;
	uint8_t *ulen;
	uint32_t *uoff, *goff;
	uint32_t *mstart, *mcount, *gids;
};

/* Frees what only the writing needs; the read-back keeps the orders. */
static void index_written(struct index *x)
{
	zfree(x->uhash);
	zfree(x->ghash);
	zfree(x->ulen);
	zfree(x->uoff);
	zfree(x->goff);
	zfree(x->mstart);
	zfree(x->mcount);
	zfree(x->gids);
	*x = (struct index){.by_uid = x->by_uid, .by_gid = x->by_gid};
}

static void index_free(struct index *x)
{
	index_written(x);
	zfree(x->by_uid);
	zfree(x->by_gid);
}

/* These return their code themselves, not set_error()'s: a static analyzer
 * cannot see through the variadic set_error() and would follow a path on which
 * a failed step returned 0. */
static int oom(char *err, size_t errlen)
{
	set_error(err, errlen, -ENOMEM, "out of memory");
	return -ENOMEM;
}

static int too_big(char *err, size_t errlen)
{
	set_error(err, errlen, -EFBIG, "building the tables: %s",
	          strerror(EFBIG));
	return -EFBIG;
}

static uint32_t entry_id(const struct snap_writer *w, bool group, size_t i)
{
	return group ? w->groups[i].gid : w->users[i].uid;
}

static const char *entry_name(const struct snap_writer *w, bool group, size_t i)
{
	return group ? w->groups[i].name : w->users[i].name;
}

/* *OUT gets 0..N-1 ordered by id, ties by position, as a stable sort would
 * give them: a radix sort of (id << 32 | position) keys, a few linear
 * passes instead of a comparison sort's cache misses. */
static int id_order(const struct snap_writer *w, bool group, size_t n,
                    uint32_t **out)
{
	uint64_t *a = zalloc(n, sizeof(*a)), *b = zalloc(n, sizeof(*b));
	uint32_t *o = zalloc(n, sizeof(*o));
	int rc = -ENOMEM;

	if (a == NULL || b == NULL || o == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		a[i] = (uint64_t)entry_id(w, group, i) << 32 | i;
	for (unsigned shift = 32; n > 0 && shift < 64; shift += 8) {
		size_t count[256] = {0}, at = 0;
		uint64_t *t;

		for (size_t i = 0; i < n; i++)
			count[(a[i] >> shift) & 0xff]++;
		if (count[(a[0] >> shift) & 0xff] == n)
			continue; /* every key has this byte */
		for (size_t d = 0; d < 256; d++) {
			size_t c = count[d];

			count[d] = at;
			at += c;
		}
		for (size_t i = 0; i < n; i++)
			b[count[(a[i] >> shift) & 0xff]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0; i < n; i++)
		o[i] = (uint32_t)a[i];
	*out = o;
	o = NULL; /* transferred */
	rc = 0;
out:
	zfree(a);
	zfree(b);
	zfree(o);
	return rc;
}

/* Refuses an id given twice; ORDER is by id. */
static int check_ids(const struct snap_writer *w, bool group,
                     const uint32_t *order, size_t n, char *err, size_t errlen)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t a = order[i - 1], b = order[i];

		if (entry_id(w, group, a) == entry_id(w, group, b)) {
			set_error(err, errlen, -EINVAL,
			          "%s %u given to both %s and %s",
			          group ? "gid" : "uid", entry_id(w, group, b),
			          entry_name(w, group, a),
			          entry_name(w, group, b));
			return -EINVAL;
		}
	}
	return 0;
}

/* Names by content: open addressing, a slot holds the name's hash and its
 * position + 1 (0: empty), so that a probe compares hashes before it reads
 * a string. */
struct name_slot {
	uint32_t hash, pos;
};

struct names {
	struct name_slot *slot;
	size_t mask;
};

/* The slot of NAME, whose hash is HASH: its entry's, or the empty one where
 * it would go. */
static size_t names_find(const struct names *t, const struct snap_writer *w,
                         bool group, const char *name, uint32_t hash)
{
	size_t i = hash & t->mask;

	while (t->slot[i].pos != 0 &&
	       (t->slot[i].hash != hash ||
	        strcmp(entry_name(w, group, t->slot[i].pos - 1), name) != 0))
		i = (i + 1) & t->mask;
	return i;
}

/* Every user's (or group's) name into T; a name given twice is refused. */
static int names_build(struct names *t, const struct snap_writer *w, bool group,
                       const uint32_t *hash, size_t n, char *err, size_t errlen)
{
	t->mask = table_cap(n) - 1;
	t->slot = zalloc(t->mask + 1, sizeof(*t->slot));
	if (t->slot == NULL)
		return oom(err, errlen);
	for (size_t i = 0; i < n; i++) {
		const char *name = entry_name(w, group, i);
		size_t s = names_find(t, w, group, name, hash[i]);

		if (t->slot[s].pos != 0) {
			set_error(err, errlen, -EINVAL, "%s name %s twice",
			          group ? "group" : "user", name);
			return -EINVAL;
		}
		t->slot[s] = (struct name_slot){hash[i], (uint32_t)i + 1};
	}
	return 0;
}

/* The position of the user named NAME, or UINT32_MAX. */
static uint32_t find_user(const struct snap_writer *w, const struct names *t,
                          const char *name)
{
	uint32_t pos = known_find(&w->known, name);
	size_t s;

	if (pos != UINT32_MAX)
		return pos;
	s = names_find(t, w, false, name, rec_hash_name(name, strlen(name)));
	return t->slot[s].pos ? t->slot[s].pos - 1 : UINT32_MAX;
}

/* Hashes and lengths of every name. */
static int hash_names(const struct snap_writer *w, struct index *x)
{
	x->uhash = zalloc(w->nusers, sizeof(*x->uhash));
	x->ulen = zalloc(w->nusers, sizeof(*x->ulen));
	x->ghash = zalloc(w->ngroups, sizeof(*x->ghash));
	if (!x->uhash || !x->ulen || !x->ghash)
		return -ENOMEM;
	for (size_t i = 0; i < w->nusers; i++) {
		size_t len = strlen(w->users[i].name); /* <= SNAP_NAME_MAX */

		x->ulen[i] = (uint8_t)len;
		x->uhash[i] = rec_hash_name(w->users[i].name, len);
	}
	for (size_t i = 0; i < w->ngroups; i++)
		x->ghash[i] = rec_hash_name(w->groups[i].name,
		                            strlen(w->groups[i].name));
	return 0;
}

/* Ids and names given twice are refused; UNAMES is left holding the user
 * names for finding members. */
static int check_unique(const struct snap_writer *w, struct index *x,
                        struct names *unames, char *err, size_t errlen)
{
	struct names gnames = {0};
	int rc;

	if (hash_names(w, x) < 0 ||
	    id_order(w, false, w->nusers, &x->by_uid) < 0 ||
	    id_order(w, true, w->ngroups, &x->by_gid) < 0)
		return oom(err, errlen);
	rc = check_ids(w, false, x->by_uid, w->nusers, err, errlen);
	if (rc == 0)
		rc = names_build(unames, w, false, x->uhash, w->nusers, err,
		                 errlen);
	if (rc == 0)
		rc = check_ids(w, true, x->by_gid, w->ngroups, err, errlen);
	if (rc == 0)
		rc = names_build(&gnames, w, true, x->ghash, w->ngroups, err,
		                 errlen);
	zfree(gnames.slot);
	return rc;
}

/* Finds every member, in gid order: MIDX gets their users' positions,
 * x->mcount how often each user is named, x->goff the group offsets.
 * W's names by address are dropped afterwards, so that the read-back does
 * not carry them; adding users later builds them again. */
static int find_members(struct snap_writer *w, const struct names *t,
                        uint32_t *midx, struct index *x, char *err,
                        size_t errlen)
{
	uint64_t at = 0;
	size_t k = 0;
	int rc = 0;

	if (w->borrow && w->known.slot == NULL && known_build(w, w->nusers) < 0)
		return oom(err, errlen);
	for (size_t i = 0; rc == 0 && i < w->ngroups; i++) {
		const struct snap_group *g = &w->groups[x->by_gid[i]];

		x->goff[i] = (uint32_t)at;
		at += 4 + 4 + 2 + strlen(g->name);
		for (size_t j = 0; j < g->nmembers; j++) {
			uint32_t u = find_user(w, t, g->members[j]);

			if (u == UINT32_MAX) {
				set_error(err, errlen, -EINVAL,
				          "group %s: member %s is not a user",
				          g->name, g->members[j]);
				rc = -EINVAL;
				break;
			}
			midx[k++] = u;
			x->mcount[u]++;
			at += x->ulen[u] + 1; /* a member is its user's name */
		}
	}
	zfree(w->known.slot);
	w->known = (struct ptrs){0};
	x->goff[w->ngroups] = (uint32_t)at;
	if (rc == 0 && at > UINT32_MAX)
		rc = too_big(err, errlen);
	return rc;
}

/* Each user's groups from the members found: groups are taken in gid
 * order, so each list comes out ascending, and a member named twice in
 * one group is dropped as it repeats the gid just placed. */
static void place_gids(const struct snap_writer *w, const uint32_t *midx,
                       struct index *x)
{
	size_t k = 0;
	uint32_t at = 0;

	for (size_t u = 0; u < w->nusers; u++) {
		x->mstart[u] = at;
		at += x->mcount[u];
		x->mcount[u] = 0;
	}
	for (size_t i = 0; i < w->ngroups; i++) {
		const struct snap_group *g = &w->groups[x->by_gid[i]];

		for (size_t j = 0; j < g->nmembers; j++) {
			uint32_t u = midx[k++], n = x->mcount[u];
			uint32_t *gids = x->gids + x->mstart[u];

			if (n == 0 || gids[n - 1] != g->gid) {
				gids[n] = g->gid;
				x->mcount[u] = n + 1;
			}
		}
	}
}

/* Every member must be a user; then each user's groups. */
static int memberships_build(struct snap_writer *w, struct names *t,
                             struct index *x, char *err, size_t errlen)
{
	uint32_t *midx = NULL;
	size_t total = 0;
	int rc;

	for (size_t i = 0; i < w->ngroups; i++) {
		if (w->groups[i].nmembers > UINT32_MAX - total)
			return oom(err, errlen);
		total += w->groups[i].nmembers;
	}
	midx = zalloc(total, sizeof(*midx));
	x->mcount = zalloc(w->nusers, sizeof(*x->mcount));
	x->goff = zalloc(w->ngroups + 1, sizeof(*x->goff));
	if (midx == NULL || x->mcount == NULL || x->goff == NULL) {
		zfree(midx);
		return oom(err, errlen);
	}
	rc = find_members(w, t, midx, x, err, errlen);
	/* The names are found; let their table go before the gids come. */
	zfree(t->slot);
	t->slot = NULL;
	if (rc == 0) {
		x->mstart = zalloc(w->nusers, sizeof(*x->mstart));
		x->gids = zalloc(total, sizeof(*x->gids));
		if (x->mstart == NULL || x->gids == NULL)
			rc = oom(err, errlen);
	}
	if (rc == 0)
		place_gids(w, midx, x);
	zfree(midx);
	return rc;
}

static uint64_t user_size(const struct snap_user *u, size_t namelen,
                          uint32_t ngids)
{
	return 4 + 4 + 1 + 2 + namelen + 2 + strlen(u->gecos) + 2 +
	       strlen(u->home) + 2 + strlen(u->shell) + 4 + 4 * (uint64_t)ngids;
}

static int user_offsets(const struct snap_writer *w, struct index *x, char *err,
                        size_t errlen)
{
	uint64_t at = 0;

	x->uoff = zalloc(w->nusers + 1, sizeof(*x->uoff));
	if (x->uoff == NULL)
		return oom(err, errlen);
	for (size_t i = 0; i < w->nusers && at <= UINT32_MAX; i++) {
		uint32_t u = x->by_uid[i];

		x->uoff[i] = (uint32_t)at;
		at += user_size(&w->users[u], x->ulen[u], x->mcount[u]);
	}
	x->uoff[w->nusers] = (uint32_t)at;
	return at > UINT32_MAX ? too_big(err, errlen) : 0;
}

/* Everything publish needs to know before it writes, and every check of
 * the directory as a whole: unique ids and names, members that are users. */
static int index_build(struct snap_writer *w, struct index *x, char *err,
                       size_t errlen)
{
	struct names unames = {0};
	int rc;

	if (w->nusers >= UINT32_MAX || w->ngroups >= UINT32_MAX) {
		set_error(err, errlen, -EFBIG, "too many entries");
		return -EFBIG;
	}
	rc = check_unique(w, x, &unames, err, errlen);
	if (rc == 0)
		rc = memberships_build(w, &unames, x, err, errlen);
	if (rc == 0)
		rc = user_offsets(w, x, err, errlen);
	zfree(unames.slot);
	return rc;
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
 * the page cache.  OVER: an append would have gone past LEN. */
struct writer_value {
	struct wctx *c;
	uint8_t *p;
	size_t len, done, released;
	bool over;
};

static int put_err(struct wctx *c, const char *key, int rc)
{
	int code = rc > 0 && rc < MDB_KEYEXIST ? -rc : -EIO;

	if (rc == MDB_MAP_FULL) {
		set_error(c->err, c->errlen, -ENOSPC, "snapshot map full");
		return -ENOSPC;
	}
	set_error(c->err, c->errlen, code, "writing %s in the snapshot: %s",
	          key, mdb_strerror(rc));
	return code;
}

/* Reserves LEN bytes for KEY; V points at them until the next put. */
static int reserve(struct wctx *c, const char *key, size_t len,
                   struct writer_value *v)
{
	MDB_val k = {strlen(key), (void *)key}, d = {len, NULL};
	int rc = mdb_put(c->txn, c->dbi, &k, &d, MDB_RESERVE);

	if (rc == 0 && d.mv_data == NULL)
		rc = EIO;
	if (rc != 0)
		return put_err(c, key, rc);
	*v = (struct writer_value){.c = c, .p = d.mv_data, .len = len};
	return 0;
}

/* Drops the mapping of V's pages written so far: they are dirty in the
 * page cache (the map is shared), so nothing is lost, but they stop
 * counting towards our resident memory.  ALL: the value is complete. */
static void release(struct writer_value *v, bool all)
{
	size_t page = v->c->page;
	uintptr_t from = (uintptr_t)(v->p + v->released);
	uintptr_t to = (uintptr_t)(v->p + v->done);

	if (!all && v->done - v->released < RELEASE_EVERY)
		return;
	from = (from + page - 1) & ~(uintptr_t)(page - 1);
	to &= ~(uintptr_t)(page - 1);
	if (to > from)
		madvise((void *)from, to - from, MADV_DONTNEED);
	v->released = v->done;
}

void writer_value_append(struct writer_value *v, const void *p, size_t len)
{
	if (v->over || len > v->len - v->done) {
		v->over = true;
		return;
	}
	memcpy(v->p + v->done, p, len);
	v->done += len;
	release(v, false);
}

/* One kind of entry as the file stores it (record.h): N records in ORDER
 * (positions in w->users or w->groups), with their offsets OFF and the
 * name hashes HASH (by position). */
struct kind {
	bool group;
	size_t n;
	const uint32_t *order, *off, *hash;
};

/* What a full publish writes: W's entries, as X orders them. */
struct full {
	const struct snap_writer *w;
	const struct index *x;
	struct kind kind[2];
};

static int encode_at(const struct snap_writer *w, const struct index *x,
                     const struct kind *k, size_t i, struct rec_buf *b)
{
	uint32_t p = k->order[i];

	if (k->group)
		return rec_encode_group(b, &w->groups[p]);
	return rec_encode_user(b, &w->users[p], x->gids + x->mstart[p],
	                       x->mcount[p]);
}

static void fill_offsets(struct writer_value *v, const struct kind *k)
{
	for (size_t i = 0; i <= k->n; i++)
		put_le32_at(v->p + 4 * i, k->off[i]);
	v->done = v->len;
}

/* Encodes every record of K; each must come out at the size its offsets
 * said. */
static int fill_records(struct writer_value *v, const struct snap_writer *w,
                        const struct index *x, const struct kind *k, char *err,
                        size_t errlen)
{
	struct rec_buf b = {0};
	int r = 0;

	for (size_t i = 0; r == 0 && i < k->n; i++) {
		rec_buf_reset(&b);
		r = encode_at(w, x, k, i, &b);
		if (r == 0 && b.len != k->off[i + 1] - k->off[i])
			r = -EIO; /* the sizes disagree with the encoder */
		if (r == 0)
			writer_value_append(v, b.data, b.len);
		else
			r = set_error(err, errlen, r, "encoding %s: %s",
			              k->group ? TABLE_GROUP_RECORDS
			                       : TABLE_USER_RECORDS,
			              strerror(-r));
	}
	rec_buf_free(&b);
	return r;
}

/* One hash table of K, by name or by id; slot values are index + 1. */
static void fill_hash(struct writer_value *v, const struct snap_writer *w,
                      const struct kind *k, bool byname)
{
	size_t cap = table_cap(k->n);

	memset(v->p, 0, v->len);
	for (size_t i = 0; i < k->n; i++) {
		uint32_t p = k->order[i];
		uint32_t h = byname ? k->hash[p]
		                    : rec_hash_id(entry_id(w, k->group, p));

		slot_put(v->p, cap, h, (uint32_t)i + 1);
	}
	v->done = v->len;
}

static int full_fill(void *arg, bool group, enum writer_table t,
                     struct writer_value *v, char *err, size_t errlen)
{
	const struct full *f = arg;
	const struct kind *k = &f->kind[group];

	switch (t) {
	case WT_OFFSETS:
		fill_offsets(v, k);
		return 0;
	case WT_RECORDS:
		return fill_records(v, f->w, f->x, k, err, errlen);
	default:
		fill_hash(v, f->w, k, t == WT_BYNAME);
		return 0;
	}
}

/* What a full publish of W writes, with X its index. */
static struct writer_source full_source(struct full *f,
                                        const struct snap_writer *w,
                                        const struct index *x)
{
	struct writer_source s = {.fill = full_fill, .arg = f};

	f->w = w;
	f->x = x;
	f->kind[0] =
	        (struct kind){false, w->nusers, x->by_uid, x->uoff, x->uhash};
	f->kind[1] =
	        (struct kind){true, w->ngroups, x->by_gid, x->goff, x->ghash};
	for (int g = 0; g < 2; g++) {
		const struct kind *k = &f->kind[g];

		s.len[g][WT_OFFSETS] = 4 * (k->n + 1);
		s.len[g][WT_RECORDS] = k->off[k->n];
		s.len[g][WT_BYNAME] = 4 * table_cap(k->n);
		s.len[g][WT_BYID] = 4 * table_cap(k->n);
	}
	return s;
}

static const char *const table_key[2][WT_COUNT] = {
        {TABLE_USER_OFFSETS, TABLE_USER_RECORDS, TABLE_USER_BYNAME,
         TABLE_USER_BYID},
        {TABLE_GROUP_OFFSETS, TABLE_GROUP_RECORDS, TABLE_GROUP_BYNAME,
         TABLE_GROUP_BYID}};

/* The four values of one kind, each filled whole to its announced size. */
static int put_kind(struct wctx *c, const struct writer_source *s, bool group)
{
	for (int t = 0; t < WT_COUNT; t++) {
		const char *key = table_key[group][t];
		struct writer_value v = {.c = c};
		int r = reserve(c, key, s->len[group][t], &v);

		if (r == 0)
			r = s->fill(s->arg, group, (enum writer_table)t, &v,
			            c->err, c->errlen);
		if (r == 0 && (v.over || v.done != v.len))
			r = set_error(c->err, c->errlen, -EIO,
			              "writing %s: not the size announced",
			              key);
		if (r < 0)
			return r;
		release(&v, true);
	}
	return 0;
}

static int put_meta(struct wctx *c, const struct snap_meta *m)
{
	struct rec_buf b = {0};
	MDB_val k = {strlen(TABLE_META), (void *)TABLE_META}, d;
	int r = rec_encode_meta(&b, m);

	if (r < 0)
		r = set_error(c->err, c->errlen, r, "encoding %s: %s",
		              TABLE_META, strerror(-r));
	d = (MDB_val){b.len, b.data};
	if (r == 0 && (r = mdb_put(c->txn, c->dbi, &k, &d, 0)) != 0)
		r = put_err(c, TABLE_META, r);
	rec_buf_free(&b);
	return r;
}

static int write_all(struct wctx *c, const struct writer_source *s,
                     const struct snap_meta *m)
{
	int r;

	r = put_meta(c, m);
	if (r == 0)
		r = put_kind(c, s, false);
	TESTPOINT("snap-mid-write");
	if (r == 0)
		r = put_kind(c, s, true);
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
 * store into the map.  It depends on the values' sizes only, so that the
 * same tables make the same file whoever built them. */
static size_t map_size(const struct writer_source *s, size_t page)
{
	size_t pages =
	        2 + SPARE_PAGES + value_pages(SNAP_SOURCE_MAX + 64, page);

	for (int g = 0; g < 2; g++)
		for (int t = 0; t < WT_COUNT; t++)
			pages += value_pages(s->len[g][t], page);
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
		return set_error(err, errlen, -ENOSPC,
		                 "writing %s: no space left on the snapshot's "
		                 "filesystem",
		                 tmp);
	return set_error(err, errlen, rc > 0 && rc < MDB_KEYEXIST ? -rc : -EIO,
	                 "committing %s: %s", tmp, mdb_strerror(rc));
}

/* Allocates the whole map on disk before anything is stored into it: LMDB
 * has only made the file as long as the map, with holes. */
static int preallocate(MDB_env *env, const char *tmp, size_t size, char *err,
                       size_t errlen)
{
	int fd, rc;

	if (mdb_env_get_fd(env, &fd) != 0)
		return set_error(err, errlen, -EBADF,
		                 "creating %s: no descriptor", tmp);
	rc = posix_fallocate(fd, 0, (off_t)size);
	if (rc == 0)
		return 0;
	return commit_failed(tmp, rc, err, errlen);
}

/* Cuts T to the pages LMDB used: the map was sized with room to spare. */
static int trim(MDB_env *env, const struct temp *t, size_t page, char *err,
                size_t errlen)
{
	MDB_envinfo info;

	mdb_env_info(env, &info);
	if (ftruncate(t->fd, (off_t)((info.me_last_pgno + 1) * page)) < 0)
		return set_error(err, errlen, -errno, "truncating %s: %s",
		                 t->path, strerror(errno));
	return 0;
}

/* LMDB opened T by name: it must be the file we created. */
static int same_file(MDB_env *env, const struct temp *t, char *err,
                     size_t errlen)
{
	struct stat a, b;
	int fd;

	if (mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &a) < 0 ||
	    fstat(t->fd, &b) < 0)
		return set_error(err, errlen, -EBADF,
		                 "creating %s: no descriptor", t->path);
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return set_error(err, errlen, -EPERM,
		                 "%s was replaced while it was written",
		                 t->path);
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

int writer_write_file(const struct writer_source *s, const struct temp *t,
                      const struct snap_meta *m, char *err, size_t errlen)
{
	const char *tmp = t->path;
	struct wctx c = {.err = err, .errlen = errlen};
	size_t size;
	MDB_env *env = NULL;
	int rc;

	c.page = (size_t)sysconf(_SC_PAGESIZE);
	size = map_size(s, c.page);
	rc = open_env(&env, tmp, size);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &c.txn);
	if (rc == 0)
		rc = mdb_dbi_open(c.txn, NULL, 0, &c.dbi);
	if (rc != 0) {
		rc = set_error(err, errlen,
		               rc > 0 && rc < MDB_KEYEXIST ? -rc : -EIO,
		               "creating %s: %s", tmp, mdb_strerror(rc));
		goto out;
	}
	rc = same_file(env, t, err, errlen);
	if (rc == 0)
		rc = preallocate(env, tmp, size, err, errlen);
	if (rc < 0)
		goto out;
	rc = write_all(&c, s, m);
	if (rc == 0) {
		rc = mdb_txn_commit(c.txn);
		c.txn = NULL;
		if (rc == 0)
			rc = mdb_env_sync(env, 1);
		if (rc != 0)
			rc = commit_failed(tmp, rc, err, errlen);
	}
	if (rc == 0)
		rc = trim(env, t, c.page, err, errlen);
out:
	if (c.txn != NULL)
		mdb_txn_abort(c.txn);
	mdb_env_close(env);
	return rc;
}

/* ---- verification ----------------------------------------------------- */

/* The read-back reader, reopened every VERIFY_SLICE lookups: unmapping
 * drops the pages read so far, so the new file is never resident whole.
 * File pages count in the peak RSS as heap does, and the kernel maps
 * pages around each one a lookup touches: at 100,000 people a slice of
 * 8,192 lookups held 18 MB of the file, which set the refresh's peak; 1,024
 * hold about 8 MB, for about 0.1 s more of page faults. */
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

bool writer_meta_same(const struct snap_meta *a, const struct snap_meta *b)
{
	return a->version == b->version && a->generation == b->generation &&
	       a->created == b->created && a->id_min == b->id_min &&
	       a->id_max == b->id_max && a->nusers == b->nusers &&
	       a->nactive == b->nactive && a->ngroups == b->ngroups &&
	       strcmp(a->source, b->source) == 0;
}

static bool passwd_same(const struct passwd *pw, const struct snap_user *u)
{
	return pw->pw_uid == u->uid && pw->pw_gid == u->gid &&
	       strcmp(pw->pw_name, u->name) == 0 &&
	       strcmp(pw->pw_gecos, u->gecos) == 0 &&
	       strcmp(pw->pw_dir, u->home) == 0 &&
	       strcmp(pw->pw_shell, u->shell) == 0;
}

bool writer_group_same(const struct group *gr, const struct snap_group *g)
{
	if (gr->gr_gid != g->gid || strcmp(gr->gr_name, g->name) != 0)
		return false;
	for (size_t i = 0; i < g->nmembers; i++)
		if (gr->gr_mem[i] == NULL ||
		    strcmp(gr->gr_mem[i], g->members[i]) != 0)
			return false;
	return gr->gr_mem[g->nmembers] == NULL;
}

/* The next user in uid order is U, whole, and U's name finds U's account.
 * Both through the reader, the second with the probe getpwnam() makes; the
 * record it lands on is the one just enumerated, still in the cache. */
static int verify_user(struct vreader *v, struct snap_cursor *cur,
                       const struct snap_user *u, char *buf, size_t buflen)
{
	struct passwd pw;
	struct snap_account a;
	int rc;

	rc = vreader_next(v);
	if (rc == 0)
		rc = snap_getpwent(v->r, cur, &pw, buf, buflen);
	if (rc == 0 && !passwd_same(&pw, u))
		rc = -EBADMSG;
	if (rc == 0)
		rc = vreader_next(v);
	if (rc == 0)
		rc = snap_get_account(v->r, u->name, &a);
	if (rc == 0 &&
	    (a.uid != u->uid || a.gid != u->gid || a.active != u->active))
		rc = -EBADMSG;
	return rc;
}

/* The same for groups: G whole, members in order, then found by name. */
static int verify_group(struct vreader *v, struct snap_cursor *cur,
                        const struct snap_group *g, char *buf, size_t buflen)
{
	struct group gr;
	int rc;

	rc = vreader_next(v);
	if (rc == 0)
		rc = snap_getgrent(v->r, cur, &gr, buf, buflen);
	if (rc == 0 && !writer_group_same(&gr, g))
		rc = -EBADMSG;
	if (rc == 0)
		rc = vreader_next(v);
	if (rc == 0)
		rc = snap_getgrnam(v->r, g->name, &gr, buf, buflen);
	if (rc == 0 && gr.gr_gid != g->gid)
		rc = -EBADMSG;
	return rc;
}

/* Walks the new file in id order through the reader that NSS uses: every
 * entry must come back exactly as given and be found by its name, and
 * nothing else may be there. */
static int verify_entries(struct vreader *v, const struct snap_writer *w,
                          const struct index *x, char *buf, size_t buflen)
{
	struct snap_cursor cur = {0};
	struct passwd pw;
	struct group gr;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < w->nusers; i++)
		rc = verify_user(v, &cur, &w->users[x->by_uid[i]], buf, buflen);
	if (rc == 0)
		rc = vreader_next(v);
	if (rc == 0 && snap_getpwent(v->r, &cur, &pw, buf, buflen) != SNAP_NONE)
		rc = -EBADMSG;
	cur = (struct snap_cursor){0};
	for (size_t i = 0; rc == 0 && i < w->ngroups; i++)
		rc = verify_group(v, &cur, &w->groups[x->by_gid[i]], buf,
		                  buflen);
	if (rc == 0)
		rc = vreader_next(v);
	if (rc == 0 && snap_getgrent(v->r, &cur, &gr, buf, buflen) != SNAP_NONE)
		rc = -EBADMSG;
	return rc;
}

/* Reads the new file back: what readers will see must be what was meant. */
static int verify(const char *tmp, const struct snap_writer *w,
                  const struct index *x, const struct snap_meta *m, char *err,
                  size_t errlen)
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
	if (rc == 0 && !writer_meta_same(&got, m))
		rc = -EBADMSG;
	if (rc == 0)
		rc = verify_entries(&v, w, x, buf, buflen);
	if (rc != 0)
		rc = set_error(err, errlen, rc < 0 ? rc : -EBADMSG,
		               "verifying the new snapshot: %s",
		               snap_strerror(rc < 0 ? rc : -EBADMSG));
	snap_reader_free(v.r);
	free(buf);
	return rc;
}

/* ---- publish ---------------------------------------------------------- */

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
 * none of them is in use; the directory is trusted, so the names lead
 * nowhere else. */
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

/* Six random name characters at S. */
static void random_suffix(char *s)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[6];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)((unsigned long)ts.tv_nsec >>
			                               (i * 5) ^
			                       (unsigned long)getpid());
	}
	for (size_t i = 0; i < sizeof(r); i++)
		s[i] = set[r[i] % (sizeof(set) - 1)];
}

/* Opens PATH's directory (trusted, see safedir.h) and creates in it an
 * empty, private temporary file PATH.new.XXXXXX, never through a link. */
int writer_make_temp(const char *path, struct temp *t, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	size_t n;
	int rc = dir_of(path, dir, sizeof(dir));

	if (rc < 0 ||
	    (size_t)snprintf(t->path, sizeof(t->path), "%s.new.XXXXXX", path) >=
	            sizeof(t->path))
		return set_error(err, errlen, -ENAMETOOLONG,
		                 "path too long: %s", path);
	t->dirfd = safedir_open(dir, false, 0, err, errlen);
	if (t->dirfd < 0)
		return t->dirfd;
	remove_leftovers(path);
	n = strlen(t->path);
	t->base = strrchr(t->path, '/') + 1;
	for (int tries = 0; tries < 100; tries++) {
		random_suffix(t->path + n - 6);
		t->fd = openat(t->dirfd, t->base,
		               O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		                       O_CLOEXEC,
		               0600);
		if (t->fd >= 0 || errno != EEXIST)
			break;
	}
	if (t->fd < 0)
		return set_error(err, errlen, -errno,
		                 "creating a file beside %s: %s", path,
		                 strerror(errno));
	return 0;
}

void writer_temp_close(struct temp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->dirfd >= 0)
		close(t->dirfd);
	t->fd = t->dirfd = -1;
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

int writer_finish(const struct temp *t, const char *path, char *err,
                  size_t errlen)
{
	const char *base = strrchr(path, '/') + 1;

	if (fchmod(t->fd, 0644) < 0)
		return set_error(err, errlen, -errno, "chmod %s: %s", t->path,
		                 strerror(errno));
	TESTPOINT("snap-before-fsync");
	if (fsync(t->fd) < 0)
		return set_error(err, errlen, -errno, "fsync %s: %s", t->path,
		                 strerror(errno));
	TESTPOINT("snap-before-rename");
	if (renameat(t->dirfd, t->base, t->dirfd, base) < 0)
		return set_error(err, errlen, -errno, "rename %s to %s: %s",
		                 t->path, path, strerror(errno));
	TESTPOINT("snap-before-dirsync");
	/* Published; a failed directory fsync only weakens durability. */
	if (fsync(t->dirfd) < 0)
		set_error(err, errlen, 0, "fsync of the directory of %s: %s",
		          path, strerror(errno));
	wait_for_readers();
	return 0;
}

/* The start of a publish: ERR emptied, and PATH (the reader takes
 * absolute paths only; a relative one is taken from the current
 * directory) made absolute in OUT, of PATH_MAX bytes. */
int writer_publish_path(const char *path, char *out, char *err, size_t errlen)
{
	char cwd[PATH_MAX];

	if (err && errlen)
		err[0] = '\0';
	if (path[0] == '/' && strlen(path) < PATH_MAX) {
		memcpy(out, path, strlen(path) + 1);
		return 0;
	}
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
		return set_error(err, errlen, -errno,
		                 "the current directory: %s", strerror(errno));
	if (path[0] == '/' ||
	    (size_t)snprintf(out, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX)
		return set_error(err, errlen, -ENAMETOOLONG,
		                 "snapshot path too long: %s", path);
	return 0;
}

int snap_writer_publish(struct snap_writer *w, const char *relpath,
                        const struct snap_meta *meta, char *err, size_t errlen)
{
	struct index x = {0};
	struct snap_meta m = *meta;
	struct temp t = {.dirfd = -1, .fd = -1};
	struct writer_source s;
	struct full f;
	char path[PATH_MAX];
	int rc;

	rc = writer_publish_path(relpath, path, err, errlen);
	if (rc < 0)
		return rc;
	m.version = SNAP_FORMAT_VERSION;
	m.id_min = w->id_min;
	m.id_max = w->id_max;
	m.nusers = (uint32_t)w->nusers;
	m.ngroups = (uint32_t)w->ngroups;
	m.nactive = 0;
	for (size_t i = 0; i < w->nusers; i++)
		m.nactive += w->users[i].active;
	if (!snap_text_valid(m.source, strnlen(m.source, sizeof(m.source))))
		return set_error(err, errlen, -EINVAL,
		                 "invalid snapshot source");
	rc = index_build(w, &x, err, errlen);
	if (rc == 0)
		rc = writer_make_temp(path, &t, err, errlen);
	if (rc == 0) {
		TESTPOINT("snap-temp-created");
		s = full_source(&f, w, &x);
		rc = writer_write_file(&s, &t, &m, err, errlen);
		index_written(&x);
		if (rc == 0)
			rc = verify(t.path, w, &x, &m, err, errlen);
		if (rc == 0)
			rc = writer_finish(&t, path, err, errlen);
		if (rc != 0)
			unlinkat(t.dirfd, t.base, 0);
	}
	writer_temp_close(&t);
	index_free(&x);
	return rc;
}

/* ---- republishing an unchanged snapshot -------------------------------- */

/* Whether the meta record of the LMDB file T is the LEN bytes at WANT.
 * LMDB keeps a value this small inside a leaf page, as it is: those bytes
 * of the file are the record, and nothing else in the file (no checksum,
 * no other page) depends on them. */
static int meta_is(const struct temp *t, const uint8_t *want, size_t len,
                   char *err, size_t errlen)
{
	MDB_val k = {strlen(TABLE_META), (void *)TABLE_META}, d = {0};
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	int rc = mdb_env_create(&env);

	if (rc == 0)
		rc = mdb_env_open(env, t->path,
		                  MDB_NOSUBDIR | MDB_NOLOCK | MDB_RDONLY, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, NULL, 0, &dbi);
	if (rc == 0)
		rc = mdb_get(txn, dbi, &k, &d);
	if (rc != 0) {
		rc = set_error(err, errlen, -EBADMSG,
		               "reading the meta record of %s: %s", t->path,
		               mdb_strerror(rc));
		goto out;
	}
	rc = same_file(env, t, err, errlen);
	if (rc == 0 && (d.mv_size != len || memcmp(d.mv_data, want, len) != 0))
		rc = set_error(err, errlen, -ESTALE,
		               "the snapshot's meta record is not the one "
		               "expected");
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc;
}

/* Writes all LEN bytes at DATA to FD. */
static int write_whole(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* LIVE's bytes into T with the meta record WAS replaced by NOW; LIVE then
 * holds what T does. */
static int patch_copy(const struct temp *t, uint8_t *live, size_t len,
                      const struct snap_meta *was, const struct snap_meta *now,
                      char *err, size_t errlen)
{
	struct rec_buf old = {0}, new = {0};
	const uint8_t *at = NULL;
	size_t off = 0;
	int rc = write_whole(t->fd, live, len);

	if (rc < 0)
		return set_error(err, errlen, rc, "writing %s: %s", t->path,
		                 strerror(-rc));
	if (rec_encode_meta(&old, was) < 0 || rec_encode_meta(&new, now) < 0) {
		rc = oom(err, errlen);
		goto out;
	}
	rc = meta_is(t, old.data, old.len, err, errlen);
	if (rc < 0)
		goto out;
	/* The record is in the file, and where: its bytes, found once. */
	at = memmem(live, len, old.data, old.len);
	off = at ? (size_t)(at - live) : 0;
	if (at == NULL || new.len != old.len ||
	    memmem(at + 1, len - off - 1, old.data, old.len) != NULL)
		rc = set_error(err, errlen, -ESTALE,
		               "the snapshot's meta record is not found once");
	else if (pwrite(t->fd, new.data, new.len, (off_t)off) !=
	         (ssize_t) new.len)
		rc = set_error(err, errlen, errno ? -errno : -EIO,
		               "writing %s: %s", t->path, strerror(errno));
	else
		memcpy(live + off, new.data, new.len);
out:
	rec_buf_free(&old);
	rec_buf_free(&new);
	return rc;
}

/* The new file's meta record, read through the reader NSS uses. */
static int verify_meta(const char *tmp, const struct snap_meta *m, char *err,
                       size_t errlen)
{
	struct snap_reader *r = NULL;
	struct snap_meta got;
	int rc = snap_reader_new(tmp, geteuid(), &r);

	if (rc == 0)
		rc = snap_get_meta(r, &got);
	if (rc == 0 && !writer_meta_same(&got, m))
		rc = -EBADMSG;
	snap_reader_free(r);
	if (rc != 0)
		return set_error(err, errlen, rc < 0 ? rc : -EBADMSG,
		                 "verifying the new snapshot: %s",
		                 snap_strerror(rc < 0 ? rc : -EBADMSG));
	return 0;
}

int snap_writer_republish(void *live, size_t len, const struct snap_meta *was,
                          const struct snap_meta *meta, const char *relpath,
                          char *err, size_t errlen)
{
	struct temp t = {.dirfd = -1, .fd = -1};
	struct snap_meta now = *was;
	char path[PATH_MAX];
	int rc;

	rc = writer_publish_path(relpath, path, err, errlen);
	if (rc < 0)
		return rc;
	if (strcmp(meta->source, was->source) != 0)
		return set_error(err, errlen, -EINVAL,
		                 "republishing under another source");
	now.generation = meta->generation;
	now.created = meta->created;
	rc = writer_make_temp(path, &t, err, errlen);
	if (rc == 0) {
		TESTPOINT("snap-temp-created");
		rc = patch_copy(&t, live, len, was, &now, err, errlen);
		if (rc == 0)
			rc = verify_meta(t.path, &now, err, errlen);
		if (rc == 0)
			rc = writer_finish(&t, path, err, errlen);
		if (rc != 0 && t.base != NULL)
			unlinkat(t.dirfd, t.base, 0);
	}
	writer_temp_close(&t);
	return rc;
}

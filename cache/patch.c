/* SPDX-License-Identifier: MIT */
/*
 * patch.c: the next snapshot made from the live one and a change set.
 *
 * A full publish indexes, encodes and writes every entry and reads the
 * whole file back.  When little changed, almost every record of the next
 * snapshot is, byte for byte, a record of the live one: the same entry
 * encoded the same way.  The patcher copies those bytes, encodes only the
 * entries that come or whose list of groups changes, rebuilds the offsets
 * and hash tables whole (they depend on every entry's position), and
 * writes the tables through the very LMDB sequence of a full publish
 * (writer_write_file()), so that the file is the one a full publish of
 * the same directory would make.
 *
 * A user's list of groups is the gids of the groups naming it.  It changes
 * only for members of a group that goes or comes; for a group that goes
 * and comes back under the same gid (its members changed), only for the
 * members it gained or lost, found by comparing the two member lists.
 *
 * The verification reads back what changed only.  A copied record is the
 * bytes of a record the live snapshot's own publish verified, and the
 * caller vouches that LIVE is that snapshot; the copy itself is checked by
 * comparing every value in the new file with the bytes built.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <lmdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "helpers.h"
#include "record.h"
#include "snap.h"
#include "testpoint.h"
#include "writer-int.h"

/* set_error(), whose CODE the caller returns itself: a static analyzer
 * cannot see through the variadic set_error() and would follow a path on
 * which a failed step returned 0. */
#define FAIL(err, errlen, code, ...)                                           \
	(set_error(err, errlen, code, __VA_ARGS__), (code))

#define NONE       UINT32_MAX
#define PLUS       0x80000000u /* an event's gid gained, not lost */
#define COMPARE_AT (1u << 20)  /* bytes of PATH read at once */

/* Per live entry. */
#define F_REMOVED 0x01u
#define F_READDED 0x02u /* removed, and an added entry has its name */
#define F_CHANGED 0x04u /* a user whose list of groups changed */
#define F_PAIRED  0x08u /* a removed group an added one of its gid replaces */

/* ---- the live snapshot ------------------------------------------------ */

/* One kind's tables in LIVE, as record.h lays them out. */
struct live_kind {
	size_t n, cap;
	const uint8_t *rec, *off, *byname, *byid;
	size_t reclen;
};

struct live {
	const uint8_t *p;
	size_t len;
	struct snap_meta meta;
	struct live_kind k[2]; /* users, groups */
};

static const char *const keys[9] = {
        TABLE_META,          TABLE_USER_OFFSETS, TABLE_USER_RECORDS,
        TABLE_USER_BYNAME,   TABLE_USER_BYID,    TABLE_GROUP_OFFSETS,
        TABLE_GROUP_RECORDS, TABLE_GROUP_BYNAME, TABLE_GROUP_BYID};

static uint32_t loff(const struct live_kind *k, size_t i)
{
	return rec_get_le32(k->off + 4 * i);
}

static const uint8_t *lrec(const struct live_kind *k, size_t i, size_t *len)
{
	*len = loff(k, i + 1) - loff(k, i);
	return k->rec + loff(k, i);
}

static uint32_t live_id(const struct live_kind *k, size_t i)
{
	return rec_get_le32(k->rec + loff(k, i));
}

/* The name of live entry I; false when its record cannot hold it. */
static bool live_name(const struct live_kind *k, bool group, size_t i,
                      struct rec_str *out)
{
	size_t at = group ? 8 : 9, len;
	const uint8_t *r = lrec(k, i, &len);

	if (len < at + 2 || (size_t)(r[at] | r[at + 1] << 8) > len - at - 2)
		return false;
	out->len = (size_t)(r[at] | r[at + 1] << 8);
	out->p = (const char *)r + at + 2;
	return true;
}

/* The live entry named NAME (LEN bytes, rec_hash_name() H), or NONE. */
static uint32_t live_find(const struct live_kind *k, bool group,
                          const char *name, size_t len, uint32_t h)
{
	size_t mask = k->cap - 1;

	for (size_t j = 0; j < k->cap; j++) {
		uint32_t v = rec_get_le32(k->byname + 4 * ((h + j) & mask));
		struct rec_str s;

		if (v == 0)
			return NONE;
		if (v - 1 < k->n && live_name(k, group, v - 1, &s) &&
		    s.len == len && memcmp(s.p, name, len) == 0)
			return v - 1;
	}
	return NONE;
}

static uint32_t live_find_id(const struct live_kind *k, uint32_t id)
{
	size_t mask = k->cap - 1;
	uint32_t h = rec_hash_id(id);

	for (size_t j = 0; j < k->cap; j++) {
		uint32_t v = rec_get_le32(k->byid + 4 * ((h + j) & mask));

		if (v == 0)
			return NONE;
		if (v - 1 < k->n && live_id(k, v - 1) == id)
			return v - 1;
	}
	return NONE;
}

static int damaged(char *err, size_t errlen, const char *what)
{
	set_error(err, errlen, -EBADMSG, "the live snapshot: %s", what);
	return -EBADMSG;
}

static int stale(char *err, size_t errlen, const char *path)
{
	set_error(err, errlen, -ESTALE, "%s is not the snapshot given to patch",
	          path);
	return -ESTALE;
}

/* Whether the file FD (LEN bytes) holds the LEN bytes at P. */
static int same_bytes(int fd, const uint8_t *p, size_t len)
{
	uint8_t *buf = malloc(COMPARE_AT);
	size_t at = 0;
	int rc = buf ? 0 : -ENOMEM;

	while (rc == 0 && at < len) {
		size_t want = len - at < COMPARE_AT ? len - at : COMPARE_AT;
		ssize_t n = pread(fd, buf, want, (off_t)at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = n < 0 ? -errno : -ESTALE;
		else if (memcmp(buf, p + at, (size_t)n) != 0)
			rc = -ESTALE;
		else
			at += (size_t)n;
	}
	free(buf);
	return rc;
}

/* Where LMDB's map of the file holding LIVE begins, found from V (the
 * VLEN bytes of a large value, which occur once): the map starts at the
 * file's first byte on a page boundary, so V is at an offset of LIVE
 * with V's offset within its page.  NULL when not found. */
static const uint8_t *map_base(const struct live *l, const uint8_t *v,
                               size_t vlen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t cmp = vlen < 4096 ? vlen : 4096;

	for (size_t o = (uintptr_t)v & (page - 1);
	     o <= l->len && vlen <= l->len - o; o += page)
		if (l->p[o] == v[0] && memcmp(l->p + o, v, cmp) == 0)
			return v - o;
	return NULL;
}

/* Finds the tables of the snapshot at PATH with liblmdb, and then makes
 * sure that PATH holds LIVE's bytes: the tables are taken from LIVE at the
 * offsets found. */
static int live_locate(const char *path, struct live *l, char *err,
                       size_t errlen)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	struct stat st;
	size_t vlen[9];
	const uint8_t *v[9], *base;
	int fd, rc = mdb_env_create(&env);

	if (rc == 0)
		rc = mdb_env_open(env, path,
		                  MDB_NOSUBDIR | MDB_NOLOCK | MDB_RDONLY, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, NULL, 0, &dbi);
	for (int i = 0; rc == 0 && i < 9; i++) {
		MDB_val key = {strlen(keys[i]), (void *)keys[i]}, d;

		rc = mdb_get(txn, dbi, &key, &d);
		v[i] = d.mv_data;
		vlen[i] = d.mv_size;
	}
	if (rc != 0) {
		rc = FAIL(err, errlen, rc == ENOENT ? -ENOENT : -EBADMSG,
		          "reading %s: %s", path, mdb_strerror(rc));
		goto out;
	}
	if (mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &st) < 0 ||
	    (uint64_t)st.st_size != l->len ||
	    (base = map_base(l, v[2], vlen[2])) == NULL) {
		rc = stale(err, errlen, path);
		goto out;
	}
	for (int i = 0; i < 9; i++) {
		size_t off = (size_t)(v[i] - base);

		if (v[i] < base || off > l->len || vlen[i] > l->len - off ||
		    memcmp(l->p + off, v[i], vlen[i] < 64 ? vlen[i] : 64) !=
		            0) {
			rc = stale(err, errlen, path);
			goto out;
		}
		v[i] = l->p + off;
	}
	rc = same_bytes(fd, l->p, l->len);
	if (rc == -ESTALE)
		rc = stale(err, errlen, path);
	else if (rc < 0)
		rc = FAIL(err, errlen, rc, "reading %s: %s", path,
		          strerror(-rc));
	if (rc < 0)
		goto out;
	if (rec_decode_meta(v[0], vlen[0], &l->meta) < 0) {
		rc = damaged(err, errlen, "no valid meta record");
		goto out;
	}
	for (int g = 0; g < 2; g++) {
		struct live_kind *k = &l->k[g];
		const uint8_t *const *t = v + 1 + 4 * (size_t)g;
		const size_t *tl = vlen + 1 + 4 * (size_t)g;

		k->n = g ? l->meta.ngroups : l->meta.nusers;
		k->off = t[0];
		k->rec = t[1];
		k->reclen = tl[1];
		k->byname = t[2];
		k->byid = t[3];
		k->cap = table_cap(k->n);
		if (tl[0] != 4 * (k->n + 1) || tl[2] != 4 * k->cap ||
		    tl[3] != 4 * k->cap) {
			rc = damaged(err, errlen, "tables of the wrong size");
			goto out;
		}
	}
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc;
}

/* Offsets that stay within the records, each record long enough for its
 * fixed part: what the accessors above rely on. */
static int live_check(const struct live *l, char *err, size_t errlen)
{
	for (int g = 0; g < 2; g++) {
		const struct live_kind *k = &l->k[g];
		uint32_t least = g ? 4 + 4 + 2 : 4 + 4 + 1 + 2 * 4 + 4;

		if (loff(k, 0) != 0 || loff(k, k->n) != k->reclen)
			return damaged(err, errlen, "offsets out of place");
		for (size_t i = 0; i < k->n; i++)
			if (loff(k, i + 1) < loff(k, i) ||
			    loff(k, i + 1) - loff(k, i) < least)
				return damaged(err, errlen,
				               "offsets out of place");
	}
	return 0;
}

/* ---- the plan --------------------------------------------------------- */

/* An open-addressing table of positions + 1, for the added entries. */
struct itab {
	uint32_t *slot;
	size_t mask;
};

static int itab_init(struct itab *t, size_t n)
{
	t->mask = table_cap(n) - 1;
	t->slot = calloc(t->mask + 1, sizeof(*t->slot));
	return t->slot ? 0 : -ENOMEM;
}

/* The change from the live snapshot, worked out before anything is
 * written.  Users are named by a key: a live user's index, which an added
 * user of the same name takes over, or NLIVE + its position among the
 * added. */
struct plan {
	const struct snap_patch *p;
	const struct live *l;
	uint32_t id_min, id_max;
	size_t nlive; /* live users */
	uint8_t *uflag, *gflag;
	uint32_t *readd;   /* live user: the added user of its name */
	uint32_t *akey;    /* added user: its key */
	uint32_t *gpair;   /* added group: the live one of its gid, or NONE */
	struct itab aname; /* added users by name */
	struct itab gone;  /* live users removed and not added back */
	uint64_t *ev;      /* key << 32 | gid, PLUS when gained */
	size_t nev, evcap;
	uint32_t *pool; /* new lists of groups */
	size_t npool, poolcap;
	uint32_t *lstart, *lcount; /* by live user, for F_CHANGED */
	uint32_t *astart, *acount; /* by added user */
	struct rec_str *rset;      /* a removed group's members */
	uint32_t *rhash;
	uint8_t *rseen;
	struct itab rtab;
	size_t rcap;
	size_t *cand; /* positions in an added group's members */
	size_t candcap;
	uint32_t *distinct; /* by live group: its members, by the users */
	uint32_t *gone_in;  /* by live group: members that go for good */
};

static void plan_free(struct plan *pl)
{
	free(pl->uflag);
	free(pl->gflag);
	free(pl->readd);
	free(pl->akey);
	free(pl->gpair);
	free(pl->aname.slot);
	free(pl->gone.slot);
	free(pl->ev);
	free(pl->pool);
	free(pl->lstart);
	free(pl->lcount);
	free(pl->astart);
	free(pl->acount);
	free(pl->rset);
	free(pl->rhash);
	free(pl->rseen);
	free(pl->rtab.slot);
	free(pl->cand);
	free(pl->distinct);
	free(pl->gone_in);
}

static int oom(char *err, size_t errlen)
{
	set_error(err, errlen, -ENOMEM, "out of memory");
	return -ENOMEM;
}

/* A refusal: -EINVAL with the reason in ERR. */
#define refuse(err, errlen, ...) FAIL(err, errlen, -EINVAL, __VA_ARGS__)

static int push_event(struct plan *pl, uint32_t key, uint32_t gid, bool plus)
{
	if (array_grow((void **)&pl->ev, &pl->evcap, pl->nev, sizeof(*pl->ev),
	               256) < 0)
		return -ENOMEM;
	pl->ev[pl->nev++] = (uint64_t)key << 32 | gid | (plus ? PLUS : 0);
	return 0;
}

/* The added user named NAME (LEN bytes, hash H), or NONE. */
static uint32_t added_find(const struct plan *pl, const char *name, size_t len,
                           uint32_t h)
{
	for (size_t i = h & pl->aname.mask; pl->aname.slot[i] != 0;
	     i = (i + 1) & pl->aname.mask) {
		const char *a = pl->p->users_added[pl->aname.slot[i] - 1].name;

		if (strncmp(a, name, len) == 0 && a[len] == '\0')
			return pl->aname.slot[i] - 1;
	}
	return NONE;
}

/* Whether NAME (hash H) is a live user that goes and does not come back:
 * the removed names are few, so most probes end at once. */
static bool gone(const struct plan *pl, const char *name, size_t len,
                 uint32_t h)
{
	for (size_t i = h & pl->gone.mask; pl->gone.slot[i] != 0;
	     i = (i + 1) & pl->gone.mask) {
		struct rec_str s;

		if (live_name(&pl->l->k[0], false, pl->gone.slot[i] - 1, &s) &&
		    s.len == len && memcmp(s.p, name, len) == 0)
			return true;
	}
	return false;
}

/* The key of the user of the next snapshot named NAME, or NONE. */
static uint32_t user_key(const struct plan *pl, const char *name, size_t len,
                         uint32_t h)
{
	uint32_t a = added_find(pl, name, len, h), li;

	if (a != NONE)
		return pl->akey[a];
	li = live_find(&pl->l->k[0], false, name, len, h);
	if (li != NONE && !(pl->uflag[li] & F_REMOVED))
		return li;
	return NONE;
}

/* Users (GROUP false) or groups that go: each must be in the live
 * snapshot, once. */
static int plan_removed(struct plan *pl, bool group, char *err, size_t errlen)
{
	const struct snap_patch *p = pl->p;
	const char *what = group ? "group" : "user";
	const char *const *names = group ? p->groups_removed : p->users_removed;
	size_t n = group ? p->ngroups_removed : p->nusers_removed;
	uint8_t *flag = group ? pl->gflag : pl->uflag;

	for (size_t i = 0; i < n; i++) {
		const char *nm = names[i];
		size_t len = nm ? strlen(nm) : 0;
		uint32_t li = nm ? live_find(&pl->l->k[group], group, nm, len,
		                             rec_hash_name(nm, len))
		                 : NONE;

		if (li == NONE)
			return refuse(err, errlen,
			              "removing %s %s: not in the snapshot",
			              what, nm ? nm : "(null)");
		if (flag[li] & F_REMOVED)
			return refuse(err, errlen, "%s %s removed twice", what,
			              nm);
		flag[li] |= F_REMOVED;
	}
	return 0;
}

static int twice_id(char *err, size_t errlen, bool group, uint32_t id)
{
	set_error(err, errlen, -EINVAL, "%s %u given twice",
	          group ? "gid" : "uid", id);
	return -EINVAL;
}

/* Slot for ID in T, whose entries' ids ID_OF gives: the empty one where it
 * goes, or NONE when an entry has it already. */
static size_t itab_id_slot(const struct itab *t, uint32_t id,
                           const struct snap_patch *p, bool group)
{
	size_t i;

	for (i = rec_hash_id(id) & t->mask; t->slot[i] != 0;
	     i = (i + 1) & t->mask) {
		uint32_t at = t->slot[i] - 1;

		if ((group ? p->groups_added[at].gid
		           : p->users_added[at].uid) == id)
			return SIZE_MAX;
	}
	return i;
}

/* Users that come: valid, and no name or uid of a user that stays or of
 * another added user. */
static int plan_added_users(struct plan *pl, char *err, size_t errlen)
{
	const struct snap_patch *p = pl->p;
	const struct live_kind *k = &pl->l->k[0];
	struct itab ids = {0};
	int rc = 0;

	if (itab_init(&pl->aname, p->nusers_added) < 0 ||
	    itab_init(&ids, p->nusers_added) < 0) {
		free(ids.slot);
		return oom(err, errlen);
	}
	for (size_t j = 0; rc == 0 && j < p->nusers_added; j++) {
		const struct snap_user *u = &p->users_added[j];
		size_t len, i;
		uint32_t h, li;

		rc = writer_check_user(pl->id_min, pl->id_max, u, err, errlen);
		if (rc < 0)
			break;
		len = strlen(u->name);
		h = rec_hash_name(u->name, len);
		li = live_find(k, false, u->name, len, h);
		if (added_find(pl, u->name, len, h) != NONE ||
		    (li != NONE && !(pl->uflag[li] & F_REMOVED))) {
			rc = refuse(err, errlen, "user name %s twice", u->name);
			break;
		}
		for (i = h & pl->aname.mask; pl->aname.slot[i] != 0;
		     i = (i + 1) & pl->aname.mask)
			;
		pl->aname.slot[i] = (uint32_t)j + 1;
		pl->akey[j] = li != NONE ? li : (uint32_t)(pl->nlive + j);
		if (li != NONE) {
			pl->uflag[li] |= F_READDED;
			pl->readd[li] = (uint32_t)j;
		}
		li = live_find_id(k, u->uid);
		i = itab_id_slot(&ids, u->uid, p, false);
		if (i == SIZE_MAX ||
		    (li != NONE && !(pl->uflag[li] & F_REMOVED)))
			rc = twice_id(err, errlen, false, u->uid);
		else
			ids.slot[i] = (uint32_t)j + 1;
	}
	free(ids.slot);
	return rc;
}

/* Groups that come: valid, names and gids unique.  One that takes the gid
 * of a group that goes is paired with it, to compare their members. */
static int plan_added_groups(struct plan *pl, char *err, size_t errlen)
{
	const struct snap_patch *p = pl->p;
	const struct live_kind *k = &pl->l->k[1];
	struct itab names = {0}, ids = {0};
	int rc = 0;

	if (itab_init(&names, p->ngroups_added) < 0 ||
	    itab_init(&ids, p->ngroups_added) < 0) {
		rc = oom(err, errlen);
		goto out;
	}
	for (size_t j = 0; rc == 0 && j < p->ngroups_added; j++) {
		const struct snap_group *g = &p->groups_added[j];
		size_t len, i;
		uint32_t h, gi;

		rc = writer_check_group(pl->id_min, pl->id_max, g, err, errlen);
		if (rc < 0)
			break;
		len = strlen(g->name);
		h = rec_hash_name(g->name, len);
		gi = live_find(k, true, g->name, len, h);
		for (i = h & names.mask; names.slot[i] != 0;
		     i = (i + 1) & names.mask)
			if (strcmp(p->groups_added[names.slot[i] - 1].name,
			           g->name) == 0)
				break;
		if (names.slot[i] != 0 ||
		    (gi != NONE && !(pl->gflag[gi] & F_REMOVED))) {
			rc = refuse(err, errlen, "group name %s twice",
			            g->name);
			break;
		}
		names.slot[i] = (uint32_t)j + 1;
		gi = live_find_id(k, g->gid);
		i = itab_id_slot(&ids, g->gid, p, true);
		if (i == SIZE_MAX ||
		    (gi != NONE && !(pl->gflag[gi] & F_REMOVED)))
			rc = twice_id(err, errlen, true, g->gid);
		else
			ids.slot[i] = (uint32_t)j + 1;
		pl->gpair[j] = gi;
		if (gi != NONE)
			pl->gflag[gi] |= F_PAIRED;
	}
out:
	free(names.slot);
	free(ids.slot);
	return rc;
}

static int decode_user(const struct plan *pl, uint32_t li, struct rec_user *u,
                       char *err, size_t errlen)
{
	size_t len;
	const uint8_t *r = lrec(&pl->l->k[0], li, &len);

	if (rec_decode_user(r, len, pl->id_min, pl->id_max, u) < 0)
		return damaged(err, errlen, "a user record is not valid");
	return 0;
}

static int decode_group(const struct plan *pl, uint32_t gi, struct rec_group *g,
                        char *err, size_t errlen)
{
	size_t len;
	const uint8_t *r = lrec(&pl->l->k[1], gi, &len);

	if (rec_decode_group(r, len, pl->id_min, pl->id_max, g) < 0)
		return damaged(err, errlen, "a group record is not valid");
	return 0;
}

/* The users that go for good: none may stay a member of a group that
 * stays (a group that comes is checked member by member). */
static int plan_gone(struct plan *pl, char *err, size_t errlen)
{
	const struct live_kind *gk = &pl->l->k[1];
	size_t n = 0;
	int rc = 0;

	for (size_t li = 0; li < pl->nlive; li++)
		n += (pl->uflag[li] & (F_REMOVED | F_READDED)) == F_REMOVED;
	if (itab_init(&pl->gone, n) < 0)
		return oom(err, errlen);
	for (uint32_t li = 0; rc == 0 && li < pl->nlive; li++) {
		struct rec_user u;
		size_t i;

		if ((pl->uflag[li] & (F_REMOVED | F_READDED)) != F_REMOVED)
			continue;
		rc = decode_user(pl, li, &u, err, errlen);
		for (i = rec_hash_name(u.name.p, u.name.len) & pl->gone.mask;
		     rc == 0 && pl->gone.slot[i] != 0;
		     i = (i + 1) & pl->gone.mask)
			;
		if (rc == 0)
			pl->gone.slot[i] = li + 1;
		for (uint32_t k = 0; rc == 0 && k < u.ngroups; k++) {
			uint32_t gi = live_find_id(
			        gk, rec_get_le32(u.gids + 4 * (size_t)k));
			struct rec_str gname;

			if (gi != NONE && (pl->gflag[gi] & F_REMOVED))
				pl->gone_in[gi]++;
			if (gi == NONE || (pl->gflag[gi] & F_REMOVED) ||
			    !live_name(gk, true, gi, &gname))
				continue;
			set_error(err, errlen, -EINVAL,
			          "group %.*s: member %.*s is not a user",
			          (int)gname.len, gname.p, (int)u.name.len,
			          u.name.p);
			rc = -EINVAL;
		}
	}
	return rc;
}

/* The member M of the added group G is a user; KEY gets its key. */
static int member_key(const struct plan *pl, const struct snap_group *g,
                      const char *m, size_t len, uint32_t h, uint32_t *key,
                      char *err, size_t errlen)
{
	*key = user_key(pl, m, len, h);
	if (*key != NONE)
		return 0;
	if (!snap_name_valid(m, len))
		return refuse(err, errlen, "group %s: invalid member name",
		              g->name);
	return refuse(err, errlen, "group %s: member %s is not a user", g->name,
	              m);
}

/* Room for the members of a group that goes, in pl->rset and pl->rtab. */
static int rset_reserve(struct plan *pl, size_t n)
{
	if (pl->rtab.slot != NULL && n <= pl->rcap &&
	    2 * n <= pl->rtab.mask + 1)
		return 0;
	free(pl->rset);
	free(pl->rhash);
	free(pl->rseen);
	free(pl->rtab.slot);
	pl->rtab.slot = NULL;
	pl->rcap = n;
	pl->rset = malloc((n ? n : 1) * sizeof(*pl->rset));
	pl->rhash = malloc((n ? n : 1) * sizeof(*pl->rhash));
	pl->rseen = malloc(n ? n : 1);
	if (!pl->rset || !pl->rhash || !pl->rseen ||
	    itab_init(&pl->rtab, n) < 0)
		return -ENOMEM;
	return 0;
}

/* The slot of NAME (LEN bytes, hash H) in the removed group's members:
 * its own, or the empty one where it would go. */
static size_t rset_slot(const struct plan *pl, const char *name, size_t len,
                        uint32_t h)
{
	size_t i;

	for (i = h & pl->rtab.mask; pl->rtab.slot[i] != 0;
	     i = (i + 1) & pl->rtab.mask) {
		uint32_t r = pl->rtab.slot[i] - 1;

		if (pl->rhash[r] == h && pl->rset[r].len == len &&
		    memcmp(pl->rset[r].p, name, len) == 0)
			break;
	}
	return i;
}

/* NAME (LEN bytes) into the removed group's set of members, unless
 * there. */
static void rset_add(struct plan *pl, const char *name, size_t len, size_t *n)
{
	uint32_t h = rec_hash_name(name, len);
	size_t i = rset_slot(pl, name, len, h);

	if (pl->rtab.slot[i] != 0)
		return; /* named twice: one gid all the same */
	pl->rtab.slot[i] = (uint32_t)*n + 1;
	pl->rset[*n] = (struct rec_str){name, len};
	pl->rhash[*n] = h;
	pl->rseen[(*n)++] = 0;
}

/* The members of the added group G at positions CAND (NCAND of them; all
 * when CAND is NULL) against the N old ones in pl->rset: a name found
 * there is kept (and must not be a user who goes), any other must be a
 * user and gains G's gid; old names not found lose RG's gid, unless their
 * user goes for good, which *GONE counts. */
static int settle(struct plan *pl, const struct snap_group *g,
                  const struct rec_group *rg, const size_t *cand, size_t ncand,
                  size_t n, uint32_t *gone_lost, char *err, size_t errlen)
{
	int rc = 0;

	*gone_lost = 0;
	for (size_t c = 0; c < ncand; c++) {
		const char *s = g->members[cand ? cand[c] : c];
		size_t len, i;
		uint32_t h, key;

		if (s == NULL)
			return refuse(err, errlen,
			              "group %s: invalid member name", g->name);
		len = strlen(s);
		h = rec_hash_name(s, len);
		i = rset_slot(pl, s, len, h);
		if (pl->rtab.slot[i] != 0) {
			pl->rseen[pl->rtab.slot[i] - 1] = 1;
			if (gone(pl, s, len, h))
				return refuse(
				        err, errlen,
				        "group %s: member %s is not a user",
				        g->name, s);
			continue;
		}
		rc = member_key(pl, g, s, len, h, &key, err, errlen);
		if (rc == 0 && push_event(pl, key, g->gid, true) < 0)
			rc = oom(err, errlen);
		if (rc < 0)
			return rc;
	}
	for (size_t r = 0; r < n; r++) {
		uint32_t li;

		if (pl->rseen[r])
			continue;
		li = live_find(&pl->l->k[0], false, pl->rset[r].p,
		               pl->rset[r].len, pl->rhash[r]);
		if (li == NONE)
			return damaged(err, errlen, "a member is not a user");
		if ((pl->uflag[li] & (F_REMOVED | F_READDED)) == F_REMOVED)
			(*gone_lost)++;
		else if (push_event(pl, li, rg->gid, false) < 0)
			return oom(err, errlen);
	}
	return 0;
}

/* The slow way: every old member into the set, every new one looked up. */
static int compare_sets(struct plan *pl, const struct snap_group *g,
                        const struct rec_group *rg, char *err, size_t errlen)
{
	struct rec_str m;
	size_t pos = 0, n = 0;
	uint32_t lost;

	for (size_t k = 0; k < rg->nmembers; k++) {
		if (rec_member_next(rg, &pos, &m) != 0)
			return damaged(err, errlen,
			               "a group's members are not valid");
		rset_add(pl, m.p, m.len, &n);
	}
	return settle(pl, g, rg, NULL, g->nmembers, n, &lost, err, errlen);
}

/* The quick way, for an old group that names no one twice: a group's
 * members mostly keep their order, so both lists are walked together and
 * only the names where they differ are looked up.  A name the walk keeps
 * was a member and is one still, with no change to its list of groups;
 * but a user who goes for good must not be kept, which the count of those
 * found lost tells.  1: use compare_sets() instead. */
static int compare_lists(struct plan *pl, const struct snap_group *g,
                         const struct rec_group *rg, uint32_t gi, char *err,
                         size_t errlen)
{
	const char *old = (const char *)rg->members;
	size_t ml = rg->members_len, pos = 0, n = 0, ncand = 0;
	uint32_t lost;
	int rc;

	if (pl->candcap < g->nmembers) {
		size_t *c = reallocarray(pl->cand, g->nmembers, sizeof(*c));

		if (c == NULL)
			return oom(err, errlen);
		pl->cand = c;
		pl->candcap = g->nmembers;
	}
	for (size_t j = 0; j < g->nmembers; j++) {
		const char *s = g->members[j], *nul;
		size_t len;

		if (s == NULL)
			return refuse(err, errlen,
			              "group %s: invalid member name", g->name);
		len = strlen(s);
		if (pos < ml && len < ml - pos &&
		    memcmp(old + pos, s, len + 1) == 0) {
			pos += len + 1;
			continue;
		}
		pl->cand[ncand++] = j;
		if (pos >= ml)
			continue;
		nul = memchr(old + pos, '\0', ml - pos);
		if (nul == NULL)
			return damaged(err, errlen,
			               "a group's members are not valid");
		rset_add(pl, old + pos, (size_t)(nul - (old + pos)), &n);
		pos = (size_t)(nul - old) + 1;
	}
	while (pos < ml) {
		const char *nul = memchr(old + pos, '\0', ml - pos);

		if (nul == NULL)
			return damaged(err, errlen,
			               "a group's members are not valid");
		rset_add(pl, old + pos, (size_t)(nul - (old + pos)), &n);
		pos = (size_t)(nul - old) + 1;
	}
	rc = settle(pl, g, rg, pl->cand, ncand, n, &lost, err, errlen);
	if (rc == 0 && lost != pl->gone_in[gi])
		return 1;
	return rc;
}

/* An added group G that takes the gid of the live group GI, which goes:
 * the members it gains gain the gid, those it loses lose it, and those it
 * keeps are users still unless they go for good. */
static int diff_members(struct plan *pl, const struct snap_group *g,
                        uint32_t gi, char *err, size_t errlen)
{
	struct rec_group rg;
	size_t mark = pl->nev;
	int rc = decode_group(pl, gi, &rg, err, errlen);

	if (rc == 0 && rset_reserve(pl, rg.nmembers) < 0)
		rc = oom(err, errlen);
	if (rc < 0)
		return rc;
	memset(pl->rtab.slot, 0, (pl->rtab.mask + 1) * sizeof(*pl->rtab.slot));
	rc = 1;
	if (pl->distinct[gi] == rg.nmembers)
		rc = compare_lists(pl, g, &rg, gi, err, errlen);
	if (rc == 1) {
		pl->nev = mark;
		memset(pl->rtab.slot, 0,
		       (pl->rtab.mask + 1) * sizeof(*pl->rtab.slot));
		rc = compare_sets(pl, g, &rg, err, errlen);
	}
	return rc;
}

/* Every member of the added groups is a user; who gains and loses which
 * gid, as events. */
static int plan_members(struct plan *pl, char *err, size_t errlen)
{
	const struct snap_patch *p = pl->p;
	int rc = 0;

	for (size_t j = 0; rc == 0 && j < p->ngroups_added; j++) {
		const struct snap_group *g = &p->groups_added[j];

		if (pl->gpair[j] != NONE) {
			rc = diff_members(pl, g, pl->gpair[j], err, errlen);
			continue;
		}
		for (size_t k = 0; rc == 0 && k < g->nmembers; k++) {
			const char *s = g->members[k];
			size_t len = s ? strlen(s) : 0;
			uint32_t key = NONE;

			if (s == NULL)
				rc = refuse(err, errlen,
				            "group %s: invalid member name",
				            g->name);
			else
				rc = member_key(pl, g, s, len,
				                rec_hash_name(s, len), &key,
				                err, errlen);
			if (rc == 0 && push_event(pl, key, g->gid, true) < 0)
				rc = oom(err, errlen);
		}
	}
	for (uint32_t gi = 0; rc == 0 && gi < pl->l->k[1].n; gi++) {
		struct rec_group rg;
		struct rec_str m;
		size_t pos = 0;

		if ((pl->gflag[gi] & (F_REMOVED | F_PAIRED)) != F_REMOVED)
			continue;
		rc = decode_group(pl, gi, &rg, err, errlen);
		while (rc == 0 && (rc = rec_member_next(&rg, &pos, &m)) == 0) {
			uint32_t li = live_find(&pl->l->k[0], false, m.p, m.len,
			                        rec_hash_name(m.p, m.len));

			if (li == NONE)
				rc = damaged(err, errlen,
				             "a member is not a user");
			else if ((pl->uflag[li] & (F_REMOVED | F_READDED)) !=
			                 F_REMOVED &&
			         push_event(pl, li, rg.gid, false) < 0)
				rc = oom(err, errlen);
		}
		if (rc == SNAP_NONE)
			rc = 0;
		else if (rc == -EBADMSG)
			rc = damaged(err, errlen,
			             "a group's members are not valid");
	}
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The list of groups BASE (N gids) less the events' lost gids plus their
 * gained ones (EV, M events of one key, lost first), appended to the pool,
 * ascending and unique; *START and *COUNT say where. */
static int new_list(struct plan *pl, const uint8_t *base, uint32_t n,
                    const uint64_t *ev, size_t m, uint32_t *start,
                    uint32_t *count)
{
	size_t at = pl->npool, lost = 0;

	while (lost < m && !(ev[lost] & PLUS))
		lost++;
	for (size_t i = 0; i < (size_t)n + (m - lost); i++) {
		uint32_t gid;

		if (i < n) {
			bool drop = false;

			gid = rec_get_le32(base + 4 * i);
			for (size_t e = 0; e < lost && !drop; e++)
				drop = (uint32_t)ev[e] == gid;
			if (drop)
				continue;
		} else {
			gid = (uint32_t)ev[lost + i - n] & ~PLUS;
		}
		if (array_grow((void **)&pl->pool, &pl->poolcap, pl->npool,
		               sizeof(*pl->pool), 1024) < 0)
			return -ENOMEM;
		pl->pool[pl->npool++] = gid;
	}
	if (pl->npool > at)
		qsort(pl->pool + at, pl->npool - at, sizeof(*pl->pool),
		      cmp_u32);
	*count = 0;
	for (size_t i = at; i < pl->npool; i++)
		if (i == at || pl->pool[i] != pl->pool[at + *count - 1])
			pl->pool[at + (*count)++] = pl->pool[i];
	pl->npool = at + *count;
	*start = (uint32_t)at;
	return 0;
}

/* Each user's new list of groups: for the added users, and for the users
 * who stay whose list changed (F_CHANGED). */
static int plan_lists(struct plan *pl, char *err, size_t errlen)
{
	const struct snap_patch *p = pl->p;
	size_t e = 0;
	int rc = 0;

	if (pl->nev > 0)
		qsort(pl->ev, pl->nev, sizeof(*pl->ev), cmp_u64);
	for (size_t j = 0; j < p->nusers_added; j++)
		pl->acount[j] = NONE;
	while (rc == 0 && e < pl->nev) {
		uint32_t key = (uint32_t)(pl->ev[e] >> 32), *start, *count;
		bool live = key < pl->nlive, kept;
		size_t m = 0;
		struct rec_user u = {0};

		while (e + m < pl->nev && pl->ev[e + m] >> 32 == key)
			m++;
		if (live)
			rc = decode_user(pl, key, &u, err, errlen);
		kept = live && !(pl->uflag[key] & F_READDED);
		if (!live) {
			start = &pl->astart[key - pl->nlive];
			count = &pl->acount[key - pl->nlive];
		} else if (!kept) {
			start = &pl->astart[pl->readd[key]];
			count = &pl->acount[pl->readd[key]];
		} else {
			start = &pl->lstart[key];
			count = &pl->lcount[key];
		}
		if (rc == 0 && new_list(pl, u.gids, u.ngroups, pl->ev + e, m,
		                        start, count) < 0)
			rc = oom(err, errlen);
		if (rc == 0 && kept && u.gids != NULL) {
			bool same = *count == u.ngroups;

			for (uint32_t i = 0; same && i < *count; i++)
				same = pl->pool[*start + i] ==
				       rec_get_le32(u.gids + 4 * (size_t)i);
			if (!same)
				pl->uflag[key] |= F_CHANGED;
		}
		e += m;
	}
	/* Added users no event named: a new name is in no group, a name
	 * that comes back keeps the groups that stay. */
	for (size_t j = 0; rc == 0 && j < p->nusers_added; j++) {
		struct rec_user u = {0};

		if (pl->acount[j] != NONE)
			continue;
		if (pl->akey[j] < pl->nlive)
			rc = decode_user(pl, pl->akey[j], &u, err, errlen);
		if (rc == 0 && new_list(pl, u.gids, u.ngroups, NULL, 0,
		                        &pl->astart[j], &pl->acount[j]) < 0)
			rc = oom(err, errlen);
	}
	return rc;
}

/* The list of groups of live user LI: its le32 gids, *N of them; NULL
 * when the record does not hold one. */
static const uint8_t *live_gids(const struct live_kind *k, size_t li,
                                uint32_t *n)
{
	size_t len, at = 9;
	const uint8_t *r = lrec(k, li, &len);

	for (int f = 0; f < 4; f++) {
		if (len - at < 2)
			return NULL;
		at += 2 + (size_t)(r[at] | r[at + 1] << 8);
		if (at > len)
			return NULL;
	}
	if (len - at < 4 || (len - at - 4) / 4 < rec_get_le32(r + at))
		return NULL;
	*n = rec_get_le32(r + at);
	return r + at + 4;
}

/* How many users each group that is replaced under its gid names, from
 * the users' lists of groups: where that is its number of members, the
 * group names no one twice, and compare_lists() may be used. */
static void count_members(struct plan *pl)
{
	const struct live_kind *gk = &pl->l->k[1];
	bool any = false;

	for (size_t gi = 0; gi < gk->n && !any; gi++)
		any = (pl->gflag[gi] & F_PAIRED) != 0;
	for (size_t li = 0; any && li < pl->nlive; li++) {
		uint32_t n = 0;
		const uint8_t *gids = live_gids(&pl->l->k[0], li, &n);

		for (uint32_t k = 0; gids != NULL && k < n; k++) {
			uint32_t gi = live_find_id(
			        gk, rec_get_le32(gids + 4 * (size_t)k));

			if (gi != NONE && (pl->gflag[gi] & F_PAIRED))
				pl->distinct[gi]++;
		}
	}
}

static int plan_build(struct plan *pl, char *err, size_t errlen)
{
	const struct snap_patch *p = pl->p;
	size_t ng = pl->l->k[1].n, na = p->nusers_added;
	int rc;

	pl->nlive = pl->l->k[0].n;
	pl->id_min = pl->l->meta.id_min;
	pl->id_max = pl->l->meta.id_max;
	if (pl->nlive + na >= NONE || ng + p->ngroups_added >= NONE)
		return FAIL(err, errlen, -EFBIG, "too many entries");
	pl->uflag = calloc(pl->nlive + 1, 1);
	pl->gflag = calloc(ng + 1, 1);
	pl->readd = calloc(pl->nlive + 1, sizeof(*pl->readd));
	pl->lstart = calloc(pl->nlive + 1, sizeof(*pl->lstart));
	pl->lcount = calloc(pl->nlive + 1, sizeof(*pl->lcount));
	pl->akey = calloc(na + 1, sizeof(*pl->akey));
	pl->astart = calloc(na + 1, sizeof(*pl->astart));
	pl->acount = calloc(na + 1, sizeof(*pl->acount));
	pl->gpair = calloc(p->ngroups_added + 1, sizeof(*pl->gpair));
	pl->distinct = calloc(ng + 1, sizeof(*pl->distinct));
	pl->gone_in = calloc(ng + 1, sizeof(*pl->gone_in));
	if (!pl->uflag || !pl->gflag || !pl->readd || !pl->lstart ||
	    !pl->lcount || !pl->akey || !pl->astart || !pl->acount ||
	    !pl->gpair || !pl->distinct || !pl->gone_in)
		return oom(err, errlen);
	rc = plan_removed(pl, false, err, errlen);
	if (rc == 0)
		rc = plan_added_users(pl, err, errlen);
	if (rc == 0)
		rc = plan_removed(pl, true, err, errlen);
	if (rc == 0)
		rc = plan_added_groups(pl, err, errlen);
	if (rc == 0)
		rc = plan_gone(pl, err, errlen);
	if (rc == 0)
		count_members(pl);
	if (rc == 0)
		rc = plan_members(pl, err, errlen);
	if (rc == 0)
		rc = plan_lists(pl, err, errlen);
	return rc;
}

/* ---- the tables ------------------------------------------------------- */

struct span {
	const uint8_t *p;
	size_t len;
};

/* One kind of the next snapshot: its records as pieces of LIVE and of
 * what was encoded, its offsets and hash tables, and each entry's name
 * hash and id in file order. */
struct nkind {
	size_t n, cap, reclen;
	struct span *span;
	size_t nspan, spancap;
	uint8_t *off, *byname, *byid;
	uint32_t *hname, *id;
};

struct built {
	struct nkind k[2];
	struct rec_buf meta;
	struct arena enc;
	struct rec_buf scratch;
};

static void built_free(struct built *b)
{
	for (int g = 0; g < 2; g++) {
		free(b->k[g].span);
		free(b->k[g].off);
		free(b->k[g].byname);
		free(b->k[g].byid);
		free(b->k[g].hname);
		free(b->k[g].id);
	}
	rec_buf_free(&b->meta);
	rec_buf_free(&b->scratch);
	arena_free(&b->enc);
}

/* Entry I of K: its record's LEN bytes at R, its name and id. */
static int put_entry(struct nkind *k, size_t i, const uint8_t *r, size_t len,
                     const char *name, size_t namelen, uint32_t id)
{
	struct span *last = k->nspan ? &k->span[k->nspan - 1] : NULL;

	if (len > UINT32_MAX - k->reclen)
		return -EFBIG;
	put_le32_at(k->off + 4 * i, (uint32_t)k->reclen);
	k->reclen += len;
	k->hname[i] = rec_hash_name(name, namelen);
	k->id[i] = id;
	if (last != NULL && last->p + last->len == r) {
		last->len += len;
		return 0;
	}
	if (array_grow((void **)&k->span, &k->spancap, k->nspan,
	               sizeof(*k->span), 64) < 0)
		return -ENOMEM;
	k->span[k->nspan++] = (struct span){r, len};
	return 0;
}

/* B->scratch, just encoded, as entry I of K. */
static int put_encoded(struct built *b, struct nkind *k, size_t i,
                       const char *name, size_t namelen, uint32_t id)
{
	uint8_t *r = arena_alloc(&b->enc, b->scratch.len);

	if (r == NULL)
		return -ENOMEM;
	memcpy(r, b->scratch.data, b->scratch.len);
	return put_entry(k, i, r, b->scratch.len, name, namelen, id);
}

static int nkind_init(struct nkind *k, size_t n)
{
	k->n = n;
	k->cap = table_cap(n);
	k->off = calloc(n + 1, 4);
	k->byname = calloc(k->cap, 4);
	k->byid = calloc(k->cap, 4);
	k->hname = calloc(n + 1, sizeof(*k->hname));
	k->id = calloc(n + 1, sizeof(*k->id));
	return k->off && k->byname && k->byid && k->hname && k->id ? 0
	                                                           : -ENOMEM;
}

/* The hash tables of K, filled in file order as a full publish does. */
static int nkind_finish(struct nkind *k)
{
	put_le32_at(k->off + 4 * k->n, (uint32_t)k->reclen);
	for (size_t i = 0; i < k->n; i++) {
		slot_put(k->byname, k->cap, k->hname[i], (uint32_t)i + 1);
		slot_put(k->byid, k->cap, rec_hash_id(k->id[i]),
		         (uint32_t)i + 1);
	}
	return 0;
}

static int by_uid(const void *a, const void *b, void *arg)
{
	const struct snap_patch *p = arg;
	uint32_t x = p->users_added[*(const uint32_t *)a].uid;
	uint32_t y = p->users_added[*(const uint32_t *)b].uid;

	return x < y ? -1 : x > y;
}

static int by_gid(const void *a, const void *b, void *arg)
{
	const struct snap_patch *p = arg;
	uint32_t x = p->groups_added[*(const uint32_t *)a].gid;
	uint32_t y = p->groups_added[*(const uint32_t *)b].gid;

	return x < y ? -1 : x > y;
}

/* 0..N-1 in the order of the added users' uids (GROUP false) or the
 * added groups' gids. */
static uint32_t *added_order(const struct snap_patch *p, bool group, size_t n)
{
	uint32_t *o = calloc(n + 1, sizeof(*o));

	for (size_t i = 0; o != NULL && i < n; i++)
		o[i] = (uint32_t)i;
	if (o != NULL && n > 1)
		qsort_r(o, n, sizeof(*o), group ? by_gid : by_uid, (void *)p);
	return o;
}

/* A NUL-terminated copy of S in BUF (SNAP_FIELD_MAX + 1 bytes). */
static const char *cstr(char *buf, struct rec_str s)
{
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	return buf;
}

/* Live user LI re-encoded with its new list of groups, into
 * B->scratch. */
static int encode_changed(const struct plan *pl, struct built *b, uint32_t li)
{
	char f[4][SNAP_FIELD_MAX + 1];
	struct rec_user r;
	struct snap_user u;
	size_t len;
	const uint8_t *rec = lrec(&pl->l->k[0], li, &len);

	if (rec_decode_user(rec, len, pl->id_min, pl->id_max, &r) < 0)
		return -EBADMSG;
	u = (struct snap_user){cstr(f[0], r.name),
	                       r.uid,
	                       r.gid,
	                       cstr(f[1], r.gecos),
	                       cstr(f[2], r.home),
	                       cstr(f[3], r.shell),
	                       r.flags & REC_USER_ACTIVE};
	rec_buf_reset(&b->scratch);
	return rec_encode_user(&b->scratch, &u, pl->pool + pl->lstart[li],
	                       pl->lcount[li]);
}

/* The users of the next snapshot in uid order: the live ones that stay,
 * copied unless their list of groups changed, and the added ones. */
static int build_users(const struct plan *pl, struct built *b,
                       uint32_t *nactive)
{
	const struct snap_patch *p = pl->p;
	const struct live_kind *lk = &pl->l->k[0];
	struct nkind *k = &b->k[0];
	size_t na = p->nusers_added, n = 0, li = 0, a = 0;
	uint32_t *order = added_order(p, false, na);
	int rc = 0;

	for (size_t i = 0; i < pl->nlive; i++)
		n += !(pl->uflag[i] & F_REMOVED);
	if (order == NULL || nkind_init(k, n + na) < 0)
		rc = -ENOMEM;
	*nactive = 0;
	for (size_t i = 0; rc == 0 && i < n + na; i++) {
		while (li < pl->nlive && (pl->uflag[li] & F_REMOVED))
			li++;
		if (li < pl->nlive &&
		    (a == na ||
		     live_id(lk, li) < p->users_added[order[a]].uid)) {
			struct rec_str name;
			size_t len;
			const uint8_t *r = lrec(lk, li, &len);

			*nactive += (r[8] & REC_USER_ACTIVE) != 0;
			if (pl->uflag[li] & F_CHANGED) {
				rc = encode_changed(pl, b, (uint32_t)li);
				if (rc == 0 && !live_name(lk, false, li, &name))
					rc = -EBADMSG;
				if (rc == 0)
					rc = put_encoded(b, k, i, name.p,
					                 name.len,
					                 live_id(lk, li));
			} else if (!live_name(lk, false, li, &name)) {
				rc = -EBADMSG;
			} else {
				rc = put_entry(k, i, r, len, name.p, name.len,
				               live_id(lk, li));
			}
			li++;
		} else {
			const struct snap_user *u = &p->users_added[order[a]];

			*nactive += u->active;
			rec_buf_reset(&b->scratch);
			rc = rec_encode_user(&b->scratch, u,
			                     pl->pool + pl->astart[order[a]],
			                     pl->acount[order[a]]);
			if (rc == 0)
				rc = put_encoded(b, k, i, u->name,
				                 strlen(u->name), u->uid);
			a++;
		}
	}
	free(order);
	return rc == 0 ? nkind_finish(k) : rc;
}

static int build_groups(const struct plan *pl, struct built *b)
{
	const struct snap_patch *p = pl->p;
	const struct live_kind *lk = &pl->l->k[1];
	struct nkind *k = &b->k[1];
	size_t na = p->ngroups_added, n = 0, gi = 0, a = 0;
	uint32_t *order = added_order(p, true, na);
	int rc = 0;

	for (size_t i = 0; i < lk->n; i++)
		n += !(pl->gflag[i] & F_REMOVED);
	if (order == NULL || nkind_init(k, n + na) < 0)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n + na; i++) {
		while (gi < lk->n && (pl->gflag[gi] & F_REMOVED))
			gi++;
		if (gi < lk->n &&
		    (a == na ||
		     live_id(lk, gi) < p->groups_added[order[a]].gid)) {
			struct rec_str name;
			size_t len;
			const uint8_t *r = lrec(lk, gi, &len);

			if (!live_name(lk, true, gi, &name))
				rc = -EBADMSG;
			else
				rc = put_entry(k, i, r, len, name.p, name.len,
				               live_id(lk, gi));
			gi++;
		} else {
			const struct snap_group *g = &p->groups_added[order[a]];

			rec_buf_reset(&b->scratch);
			rc = rec_encode_group(&b->scratch, g);
			if (rc == 0)
				rc = put_encoded(b, k, i, g->name,
				                 strlen(g->name), g->gid);
			a++;
		}
	}
	free(order);
	return rc == 0 ? nkind_finish(k) : rc;
}

static int patch_fill(void *arg, bool group, enum writer_table t,
                      struct writer_value *v, char *err, size_t errlen)
{
	const struct nkind *k = &((const struct built *)arg)->k[group];

	(void)err;
	(void)errlen;
	switch (t) {
	case WT_OFFSETS:
		writer_value_append(v, k->off, 4 * (k->n + 1));
		break;
	case WT_RECORDS:
		for (size_t i = 0; i < k->nspan; i++)
			writer_value_append(v, k->span[i].p, k->span[i].len);
		break;
	case WT_BYNAME:
		writer_value_append(v, k->byname, 4 * k->cap);
		break;
	default:
		writer_value_append(v, k->byid, 4 * k->cap);
		break;
	}
	return 0;
}

static struct writer_source patch_source(struct built *b)
{
	struct writer_source s = {.fill = patch_fill, .arg = b};

	for (int g = 0; g < 2; g++) {
		s.len[g][WT_OFFSETS] = 4 * (b->k[g].n + 1);
		s.len[g][WT_RECORDS] = b->k[g].reclen;
		s.len[g][WT_BYNAME] = 4 * b->k[g].cap;
		s.len[g][WT_BYID] = 4 * b->k[g].cap;
	}
	return s;
}

/* ---- verification ----------------------------------------------------- */

/* The LEN bytes at P equal K's records from byte AT on. */
static bool spans_are(const struct nkind *k, const uint8_t *p, size_t len)
{
	size_t at = 0;

	if (len != k->reclen)
		return false;
	for (size_t i = 0; i < k->nspan; i++) {
		if (memcmp(p + at, k->span[i].p, k->span[i].len) != 0)
			return false;
		at += k->span[i].len;
	}
	return true;
}

static bool value_is(const MDB_val *d, const void *p, size_t len)
{
	return d->mv_size == len &&
	       (len == 0 || memcmp(d->mv_data, p, len) == 0);
}

/* Every value of the new file T, read with liblmdb, is the one built. */
static int verify_values(const struct temp *t, const struct built *b, char *err,
                         size_t errlen)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	struct stat st1, st2;
	int fd, rc = mdb_env_create(&env);
	bool same = true;

	if (rc == 0)
		rc = mdb_env_open(env, t->path,
		                  MDB_NOSUBDIR | MDB_NOLOCK | MDB_RDONLY, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, NULL, 0, &dbi);
	if (rc == 0 && (mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &st1) < 0 ||
	                fstat(t->fd, &st2) < 0 || st1.st_dev != st2.st_dev ||
	                st1.st_ino != st2.st_ino))
		rc = EPERM;
	for (int i = 0; rc == 0 && same && i < 9; i++) {
		MDB_val key = {strlen(keys[i]), (void *)keys[i]}, d;
		const struct nkind *k = &b->k[i > 4];

		rc = mdb_get(txn, dbi, &key, &d);
		if (rc != 0)
			break;
		switch (i == 0 ? -1 : (i - 1) % 4) {
		case -1:
			same = value_is(&d, b->meta.data, b->meta.len);
			break;
		case WT_OFFSETS:
			same = value_is(&d, k->off, 4 * (k->n + 1));
			break;
		case WT_RECORDS:
			same = spans_are(k, d.mv_data, d.mv_size);
			break;
		case WT_BYNAME:
			same = value_is(&d, k->byname, 4 * k->cap);
			break;
		default:
			same = value_is(&d, k->byid, 4 * k->cap);
			break;
		}
	}
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	if (rc != 0 || !same)
		return FAIL(
		        err, errlen, -EBADMSG, "verifying the new snapshot: %s",
		        rc ? mdb_strerror(rc) : "a table is not the one built");
	return 0;
}

/* Each entry of K is found in the hash tables built, by its hash. */
static bool tables_find_all(const struct nkind *k)
{
	size_t mask = k->cap - 1;

	for (size_t i = 0; i < k->n; i++) {
		const uint8_t *t[2] = {k->byname, k->byid};
		uint32_t h[2] = {k->hname[i], rec_hash_id(k->id[i])};

		for (int w = 0; w < 2; w++) {
			size_t j = h[w] & mask, probes = 0;
			uint32_t v;

			while ((v = rec_get_le32(t[w] + 4 * j)) != i + 1) {
				if (v == 0 || ++probes > mask)
					return false;
				j = (j + 1) & mask;
			}
		}
	}
	return true;
}

/* A user as it must come back. */
struct want {
	struct rec_str name, gecos, home, shell;
	uint32_t uid, gid, ngids;
	bool active;
	const uint32_t *gids;
};

static bool str_is(const char *s, struct rec_str w)
{
	return strlen(s) == w.len && memcmp(s, w.p, w.len) == 0;
}

static struct rec_str rs(const char *s)
{
	return (struct rec_str){s, strlen(s)};
}

static bool passwd_is(const struct passwd *pw, const struct want *w)
{
	return pw->pw_uid == w->uid && pw->pw_gid == w->gid &&
	       str_is(pw->pw_name, w->name) && str_is(pw->pw_gecos, w->gecos) &&
	       str_is(pw->pw_dir, w->home) && str_is(pw->pw_shell, w->shell);
}

/* W, through the reader, by name and by uid, its account and its
 * groups. */
static int verify_user(struct snap_reader *r, const struct want *w, char *buf,
                       size_t buflen)
{
	char name[SNAP_NAME_MAX + 1];
	struct passwd pw;
	struct snap_account a;
	long int start = 0, size = 0;
	gid_t *gids = NULL;
	int rc;

	cstr(name, w->name);
	rc = snap_getpwnam(r, name, &pw, buf, buflen);
	if (rc == 0 && !passwd_is(&pw, w))
		rc = -EBADMSG;
	if (rc == 0)
		rc = snap_getpwuid(r, w->uid, &pw, buf, buflen);
	if (rc == 0 && !passwd_is(&pw, w))
		rc = -EBADMSG;
	if (rc == 0)
		rc = snap_get_account(r, name, &a);
	if (rc == 0 && a.active != w->active)
		rc = -EBADMSG;
	if (rc == 0) {
		rc = snap_initgroups(r, name, 0, &start, &size, &gids, 0);
		if (rc == SNAP_NONE && w->ngids == 0)
			rc = 0;
		else if (rc == 0 && (size_t)start != w->ngids)
			rc = -EBADMSG;
		for (uint32_t i = 0; rc == 0 && i < w->ngids; i++)
			if (gids[i] != w->gids[i])
				rc = -EBADMSG;
		free(gids);
	}
	return rc;
}

static int verify_users(const struct plan *pl, struct snap_reader *r, char *buf,
                        size_t buflen)
{
	const struct snap_patch *p = pl->p;
	struct passwd pw;
	int rc = 0;

	for (size_t j = 0; rc == 0 && j < p->nusers_added; j++) {
		const struct snap_user *u = &p->users_added[j];
		struct want w = {
		        rs(u->name),   rs(u->gecos), rs(u->home),
		        rs(u->shell),  u->uid,       u->gid,
		        pl->acount[j], u->active,    pl->pool + pl->astart[j]};

		rc = verify_user(r, &w, buf, buflen);
	}
	for (uint32_t li = 0; rc == 0 && li < pl->nlive; li++) {
		struct rec_user u;
		size_t len;
		const uint8_t *rec = lrec(&pl->l->k[0], li, &len);
		char name[SNAP_NAME_MAX + 1];

		if ((pl->uflag[li] & (F_REMOVED | F_READDED)) == F_REMOVED) {
			/* Gone for good: not found by name. */
			if (!live_name(&pl->l->k[0], false, li, &u.name))
				return -EBADMSG;
			rc = snap_getpwnam(r, cstr(name, u.name), &pw, buf,
			                   buflen);
			rc = rc == SNAP_NONE ? 0 : -EBADMSG;
			continue;
		}
		if (!(pl->uflag[li] & F_CHANGED))
			continue;
		if (rec_decode_user(rec, len, pl->id_min, pl->id_max, &u) < 0)
			return -EBADMSG;
		struct want w = {u.name,
		                 u.gecos,
		                 u.home,
		                 u.shell,
		                 u.uid,
		                 u.gid,
		                 pl->lcount[li],
		                 (u.flags & REC_USER_ACTIVE) != 0,
		                 pl->pool + pl->lstart[li]};

		rc = verify_user(r, &w, buf, buflen);
	}
	return rc;
}

static int verify_groups(const struct plan *pl, struct snap_reader *r,
                         char *buf, size_t buflen)
{
	const struct snap_patch *p = pl->p;
	struct group gr;
	int rc = 0;

	for (size_t j = 0; rc == 0 && j < p->ngroups_added; j++) {
		const struct snap_group *g = &p->groups_added[j];

		rc = snap_getgrnam(r, g->name, &gr, buf, buflen);
		if (rc == 0 && !writer_group_same(&gr, g))
			rc = -EBADMSG;
		if (rc == 0)
			rc = snap_getgrgid(r, g->gid, &gr, buf, buflen);
		if (rc == 0 &&
		    (gr.gr_gid != g->gid || strcmp(gr.gr_name, g->name) != 0))
			rc = -EBADMSG;
	}
	for (size_t j = 0; rc == 0 && j < p->ngroups_removed; j++) {
		const char *n = p->groups_removed[j];
		size_t k;

		for (k = 0; k < p->ngroups_added; k++)
			if (strcmp(p->groups_added[k].name, n) == 0)
				break;
		if (k < p->ngroups_added)
			continue; /* back, and verified above */
		rc = snap_getgrnam(r, n, &gr, buf, buflen);
		rc = rc == SNAP_NONE ? 0 : -EBADMSG;
	}
	return rc;
}

/* What changed, read back through the reader NSS uses; and the file's
 * tables, which are the bytes built.  The records copied from LIVE are
 * not decoded: they are the bytes of records the publish that wrote LIVE
 * verified, and their copy is checked by the comparison of the tables. */
static int verify(const struct plan *pl, const struct built *b,
                  const struct temp *t, const struct snap_meta *m, char *err,
                  size_t errlen)
{
	size_t buflen = 4 * SNAP_FIELD_MAX + 256;
	struct snap_reader *r = NULL;
	struct snap_meta got;
	char *buf = NULL;
	int rc = verify_values(t, b, err, errlen);

	if (rc < 0)
		return rc;
	if (!tables_find_all(&b->k[0]) || !tables_find_all(&b->k[1]))
		return FAIL(err, errlen, -EBADMSG,
		            "verifying the new snapshot: an entry is not "
		            "found in its tables");
	for (size_t j = 0; j < pl->p->ngroups_added; j++) {
		size_t need = 256 + pl->p->groups_added[j].nmembers *
		                            (SNAP_NAME_MAX + 9);

		if (need > buflen)
			buflen = need;
	}
	buf = malloc(buflen);
	rc = buf ? snap_reader_new(t->path, geteuid(), &r) : -ENOMEM;
	if (rc == 0)
		rc = snap_get_meta(r, &got);
	if (rc == 0 && !writer_meta_same(&got, m))
		rc = -EBADMSG;
	if (rc == 0)
		rc = verify_users(pl, r, buf, buflen);
	if (rc == 0)
		rc = verify_groups(pl, r, buf, buflen);
	snap_reader_free(r);
	free(buf);
	if (rc != 0)
		return FAIL(err, errlen, rc < 0 ? rc : -EBADMSG,
		            "verifying the new snapshot: %s",
		            snap_strerror(rc < 0 ? rc : -EBADMSG));
	return 0;
}

/* ---- the patch -------------------------------------------------------- */

static int build(const struct plan *pl, struct built *b,
                 const struct snap_meta *meta, struct snap_meta *m, char *err,
                 size_t errlen)
{
	uint32_t nactive = 0;
	int rc = build_users(pl, b, &nactive);

	if (rc == 0)
		rc = build_groups(pl, b);
	if (rc == -ENOMEM)
		return oom(err, errlen);
	if (rc < 0)
		return FAIL(err, errlen, rc, "building the tables: %s",
		            strerror(-rc));
	*m = *meta;
	m->version = SNAP_FORMAT_VERSION;
	m->id_min = pl->id_min;
	m->id_max = pl->id_max;
	m->nusers = (uint32_t)b->k[0].n;
	m->ngroups = (uint32_t)b->k[1].n;
	m->nactive = nactive;
	if (!snap_text_valid(m->source, strnlen(m->source, sizeof(m->source))))
		return FAIL(err, errlen, -EINVAL, "invalid snapshot source");
	if (rec_encode_meta(&b->meta, m) < 0)
		return oom(err, errlen);
	return 0;
}

int snap_writer_patch(const void *live, size_t len, const struct snap_patch *p,
                      const struct snap_meta *meta, const char *relpath,
                      char *err, size_t errlen)
{
	struct live l = {.p = live, .len = len};
	struct plan pl = {.p = p, .l = &l};
	struct built b = {0};
	struct temp t = {.dirfd = -1, .fd = -1};
	struct writer_source s;
	struct snap_meta m;
	char path[PATH_MAX];
	int rc;

	rc = writer_publish_path(relpath, path, err, errlen);
	if (rc == 0)
		rc = live_locate(path, &l, err, errlen);
	if (rc == 0)
		rc = live_check(&l, err, errlen);
	if (rc == 0)
		rc = plan_build(&pl, err, errlen);
	if (rc == 0)
		rc = build(&pl, &b, meta, &m, err, errlen);
	if (rc == 0)
		rc = writer_make_temp(path, &t, err, errlen);
	if (rc == 0) {
		TESTPOINT("snap-temp-created");
		s = patch_source(&b);
		rc = writer_write_file(&s, &t, &m, err, errlen);
		if (rc == 0)
			rc = verify(&pl, &b, &t, &m, err, errlen);
		if (rc == 0)
			rc = writer_finish(&t, path, err, errlen);
		if (rc != 0)
			unlinkat(t.dirfd, t.base, 0);
	}
	writer_temp_close(&t);
	built_free(&b);
	plan_free(&pl);
	return rc;
}

/*
 * reader.c: lookups in the published snapshot.
 *
 * A reader keeps one snapshot mapped (a handle).  When a handle is opened,
 * its tables (record.h) are located once; a lookup is then a hash probe and
 * a record decode in the map, with no LMDB call, no lock and no system
 * call.  That is sound because a published file never changes and a
 * read-only LMDB environment never moves its map.
 *
 * Each thread keeps a reference to the handle it last used.  At most every
 * SNAP_RECHECK_MS it checks with one fstat() that the file is still the
 * live one and still trusted.  A publish renames a new file over the path,
 * so the old inode's link count drops to zero and the next check opens the
 * new one; the writer waits out the check interval after the rename, so a
 * lookup that starts after a publish returned sees the new file.  The old
 * mapping is unmapped when the last thread lets go of it.  In a child after
 * fork() the inherited handles are dropped unused, as LMDB requires.
 *
 * The reader never logs, never exits and never re-enters NSS.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pack.h"
#include "record.h"
#include "snap.h"

/* One kind of entry (users or groups): see record.h. */
struct table {
	const uint8_t *records;
	size_t records_len;
	const uint8_t *offsets; /* n + 1 entries */
	uint32_t n;
	const uint8_t *byname, *byid; /* mask + 1 entries each */
	uint32_t mask;
};

struct snap_handle {
	MDB_env *env;
	int fd;
	unsigned refs;       /* atomic; the reader's own counts as one */
	unsigned fork_epoch; /* the process generation that opened it */
	struct snap_meta meta;
	struct table users, groups;
};

struct snap_reader {
	pthread_mutex_t lock; /* guards cur */
	char path[PATH_MAX];
	uid_t owner;
	unsigned long serial; /* tells readers apart in the threads' caches */
	struct snap_handle *cur;
	struct snap_reader *next; /* in the fork registry */
};

/* ---- fork handling ---------------------------------------------------- */

/* Bumped in the child after fork(); a handle from an older epoch belongs to
 * the parent and is closed unused. */
static unsigned fork_epoch;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snap_reader *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Every reader's lock is held across fork() so that the child never inherits
 * one held by a thread that does not exist there. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
	for (struct snap_reader *r = registry; r != NULL; r = r->next)
		pthread_mutex_lock(&r->lock);
}

static void atfork_parent(void)
{
	for (struct snap_reader *r = registry; r != NULL; r = r->next)
		pthread_mutex_unlock(&r->lock);
	pthread_mutex_unlock(&registry_lock);
}

static void atfork_child(void)
{
	fork_epoch++;
	atfork_parent();
}

static void atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void registry_add(struct snap_reader *r)
{
	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&registry_lock);
	r->next = registry;
	registry = r;
	pthread_mutex_unlock(&registry_lock);
}

static void registry_remove(struct snap_reader *r)
{
	pthread_mutex_lock(&registry_lock);
	for (struct snap_reader **p = &registry; *p != NULL; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
}

/* ---- trust ------------------------------------------------------------ */

static bool owner_ok(const struct stat *st, uid_t owner)
{
	return st->st_uid == 0 || st->st_uid == owner;
}

/* The file itself: a regular file of the right owner, writable by nobody
 * else. */
static int file_trusted(const struct stat *st, uid_t owner)
{
	if (!S_ISREG(st->st_mode))
		return S_ISLNK(st->st_mode) ? -ELOOP : -EPERM;
	if (!owner_ok(st, owner) || (st->st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

/* The directory holding the snapshot must be like the file; its ancestors
 * may also be sticky and world-writable (/tmp), since then nobody else can
 * rename our entries in them. */
static int dirs_trusted(const char *path, uid_t owner)
{
	char dir[PATH_MAX];
	struct stat st;
	size_t len = strlen(path);
	bool immediate = true;

	if (path[0] != '/' || len >= sizeof(dir))
		return -EINVAL;
	memcpy(dir, path, len + 1);
	for (;;) {
		char *slash = strrchr(dir, '/');

		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode) || !owner_ok(&st, owner))
			return -EPERM;
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    (immediate || !(st.st_mode & S_ISVTX)))
			return -EPERM;
		if (strcmp(dir, "/") == 0)
			return 0;
		immediate = false;
	}
}

/* ---- handles ---------------------------------------------------------- */

static int mdb_to_errno(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return SNAP_NONE;
	case MDB_VERSION_MISMATCH:
		return -EPROTONOSUPPORT;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_BAD_TXN:
	case MDB_BAD_VALSIZE:
		return -EBADMSG;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

static void handle_close(struct snap_handle *h)
{
	if (h == NULL)
		return;
	mdb_env_close(h->env);
	free(h);
}

/* Refuses a file whose committed pages run past its end: reading them would
 * raise SIGBUS in the caller's process. */
static int check_size(MDB_env *env, const struct stat *st)
{
	MDB_envinfo info;
	MDB_stat mst;

	if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &mst) != 0)
		return -EBADMSG;
	if (mst.ms_psize == 0 ||
	    info.me_last_pgno >= (size_t)st->st_size / mst.ms_psize)
		return -EBADMSG;
	return 0;
}

/* Reads one table value; a missing one means a damaged snapshot. */
static int get_value(MDB_txn *txn, MDB_dbi dbi, const char *key, MDB_val *val)
{
	MDB_val k = {strlen(key), (void *)key};
	int rc = mdb_get(txn, dbi, &k, val);

	return rc == MDB_NOTFOUND ? -EBADMSG : mdb_to_errno(rc);
}

/* Locates and checks one kind's four tables.  Per-record offsets are checked
 * at each use; what is checked here is what keeps every index in bounds. */
static int load_table(MDB_txn *txn, MDB_dbi dbi, const char *const keys[4],
                      uint32_t n, struct table *t)
{
	MDB_val recs, offs, byname, byid;
	int rc;

	rc = get_value(txn, dbi, keys[0], &recs);
	if (rc == 0)
		rc = get_value(txn, dbi, keys[1], &offs);
	if (rc == 0)
		rc = get_value(txn, dbi, keys[2], &byname);
	if (rc == 0)
		rc = get_value(txn, dbi, keys[3], &byid);
	if (rc != 0)
		return rc;
	if (offs.mv_size != ((size_t)n + 1) * 4 || byname.mv_size < 8 ||
	    byname.mv_size != byid.mv_size || byname.mv_size % 4 != 0 ||
	    byname.mv_size / 4 > UINT32_MAX ||
	    (byname.mv_size / 4 & (byname.mv_size / 4 - 1)) != 0 ||
	    byname.mv_size / 4 <= n)
		return -EBADMSG;
	t->records = recs.mv_data;
	t->records_len = recs.mv_size;
	t->offsets = offs.mv_data;
	t->n = n;
	t->byname = byname.mv_data;
	t->byid = byid.mv_data;
	t->mask = (uint32_t)(byname.mv_size / 4 - 1);
	if (rec_get_le32(t->offsets) != 0 ||
	    rec_get_le32(t->offsets + 4 * (size_t)n) != recs.mv_size)
		return -EBADMSG;
	return 0;
}

/* The pointers into the map outlive the transaction: the file never
 * changes and the environment's map stays where it is until it is
 * closed. */
static int load_tables(struct snap_handle *h)
{
	static const char *const ukeys[4] = {
	        TABLE_USER_RECORDS, TABLE_USER_OFFSETS, TABLE_USER_BYNAME,
	        TABLE_USER_BYID};
	static const char *const gkeys[4] = {
	        TABLE_GROUP_RECORDS, TABLE_GROUP_OFFSETS, TABLE_GROUP_BYNAME,
	        TABLE_GROUP_BYID};
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val val;
	int rc;

	rc = mdb_to_errno(mdb_txn_begin(h->env, NULL, MDB_RDONLY, &txn));
	if (rc == 0)
		rc = mdb_to_errno(mdb_dbi_open(txn, NULL, 0, &dbi));
	if (rc == 0)
		rc = get_value(txn, dbi, TABLE_META, &val);
	if (rc == 0)
		rc = rec_decode_meta(val.mv_data, val.mv_size, &h->meta);
	if (rc == 0)
		rc = load_table(txn, dbi, ukeys, h->meta.nusers, &h->users);
	if (rc == 0)
		rc = load_table(txn, dbi, gkeys, h->meta.ngroups, &h->groups);
	mdb_txn_abort(txn);
	return rc;
}

static int env_open(struct snap_handle *h, const char *path,
                    const struct stat *st)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t mapsize = (size_t)st->st_size;
	int rc;

	/* Map the file's own size, not the writer's map size. */
	if (page > 0 && mapsize % (size_t)page)
		mapsize += (size_t)page - mapsize % (size_t)page;
	rc = mdb_env_create(&h->env);
	if (rc == 0 && mapsize > 0)
		rc = mdb_env_set_mapsize(h->env, mapsize);
	if (rc == 0)
		rc = mdb_env_open(h->env, path,
		                  MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR, 0);
	if (rc == 0)
		rc = mdb_env_get_fd(h->env, &h->fd);
	if (rc == ENOENT)
		return -ENOENT;
	return rc > 0 && rc < MDB_KEYEXIST ? -rc : mdb_to_errno(rc);
}

static int handle_open(const char *path, uid_t owner, struct snap_handle **out)
{
	struct snap_handle *h;
	struct stat st, fst;
	int r;

	r = dirs_trusted(path, owner);
	if (r < 0)
		return r;
	if (lstat(path, &st) < 0)
		return -errno;
	r = file_trusted(&st, owner);
	if (r < 0)
		return r;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->fd = -1;
	r = env_open(h, path, &st);
	if (r < 0)
		goto out;
	/* LMDB opens without O_CLOEXEC; close the window as early as we can. */
	if (fcntl(h->fd, F_SETFD, FD_CLOEXEC) < 0 || fstat(h->fd, &fst) < 0) {
		r = -errno;
		goto out;
	}
	/* The file LMDB opened must be the one we checked. */
	if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		r = -EAGAIN;
		goto out;
	}
	r = file_trusted(&fst, owner);
	if (r == 0)
		r = check_size(h->env, &fst);
	if (r == 0)
		r = load_tables(h);
	if (r < 0)
		goto out;
	h->refs = 1;
	h->fork_epoch = fork_epoch;
	*out = h;
	h = NULL; /* transferred */
out:
	handle_close(h);
	return r;
}

/* 0 when H is still the live, trusted file; 1 when it was replaced or
 * removed; negative when it became untrusted in place. */
static int handle_check(const struct snap_handle *h, uid_t owner)
{
	struct stat st;

	if (fstat(h->fd, &st) < 0)
		return -errno;
	if (st.st_nlink == 0)
		return 1;
	return file_trusted(&st, owner);
}

static void handle_get(struct snap_handle *h)
{
	__atomic_add_fetch(&h->refs, 1, __ATOMIC_ACQ_REL);
}

static void handle_put(struct snap_handle *h)
{
	if (__atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0)
		handle_close(h);
}

/* Drops the reader's current handle.  Called with the lock held. */
static void detach_locked(struct snap_reader *r)
{
	struct snap_handle *h = r->cur;

	r->cur = NULL;
	if (h == NULL)
		return;
	if (h->fork_epoch != fork_epoch)
		handle_close(h); /* the parent's threads do not exist here */
	else
		handle_put(h);
}

/* A reference to R's live snapshot, opening or reopening it as needed.
 * STALE is the handle the caller found outdated, or NULL. */
static int current(struct snap_reader *r, struct snap_handle *stale,
                   struct snap_handle **out)
{
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	/* The reader's handle may be older than the caller's own check: a
	 * thread that comes back from another reader, or a first lookup. */
	if (r->cur != NULL &&
	    (r->cur == stale || r->cur->fork_epoch != fork_epoch ||
	     handle_check(r->cur, r->owner) != 0))
		detach_locked(r);
	/* -EAGAIN: a publish replaced the file between our checks and
	 * LMDB's open; the next attempt sees the newer file. */
	for (int tries = 0; r->cur == NULL; tries++) {
		rc = handle_open(r->path, r->owner, &r->cur);
		if (rc < 0 && (rc != -EAGAIN || tries == 3))
			goto out;
	}
	handle_get(r->cur);
	*out = r->cur;
	rc = 0;
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* ---- the threads' references ------------------------------------------ */

/* Each thread holds one reference to the handle it last used, so that a
 * lookup writes no memory that another thread reads. */
struct thread_ref {
	unsigned long serial; /* of the reader */
	struct snap_handle *h;
	int64_t checked; /* when h was last found live, in ns */
};

static __thread struct thread_ref tref;
static pthread_key_t tref_key;
static bool tref_key_ok;
static pthread_once_t tref_once = PTHREAD_ONCE_INIT;
static unsigned long next_serial = 1;

static void tref_drop(struct thread_ref *t)
{
	struct snap_handle *h = t->h;

	t->h = NULL;
	t->serial = 0;
	if (h == NULL)
		return;
	if (h->fork_epoch != fork_epoch)
		return; /* the reader closes the parent's handles */
	handle_put(h);
}

/* At thread exit: let go of the thread's handle. */
static void tref_exit(void *unused)
{
	tref_drop(&tref);
}

static void tref_init(void)
{
	tref_key_ok = pthread_key_create(&tref_key, tref_exit) == 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The snapshot this thread should read now.  The reference stays the
 * thread's: there is nothing to release after the lookup. */
static int acquire(struct snap_reader *r, struct snap_handle **out)
{
	struct thread_ref *t = &tref;
	struct snap_handle *h = NULL, *stale = NULL;
	int64_t now = now_ns();
	int rc;

	if (t->h != NULL && t->serial == r->serial &&
	    t->h->fork_epoch == fork_epoch) {
		if (now - t->checked < (int64_t)SNAP_RECHECK_MS * 1000000) {
			*out = t->h;
			return 0;
		}
		rc = handle_check(t->h, r->owner);
		if (rc == 0) {
			t->checked = now;
			*out = t->h;
			return 0;
		}
		stale = t->h;
	}
	if (t->h != NULL && t->h->fork_epoch != fork_epoch) {
		t->h = NULL; /* closed by current() through the reader */
	}
	rc = current(r, stale, &h);
	tref_drop(t);
	if (rc < 0)
		return rc;
	pthread_once(&tref_once, tref_init);
	if (tref_key_ok)
		pthread_setspecific(tref_key, t);
	t->serial = r->serial;
	t->h = h;
	t->checked = now;
	*out = h;
	return 0;
}

/* ---- readers ---------------------------------------------------------- */

static struct snap_reader default_reader = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
};
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
	const char *env = secure_getenv(SNAP_PATH_ENV);
	const char *path = SNAP_DEFAULT_PATH;

	if (env != NULL && env[0] == '/' && strlen(env) < PATH_MAX)
		path = env;
	memcpy(default_reader.path, path, strlen(path) + 1);
	default_reader.owner = 0;
	default_reader.serial =
	        __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
	registry_add(&default_reader);
}

struct snap_reader *snap_reader_default(void)
{
	pthread_once(&default_once, default_init);
	return &default_reader;
}

/* A module can be unloaded (libpam dlcloses its modules): stop the thread
 * exit hook, whose code goes away, and unmap the snapshot unless a thread
 * still holds it. */
__attribute__((destructor)) static void default_unload(void)
{
	struct snap_handle *h;

	if (tref_key_ok) {
		pthread_key_delete(tref_key);
		tref_key_ok = false;
	}
	tref_drop(&tref);
	pthread_mutex_lock(&default_reader.lock);
	h = default_reader.cur;
	if (h != NULL && __atomic_load_n(&h->refs, __ATOMIC_ACQUIRE) == 1 &&
	    h->fork_epoch == fork_epoch) {
		default_reader.cur = NULL;
		handle_close(h);
	}
	pthread_mutex_unlock(&default_reader.lock);
	registry_remove(&default_reader);
}

int snap_reader_new(const char *path, uid_t owner, struct snap_reader **out)
{
	struct snap_reader *r;

	if (path == NULL || strlen(path) >= PATH_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	memcpy(r->path, path, strlen(path) + 1);
	r->owner = owner;
	r->serial = __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
	registry_add(r);
	*out = r;
	return 0;
}

/* Other threads may still hold R's handle; they let go of it on their next
 * lookup on another reader, or when they exit. */
void snap_reader_free(struct snap_reader *r)
{
	if (r == NULL)
		return;
	if (tref.serial == r->serial)
		tref_drop(&tref);
	registry_remove(r);
	pthread_mutex_lock(&r->lock);
	detach_locked(r);
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* ---- records ---------------------------------------------------------- */

/* Record I of table T, bounds-checked. */
static int record_at(const struct table *t, uint32_t i, const uint8_t **p,
                     size_t *len)
{
	uint32_t a, b;

	if (i >= t->n)
		return -EBADMSG;
	a = rec_get_le32(t->offsets + 4 * (size_t)i);
	b = rec_get_le32(t->offsets + 4 * (size_t)i + 4);
	if (a > b || b > t->records_len)
		return -EBADMSG;
	*p = t->records + a;
	*len = b - a;
	return 0;
}

static int user_at(const struct snap_handle *h, uint32_t i, struct rec_user *u)
{
	const uint8_t *p;
	size_t len;
	int rc = record_at(&h->users, i, &p, &len);

	return rc ? rc
	          : rec_decode_user(p, len, h->meta.id_min, h->meta.id_max, u);
}

static int group_at(const struct snap_handle *h, uint32_t i,
                    struct rec_group *g)
{
	const uint8_t *p;
	size_t len;
	int rc = record_at(&h->groups, i, &p, &len);

	return rc ? rc
	          : rec_decode_group(p, len, h->meta.id_min, h->meta.id_max, g);
}

/* The id a record starts with, for the binary search of enumeration. */
static int id_at(const struct table *t, uint32_t i, uint32_t *id)
{
	const uint8_t *p;
	size_t len;
	int rc = record_at(t, i, &p, &len);

	if (rc == 0 && len < 4)
		rc = -EBADMSG;
	if (rc == 0)
		*id = rec_get_le32(p);
	return rc;
}

/* The next candidate of a probe sequence: 0 with *IDX set, SNAP_NONE at an
 * empty slot or after every slot, -EBADMSG for an index out of range. */
static int probe(const struct table *t, const uint8_t *slots, uint32_t hash,
                 uint32_t *k, uint32_t *idx)
{
	uint32_t v;

	if (*k > t->mask)
		return SNAP_NONE;
	v = rec_get_le32(slots + 4 * (size_t)((hash + *k) & t->mask));
	(*k)++;
	if (v == 0)
		return SNAP_NONE;
	if (v > t->n)
		return -EBADMSG;
	*idx = v - 1;
	return 0;
}

static bool same_name(const struct rec_str *s, const char *name, size_t len)
{
	return s->len == len && memcmp(s->p, name, len) == 0;
}

static int user_by_name(const struct snap_handle *h, const char *name,
                        struct rec_user *u)
{
	size_t len = strnlen(name, SNAP_NAME_MAX + 1);
	uint32_t hash, k = 0, idx;
	int rc;

	if (!snap_name_valid(name, len))
		return SNAP_NONE;
	hash = rec_hash_name(name, len);
	while ((rc = probe(&h->users, h->users.byname, hash, &k, &idx)) == 0) {
		rc = user_at(h, idx, u);
		if (rc < 0 || same_name(&u->name, name, len))
			return rc;
	}
	return rc;
}

static int user_by_id(const struct snap_handle *h, uint32_t uid,
                      struct rec_user *u)
{
	uint32_t hash = rec_hash_id(uid), k = 0, idx;
	int rc;

	if (!snap_id_valid(uid, h->meta.id_min, h->meta.id_max))
		return SNAP_NONE;
	while ((rc = probe(&h->users, h->users.byid, hash, &k, &idx)) == 0) {
		rc = user_at(h, idx, u);
		if (rc < 0 || u->uid == uid)
			return rc;
	}
	return rc;
}

static int group_by_name(const struct snap_handle *h, const char *name,
                         struct rec_group *g)
{
	size_t len = strnlen(name, SNAP_NAME_MAX + 1);
	uint32_t hash, k = 0, idx;
	int rc;

	if (!snap_name_valid(name, len))
		return SNAP_NONE;
	hash = rec_hash_name(name, len);
	while ((rc = probe(&h->groups, h->groups.byname, hash, &k, &idx)) ==
	       0) {
		rc = group_at(h, idx, g);
		if (rc < 0 || same_name(&g->name, name, len))
			return rc;
	}
	return rc;
}

static int group_by_id(const struct snap_handle *h, uint32_t gid,
                       struct rec_group *g)
{
	uint32_t hash = rec_hash_id(gid), k = 0, idx;
	int rc;

	if (!snap_id_valid(gid, h->meta.id_min, h->meta.id_max))
		return SNAP_NONE;
	while ((rc = probe(&h->groups, h->groups.byid, hash, &k, &idx)) == 0) {
		rc = group_at(h, idx, g);
		if (rc < 0 || g->gid == gid)
			return rc;
	}
	return rc;
}

/* ---- lookups ---------------------------------------------------------- */

typedef int (*query_fn)(const struct snap_handle *h, void *arg);

/* Runs FN on the live snapshot.  Cancellation is held off meanwhile so
 * that a cancelled thread never leaves the reader's lock behind. */
static int run_query(struct snap_reader *r, query_fn fn, void *arg)
{
	struct snap_handle *h;
	int cancel_state, rc;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	rc = acquire(r, &h);
	if (rc == 0)
		rc = fn(h, arg);
	pthread_setcancelstate(cancel_state, NULL);
	return rc;
}

/* A point lookup: by NAME when it is not NULL, else by ID. */
struct point_query {
	const char *name;
	uint32_t id;
	void *ent; /* struct passwd or struct group */
	char *buf;
	size_t buflen;
};

static int q_user(const struct snap_handle *h, void *arg)
{
	struct point_query *a = arg;
	struct rec_user u = {0};
	int rc = a->name ? user_by_name(h, a->name, &u)
	                 : user_by_id(h, a->id, &u);

	return rc == 0 ? pack_passwd(&u, a->ent, a->buf, a->buflen) : rc;
}

static int q_group(const struct snap_handle *h, void *arg)
{
	struct point_query *a = arg;
	struct rec_group g = {0};
	int rc = a->name ? group_by_name(h, a->name, &g)
	                 : group_by_id(h, a->id, &g);

	return rc == 0 ? pack_group(&g, a->ent, a->buf, a->buflen) : rc;
}

int snap_getpwnam(struct snap_reader *r, const char *name, struct passwd *pw,
                  char *buf, size_t buflen)
{
	struct point_query a = {name, 0, pw, buf, buflen};

	return name ? run_query(r, q_user, &a) : SNAP_NONE;
}

int snap_getpwuid(struct snap_reader *r, uid_t uid, struct passwd *pw,
                  char *buf, size_t buflen)
{
	struct point_query a = {NULL, (uint32_t)uid, pw, buf, buflen};

	return run_query(r, q_user, &a);
}

int snap_getgrnam(struct snap_reader *r, const char *name, struct group *gr,
                  char *buf, size_t buflen)
{
	struct point_query a = {name, 0, gr, buf, buflen};

	return name ? run_query(r, q_group, &a) : SNAP_NONE;
}

int snap_getgrgid(struct snap_reader *r, gid_t gid, struct group *gr, char *buf,
                  size_t buflen)
{
	struct point_query a = {NULL, (uint32_t)gid, gr, buf, buflen};

	return run_query(r, q_group, &a);
}

/* ---- enumeration ------------------------------------------------------ */

/* The first record of T with an id >= NEXT.  The cursor's remembered index
 * is used when it is still that record (the same snapshot, or one where the
 * entry sits at the same place); otherwise a binary search finds it. */
static int seek(const struct table *t, const struct snap_cursor *c,
                uint32_t *idx)
{
	uint32_t lo = 0, hi = t->n, id = 0, prev = 0;
	int rc;

	if (c->next > UINT32_MAX)
		return SNAP_NONE;
	if (c->index < t->n && id_at(t, c->index, &id) == 0 && id >= c->next &&
	    (c->index == 0 ||
	     (id_at(t, c->index - 1, &prev) == 0 && prev < c->next))) {
		*idx = c->index;
		return 0;
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		rc = id_at(t, mid, &id);
		if (rc < 0)
			return rc;
		if (id < c->next)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= t->n)
		return SNAP_NONE;
	*idx = lo;
	return 0;
}

struct ent_query {
	struct snap_cursor *c;
	void *ent;
	char *buf;
	size_t buflen;
};

static void advance(struct snap_cursor *c, uint32_t idx, uint32_t id)
{
	c->next = (uint64_t)id + 1;
	c->index = idx + 1;
}

static int q_getpwent(const struct snap_handle *h, void *arg)
{
	struct ent_query *a = arg;
	struct rec_user u = {0};
	uint32_t idx;
	int rc;

	rc = seek(&h->users, a->c, &idx);
	if (rc == 0)
		rc = user_at(h, idx, &u);
	if (rc == 0)
		rc = pack_passwd(&u, a->ent, a->buf, a->buflen);
	if (rc == 0)
		advance(a->c, idx, u.uid);
	return rc;
}

static int q_getgrent(const struct snap_handle *h, void *arg)
{
	struct ent_query *a = arg;
	struct rec_group g = {0};
	uint32_t idx;
	int rc;

	rc = seek(&h->groups, a->c, &idx);
	if (rc == 0)
		rc = group_at(h, idx, &g);
	if (rc == 0)
		rc = pack_group(&g, a->ent, a->buf, a->buflen);
	if (rc == 0)
		advance(a->c, idx, g.gid);
	return rc;
}

int snap_getpwent(struct snap_reader *r, struct snap_cursor *c,
                  struct passwd *pw, char *buf, size_t buflen)
{
	struct ent_query a = {c, pw, buf, buflen};

	return run_query(r, q_getpwent, &a);
}

int snap_getgrent(struct snap_reader *r, struct snap_cursor *c,
                  struct group *gr, char *buf, size_t buflen)
{
	struct ent_query a = {c, gr, buf, buflen};

	return run_query(r, q_getgrent, &a);
}

/* ---- groups of a user ------------------------------------------------- */

struct ig_query {
	const char *user;
	gid_t skip;
	long int *start, *size;
	gid_t **groupsp;
	long int limit;
};

static bool gid_listed(const gid_t *groups, long int n, gid_t gid)
{
	for (long int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* Makes room for one more gid; SNAP_NONE when the caller's limit is
 * reached. */
static int ig_grow(struct ig_query *a)
{
	long int want;
	gid_t *p;

	if (a->limit > 0 && *a->start >= a->limit)
		return SNAP_NONE;
	if (*a->start < *a->size)
		return 0;
	want = *a->size > 0 ? *a->size * 2 : 16;
	if (a->limit > 0 && want > a->limit)
		want = a->limit;
	p = realloc(*a->groupsp, (size_t)want * sizeof(gid_t));
	if (p == NULL)
		return -ENOMEM;
	*a->groupsp = p;
	*a->size = want;
	return 0;
}

static int q_initgroups(const struct snap_handle *h, void *arg)
{
	const struct snap_meta *m = &h->meta;
	struct ig_query *a = arg;
	struct rec_user u = {0};
	int rc;

	/* The stored gids are unique: only what the caller had listed
	 * before needs looking at, not what we append. */
	long int listed = *a->start;

	rc = user_by_name(h, a->user, &u);
	if (rc == 0 && u.ngroups == 0)
		rc = SNAP_NONE;
	for (uint32_t i = 0; rc == 0 && i < u.ngroups; i++) {
		gid_t gid = rec_get_le32(u.gids + 4 * (size_t)i);

		if (!snap_id_valid(gid, m->id_min, m->id_max))
			return -EBADMSG;
		if (gid == a->skip || gid_listed(*a->groupsp, listed, gid))
			continue;
		rc = ig_grow(a);
		/* At the caller's limit, what fits is the answer. */
		if (rc == SNAP_NONE)
			return 0;
		if (rc == 0)
			(*a->groupsp)[(*a->start)++] = gid;
	}
	return rc;
}

int snap_initgroups(struct snap_reader *r, const char *user, gid_t skip,
                    long int *start, long int *size, gid_t **groupsp,
                    long int limit)
{
	struct ig_query a = {user, skip, start, size, groupsp, limit};

	return run_query(r, q_initgroups, &a);
}

/* ---- accounts --------------------------------------------------------- */

struct acct_query {
	const char *user;
	const char *group;
	struct snap_account *out;
};

static int q_account(const struct snap_handle *h, void *arg)
{
	struct acct_query *a = arg;
	struct rec_user u = {0};
	int rc;

	rc = user_by_name(h, a->user, &u);
	if (rc != 0)
		return rc;
	a->out->uid = u.uid;
	a->out->gid = u.gid;
	a->out->active = (u.flags & REC_USER_ACTIVE) != 0;
	a->out->snapshot_created = h->meta.created;
	a->out->snapshot_generation = h->meta.generation;
	return 0;
}

int snap_get_account(struct snap_reader *r, const char *user,
                     struct snap_account *out)
{
	struct acct_query a = {user, NULL, out};

	return run_query(r, q_account, &a);
}

static int q_in_group(const struct snap_handle *h, void *arg)
{
	struct acct_query *a = arg;
	struct rec_user u = {0};
	struct rec_group g = {0};
	int rc;

	rc = group_by_name(h, a->group, &g);
	if (rc == 0)
		rc = user_by_name(h, a->user, &u);
	if (rc != 0)
		return rc;
	if (u.gid == g.gid)
		return 0;
	for (uint32_t i = 0; i < u.ngroups; i++)
		if (rec_get_le32(u.gids + 4 * (size_t)i) == g.gid)
			return 0;
	return SNAP_NONE;
}

int snap_user_in_group(struct snap_reader *r, const char *user,
                       const char *group)
{
	struct acct_query a = {user, group, NULL};

	return run_query(r, q_in_group, &a);
}

static int q_meta(const struct snap_handle *h, void *arg)
{
	*(struct snap_meta *)arg = h->meta;
	return 0;
}

int snap_get_meta(struct snap_reader *r, struct snap_meta *out)
{
	return run_query(r, q_meta, out);
}

const char *snap_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case SNAP_NONE:
		return "no such entry";
	case -ENOENT:
		return "no snapshot at the configured path";
	case -EPERM:
		return "snapshot not trusted: it or its directory is not "
		       "owned by root or is writable by others";
	case -ELOOP:
		return "snapshot is a symbolic link";
	case -EBADMSG:
		return "snapshot is damaged";
	case -EPROTONOSUPPORT:
		return "snapshot has an unknown format version";
	case -ERANGE:
		return "buffer too small";
	case -ENOMEM:
		return "out of memory";
	case -EACCES:
		return "snapshot not readable";
	case -EINVAL:
		return "snapshot path is not absolute";
	default:
		return "snapshot unavailable";
	}
}

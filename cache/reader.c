/*
 * reader.c: lookups in the published snapshot.
 *
 * A reader keeps one snapshot mapped (a handle) and shares it between
 * threads.  Each lookup takes a reference, checks with one fstat() that the
 * file is still the live one and still trusted, and reads in its own LMDB
 * read transaction.  A publish renames a new file over the path, so the old
 * inode's link count drops to zero: the next lookup opens the new one, while
 * lookups still running finish on the old mapping, which is unmapped when the
 * last of them lets go.  In a child after fork() the inherited handle is
 * dropped without use, as LMDB requires.
 *
 * The reader takes no lock that a lookup holds while reading, never logs,
 * never exits and never re-enters NSS.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pack.h"
#include "record.h"
#include "snap.h"

struct snap_handle {
	MDB_env *env;
	MDB_dbi dbi;
	int fd;
	dev_t dev;
	ino_t ino;
	unsigned refs;       /* atomic; the reader's own counts as one */
	unsigned fork_epoch; /* the process generation that opened it */
	struct snap_meta meta;
};

struct snap_reader {
	pthread_mutex_t lock; /* guards cur and the choice of path */
	char path[PATH_MAX];
	uid_t owner;
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

static int read_meta(struct snap_handle *h)
{
	MDB_txn *txn = NULL;
	MDB_val key = {1, (void *)"M"}, val;
	int rc;

	rc = mdb_txn_begin(h->env, NULL, MDB_RDONLY, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, NULL, 0, &h->dbi);
	if (rc == 0)
		rc = mdb_get(txn, h->dbi, &key, &val);
	if (rc == 0)
		rc = rec_decode_meta(val.mv_data, val.mv_size, &h->meta);
	else
		rc = rc == MDB_NOTFOUND ? -EBADMSG : mdb_to_errno(rc);
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
		r = read_meta(h);
	if (r < 0)
		goto out;
	h->dev = fst.st_dev;
	h->ino = fst.st_ino;
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

/* Takes a reference to the live snapshot, opening or reopening it. */
static int acquire(struct snap_reader *r, struct snap_handle **out)
{
	struct snap_handle *h;
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	h = r->cur;
	if (h != NULL && h->fork_epoch != fork_epoch) {
		detach_locked(r);
		h = NULL;
	}
	if (h != NULL)
		__atomic_add_fetch(&h->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&r->lock);

	if (h != NULL) {
		rc = handle_check(h, r->owner);
		if (rc == 0) {
			*out = h;
			return 0;
		}
		handle_put(h);
	}

	pthread_mutex_lock(&r->lock);
	if (r->cur == h && h != NULL)
		detach_locked(r);
	/* -EAGAIN: a publish replaced the file between our checks and
	 * LMDB's open; the next attempt sees the newer file. */
	for (int tries = 0; r->cur == NULL; tries++) {
		rc = handle_open(r->path, r->owner, &r->cur);
		if (rc < 0 && (rc != -EAGAIN || tries == 3))
			goto out;
	}
	h = r->cur;
	__atomic_add_fetch(&h->refs, 1, __ATOMIC_ACQ_REL);
	*out = h;
	rc = 0;
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
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
	registry_add(&default_reader);
}

struct snap_reader *snap_reader_default(void)
{
	pthread_once(&default_once, default_init);
	return &default_reader;
}

/* A module can be unloaded (libpam dlcloses its modules): unmap the snapshot
 * then, unless a lookup in another thread still uses it. */
__attribute__((destructor)) static void default_unload(void)
{
	struct snap_handle *h;

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
	registry_add(r);
	*out = r;
	return 0;
}

void snap_reader_free(struct snap_reader *r)
{
	if (r == NULL)
		return;
	registry_remove(r);
	pthread_mutex_lock(&r->lock);
	detach_locked(r);
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* ---- lookups ---------------------------------------------------------- */

/* One lookup: the handle and transaction it reads in, and what it wants. */
struct query {
	struct snap_handle *h;
	MDB_txn *txn;
};

typedef int (*query_fn)(struct query *q, void *arg);

/* Runs FN in a read transaction on the live snapshot.  Cancellation is held
 * off meanwhile so that a cancelled thread never leaves a reference or the
 * reader's lock behind. */
static int run_query(struct snap_reader *r, query_fn fn, void *arg)
{
	struct query q = {NULL, NULL};
	int cancel_state, rc;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	rc = acquire(r, &q.h);
	if (rc == 0) {
		rc = mdb_to_errno(
		        mdb_txn_begin(q.h->env, NULL, MDB_RDONLY, &q.txn));
		if (rc == 0) {
			rc = fn(&q, arg);
			mdb_txn_abort(q.txn);
		}
		handle_put(q.h);
	}
	pthread_setcancelstate(cancel_state, NULL);
	return rc;
}

static int get(struct query *q, const uint8_t *key, size_t klen, MDB_val *val)
{
	MDB_val k = {klen, (void *)key};

	return mdb_to_errno(mdb_get(q->txn, q->h->dbi, &k, val));
}

/* Looks up an id by name in the 'u' or 'g' index. */
static int get_id_by_name(struct query *q, char prefix, const char *name,
                          uint32_t *id)
{
	uint8_t key[KEY_MAX];
	size_t len = strnlen(name, SNAP_NAME_MAX + 1);
	MDB_val val;
	int rc;

	if (!snap_name_valid(name, len))
		return SNAP_NONE;
	rc = get(q, key, rec_key_name(key, prefix, name, len), &val);
	if (rc != 0)
		return rc;
	if (val.mv_size != 4)
		return -EBADMSG;
	*id = rec_get_le32(val.mv_data);
	return 0;
}

static int get_user(struct query *q, uint32_t uid, struct rec_user *u)
{
	const struct snap_meta *m = &q->h->meta;
	uint8_t key[KEY_MAX];
	MDB_val val;
	int rc;

	if (!snap_id_valid(uid, m->id_min, m->id_max))
		return SNAP_NONE;
	rc = get(q, key, rec_key_id(key, KEY_USER_BY_ID, uid), &val);
	if (rc != 0)
		return rc;
	rc = rec_decode_user(val.mv_data, val.mv_size, m->id_min, m->id_max, u);
	if (rc == 0 && u->uid != uid)
		rc = -EBADMSG;
	return rc;
}

static int get_group(struct query *q, uint32_t gid, struct rec_group *g)
{
	const struct snap_meta *m = &q->h->meta;
	uint8_t key[KEY_MAX];
	MDB_val val;
	int rc;

	if (!snap_id_valid(gid, m->id_min, m->id_max))
		return SNAP_NONE;
	rc = get(q, key, rec_key_id(key, KEY_GROUP_BY_ID, gid), &val);
	if (rc != 0)
		return rc;
	rc = rec_decode_group(val.mv_data, val.mv_size, m->id_min, m->id_max,
	                      g);
	if (rc == 0 && g->gid != gid)
		rc = -EBADMSG;
	return rc;
}

/* A name lookup must land on a record of that very name. */
static bool same_name(const struct rec_str *s, const char *name)
{
	return strlen(name) == s->len && memcmp(s->p, name, s->len) == 0;
}

struct pw_query {
	const char *name;
	uint32_t id;
	struct passwd *pw;
	char *buf;
	size_t buflen;
};

static int q_getpwnam(struct query *q, void *arg)
{
	struct pw_query *a = arg;
	struct rec_user u = {0};
	uint32_t uid;
	int rc;

	rc = get_id_by_name(q, KEY_USER_BY_NAME, a->name, &uid);
	if (rc == 0)
		rc = get_user(q, uid, &u);
	if (rc == 0 && !same_name(&u.name, a->name))
		rc = -EBADMSG;
	return rc == 0 ? pack_passwd(&u, a->pw, a->buf, a->buflen) : rc;
}

static int q_getpwuid(struct query *q, void *arg)
{
	struct pw_query *a = arg;
	struct rec_user u = {0};
	int rc;

	rc = get_user(q, a->id, &u);
	return rc == 0 ? pack_passwd(&u, a->pw, a->buf, a->buflen) : rc;
}

int snap_getpwnam(struct snap_reader *r, const char *name, struct passwd *pw,
                  char *buf, size_t buflen)
{
	struct pw_query a = {name, 0, pw, buf, buflen};

	return run_query(r, q_getpwnam, &a);
}

int snap_getpwuid(struct snap_reader *r, uid_t uid, struct passwd *pw,
                  char *buf, size_t buflen)
{
	struct pw_query a = {NULL, (uint32_t)uid, pw, buf, buflen};

	return run_query(r, q_getpwuid, &a);
}

struct gr_query {
	const char *name;
	uint32_t id;
	struct group *gr;
	char *buf;
	size_t buflen;
};

static int q_getgrnam(struct query *q, void *arg)
{
	struct gr_query *a = arg;
	struct rec_group g = {0};
	uint32_t gid;
	int rc;

	rc = get_id_by_name(q, KEY_GROUP_BY_NAME, a->name, &gid);
	if (rc == 0)
		rc = get_group(q, gid, &g);
	if (rc == 0 && !same_name(&g.name, a->name))
		rc = -EBADMSG;
	return rc == 0 ? pack_group(&g, a->gr, a->buf, a->buflen) : rc;
}

static int q_getgrgid(struct query *q, void *arg)
{
	struct gr_query *a = arg;
	struct rec_group g = {0};
	int rc;

	rc = get_group(q, a->id, &g);
	return rc == 0 ? pack_group(&g, a->gr, a->buf, a->buflen) : rc;
}

int snap_getgrnam(struct snap_reader *r, const char *name, struct group *gr,
                  char *buf, size_t buflen)
{
	struct gr_query a = {name, 0, gr, buf, buflen};

	return run_query(r, q_getgrnam, &a);
}

int snap_getgrgid(struct snap_reader *r, gid_t gid, struct group *gr, char *buf,
                  size_t buflen)
{
	struct gr_query a = {NULL, (uint32_t)gid, gr, buf, buflen};

	return run_query(r, q_getgrgid, &a);
}

/* ---- enumeration ------------------------------------------------------ */

/* Finds the first record of kind PREFIX with id >= C->next. */
static int seek_id(struct query *q, char prefix, const struct snap_cursor *c,
                   MDB_val *val, uint32_t *id)
{
	uint8_t kbuf[KEY_MAX];
	MDB_cursor *cur = NULL;
	MDB_val key;
	int rc;

	if (c->next > UINT32_MAX)
		return SNAP_NONE;
	key.mv_size = rec_key_id(kbuf, prefix, (uint32_t)c->next);
	key.mv_data = kbuf;
	rc = mdb_to_errno(mdb_cursor_open(q->txn, q->h->dbi, &cur));
	if (rc == 0)
		rc = mdb_to_errno(
		        mdb_cursor_get(cur, &key, val, MDB_SET_RANGE));
	if (rc == 0 && (key.mv_size != 5 ||
	                ((const uint8_t *)key.mv_data)[0] != (uint8_t)prefix))
		rc = SNAP_NONE;
	if (rc == 0)
		*id = rec_get_be32((const uint8_t *)key.mv_data + 1);
	mdb_cursor_close(cur);
	return rc;
}

struct ent_query {
	struct snap_cursor *c;
	void *ent;
	char *buf;
	size_t buflen;
};

static int q_getpwent(struct query *q, void *arg)
{
	const struct snap_meta *m = &q->h->meta;
	struct ent_query *a = arg;
	struct rec_user u = {0};
	MDB_val val;
	uint32_t uid;
	int rc;

	rc = seek_id(q, KEY_USER_BY_ID, a->c, &val, &uid);
	if (rc == 0)
		rc = rec_decode_user(val.mv_data, val.mv_size, m->id_min,
		                     m->id_max, &u);
	if (rc == 0 && u.uid != uid)
		rc = -EBADMSG;
	if (rc == 0)
		rc = pack_passwd(&u, a->ent, a->buf, a->buflen);
	if (rc == 0)
		a->c->next = (uint64_t)uid + 1;
	return rc;
}

static int q_getgrent(struct query *q, void *arg)
{
	const struct snap_meta *m = &q->h->meta;
	struct ent_query *a = arg;
	struct rec_group g = {0};
	MDB_val val;
	uint32_t gid;
	int rc;

	rc = seek_id(q, KEY_GROUP_BY_ID, a->c, &val, &gid);
	if (rc == 0)
		rc = rec_decode_group(val.mv_data, val.mv_size, m->id_min,
		                      m->id_max, &g);
	if (rc == 0 && g.gid != gid)
		rc = -EBADMSG;
	if (rc == 0)
		rc = pack_group(&g, a->ent, a->buf, a->buflen);
	if (rc == 0)
		a->c->next = (uint64_t)gid + 1;
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

/* The user's supplementary gids as stored: N little-endian u32s. */
static int get_user_groups(struct query *q, const char *user,
                           const uint8_t **gids, size_t *n)
{
	uint8_t key[KEY_MAX];
	size_t len = strnlen(user, SNAP_NAME_MAX + 1);
	MDB_val val;
	int rc;

	if (!snap_name_valid(user, len))
		return SNAP_NONE;
	rc = get(q, key, rec_key_name(key, KEY_USER_GROUPS, user, len), &val);
	if (rc != 0)
		return rc;
	if (val.mv_size % 4 != 0)
		return -EBADMSG;
	*gids = val.mv_data;
	*n = val.mv_size / 4;
	return 0;
}

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

static int q_initgroups(struct query *q, void *arg)
{
	const struct snap_meta *m = &q->h->meta;
	struct ig_query *a = arg;
	const uint8_t *gids;
	size_t n;
	int rc;

	rc = get_user_groups(q, a->user, &gids, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		gid_t gid = rec_get_le32(gids + 4 * i);

		if (!snap_id_valid(gid, m->id_min, m->id_max))
			return -EBADMSG;
		if (gid == a->skip || gid_listed(*a->groupsp, *a->start, gid))
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

static int get_user_by_name(struct query *q, const char *name,
                            struct rec_user *u)
{
	uint32_t uid;
	int rc;

	rc = get_id_by_name(q, KEY_USER_BY_NAME, name, &uid);
	if (rc == 0)
		rc = get_user(q, uid, u);
	if (rc == 0 && !same_name(&u->name, name))
		rc = -EBADMSG;
	return rc;
}

static int q_account(struct query *q, void *arg)
{
	struct acct_query *a = arg;
	struct rec_user u = {0};
	int rc;

	rc = get_user_by_name(q, a->user, &u);
	if (rc != 0)
		return rc;
	a->out->uid = u.uid;
	a->out->gid = u.gid;
	a->out->active = (u.flags & REC_USER_ACTIVE) != 0;
	a->out->snapshot_created = q->h->meta.created;
	a->out->snapshot_generation = q->h->meta.generation;
	return 0;
}

int snap_get_account(struct snap_reader *r, const char *user,
                     struct snap_account *out)
{
	struct acct_query a = {user, NULL, out};

	return run_query(r, q_account, &a);
}

static int q_in_group(struct query *q, void *arg)
{
	struct acct_query *a = arg;
	struct rec_user u = {0};
	const uint8_t *gids;
	uint32_t gid;
	size_t n;
	int rc;

	rc = get_id_by_name(q, KEY_GROUP_BY_NAME, a->group, &gid);
	if (rc == 0)
		rc = get_user_by_name(q, a->user, &u);
	if (rc != 0)
		return rc;
	if (u.gid == gid)
		return 0;
	rc = get_user_groups(q, a->user, &gids, &n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (rec_get_le32(gids + 4 * i) == gid)
			return 0;
	return rc < 0 ? rc : SNAP_NONE;
}

int snap_user_in_group(struct snap_reader *r, const char *user,
                       const char *group)
{
	struct acct_query a = {user, group, NULL};

	return run_query(r, q_in_group, &a);
}

static int q_meta(struct query *q, void *arg)
{
	*(struct snap_meta *)arg = q->h->meta;
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

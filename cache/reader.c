/* SPDX-License-Identifier: MIT */
/*
 * reader.c: lookups in the published snapshot.
 *
 * A reader keeps one snapshot open (a handle).  When a handle is opened,
 * its tables (record.h) are located once in the LMDB file; a lookup is then
 * a hash probe and a record decode, with no LMDB call, no lock and no
 * system call once the chunks of the file it reads have been read in.  That
 * is sound because a published file never changes.
 *
 * The file is not mapped but read with pread(), into private memory a
 * chunk at a time once a chunk is needed again (see view()), so that a snapshot
 * truncated in place gives an error, never SIGBUS.
 *
 * Each thread keeps a reference to the handle it last used.  At most every
 * SNAP_RECHECK_MS it checks with one fstat() that the file is still the
 * live one, still trusted and unchanged (size and ctime).  A publish renames
 * a new file over the path, so the old inode's link count drops to zero and
 * the next check opens the new one; the writer waits out the check interval
 * after the rename, so a lookup that starts after a publish returned sees
 * the new file.  A file changed in place is opened again, and refused if it
 * is no longer whole.  The old handle is closed when the last thread lets
 * go of it.  In a child after fork() the inherited handles are dropped
 * unused.
 *
 * The reader never logs, never exits and never re-enters NSS.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pack.h"
#include "record.h"
#include "snap.h"

/* One kind of entry (users or groups): see record.h. */
/* Chunks whose reads are counted in the handle itself, before it has an
 * array of states: about ten lookups' worth, so that a short-lived
 * process allocates (and faults in) neither the states nor the copy. */
#define SEEN_MAX 32

struct table {
	size_t records; /* where each table lies in the file */
	size_t records_len;
	size_t offsets; /* n + 1 entries */
	uint32_t n;
	size_t byname, byid; /* mask + 1 entries each */
	uint32_t mask;
	bool ready; /* atomic; see table_ready() */
};

struct snap_handle {
	int fd;
	unsigned refs;         /* atomic; the reader's own counts as one */
	unsigned fork_epoch;   /* the process generation that opened it */
	size_t size;           /* the file's size when it was opened */
	struct timespec ctime; /* and its ctime */
	uint8_t *base; /* the copy of the file (see view()), or the map */
	bool mapped;
	/* One CHUNK_* or count per chunk (atomic pointer, set once under
	 * fill_lock): NULL when mapped, and until a chunk is copied or more
	 * than SEEN_MAX chunks were read, the counts being in seen. */
	uint8_t *state;
	struct seen {
		size_t chunk;
		unsigned count;
	} seen[SEEN_MAX]; /* under fill_lock */
	unsigned nseen;
	size_t nchunks, maplen;
	size_t last_filled; /* under fill_lock: the last chunk read in */
	unsigned streak;    /* under fill_lock: reads that followed on */
	unsigned rereads; /* under fill_lock: straight reads of a chunk again */
	pthread_mutex_t fill_lock;
	struct snap_meta meta;
	struct table users, groups;
};

struct snap_reader {
	pthread_mutex_t lock; /* guards cur */
	const char *path;     /* NULL when it could not be copied */
	char *path_copy;      /* what path points to, unless a literal */
	uid_t owner;
	bool copy; /* reads the file in chunks (view()); else maps it */
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

static void registry_add(struct snap_reader *r)
{
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
 * rename our entries in them.  DIR is the path, a copy that is cut up. */
static int dirs_walk(char *dir, uid_t owner)
{
	struct stat st;
	bool immediate = true;

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

static int dirs_trusted(const char *path, uid_t owner)
{
	/* A buffer of about the path's size, not PATH_MAX: paths are short,
	 * and the lookup's stack may be a small thread's. */
	char local[128], *dir = local;
	size_t len = strlen(path);
	int rc;

	if (path[0] != '/' || len >= PATH_MAX)
		return -EINVAL;
	if (len >= sizeof(local)) {
		dir = malloc(len + 1);
		if (dir == NULL)
			return -ENOMEM;
	}
	memcpy(dir, path, len + 1);
	rc = dirs_walk(dir, owner);
	if (dir != local)
		free(dir);
	return rc;
}

/* ---- the file, read in chunks ------------------------------------------ */

/* The snapshot is never mapped.  Truncating a mapped file makes the next
 * read of a page past its new end raise SIGBUS in the reading process (sshd,
 * PID 1), and a library may not catch signals.  Bytes are read with pread()
 * instead, and a read that comes up short is an error, never a signal:
 * that holds whenever the file shrinks, even in the middle of a lookup.
 *
 * Where the bytes go depends on how often they are needed.  The first
 * COPY_AFTER times a lookup needs bytes of a 4 kB chunk of the file, they
 * are read straight into a buffer of that lookup (struct bounce), and the
 * chunk's state counts the reads.  The next time, the whole chunk is
 * copied into the handle's private copy of the file (FULL), where every
 * later lookup reads it with no lock and no system call.  A file read in
 * order (an enumeration) is copied at once, several chunks a read.  The
 * copy is reserved at the first chunk copied.  So a short-lived process
 * (id, ls -l, sshd's child) makes one small read per slot, offset and
 * record and touches no fresh memory: a fault on a fresh page, with the
 * page tables it needs, costs several times a small read, and a chunk is
 * worth copying only once it is needed again and again
 * (tests/bench/findings.md).  A handle that has read BUSY_AFTER chunks
 * straight again belongs to a process that comes back to what it read,
 * and copies from then on (see BUSY_AFTER).  A state only grows, under
 * fill_lock.
 */
#define CHUNK_SHIFT 12
#define CHUNK       ((size_t)1 << CHUNK_SHIFT)
#define READAHEAD   16 /* chunks read at once by a reader going in order */
#define COPY_AFTER  2  /* direct reads of a chunk before it is copied */
/* Straight reads of a chunk already read once that a handle makes before
 * it copies every chunk at its first use: a process that keeps coming
 * back to what it read (a loop over everyone, a file server naming
 * owners) pays a system call for each of those reads.  One that reads
 * many records once each (id on a user in hundreds of large groups) never
 * gets there, and keeps reading them straight, which is cheaper than
 * copying them.  Once copying at first use, a handle copies the whole
 * READAHEAD-aligned block around a chunk when BLOCK_DENSE of its chunks
 * were read already: one read of 64 kB costs about what a read of 4 kB
 * does, and a block that dense will be read whole
 * (tests/bench/findings.md). */
#define BUSY_AFTER  256
#define BLOCK_DENSE 4

enum { CHUNK_EMPTY = 0, CHUNK_FULL = 0xff };

/* Bytes a lookup read straight from the file (see above).  A view into a
 * bounce lasts until the next view into the same bounce, or
 * bounce_free(). */
struct bounce {
	uint8_t *local; /* the caller's, on its stack */
	size_t local_cap;
	uint8_t *heap; /* when the bytes do not fit in local */
	size_t cap;
};

/* Room for a record of the usual size on a lookup's stack: larger ones go
 * to the heap. */
#define RECORD_LOCAL 256

static void bounce_init(struct bounce *b, uint8_t *local, size_t local_cap)
{
	b->local = local;
	b->local_cap = local_cap;
	b->heap = NULL;
	b->cap = 0;
}

static void bounce_free(struct bounce *b)
{
	free(b->heap);
}

static void handle_close(struct snap_handle *h)
{
	if (h == NULL)
		return;
	if (h->base != NULL)
		munmap(h->base, h->maplen);
	free(h->state);
	if (h->fd >= 0)
		close(h->fd);
	pthread_mutex_destroy(&h->fill_lock);
	free(h);
}

/* Reads LEN bytes at OFF of the file into DST: 0, -EBADMSG when the file
 * is now shorter, or another negative errno. */
static int read_at(int fd, uint8_t *dst, size_t len, size_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n =
		        pread(fd, dst + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno > 0 ? -errno : -EIO;
		if (n == 0)
			return -EBADMSG; /* the file is shorter than it was */
		done += (size_t)n;
	}
	return 0;
}

/* Reserves the copy of the file, nothing of it read yet: the memory is
 * taken only as chunks are read in.  Called with fill_lock held. */
static int cache_reserve(struct snap_handle *h)
{
	uint8_t *base;

	h->maplen = h->nchunks << CHUNK_SHIFT;
	base = mmap(NULL, h->maplen, PROT_READ | PROT_WRITE,
	            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -ENOMEM;
	/* Where transparent huge pages are "always", the first chunk read
	 * into each 2 MB of the copy would take (and zero) a whole huge page:
	 * megabytes and a long lookup.  Failure only means the kernel has no
	 * huge pages to give. */
	madvise(base, h->maplen, MADV_NOHUGEPAGE);
	/* Read only after a FULL state seen with acquire, which this store
	 * precedes. */
	h->base = base;
	return 0;
}

/* Copies chunks FIRST..LAST from the file.  Called with fill_lock held. */
static int read_chunks(struct snap_handle *h, size_t first, size_t last)
{
	size_t off = first << CHUNK_SHIFT, end = (last + 1) << CHUNK_SHIFT;
	int rc;

	if (end > h->size)
		end = h->size;
	rc = read_at(h->fd, h->base + off, end - off, off);
	if (rc < 0)
		return rc;
	for (size_t i = first; i <= last; i++)
		__atomic_store_n(&h->state[i], CHUNK_FULL, __ATOMIC_RELEASE);
	h->streak = first == h->last_filled + 1 ? h->streak + 1 : 0;
	h->last_filled = last;
	return 0;
}

/* Copies in whatever is not FULL of chunks FIRST..LAST, and the chunks
 * after them when the file is being read in order (an enumeration): at
 * least the third copy in a row that follows on the one before.  Called
 * with fill_lock held. */
static int fill_locked(struct snap_handle *h, size_t first, size_t last)
{
	int rc = 0;

	if (h->base == NULL)
		rc = cache_reserve(h);
	if (first == h->last_filled + 1 && h->streak >= 1 &&
	    last - first < READAHEAD) {
		last = first + READAHEAD - 1;
		if (last >= h->nchunks)
			last = h->nchunks - 1;
	}
	for (size_t i = first; rc == 0 && i <= last; i++) {
		size_t j = i;

		if (h->state[i] == CHUNK_FULL)
			continue;
		while (j < last && h->state[j + 1] != CHUNK_FULL)
			j++;
		rc = read_chunks(h, i, j);
		i = j;
	}
	return rc;
}

/* Makes H's array of states, from the counts in H->seen: 0, or -ENOMEM.
 * Called with fill_lock held. */
static int state_alloc(struct snap_handle *h)
{
	uint8_t *st;

	if (h->state != NULL)
		return 0;
	st = calloc(h->nchunks, 1);
	if (st == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < h->nseen; i++)
		st[h->seen[i].chunk] = (uint8_t)h->seen[i].count;
	__atomic_store_n(&h->state, st, __ATOMIC_RELEASE);
	return 0;
}

/* How many times chunk I was read straight (CHUNK_FULL once copied).
 * Called with fill_lock held. */
static unsigned reads_of(const struct snap_handle *h, size_t i)
{
	if (h->state != NULL)
		return h->state[i];
	for (unsigned k = 0; k < h->nseen; k++)
		if (h->seen[k].chunk == i)
			return h->seen[k].count;
	return 0;
}

/* Counts one more straight read of chunk I, up to COPY_AFTER.  Without
 * memory for the states the count is lost, which only delays the copy.
 * Called with fill_lock held. */
static void count_read(struct snap_handle *h, size_t i)
{
	if (h->state == NULL) {
		for (unsigned k = 0; k < h->nseen; k++) {
			if (h->seen[k].chunk == i) {
				if (h->seen[k].count < COPY_AFTER)
					h->seen[k].count++;
				return;
			}
		}
		if (h->nseen < SEEN_MAX) {
			h->seen[h->nseen].chunk = i;
			h->seen[h->nseen++].count = 1;
			return;
		}
		if (state_alloc(h) < 0)
			return;
	}
	if (h->state[i] < COPY_AFTER)
		__atomic_store_n(&h->state[i], (uint8_t)(h->state[i] + 1),
		                 __ATOMIC_RELAXED);
}

/* Widens FIRST..LAST to the READAHEAD-aligned block around them when
 * BLOCK_DENSE of its chunks were read already.  Called with fill_lock
 * held, the states made. */
static void block_around(const struct snap_handle *h, size_t *first,
                         size_t *last)
{
	size_t from = *first & ~(size_t)(READAHEAD - 1),
	       to = *last | (READAHEAD - 1);
	unsigned seen = 0;

	if (to >= h->nchunks)
		to = h->nchunks - 1;
	for (size_t i = from; i <= to; i++)
		seen += h->state[i] != CHUNK_EMPTY;
	if (seen >= BLOCK_DENSE) {
		*first = from;
		*last = to;
	}
}

/* view() when the bytes are not all in the copy: they are copied in (a
 * chunk needed before, or a file read in order) or read into B. */
static int view_slow(struct snap_handle *h, size_t off, size_t len,
                     struct bounce *b, const uint8_t **out)
{
	size_t first = off >> CHUNK_SHIFT,
	       last = (off + len - 1) >> CHUNK_SHIFT;
	uint8_t *dst = b->local;
	bool copy = true;
	int rc = 0, cancel_state;

	/* pread() is a cancellation point: never leave fill_lock held nor
	 * B's memory behind. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	pthread_mutex_lock(&h->fill_lock);
	if (h->rereads < BUSY_AFTER)
		for (size_t i = first; copy && i <= last; i++)
			copy = reads_of(h, i) >= COPY_AFTER;
	if (first == h->last_filled + 1 && h->streak >= 1)
		copy = true; /* in order: fill_locked() reads ahead */
	if (copy) {
		rc = state_alloc(h);
		if (rc == 0 && h->rereads >= BUSY_AFTER)
			block_around(h, &first, &last);
		if (rc == 0)
			rc = fill_locked(h, first, last);
	} else {
		for (size_t i = first; i <= last; i++) {
			if (reads_of(h, i) > 0)
				h->rereads++;
			count_read(h, i);
		}
	}
	pthread_mutex_unlock(&h->fill_lock);
	if (copy) {
		if (rc == 0)
			*out = h->base + off;
		goto out;
	}
	if (len > b->local_cap) {
		if (len > b->cap) {
			uint8_t *p = realloc(b->heap, len);

			if (p == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			b->heap = p;
			b->cap = len;
		}
		dst = b->heap;
	}
	rc = read_at(h->fd, dst, len, off);
	if (rc == 0)
		*out = dst;
out:
	pthread_setcancelstate(cancel_state, NULL);
	return rc;
}

/* The LEN bytes at OFF in the file: *OUT points to them in the copy (or
 * the map), or in B.  -EBADMSG for bytes past the end of the file as it
 * was opened, or past its end now.  Inline: a lookup calls it for every
 * slot, offset and record it reads, and nearly always finds a single chunk
 * already copied. */
static inline __attribute__((always_inline)) int view(struct snap_handle *h,
                                                      size_t off, size_t len,
                                                      struct bounce *b,
                                                      const uint8_t **out)
{
	const uint8_t *st;
	size_t first;

	if (off > h->size || len > h->size - off)
		return -EBADMSG;
	if (h->mapped) {
		*out = h->base + off;
		return 0;
	}
	if (len == 0) {
		static const uint8_t none[1];

		*out = none;
		return 0;
	}
	first = off >> CHUNK_SHIFT;
	st = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
	if (st != NULL && first == (off + len - 1) >> CHUNK_SHIFT &&
	    __atomic_load_n(&st[first], __ATOMIC_ACQUIRE) == CHUNK_FULL) {
		*out = h->base + off;
		return 0;
	}
	return view_slow(h, off, len, b, out);
}

/* get_le32s() when the numbers are not in the copy. */
static __attribute__((noinline)) int get_le32s_slow(struct snap_handle *h,
                                                    size_t off, uint32_t *v,
                                                    unsigned n)
{
	uint8_t local[8];
	struct bounce b;
	const uint8_t *p;
	int rc;

	bounce_init(&b, local, sizeof(local)); /* never uses the heap */
	rc = view(h, off, 4 * (size_t)n, &b, &p);
	if (rc != 0)
		return rc;
	for (unsigned i = 0; i < n; i++)
		v[i] = rec_get_le32(p + 4 * (size_t)i);
	return 0;
}

/* The little-endian 32-bit numbers at OFF (N of them, at most 2): a
 * slot, a pair of offsets or an id, read on every lookup, so the case of
 * a copied chunk is inline and sets up no bounce. */
static inline __attribute__((always_inline)) int get_le32s(
        struct snap_handle *h, size_t off, uint32_t *v, unsigned n)
{
	size_t len = 4 * (size_t)n;
	const uint8_t *st = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);

	if (st != NULL && off < h->size && len <= h->size - off &&
	    off >> CHUNK_SHIFT == (off + len - 1) >> CHUNK_SHIFT &&
	    __atomic_load_n(&st[off >> CHUNK_SHIFT], __ATOMIC_ACQUIRE) ==
	            CHUNK_FULL) {
		for (unsigned i = 0; i < n; i++)
			v[i] = rec_get_le32(h->base + off + 4 * (size_t)i);
		return 0;
	}
	return get_le32s_slow(h, off, v, n);
}

/* Sets up reading a file of H->size bytes: nothing is allocated until
 * chunks are counted or copied (see count_read()), or, for a reader that
 * maps, the map. */
static int cache_init(struct snap_handle *h, bool copy)
{
	if (!copy) {
		/* A private reader in scim-cache (its read-back, its summary of
		 * the live file) maps the file as before: its windows of
		 * lookups then share the page cache instead of copying the
		 * file again for each window.  A truncation under it would
		 * raise SIGBUS in that one short-lived tool only. */
		h->maplen = h->size;
		h->base =
		        mmap(NULL, h->maplen, PROT_READ, MAP_SHARED, h->fd, 0);
		if (h->base == MAP_FAILED) {
			h->base = NULL;
			return errno > 0 ? -errno : -ENOMEM;
		}
		h->mapped = true;
		return 0;
	}
	h->nchunks = (h->size + CHUNK - 1) >> CHUNK_SHIFT;
	h->last_filled = SIZE_MAX - 1; /* nothing read in order yet */
	return 0;
}

/* ---- LMDB's file format ------------------------------------------------ */

/* scim-cache writes the snapshot with liblmdb; the reader finds its few
 * values itself, so that neither liblmdb (nor the libpthread it needs) is
 * loaded into every process and nothing is mapped.  This is LMDB 0.9's
 * format, data version 1, in the host's byte order: pages of psize bytes,
 * two meta pages first (the one with the larger transaction id is the
 * live one), and a B-tree of branch and leaf pages under the main
 * database's root; a value too large for its leaf sits on overflow pages.
 * Every offset read from the file is checked against the page or the file
 * before it is followed. */
#define MDB_MAGIC        0xBEEFC0DEu
#define MDB_DATA_VERSION 1
#define MDB_PAGEHDRSZ    16 /* pgno 8, pad 2, flags 2, lower 2, upper 2 */
#define MDB_NODESZ       8  /* size lo 2, size hi 2, flags 2, key size 2 */
#define MDB_P_BRANCH     0x01
#define MDB_P_LEAF       0x02
#define MDB_P_META       0x08
#define MDB_P_LEAF2      0x20
#define MDB_F_BIGDATA    0x01
#define MDB_PSIZE_MIN    512
#define MDB_PSIZE_MAX    65536
#define MDB_DEPTH_MAX    16
/* In a meta page: the magic, the version, the page size (the free
 * database's md_pad), the main database's flags and root, the last page
 * used and the transaction id. */
#define META_MAGIC      16
#define META_VERSION    20
#define META_PSIZE      40
#define META_MAIN_FLAGS 92
#define META_MAIN_ROOT  128
#define META_LAST_PGNO  136
#define META_TXNID      144
#define META_SIZE       152
#define MDB_P_INVALID   UINT64_MAX

struct lmdb_db {
	size_t psize;
	uint64_t root, last_pgno;
	uint8_t head[META_SIZE]; /* the first meta page's record */
	size_t head_len;
	struct bounce page;  /* anything else of the file read meanwhile */
	const uint8_t *last; /* the last range db_view() read, kept: */
	size_t last_off, last_len; /* the root page, for each key */
};

static uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int meta_check(const uint8_t *m)
{
	if (!(ld16(m + 10) & MDB_P_META) || ld32(m + META_MAGIC) != MDB_MAGIC)
		return -EBADMSG;
	if (ld32(m + META_VERSION) != MDB_DATA_VERSION)
		return -EPROTONOSUPPORT;
	return 0;
}

/* The LEN bytes at OFF: in DB's head, or read in (into DB's bounce,
 * which holds one such view at a time). */
static int db_view(struct snap_handle *h, struct lmdb_db *db, size_t off,
                   size_t len, const uint8_t **out)
{
	int rc;

	if (off <= db->head_len && len <= db->head_len - off) {
		*out = db->head + off;
		return 0;
	}
	if (db->last != NULL && off >= db->last_off &&
	    off - db->last_off <= db->last_len &&
	    len <= db->last_len - (off - db->last_off)) {
		*out = db->last + (off - db->last_off);
		return 0;
	}
	rc = view(h, off, len, &db->page, out);
	if (rc == 0) {
		db->last = *out;
		db->last_off = off;
		db->last_len = len;
	}
	return rc;
}

/* The live meta page, and with it the page size and the main database.
 * A file whose committed pages run past its end is refused.  Only what is
 * used is read, a few small reads into memory already in use: reading the
 * first pages at once into fresh memory costs more, in page faults, than
 * the reads it saves (tests/bench/findings.md). */
static int lmdb_open(struct snap_handle *h, struct lmdb_db *db)
{
	const uint8_t *m0, *m1, *m;
	int rc;

	/* The file has at least MDB_PSIZE_MIN > META_SIZE bytes. */
	rc = read_at(h->fd, db->head, META_SIZE, 0);
	if (rc < 0)
		return rc;
	db->head_len = META_SIZE;
	m0 = db->head;
	rc = meta_check(m0);
	if (rc < 0)
		return rc;
	db->psize = ld32(m0 + META_PSIZE);
	if (db->psize < MDB_PSIZE_MIN || db->psize > MDB_PSIZE_MAX ||
	    (db->psize & (db->psize - 1)) != 0 || db->psize > h->size)
		return -EBADMSG;
	rc = db_view(h, db, db->psize, META_SIZE, &m1);
	if (rc == 0)
		rc = meta_check(m1);
	if (rc < 0)
		return rc;
	m = ld64(m1 + META_TXNID) > ld64(m0 + META_TXNID) ? m1 : m0;
	db->root = ld64(m + META_MAIN_ROOT);
	db->last_pgno = ld64(m + META_LAST_PGNO);
	/* Plain keys and values only: no duplicates, no integer keys. */
	if (ld16(m + META_MAIN_FLAGS) != 0 ||
	    db->last_pgno >= h->size / db->psize)
		return -EBADMSG;
	return 0;
}

/* Node I of page PG, checked to lie in the page with its key. */
static int node_at(const struct lmdb_db *db, const uint8_t *pg, unsigned i,
                   const uint8_t **node, size_t *ksize)
{
	size_t off = ld16(pg + MDB_PAGEHDRSZ + 2 * (size_t)i);

	if (off < MDB_PAGEHDRSZ || off > db->psize - MDB_NODESZ)
		return -EBADMSG;
	*node = pg + off;
	*ksize = ld16(*node + 6);
	if (*ksize > db->psize - MDB_NODESZ - off)
		return -EBADMSG;
	return 0;
}

/* LMDB's default order: bytes compared as unsigned, a prefix first. */
static int key_cmp(const uint8_t *k, size_t klen, const char *key, size_t len)
{
	int c = memcmp(k, key, klen < len ? klen : len);

	return c != 0 ? c : (klen > len) - (klen < len);
}

/* In branch page PG of N nodes: the child whose range holds KEY.  The
 * first node's key is not stored; it stands for everything below the
 * second's. */
static int branch_child(const struct lmdb_db *db, const uint8_t *pg, unsigned n,
                        const char *key, size_t len, uint64_t *pgno)
{
	const uint8_t *node, *pick = NULL;
	size_t ksize;

	for (unsigned i = 0; i < n; i++) {
		int rc = node_at(db, pg, i, &node, &ksize);

		if (rc < 0)
			return rc;
		if (i > 0 && key_cmp(node + MDB_NODESZ, ksize, key, len) > 0)
			break;
		pick = node;
	}
	if (pick == NULL)
		return -EBADMSG;
	*pgno = ld16(pick) | (uint64_t)ld16(pick + 2) << 16 |
	        (uint64_t)ld16(pick + 4) << 32;
	return 0;
}

/* Where the value of leaf node NODE (key KSIZE bytes) of page PG, page
 * PGNO of the file, lies: in the node, or on the overflow pages it
 * names. */
static int leaf_value(struct snap_handle *h, const struct lmdb_db *db,
                      uint64_t pg_no, const uint8_t *pg, const uint8_t *node,
                      size_t ksize, size_t *val, size_t *len)
{
	const uint8_t *data = node + MDB_NODESZ + ksize;
	size_t room = db->psize - (size_t)(data - pg);
	uint16_t flags = ld16(node + 4);
	uint64_t pgno, off;

	*len = ld16(node) | (size_t)ld16(node + 2) << 16;
	if ((flags & ~MDB_F_BIGDATA) != 0)
		return -EBADMSG; /* a sub-database or duplicates: not ours */
	if (!(flags & MDB_F_BIGDATA)) {
		if (*len > room)
			return -EBADMSG;
		*val = pg_no * db->psize + (size_t)(data - pg);
		return 0;
	}
	if (room < sizeof(pgno))
		return -EBADMSG;
	pgno = ld64(data);
	if (pgno > db->last_pgno)
		return -EBADMSG;
	off = pgno * db->psize + MDB_PAGEHDRSZ;
	if (off > h->size || *len > h->size - off)
		return -EBADMSG;
	*val = (size_t)off;
	return 0;
}

/* Where the value of KEY lies in the file; a missing key means a damaged
 * snapshot.  The value itself is not read here. */
static int lmdb_get(struct snap_handle *h, struct lmdb_db *db, const char *key,
                    size_t *val, size_t *len)
{
	size_t klen = strlen(key), ksize;
	uint64_t pgno = db->root;
	const uint8_t *pg, *node;
	unsigned n;
	int rc;

	for (int depth = 0; depth < MDB_DEPTH_MAX; depth++) {
		uint16_t flags, lower;

		if (pgno > db->last_pgno)
			return -EBADMSG; /* P_INVALID too: an empty database */
		rc = db_view(h, db, pgno * db->psize, db->psize, &pg);
		if (rc < 0)
			return rc;
		flags = ld16(pg + 10);
		lower = ld16(pg + 12);
		if (lower < MDB_PAGEHDRSZ || lower > db->psize ||
		    (lower - MDB_PAGEHDRSZ) % 2 != 0)
			return -EBADMSG;
		n = (lower - MDB_PAGEHDRSZ) / 2;
		if (flags & MDB_P_BRANCH) {
			rc = branch_child(db, pg, n, key, klen, &pgno);
			if (rc < 0)
				return rc;
			continue;
		}
		if (!(flags & MDB_P_LEAF) || (flags & MDB_P_LEAF2))
			return -EBADMSG;
		for (unsigned i = 0; i < n; i++) {
			rc = node_at(db, pg, i, &node, &ksize);
			if (rc < 0)
				return rc;
			if (key_cmp(node + MDB_NODESZ, ksize, key, klen) == 0)
				return leaf_value(h, db, pgno, pg, node, ksize,
				                  val, len);
		}
		return -EBADMSG;
	}
	return -EBADMSG;
}

/* ---- handles ---------------------------------------------------------- */

/* Locates one kind's four tables and checks what keeps every index in
 * bounds; the offsets themselves are checked at each use, and their first
 * and last entries when the table is first enumerated (table_ready). */
static int load_table(struct snap_handle *h, struct lmdb_db *db,
                      const char *const keys[4], uint32_t n, struct table *t)
{
	size_t recs, offs, byname, byid;
	size_t recs_len, offs_len, byname_len, byid_len, cap;
	int rc;

	rc = lmdb_get(h, db, keys[0], &recs, &recs_len);
	if (rc == 0)
		rc = lmdb_get(h, db, keys[1], &offs, &offs_len);
	if (rc == 0)
		rc = lmdb_get(h, db, keys[2], &byname, &byname_len);
	if (rc == 0)
		rc = lmdb_get(h, db, keys[3], &byid, &byid_len);
	if (rc != 0)
		return rc;
	cap = byname_len / 4;
	if (offs_len != ((size_t)n + 1) * 4 || byname_len < 8 ||
	    byname_len != byid_len || byname_len % 4 != 0 || cap > UINT32_MAX ||
	    (cap & (cap - 1)) != 0 || cap <= n || recs_len > UINT32_MAX)
		return -EBADMSG;
	t->records = recs;
	t->records_len = recs_len;
	t->offsets = offs;
	t->n = n;
	t->byname = byname;
	t->byid = byid;
	t->mask = (uint32_t)(cap - 1);
	return 0;
}

static int load_tables(struct snap_handle *h)
{
	static const char *const ukeys[4] = {
	        TABLE_USER_RECORDS, TABLE_USER_OFFSETS, TABLE_USER_BYNAME,
	        TABLE_USER_BYID};
	static const char *const gkeys[4] = {
	        TABLE_GROUP_RECORDS, TABLE_GROUP_OFFSETS, TABLE_GROUP_BYNAME,
	        TABLE_GROUP_BYID};
	struct lmdb_db db = {0};
	const uint8_t *val;
	size_t off, len;
	int rc;

	bounce_init(&db.page, NULL, 0);
	rc = lmdb_open(h, &db);
	if (rc == 0)
		rc = lmdb_get(h, &db, TABLE_META, &off, &len);
	if (rc == 0)
		rc = db_view(h, &db, off, len, &val);
	if (rc == 0)
		rc = rec_decode_meta(val, len, &h->meta);
	if (rc == 0)
		rc = load_table(h, &db, ukeys, h->meta.nusers, &h->users);
	if (rc == 0)
		rc = load_table(h, &db, gkeys, h->meta.ngroups, &h->groups);
	bounce_free(&db.page);
	return rc;
}

/* 0 when T's offsets start at 0 and end at its records' end, so that an
 * enumeration meets every record.  Checked when a table is first
 * enumerated rather than at open: a point lookup does not depend on it
 * (record_at() bounds every record by itself), and the two reads would
 * double a first lookup's reads of the file. */
static int table_ready(struct snap_handle *h, struct table *t)
{
	uint32_t first = UINT32_MAX, last = 0; /* refused unless read */
	int rc;

	if (__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE))
		return 0;
	rc = get_le32s(h, t->offsets, &first, 1);
	if (rc == 0)
		rc = get_le32s(h, t->offsets + 4 * (size_t)t->n, &last, 1);
	if (rc < 0)
		return rc;
	if (first != 0 || last != t->records_len)
		return -EBADMSG;
	__atomic_store_n(&t->ready, true, __ATOMIC_RELEASE);
	return 0;
}

/* Opens PATH without following a symbolic link and without blocking on
 * anything that is not a regular file; the checks come after, on the
 * descriptor itself, so that what is checked is what is read. */
static int open_snapshot(const char *path, uid_t owner, int *fd,
                         struct stat *st)
{
	int r;

	*fd = open(path,
	           O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (*fd < 0)
		return -errno;
	if (fstat(*fd, st) < 0)
		return -errno;
	r = file_trusted(st, owner);
	return r;
}

static int handle_open(const char *path, uid_t owner, bool copy,
                       struct snap_handle **out)
{
	struct snap_handle *h;
	struct stat st;
	int r;

	r = dirs_trusted(path, owner);
	if (r < 0)
		return r;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->fd = -1;
	pthread_mutex_init(&h->fill_lock, NULL);
	r = open_snapshot(path, owner, &h->fd, &st);
	if (r < 0)
		goto out;
	if (st.st_size < MDB_PSIZE_MIN) {
		r = -EBADMSG;
		goto out;
	}
	h->size = (size_t)st.st_size;
	h->ctime = st.st_ctim;
	r = cache_init(h, copy);
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

/* 0 when H is still the live, trusted file as it was opened; 1 when it
 * was replaced, removed, or changed in place (its size or ctime differ:
 * truncated, rewritten, chmod); negative when it became untrusted in
 * place. */
static int handle_check(const struct snap_handle *h, uid_t owner)
{
	struct stat st;
	int rc;

	if (fstat(h->fd, &st) < 0)
		return -errno;
	if (st.st_nlink == 0)
		return 1;
	rc = file_trusted(&st, owner);
	if (rc == 0 && ((size_t)st.st_size != h->size ||
	                st.st_ctim.tv_sec != h->ctime.tv_sec ||
	                st.st_ctim.tv_nsec != h->ctime.tv_nsec))
		rc = 1;
	return rc;
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
	if (r->cur == NULL)
		rc = r->path == NULL
		             ? -ENOMEM
		             : handle_open(r->path, r->owner, r->copy, &r->cur);
	if (rc < 0 || r->cur == NULL) {
		rc = rc < 0 ? rc : -EIO;
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

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* acquire() when the thread's handle is not known to be current: checks
 * it, or opens the live snapshot.  Cancellation is held off meanwhile
 * (open(), pread() and close() are cancellation points) so that a
 * cancelled thread never leaves the reader's lock or a reference behind. */
static int acquire_slow(struct snap_reader *r, int64_t now,
                        struct snap_handle **out)
{
	struct thread_ref *t = &tref;
	struct snap_handle *h = NULL, *stale = NULL;
	int cancel_state, rc;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	if (t->h != NULL && t->serial == r->serial &&
	    t->h->fork_epoch == fork_epoch) {
		rc = handle_check(t->h, r->owner);
		if (rc == 0) {
			t->checked = now;
			*out = t->h;
			goto out;
		}
		stale = t->h;
	}
	if (t->h != NULL && t->h->fork_epoch != fork_epoch) {
		t->h = NULL; /* closed by current() through the reader */
	}
	rc = current(r, stale, &h);
	tref_drop(t);
	if (rc < 0)
		goto out;
	if (tref_key_ok)
		pthread_setspecific(tref_key, t);
	t->serial = r->serial;
	t->h = h;
	t->checked = now;
	*out = h;
out:
	pthread_setcancelstate(cancel_state, NULL);
	return rc;
}

/* The snapshot this thread should read now.  The reference stays the
 * thread's: there is nothing to release after the lookup.  The common case
 * is a clock read (vDSO) and no system call. */
static int acquire(struct snap_reader *r, struct snap_handle **out)
{
	struct thread_ref *t = &tref;
	int64_t now = now_ns();

	if (t->h != NULL && t->serial == r->serial &&
	    t->h->fork_epoch == fork_epoch &&
	    now - t->checked < (int64_t)SNAP_RECHECK_MS * 1000000) {
		*out = t->h;
		return 0;
	}
	return acquire_slow(r, now, out);
}

/* ---- readers ---------------------------------------------------------- */

static struct snap_reader default_reader = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
};
static void default_init(void)
{
	const char *env = secure_getenv(SNAP_PATH_ENV);
	const char *path = SNAP_DEFAULT_PATH;

	/* A copy: the program may change its environment later.  Without
	 * one, lookups fail rather than read another file. */
	if (env != NULL && env[0] == '/' && strlen(env) < PATH_MAX) {
		default_reader.path_copy = strdup(env);
		path = default_reader.path_copy;
	}
	default_reader.path = path;
	default_reader.owner = 0;
	default_reader.copy = true;
	default_reader.serial =
	        __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
	registry_add(&default_reader);
}

/* What would otherwise be set up on the first lookup, each behind a
 * pthread_once() (a futex system call each on completion), is done when the
 * library is loaded: the dynamic loader runs this under its own lock, before
 * any lookup, and libpam's reloads run it again after default_unload().
 * The snapshot's path is thus read from the environment at load time. */
__attribute__((constructor)) static void reader_load(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	tref_key_ok = pthread_key_create(&tref_key, tref_exit) == 0;
	default_init();
}

struct snap_reader *snap_reader_default(void)
{
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
	/* The constructor copies it again if the module is loaded again. */
	default_reader.path = NULL;
	free(default_reader.path_copy);
	default_reader.path_copy = NULL;
	pthread_mutex_unlock(&default_reader.lock);
	registry_remove(&default_reader);
}

static int reader_new(const char *path, uid_t owner, bool copy,
                      struct snap_reader **out)
{
	struct snap_reader *r;

	if (path == NULL || strlen(path) >= PATH_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->path_copy = strdup(path);
	if (r->path_copy == NULL) {
		free(r);
		return -ENOMEM;
	}
	r->path = r->path_copy;
	pthread_mutex_init(&r->lock, NULL);
	r->owner = owner;
	r->copy = copy;
	r->serial = __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
	registry_add(r);
	*out = r;
	return 0;
}

int snap_reader_new(const char *path, uid_t owner, struct snap_reader **out)
{
	return reader_new(path, owner, false, out);
}

int snap_reader_new_copying(const char *path, uid_t owner,
                            struct snap_reader **out)
{
	return reader_new(path, owner, true, out);
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
	free(r->path_copy);
	free(r);
}

/* ---- records ---------------------------------------------------------- */

/* Record I of table T, bounds-checked and read in (into B if need be). */
static int record_at(struct snap_handle *h, struct table *t, uint32_t i,
                     struct bounce *b, const uint8_t **p, size_t *len)
{
	uint32_t ab[2];
	int rc;

	if (i >= t->n)
		return -EBADMSG;
	rc = get_le32s(h, t->offsets + 4 * (size_t)i, ab, 2);
	if (rc < 0)
		return rc;
	if (ab[0] > ab[1] || ab[1] > t->records_len)
		return -EBADMSG;
	*len = ab[1] - ab[0];
	return view(h, t->records + ab[0], *len, b, p);
}

static int group_at(struct snap_handle *h, uint32_t i, struct bounce *b,
                    struct rec_group *g)
{
	const uint8_t *p;
	size_t len;
	int rc = record_at(h, &h->groups, i, b, &p, &len);

	return rc ? rc
	          : rec_decode_group(p, len, h->meta.id_min, h->meta.id_max, g);
}

/* The id record I starts with, for enumeration: its first four bytes
 * only, the rest of the record unread. */
static int id_at(struct snap_handle *h, struct table *t, uint32_t i,
                 uint32_t *id)
{
	uint32_t a = UINT32_MAX; /* refused unless read */
	int rc;

	if (i >= t->n)
		return -EBADMSG;
	rc = get_le32s(h, t->offsets + 4 * (size_t)i, &a, 1);
	if (rc < 0)
		return rc;
	if (t->records_len < 4 || a > t->records_len - 4)
		return -EBADMSG;
	return get_le32s(h, t->records + a, id, 1);
}

/* The next candidate of a probe sequence: 0 with *IDX set, SNAP_NONE at an
 * empty slot or after every slot, -EBADMSG for an index out of range. */
static int probe(struct snap_handle *h, const struct table *t, size_t slots,
                 uint32_t hash, uint32_t *k, uint32_t *idx)
{
	uint32_t v;
	int rc;

	if (*k > t->mask)
		return SNAP_NONE;
	rc = get_le32s(h, slots + 4 * (size_t)((hash + *k) & t->mask), &v, 1);
	if (rc < 0)
		return rc;
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
	return s->len == len && (len == 0 || memcmp(s->p, name, len) == 0);
}

/* Whether the user record P of LEN bytes is named NAME (N bytes), from
 * its bytes alone: the name follows uid, gid and flags. */
static bool user_named(const uint8_t *p, size_t len, const char *name, size_t n)
{
	return len >= 11 && ld16(p + 9) == n && n <= len - 11 &&
	       memcmp(p + 11, name, n) == 0;
}

/* The record of the user named NAME, or with uid UID when NAME is NULL:
 * *P and *LEN, in the copy or in B, not yet decoded.  A record met on the
 * way whose key is another is decoded all the same, so that a damaged one
 * fails the lookup whichever key it was reached by. */
static int user_record(struct snap_handle *h, const char *name, uint32_t uid,
                       struct bounce *b, const uint8_t **p, size_t *len)
{
	size_t n = 0, slots;
	uint32_t hash, k = 0, idx;
	int rc;

	if (name != NULL) {
		n = strnlen(name, SNAP_NAME_MAX + 1);
		if (!snap_name_valid(name, n))
			return SNAP_NONE;
		hash = rec_hash_name(name, n);
		slots = h->users.byname;
	} else {
		if (!snap_id_valid(uid, h->meta.id_min, h->meta.id_max))
			return SNAP_NONE;
		hash = rec_hash_id(uid);
		slots = h->users.byid;
	}
	while ((rc = probe(h, &h->users, slots, hash, &k, &idx)) == 0) {
		struct rec_user other;

		rc = record_at(h, &h->users, idx, b, p, len);
		if (rc < 0)
			return rc;
		if (name != NULL ? user_named(*p, *len, name, n)
		                 : *len >= 4 && rec_get_le32(*p) == uid)
			return 0;
		rc = rec_decode_user(*p, *len, h->meta.id_min, h->meta.id_max,
		                     &other);
		if (rc < 0)
			return rc;
	}
	return rc;
}

/* The bytes that may be read past the LEN bytes at P, which view() put in
 * the copy (or the map) or in B: for pack_passwd_record(). */
static size_t slack_after(const struct snap_handle *h, const struct bounce *b,
                          const uint8_t *p, size_t len)
{
	if (p == b->local)
		return b->local_cap - len;
	if (b->heap != NULL && p == b->heap)
		return b->cap - len;
	if (h->base != NULL && p >= h->base && len <= h->maplen &&
	    (size_t)(p - h->base) <= h->maplen - len)
		return h->maplen - (size_t)(p - h->base) - len;
	return 0;
}

static int user_by_name(struct snap_handle *h, const char *name,
                        struct bounce *b, struct rec_user *u)
{
	const uint8_t *p;
	size_t len;
	int rc = user_record(h, name, 0, b, &p, &len);

	return rc ? rc
	          : rec_decode_user(p, len, h->meta.id_min, h->meta.id_max, u);
}

static int group_by_name(struct snap_handle *h, const char *name,
                         struct bounce *b, struct rec_group *g)
{
	size_t len = strnlen(name, SNAP_NAME_MAX + 1);
	uint32_t hash, k = 0, idx;
	int rc;

	if (!snap_name_valid(name, len))
		return SNAP_NONE;
	hash = rec_hash_name(name, len);
	while ((rc = probe(h, &h->groups, h->groups.byname, hash, &k, &idx)) ==
	       0) {
		rc = group_at(h, idx, b, g);
		if (rc < 0 || same_name(&g->name, name, len))
			return rc;
	}
	return rc;
}

static int group_by_id(struct snap_handle *h, uint32_t gid, struct bounce *b,
                       struct rec_group *g)
{
	uint32_t hash = rec_hash_id(gid), k = 0, idx;
	int rc;

	if (!snap_id_valid(gid, h->meta.id_min, h->meta.id_max))
		return SNAP_NONE;
	while ((rc = probe(h, &h->groups, h->groups.byid, hash, &k, &idx)) ==
	       0) {
		rc = group_at(h, idx, b, g);
		if (rc < 0 || g->gid == gid)
			return rc;
	}
	return rc;
}

/* ---- lookups ---------------------------------------------------------- */

typedef int (*query_fn)(struct snap_handle *h, void *arg);

/* Runs FN on the live snapshot.  What can reach a cancellation point
 * (acquire_slow(), fill()) holds cancellation off itself. */
static int run_query(struct snap_reader *r, query_fn fn, void *arg)
{
	struct snap_handle *h;
	int rc = acquire(r, &h);

	return rc == 0 ? fn(h, arg) : rc;
}

/* A point lookup: by NAME when it is not NULL, else by ID. */
struct point_query {
	const char *name;
	uint32_t id;
	void *ent; /* struct passwd or struct group */
	char *buf;
	size_t buflen;
};

static int q_user(struct snap_handle *h, void *arg)
{
	struct point_query *a = arg;
	uint8_t local[RECORD_LOCAL];
	const uint8_t *p;
	size_t len;
	struct bounce b;
	int rc;

	bounce_init(&b, local, sizeof(local));
	rc = user_record(h, a->name, a->id, &b, &p, &len);
	if (rc == 0)
		rc = pack_passwd_record(p, len, slack_after(h, &b, p, len),
		                        h->meta.id_min, h->meta.id_max, a->ent,
		                        a->buf, a->buflen);
	bounce_free(&b);
	return rc;
}

static int q_group(struct snap_handle *h, void *arg)
{
	struct point_query *a = arg;
	struct rec_group g = {0};
	uint8_t local[RECORD_LOCAL];
	struct bounce b;
	int rc;

	bounce_init(&b, local, sizeof(local));
	rc = a->name ? group_by_name(h, a->name, &b, &g)
	             : group_by_id(h, a->id, &b, &g);
	if (rc == 0)
		rc = pack_group(&g, a->ent, a->buf, a->buflen);
	bounce_free(&b);
	return rc;
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

/* The first record of T with an id >= NEXT, by binary search. */
static int search(struct snap_handle *h, struct table *t, uint64_t next,
                  uint32_t *idx)
{
	uint32_t lo = 0, hi = t->n, id = 0;
	int rc;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		rc = id_at(h, t, mid, &id);
		if (rc < 0)
			return rc;
		if (id < next)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= t->n)
		return SNAP_NONE;
	*idx = lo;
	return 0;
}

/* Where an enumeration goes on: the cursor's remembered index when the
 * record before it is still below NEXT (the same snapshot, or one where
 * the entries sit at the same places), else *HINTED is false and
 * search() decides.  The caller, which decodes the record anyway, still
 * checks that its id is at least NEXT.  0, SNAP_NONE at the end, or
 * negative. */
static int seek(struct snap_handle *h, struct table *t,
                const struct snap_cursor *c, uint32_t *idx, bool *hinted)
{
	uint32_t prev;
	int rc;

	if (c->next > UINT32_MAX)
		return SNAP_NONE;
	rc = table_ready(h, t);
	if (rc < 0)
		return rc;
	*hinted = c->index < t->n &&
	          (c->index == 0 ||
	           (id_at(h, t, c->index - 1, &prev) == 0 && prev < c->next));
	if (*hinted) {
		*idx = c->index;
		return 0;
	}
	return search(h, t, c->next, idx);
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

/* Chunks an enumeration copies in past the one it needs.  It reads the
 * offsets and the records in order, each table its own stream, so every
 * chunk of both is needed and worth copying at once: one read brings in
 * the next few thousand entries, and no entry goes through a bounce (the
 * read-ahead of view_slow() follows one stream only). */
#define WALK_AHEAD 64

/* Copies in chunks FIRST..LAST and the WALK_AHEAD after FIRST, up to
 * chunk LIMIT (the end of the table being walked). */
static __attribute__((noinline)) int walk_fill(struct snap_handle *h,
                                               size_t first, size_t last,
                                               size_t limit)
{
	size_t ahead = first + WALK_AHEAD - 1;
	int rc, cancel_state;

	if (ahead > limit)
		ahead = limit;
	if (last < ahead)
		last = ahead;
	if (last >= h->nchunks)
		last = h->nchunks - 1;
	/* pread() is a cancellation point: never leave fill_lock held. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	pthread_mutex_lock(&h->fill_lock);
	rc = state_alloc(h);
	if (rc == 0)
		rc = fill_locked(h, first, last);
	pthread_mutex_unlock(&h->fill_lock);
	pthread_setcancelstate(cancel_state, NULL);
	return rc;
}

/* view() for an enumeration: the LEN (> 0) bytes at OFF always in the
 * copy (or the map), so that the bytes after them can be read too (see
 * walk_record()).  LIMIT is the last chunk of the table. */
static inline __attribute__((always_inline)) int walk_view(
        struct snap_handle *h, size_t off, size_t len, size_t limit,
        const uint8_t **out)
{
	if (off > h->size || len > h->size - off || len == 0)
		return -EBADMSG;
	if (!h->mapped) {
		const uint8_t *st =
		        __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
		size_t first = off >> CHUNK_SHIFT,
		       last = (off + len - 1) >> CHUNK_SHIFT;

		for (size_t i = first; i <= last; i++) {
			if (st == NULL ||
			    __atomic_load_n(&st[i], __ATOMIC_ACQUIRE) !=
			            CHUNK_FULL) {
				int rc = walk_fill(h, i, last, limit);

				if (rc < 0)
					return rc;
				break;
			}
		}
	}
	*out = h->base + off;
	return 0;
}

/* Record I of T for an enumeration: record_at() through walk_view(), and
 * *SLACK the bytes of the copy (or the map) readable after it, for
 * pack_passwd_record(). */
static int walk_record(struct snap_handle *h, struct table *t, uint32_t i,
                       const uint8_t **p, size_t *len, size_t *slack)
{
	const uint8_t *o;
	uint32_t a, b;
	int rc;

	if (i >= t->n)
		return -EBADMSG;
	rc = walk_view(h, t->offsets + 4 * (size_t)i, 8,
	               (t->offsets + 4 * (size_t)t->n + 3) >> CHUNK_SHIFT, &o);
	if (rc < 0)
		return rc;
	a = rec_get_le32(o);
	b = rec_get_le32(o + 4);
	if (a >= b || b > t->records_len)
		return -EBADMSG; /* an empty record is no record either */
	*len = b - a;
	rc = walk_view(h, t->records + a, *len,
	               (t->records + t->records_len - 1) >> CHUNK_SHIFT, p);
	if (rc == 0)
		*slack = h->maplen - (t->records + b);
	return rc;
}

/* walk_next() when the cursor's hint is not the record after the one it
 * last returned in this snapshot: seek(), and search() when the hinted
 * record's id is below the cursor's next. */
static __attribute__((noinline)) int walk_seek(struct snap_handle *h,
                                               struct table *t,
                                               const struct snap_cursor *c,
                                               uint32_t *idx, const uint8_t **p,
                                               size_t *len, size_t *slack)
{
	bool hinted = false;
	int rc = seek(h, t, c, idx, &hinted);

	if (rc == 0)
		rc = walk_record(h, t, *idx, p, len, slack);
	if (rc == 0 && hinted && *len >= 4 && rec_get_le32(*p) < c->next) {
		rc = search(h, t, c->next, idx);
		if (rc == 0)
			rc = walk_record(h, t, *idx, p, len, slack);
	}
	return rc;
}

/* The record where an enumeration of T goes on, read in: the first one
 * with an id >= the cursor's next.  The common case, the cursor's index
 * right after the record it returned last, takes one view of three
 * offsets and one of the two records (back to back in the table): the
 * hint holds when the record before has an id below next and this one
 * not, as seek() and search() would find.  Anything else goes to
 * walk_seek(). */
static inline __attribute__((always_inline)) int walk_next(
        struct snap_handle *h, struct table *t, const struct snap_cursor *c,
        uint32_t *idx, const uint8_t **p, size_t *len, size_t *slack)
{
	uint32_t i = c->index, a0, a, b;
	const uint8_t *o, *r;
	int rc;

	if (i == 0 || i >= t->n || c->next > UINT32_MAX ||
	    !__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE))
		return walk_seek(h, t, c, idx, p, len, slack);
	rc = walk_view(h, t->offsets + 4 * (size_t)(i - 1), 12,
	               (t->offsets + 4 * (size_t)t->n + 3) >> CHUNK_SHIFT, &o);
	if (rc < 0)
		return rc;
	a0 = rec_get_le32(o);
	a = rec_get_le32(o + 4);
	b = rec_get_le32(o + 8);
	if (a0 > a || a - a0 < 4 || a >= b || b > t->records_len)
		return walk_seek(h, t, c, idx, p, len, slack);
	rc = walk_view(h, t->records + a0, b - a0,
	               (t->records + t->records_len - 1) >> CHUNK_SHIFT, &r);
	if (rc < 0)
		return rc;
	if (rec_get_le32(r) >= c->next || rec_get_le32(r + (a - a0)) < c->next)
		return walk_seek(h, t, c, idx, p, len, slack);
	*idx = i;
	*p = r + (a - a0);
	*len = b - a;
	*slack = h->maplen - (t->records + b);
	return 0;
}

static int q_getpwent(struct snap_handle *h, void *arg)
{
	struct ent_query *a = arg;
	struct passwd *pw = a->ent;
	const uint8_t *p;
	size_t len, slack;
	uint32_t idx;
	int rc = walk_next(h, &h->users, a->c, &idx, &p, &len, &slack);

	if (rc == 0)
		rc = pack_passwd_record(p, len, slack, h->meta.id_min,
		                        h->meta.id_max, pw, a->buf, a->buflen);
	if (rc == 0)
		advance(a->c, idx, pw->pw_uid);
	return rc;
}

static int q_getgrent(struct snap_handle *h, void *arg)
{
	struct ent_query *a = arg;
	struct rec_group g = {0};
	const uint8_t *p;
	size_t len, slack;
	uint32_t idx;
	int rc = walk_next(h, &h->groups, a->c, &idx, &p, &len, &slack);

	if (rc == 0)
		rc = rec_decode_group(p, len, h->meta.id_min, h->meta.id_max,
		                      &g);
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

/* Appends U's groups. */
static int ig_append(const struct snap_meta *m, struct ig_query *a,
                     const struct rec_user *u)
{
	/* The stored gids are unique: only what the caller had listed
	 * before needs looking at, not what we append. */
	long int listed = *a->start;
	int rc = u->ngroups == 0 ? SNAP_NONE : 0;

	for (uint32_t i = 0; rc == 0 && i < u->ngroups; i++) {
		gid_t gid = rec_get_le32(u->gids + 4 * (size_t)i);

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

static int q_initgroups(struct snap_handle *h, void *arg)
{
	struct ig_query *a = arg;
	struct rec_user u = {0};
	uint8_t local[RECORD_LOCAL];
	struct bounce b;
	int rc;

	bounce_init(&b, local, sizeof(local));
	rc = user_by_name(h, a->user, &b, &u);
	if (rc == 0)
		rc = ig_append(&h->meta, a, &u);
	bounce_free(&b);
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

static int q_account(struct snap_handle *h, void *arg)
{
	struct acct_query *a = arg;
	struct rec_user u = {0};
	uint8_t local[RECORD_LOCAL];
	struct bounce b;
	int rc;

	bounce_init(&b, local, sizeof(local));
	rc = user_by_name(h, a->user, &b, &u);
	bounce_free(&b); /* what is used below is copied out of the record */
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

static int q_in_group(struct snap_handle *h, void *arg)
{
	struct acct_query *a = arg;
	struct rec_user u = {0};
	struct rec_group g = {0};
	uint8_t local[RECORD_LOCAL];
	struct bounce b;
	int rc;

	bounce_init(&b, local, sizeof(local));
	/* Only the group's gid is used, a copy: one bounce serves both. */
	rc = group_by_name(h, a->group, &b, &g);
	if (rc == 0)
		rc = user_by_name(h, a->user, &b, &u);
	if (rc == 0 && u.gid != g.gid) {
		rc = SNAP_NONE;
		for (uint32_t i = 0; i < u.ngroups; i++)
			if (rec_get_le32(u.gids + 4 * (size_t)i) == g.gid)
				rc = 0;
	}
	bounce_free(&b);
	return rc;
}

int snap_user_in_group(struct snap_reader *r, const char *user,
                       const char *group)
{
	struct acct_query a = {user, group, NULL};

	return run_query(r, q_in_group, &a);
}

static int q_meta(struct snap_handle *h, void *arg)
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

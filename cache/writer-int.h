/* SPDX-License-Identifier: MIT */
/*
 * writer-int.h: what the full writer (writer.c) shares with the patching
 * writer (patch.c), so that both make a file the same way: the checks of
 * an entry, the layout of the hash tables, the LMDB sequence that writes
 * the tables, and the atomic publish around it.  Private to libsnap.
 */
#ifndef NSS_SCIM_WRITER_INT_H
#define NSS_SCIM_WRITER_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "snap.h"

/* A power of two at least twice N, so probe runs stay short and end: the
 * size in slots of a byname or byid table of N entries. */
static inline size_t table_cap(size_t n)
{
	size_t cap = 8;

	while (cap < 2 * n)
		cap *= 2;
	return cap;
}

static inline void put_le32_at(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)x;
	p[1] = (uint8_t)(x >> 8);
	p[2] = (uint8_t)(x >> 16);
	p[3] = (uint8_t)(x >> 24);
}

/* Stores VALUE in the first empty slot of SLOTS (CAP le32 slots) from
 * HASH on: entries are placed in file order, so the table depends only on
 * the records and their order. */
static inline void slot_put(uint8_t *slots, size_t cap, uint32_t hash,
                            uint32_t value)
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

/* The checks snap_writer_add_user() makes of one user (name, ids within
 * [ID_MIN, ID_MAX], fields), and those snap_writer_add_group() makes of a
 * group's name, gid and member count; 0 or -EINVAL with ERR set. */
int writer_check_user(uint32_t id_min, uint32_t id_max,
                      const struct snap_user *u, char *err, size_t errlen);
int writer_check_group(uint32_t id_min, uint32_t id_max,
                       const struct snap_group *g, char *err, size_t errlen);

/* ---- the file's tables ------------------------------------------------ */

/* The tables of one kind, in the order they are written. */
enum writer_table { WT_OFFSETS, WT_RECORDS, WT_BYNAME, WT_BYID, WT_COUNT };

/* One value being filled in place in the new file's map. */
struct writer_value;

/* Appends LEN bytes at P to V; more than V was reserved for is refused
 * when the fill ends. */
void writer_value_append(struct writer_value *v, const void *p, size_t len);

/* What writer_write_file() writes besides the meta record: the sizes of
 * the eight values (users first, then groups, each in enum writer_table
 * order), which alone decide the map's size and so the file, and FILL,
 * which fills value T of the users (GROUP false) or the groups whole. */
struct writer_source {
	size_t len[2][WT_COUNT];
	int (*fill)(void *arg, bool group, enum writer_table t,
	            struct writer_value *v, char *err, size_t errlen);
	void *arg;
};

/* ---- the publish ------------------------------------------------------ */

/* The file a publish writes: its full name (for LMDB, the read-back and
 * messages), its name in the snapshot's directory, and descriptors of
 * both, through which everything else is done. */
struct temp {
	char path[PATH_MAX];
	const char *base; /* in path */
	int dirfd, fd;
};

/* The steps of every publish, in this order: PATH made absolute into OUT
 * (PATH_MAX bytes) and ERR emptied; the temporary file created beside it;
 * the tables written into it with META through LMDB; then, once verified,
 * the file made 0644, fsynced and renamed over PATH.  On failure after
 * writer_make_temp() the caller unlinks T->base in T->dirfd; it always
 * ends with writer_temp_close(). */
int writer_publish_path(const char *path, char *out, char *err, size_t errlen);
int writer_make_temp(const char *path, struct temp *t, char *err,
                     size_t errlen);
int writer_write_file(const struct writer_source *s, const struct temp *t,
                      const struct snap_meta *meta, char *err, size_t errlen);
int writer_finish(const struct temp *t, const char *path, char *err,
                  size_t errlen);
void writer_temp_close(struct temp *t);

/* Whether two meta records say the same. */
bool writer_meta_same(const struct snap_meta *a, const struct snap_meta *b);

/* Whether GR, as the reader gave it, is G: name, gid and members in
 * order. */
bool writer_group_same(const struct group *gr, const struct snap_group *g);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * idmap.h: sticky uids and gids, kept in the state directory.
 *
 * A number is derived from the immutable SCIM id, never from the email,
 * which changes:
 *
 *   slot = min + FNV-1a-64("u:" ID or "g:" ID) mod (max - min + 1)
 *
 * and, when that number is taken (by an earlier entry, alive or gone, or by
 * the local passwd or group files), the next one up is tried, wrapping from
 * max to min.  New entries are numbered in a fixed order (people before
 * groups, each by SCIM id in byte order), so that two hosts that see the
 * same directory from empty state compute the same numbers.  People and
 * groups share one pool: a person's private group uses the person's number
 * as its gid.
 *
 * Once given, a number stays with its SCIM id for good: an entry whose
 * resource disappears becomes a tombstone ("gone") and its number is never
 * handed to anyone else; if the id comes back it gets its number back.
 *
 * The file is text, one entry a line:
 *   KIND NUMBER SCIM-ID NAME ACTIVE STATE
 * KIND u or g, NAME the last POSIX name or '-', ACTIVE 1/0 (the SCIM
 * "active" of a person, '-' for groups), STATE live or gone.
 */
#ifndef SCIM_IDMAP_H
#define SCIM_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "scim.h"
#include "table.h"

#define IDMAP_FILE_MAX (256u << 20)

struct idmap_entry {
	char *scim_id; /* the map's own; set names with idmap_set_name */
	char *name;    /* NULL when never named */
	uint32_t number;
	enum scim_kind kind : 8; /* a byte: there may be 100,000 entries */
	bool active;
	bool live;
};

struct idmap {
	uint32_t min, max;
	struct idmap_entry *e;
	size_t n, cap;
	/* SCIM id -> position in e, of people [0] and groups [1]: open
	 * addressing over the entries' own scim_id, 8 bytes a slot. */
	struct idmap_index {
		struct idmap_slot {
			uint32_t hash;
			uint32_t pos; /* 1 + position in e; 0: empty */
		} * slots;
		size_t cap, n;
	} index[2];
	struct numset used; /* every number in e */
	struct arena strs;  /* the entries' strings */
};

/* An empty map over [MIN, MAX]. */
void idmap_init(struct idmap *m, uint32_t min, uint32_t max);

/* Parses the text of an id file.  Returns 0 or -EBADMSG with "line N:
 * reason" in ERR, or -ENOMEM. */
int idmap_parse(struct idmap *m, const char *text, size_t len, char *err,
                size_t errlen);

/* Loads PATH; a missing file gives an empty map.  Same returns, the reason
 * naming the file. */
int idmap_load(struct idmap *m, const char *path, char *err, size_t errlen);

/* Writes the text of the map (one line per entry, in file order) to FD,
 * a chunk at a time, as a large map need not be held whole.  Returns 0 or
 * a negative errno. */
int idmap_write(const struct idmap *m, int fd);

/* Names E (an entry of M) NAME.  Returns 0 or -ENOMEM. */
int idmap_set_name(struct idmap *m, struct idmap_entry *e, const char *name);

/* The entry of KIND and SCIM_ID, or NULL.  Valid until the map changes. */
struct idmap_entry *idmap_find(const struct idmap *m, enum scim_kind kind,
                               const char *scim_id);

/* The live entry of KIND named NAME, or NULL. */
struct idmap_entry *idmap_find_name(const struct idmap *m, enum scim_kind kind,
                                    const char *name);

/* Gives a number to each of the N ids of KIND that has none, in the fixed
 * order described above (IDS need not be sorted), never using a number in
 * RESERVED.  Returns 0, -ENOSPC when the range is full, or -ENOMEM. */
int idmap_assign(struct idmap *m, enum scim_kind kind, const char *const *ids,
                 size_t n, const struct numset *reserved);

/* Records NUMBER for KIND and SCIM_ID (live).  Returns 0, -EEXIST when the
 * id has a number or the number is taken, -ENOMEM. */
int idmap_adopt(struct idmap *m, enum scim_kind kind, const char *scim_id,
                uint32_t number);

/* The first slot tried for KIND and SCIM_ID. */
uint32_t idmap_slot(const struct idmap *m, enum scim_kind kind,
                    const char *scim_id);

void idmap_free(struct idmap *m);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * record.h: the byte layout of a snapshot.
 *
 * A snapshot holds a few LMDB values, each one whole table:
 *   "meta"           the meta record
 *   "user.records"   every user record, back to back, in uid order
 *   "user.offsets"   le32[n + 1]: record i spans [off[i], off[i + 1])
 *   "user.byname"    le32[cap]: open-addressing hash of names; a slot holds
 *                    record index + 1, or 0 for empty
 *   "user.byid"      le32[cap]: the same, hashed by uid
 *   "group.*"        the same four tables for groups, in gid order
 * cap is a power of two larger than n, so every probe sequence meets an
 * empty slot.  A lookup is a hash, a probe or two, and a record: no B-tree
 * descent and no LMDB call, because the tables are located once when the
 * snapshot is opened and the file never changes afterwards.
 *
 * All integers are little-endian.  A string is a 16-bit length followed by
 * that many bytes, without a NUL.  The decoders check every length against
 * the record's end and validate names, fields and ids, so a damaged record
 * is refused rather than emitted.
 *
 * User record: le32 uid, le32 gid, u8 flags, str name, str gecos, str home,
 *              str shell, le32 ngroups, le32 gid[ngroups] (its groups,
 *              for initgroups, ascending)
 * Group record: le32 gid, le32 nmembers, str name, then the members as one
 *               block of NUL-terminated names to the record's end, so that
 *               a packer knows the size at once and copies it whole
 */
#ifndef NSS_SCIM_RECORD_H
#define NSS_SCIM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

#define SNAP_MAGIC     "NSS-SCIM"
#define SNAP_MAGIC_LEN 8

#define TABLE_META          "meta"
#define TABLE_USER_RECORDS  "user.records"
#define TABLE_USER_OFFSETS  "user.offsets"
#define TABLE_USER_BYNAME   "user.byname"
#define TABLE_USER_BYID     "user.byid"
#define TABLE_GROUP_RECORDS "group.records"
#define TABLE_GROUP_OFFSETS "group.offsets"
#define TABLE_GROUP_BYNAME  "group.byname"
#define TABLE_GROUP_BYID    "group.byid"

#define REC_USER_ACTIVE 0x01u
#define REC_GROUPS_MAX  65536 /* groups of one user */

/* A string inside a record: not NUL-terminated, points into the record. */
struct rec_str {
	const char *p;
	size_t len;
};

struct rec_user {
	uint32_t uid;
	uint32_t gid;
	uint8_t flags;
	struct rec_str name, gecos, home, shell;
	uint32_t ngroups;
	const uint8_t *gids; /* ngroups le32 values */
};

/* Members stay in their block: NUL-terminated names, members_len bytes,
 * the last one a NUL.  Walk them with rec_member_next(). */
struct rec_group {
	uint32_t gid;
	uint32_t nmembers;
	struct rec_str name;
	const uint8_t *members;
	size_t members_len;
};

/* A growable output buffer for the encoders. */
struct rec_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* first error (-ENOMEM, -EOVERFLOW); later writes do nothing
	          */
};

void rec_buf_reset(struct rec_buf *b);
void rec_buf_free(struct rec_buf *b);
void rec_put_u8(struct rec_buf *b, uint8_t v);
void rec_put_le32(struct rec_buf *b, uint32_t v);
void rec_put_le64(struct rec_buf *b, uint64_t v);
void rec_put_be32(struct rec_buf *b, uint32_t v);
void rec_put_bytes(struct rec_buf *b, const void *p, size_t len);
/* Writes a length-prefixed string; -EOVERFLOW past 65535 bytes. */
void rec_put_str(struct rec_buf *b, const char *s, size_t len);

/* Encoders for values; they append to B and return B->err (0 or a
 * negative errno).  GIDS are the user's groups, NGIDS of them. */
int rec_encode_user(struct rec_buf *b, const struct snap_user *u,
                    const uint32_t *gids, size_t ngids);
int rec_encode_group(struct rec_buf *b, const struct snap_group *g);
int rec_encode_meta(struct rec_buf *b, const struct snap_meta *m);

/* Inline: the lookup path reads several a lookup, from another file. */
static inline uint32_t rec_get_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | (uint32_t)p[0];
}

/* The hashes of the byname and byid tables. */
uint32_t rec_hash_name(const char *name, size_t len);
uint32_t rec_hash_id(uint32_t id);

/* Decoders: 0, or -EBADMSG when the bytes are not a well-formed, valid
 * record.  Outputs point into P and live as long as P does.  User and group
 * decoders also refuse ids outside [id_min, id_max] and invalid strings. */
int rec_decode_user(const uint8_t *p, size_t len, uint32_t id_min,
                    uint32_t id_max, struct rec_user *out);
int rec_decode_group(const uint8_t *p, size_t len, uint32_t id_min,
                     uint32_t id_max, struct rec_group *out);
int rec_decode_meta(const uint8_t *p, size_t len, struct snap_meta *out);

/* Steps through a group's encoded members: *POS starts at 0.  Returns 0 with
 * *OUT set, SNAP_NONE at the end, or -EBADMSG. */
int rec_member_next(const struct rec_group *g, size_t *pos,
                    struct rec_str *out);

#endif

/*
 * record.h: the byte layout of snapshot keys and values.
 *
 * All integers are fixed-width; ids in keys are big-endian so that LMDB's
 * byte order is numeric order, and integers in values are little-endian.
 * A string is a 16-bit little-endian length followed by that many bytes,
 * without a NUL.  The decoders check every length against the value's end
 * and validate names and fields, so a damaged record is refused rather than
 * emitted.
 *
 * Keys (one LMDB database, a one-byte prefix per kind):
 *   'M'              meta record
 *   'U' be32 uid     user record         'u' name  be32 uid
 *   'G' be32 gid     group record        'g' name  be32 gid
 *   'I' name         le32 gid[]: the user's groups, for initgroups
 */
#ifndef NSS_SCIM_RECORD_H
#define NSS_SCIM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

#define SNAP_MAGIC     "NSS-SCIM"
#define SNAP_MAGIC_LEN 8

#define KEY_META          'M'
#define KEY_USER_BY_ID    'U'
#define KEY_USER_BY_NAME  'u'
#define KEY_GROUP_BY_ID   'G'
#define KEY_GROUP_BY_NAME 'g'
#define KEY_USER_GROUPS   'I'

#define REC_USER_ACTIVE 0x01u

/* The largest key: a prefix and a name. */
#define KEY_MAX (1 + SNAP_NAME_MAX)

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
};

/* Members are left encoded; walk them with rec_member_next(). */
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

/* Encoders for values; return B->err (0 or negative errno). */
int rec_encode_user(struct rec_buf *b, const struct snap_user *u);
int rec_encode_group(struct rec_buf *b, const struct snap_group *g);
int rec_encode_meta(struct rec_buf *b, const struct snap_meta *m);

/* Key builders: write the key into KEY (KEY_MAX bytes) and return its
 * length, or 0 when NAME cannot be a key (empty or too long). */
size_t rec_key_id(uint8_t *key, char prefix, uint32_t id);
size_t rec_key_name(uint8_t *key, char prefix, const char *name, size_t len);
uint32_t rec_get_be32(const uint8_t *p);
uint32_t rec_get_le32(const uint8_t *p);

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

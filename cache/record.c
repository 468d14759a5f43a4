/* SPDX-License-Identifier: MIT */
/*
 * record.c: encoding and bounds-checked decoding of snapshot records.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define REC_STR_MAX    0xffffu
#define META_FIXED_LEN (SNAP_MAGIC_LEN + 4 + 8 + 8 + 4 * 5)

/* ---- output buffer ---------------------------------------------------- */

void rec_buf_reset(struct rec_buf *b)
{
	b->len = 0;
	b->err = 0;
}

void rec_buf_free(struct rec_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

static int rec_buf_reserve(struct rec_buf *b, size_t more)
{
	size_t want;
	uint8_t *p;

	if (b->err)
		return b->err;
	if (more > SIZE_MAX / 2 - b->len)
		return b->err = -EOVERFLOW;
	if (b->len + more <= b->cap)
		return 0;
	want = b->cap ? b->cap : 256;
	while (want < b->len + more)
		want *= 2;
	p = realloc(b->data, want);
	if (p == NULL)
		return b->err = -ENOMEM;
	b->data = p;
	b->cap = want;
	return 0;
}

void rec_put_bytes(struct rec_buf *b, const void *p, size_t len)
{
	if (len == 0 || rec_buf_reserve(b, len) < 0)
		return;
	memcpy(b->data + b->len, p, len);
	b->len += len;
}

void rec_put_u8(struct rec_buf *b, uint8_t v)
{
	rec_put_bytes(b, &v, 1);
}

void rec_put_le32(struct rec_buf *b, uint32_t v)
{
	uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	                (uint8_t)(v >> 24)};

	rec_put_bytes(b, p, sizeof(p));
}

void rec_put_le64(struct rec_buf *b, uint64_t v)
{
	rec_put_le32(b, (uint32_t)v);
	rec_put_le32(b, (uint32_t)(v >> 32));
}

void rec_put_be32(struct rec_buf *b, uint32_t v)
{
	uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	                (uint8_t)(v >> 8), (uint8_t)v};

	rec_put_bytes(b, p, sizeof(p));
}

void rec_put_str(struct rec_buf *b, const char *s, size_t len)
{
	uint8_t p[2] = {(uint8_t)len, (uint8_t)(len >> 8)};

	if (len > REC_STR_MAX) {
		if (!b->err)
			b->err = -EOVERFLOW;
		return;
	}
	rec_put_bytes(b, p, sizeof(p));
	rec_put_bytes(b, s, len);
}

static void put_cstr(struct rec_buf *b, const char *s)
{
	rec_put_str(b, s, strlen(s));
}

/* ---- encoders --------------------------------------------------------- */

int rec_encode_user(struct rec_buf *b, const struct snap_user *u,
                    const uint32_t *gids, size_t ngids)
{
	if (ngids > REC_GROUPS_MAX) {
		if (!b->err)
			b->err = -EOVERFLOW;
		return b->err;
	}
	rec_put_le32(b, u->uid);
	rec_put_le32(b, u->gid);
	rec_put_u8(b, u->active ? REC_USER_ACTIVE : 0);
	put_cstr(b, u->name);
	put_cstr(b, u->gecos);
	put_cstr(b, u->home);
	put_cstr(b, u->shell);
	rec_put_le32(b, (uint32_t)ngids);
	for (size_t i = 0; i < ngids; i++)
		rec_put_le32(b, gids[i]);
	return b->err;
}

int rec_encode_group(struct rec_buf *b, const struct snap_group *g)
{
	if (g->nmembers > SNAP_MEMBERS_MAX) {
		if (!b->err)
			b->err = -EOVERFLOW;
		return b->err;
	}
	rec_put_le32(b, g->gid);
	rec_put_le32(b, (uint32_t)g->nmembers);
	put_cstr(b, g->name);
	for (size_t i = 0; i < g->nmembers; i++)
		rec_put_bytes(b, g->members[i], strlen(g->members[i]) + 1);
	return b->err;
}

int rec_encode_meta(struct rec_buf *b, const struct snap_meta *m)
{
	rec_put_bytes(b, SNAP_MAGIC, SNAP_MAGIC_LEN);
	rec_put_le32(b, m->version);
	rec_put_le64(b, m->generation);
	rec_put_le64(b, (uint64_t)m->created);
	rec_put_le32(b, m->id_min);
	rec_put_le32(b, m->id_max);
	rec_put_le32(b, m->nusers);
	rec_put_le32(b, m->nactive);
	rec_put_le32(b, m->ngroups);
	put_cstr(b, m->source);
	return b->err;
}

/* ---- integers and hashes --------------------------------------------- */

/* FNV-1a: simple, and good enough for names the tool has validated. */
uint32_t rec_hash_name(const char *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	return h;
}

/* A multiplicative mix: ids are spread over a range already, but often in
 * runs, which a plain mask would pile into neighbouring slots. */
uint32_t rec_hash_id(uint32_t id)
{
	uint32_t h = id * 0x9e3779b1u;

	return h ^ (h >> 16);
}

/* ---- decoders --------------------------------------------------------- */

/* A read position inside one value; every get checks what remains. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static int rd_take(struct rd *r, size_t n, const uint8_t **out)
{
	if (n > r->left)
		return -EBADMSG;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static int rd_u8(struct rd *r, uint8_t *v)
{
	const uint8_t *p;

	if (rd_take(r, 1, &p) < 0)
		return -EBADMSG;
	*v = p[0];
	return 0;
}

static int rd_le32(struct rd *r, uint32_t *v)
{
	const uint8_t *p;

	if (rd_take(r, 4, &p) < 0)
		return -EBADMSG;
	*v = rec_get_le32(p);
	return 0;
}

static int rd_le64(struct rd *r, uint64_t *v)
{
	uint32_t lo, hi;

	if (rd_le32(r, &lo) < 0 || rd_le32(r, &hi) < 0)
		return -EBADMSG;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static int rd_str(struct rd *r, struct rec_str *s)
{
	const uint8_t *p;
	size_t len;

	if (rd_take(r, 2, &p) < 0)
		return -EBADMSG;
	len = (size_t)p[0] | (size_t)p[1] << 8;
	if (rd_take(r, len, &p) < 0)
		return -EBADMSG;
	s->p = (const char *)p;
	s->len = len;
	return 0;
}

static int rd_name(struct rd *r, struct rec_str *s)
{
	if (rd_str(r, s) < 0 || !snap_name_valid(s->p, s->len))
		return -EBADMSG;
	return 0;
}

/* Nonzero when a byte of V is below 0x20, is 0x7f or is ':': the
 * less-than and zero-byte tests of the usual bit tricks, each exact as to
 * whether any byte matches, which is all that is asked. */
static uint64_t field_bad8(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101u, high = ones << 7;
	uint64_t colon = v ^ (ones * ':'), del = v ^ (ones * 0x7f);

	return (((v - ones * 0x20) & ~v) | ((colon - ones) & ~colon) |
	        ((del - ones) & ~del)) &
	       high;
}

/* Eight bytes from anywhere, without taking a local's address (which
 * would cost a stack guard on every call). */
typedef uint64_t __attribute__((may_alias, aligned(1))) unaligned_u64;

/* snap_field_valid(), eight bytes a step: fields are checked on every
 * answer, three a person, and a byte at a time this was a sixth of an
 * enumeration. */
static inline bool field_valid(const char *s, size_t len)
{
	uint64_t bad = 0;
	size_t i = 0;

	if (len > SNAP_FIELD_MAX)
		return false;
	if (len < 8) {
		for (; i < len; i++) {
			unsigned char c = (unsigned char)s[i];

			bad |= c < 0x20 || c == ':' || c == 0x7f;
		}
		return bad == 0;
	}
	for (; i + 8 <= len; i += 8)
		bad |= field_bad8(*(const unaligned_u64 *)(s + i));
	/* The tail, overlapping what was checked. */
	return (bad | field_bad8(*(const unaligned_u64 *)(s + len - 8))) == 0;
}

static int rd_field(struct rd *r, struct rec_str *s)
{
	if (rd_str(r, s) < 0 || !field_valid(s->p, s->len))
		return -EBADMSG;
	return 0;
}

int rec_decode_user(const uint8_t *p, size_t len, uint32_t id_min,
                    uint32_t id_max, struct rec_user *out)
{
	struct rd r = {p, len};
	struct rec_user u;

	if (rd_le32(&r, &u.uid) < 0 || rd_le32(&r, &u.gid) < 0 ||
	    rd_u8(&r, &u.flags) < 0 || rd_name(&r, &u.name) < 0 ||
	    rd_field(&r, &u.gecos) < 0 || rd_field(&r, &u.home) < 0 ||
	    rd_field(&r, &u.shell) < 0 || rd_le32(&r, &u.ngroups) < 0 ||
	    u.ngroups > REC_GROUPS_MAX || r.left != (size_t)u.ngroups * 4)
		return -EBADMSG;
	u.gids = r.p;
	if (!snap_id_valid(u.uid, id_min, id_max) ||
	    !snap_id_valid(u.gid, id_min, id_max))
		return -EBADMSG;
	*out = u;
	return 0;
}

int rec_decode_group(const uint8_t *p, size_t len, uint32_t id_min,
                     uint32_t id_max, struct rec_group *out)
{
	struct rd r = {p, len};
	struct rec_group g;

	if (rd_le32(&r, &g.gid) < 0 || rd_le32(&r, &g.nmembers) < 0 ||
	    rd_name(&r, &g.name) < 0)
		return -EBADMSG;
	if (!snap_id_valid(g.gid, id_min, id_max) ||
	    g.nmembers > SNAP_MEMBERS_MAX || g.nmembers > r.left / 2 ||
	    (g.nmembers == 0) != (r.left == 0) ||
	    (r.left > 0 && r.p[r.left - 1] != '\0'))
		return -EBADMSG;
	g.members = r.p;
	g.members_len = r.left;
	*out = g;
	return 0;
}

int rec_member_next(const struct rec_group *g, size_t *pos, struct rec_str *out)
{
	const uint8_t *start, *nul;

	if (*pos > g->members_len)
		return -EBADMSG;
	if (*pos == g->members_len)
		return SNAP_NONE;
	start = g->members + *pos;
	nul = memchr(start, '\0', g->members_len - *pos);
	if (nul == NULL ||
	    !snap_name_valid((const char *)start, (size_t)(nul - start)))
		return -EBADMSG;
	out->p = (const char *)start;
	out->len = (size_t)(nul - start);
	*pos += out->len + 1;
	return 0;
}

int rec_decode_meta(const uint8_t *p, size_t len, struct snap_meta *out)
{
	struct rd r = {p, len};
	struct snap_meta m;
	struct rec_str src;
	const uint8_t *magic;
	uint64_t created;

	memset(&m, 0, sizeof(m));
	if (len < META_FIXED_LEN || rd_take(&r, SNAP_MAGIC_LEN, &magic) < 0 ||
	    memcmp(magic, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0)
		return -EBADMSG;
	if (rd_le32(&r, &m.version) < 0)
		return -EBADMSG;
	if (m.version != SNAP_FORMAT_VERSION)
		return -EPROTONOSUPPORT;
	if (rd_le64(&r, &m.generation) < 0 || rd_le64(&r, &created) < 0 ||
	    rd_le32(&r, &m.id_min) < 0 || rd_le32(&r, &m.id_max) < 0 ||
	    rd_le32(&r, &m.nusers) < 0 || rd_le32(&r, &m.nactive) < 0 ||
	    rd_le32(&r, &m.ngroups) < 0 || rd_str(&r, &src) < 0 || r.left != 0)
		return -EBADMSG;
	if (m.id_min == 0 || m.id_min > m.id_max || m.id_max > SNAP_ID_LIMIT ||
	    !snap_text_valid(src.p, src.len))
		return -EBADMSG;
	m.created = (int64_t)created;
	memcpy(m.source, src.p, src.len);
	m.source[src.len] = '\0';
	*out = m;
	return 0;
}

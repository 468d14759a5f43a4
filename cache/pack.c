/* SPDX-License-Identifier: MIT */
/*
 * pack.c: records into glibc's struct passwd and struct group.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "pack.h"

/* No password is ever usable through this module: authentication belongs to
 * keys or another PAM module, never to a hash from the directory. */
#define NO_PASSWORD "*"

/* Copies S as a C string at *POS and returns where it starts. */
static char *put_str(char **pos, const struct rec_str *s)
{
	char *start = *pos;

	memcpy(start, s->p, s->len);
	start[s->len] = '\0';
	*pos = start + s->len + 1;
	return start;
}

/* Copies a literal the same way. */
static char *put_lit(char **pos, const char *lit)
{
	struct rec_str s = {lit, strlen(lit)};

	return put_str(pos, &s);
}

int pack_passwd(const struct rec_user *u, struct passwd *pw, char *buf,
                size_t buflen)
{
	/* Each field is at most 64 KiB, so this sum cannot overflow. */
	size_t need = u->name.len + 1 + sizeof(NO_PASSWORD) + u->gecos.len + 1 +
	              u->home.len + 1 + u->shell.len + 1;
	char *pos = buf;

	if (buf == NULL || buflen < need)
		return -ERANGE;
	pw->pw_name = put_str(&pos, &u->name);
	pw->pw_passwd = put_lit(&pos, NO_PASSWORD);
	pw->pw_uid = u->uid;
	pw->pw_gid = u->gid;
	pw->pw_gecos = put_str(&pos, &u->gecos);
	pw->pw_dir = put_str(&pos, &u->home);
	pw->pw_shell = put_str(&pos, &u->shell);
	return 0;
}

/* ---- sixteen bytes at a time ------------------------------------------- */

/* Sixteen bytes of a record, loaded and stored at any alignment. */
typedef unsigned char v16 __attribute__((vector_size(16)));
typedef unsigned char v16u
        __attribute__((vector_size(16), aligned(1), may_alias));
typedef signed char m16 __attribute__((vector_size(16))); /* 0 or -1 */

typedef signed char m16u
        __attribute__((vector_size(16), aligned(1), may_alias));

/* Sixteen lanes set, then sixteen clear: the sixteen bytes at 16 - R are
 * a mask of the first R lanes, those of a string's last piece.  Lanes
 * past a string's end are loaded and stored but never judged. */
static const signed char tail_lanes[32] = {
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static inline m16 first_lanes(size_t r)
{
	return *(const m16u *)(tail_lanes + 16 - r);
}

static inline bool any_lane(m16 m)
{
#ifdef __SSE2__
	return __builtin_ia32_pmovmskb128(
	               (__attribute__((vector_size(16))) char)m) != 0;
#else
	typedef uint64_t q2 __attribute__((vector_size(16)));
	q2 q = (q2)m;

	return (q[0] | q[1]) != 0;
#endif
}

/* Lanes that a field may not hold (snap_field_valid()): control
 * characters and ':'. */
static inline m16 field_bad16(v16 c)
{
	return (m16)(c < 0x20) | (m16)(c == ':') | (m16)(c == 0x7f);
}

/* Lanes that a name may not hold (snap_name_valid()): other than
 * [A-Za-z0-9._-].  The subtractions wrap, so each range is one unsigned
 * comparison.  *NONDIGIT gets the lanes that are no digit. */
static inline m16 name_bad16(v16 c, m16 *nondigit)
{
	m16 digit = (m16)((v16)(c - '0') < 10);

	*nondigit = ~digit;
	return ~((m16)((v16)((c | 0x20) - 'a') < 26) | digit | (m16)(c == '.') |
	         (m16)(c == '_') | (m16)(c == '-'));
}

/* Points MEM[0..n) at the n names of the member block copied to BLOCK
 * (LEN bytes), checking each as it goes: -EBADMSG unless the block holds
 * exactly N valid names.  A byte at a time: for blocks under sixteen
 * bytes, and where there is no SSE2. */
static int point_members_bytes(char *block, size_t len, uint32_t n, char **mem)
{
	size_t pos = 0;
	uint32_t i;

	for (i = 0; i < n && pos < len; i++) {
		size_t l = strnlen(block + pos, len - pos);

		if (l == len - pos || !snap_name_valid(block + pos, l))
			return -EBADMSG;
		mem[i] = block + pos;
		pos += l + 1;
	}
	if (i != n || pos != len)
		return -EBADMSG;
	mem[n] = NULL;
	return 0;
}

#ifdef __SSE2__
static inline unsigned lane_bits(m16 m)
{
	return (unsigned)__builtin_ia32_pmovmskb128(
	        (__attribute__((vector_size(16))) char)m);
}

/* point_members_bytes() sixteen bytes at a time: a bit per byte says
 * which are NULs, which no name byte and which no digit, and the
 * members are found from the NULs; only each member's length, its first
 * bytes and whether it is all digits are looked at one by one.  The last
 * sixteen bytes are read from LEN - 16, never past the block, and the
 * bits of bytes seen before are shifted out.  The names of a group's
 * members are most of what a large group costs. */
static int point_members(char *block, size_t len, uint32_t n, char **mem)
{
	size_t pos = 0;        /* where the current member starts */
	bool nondigit = false; /* in the current member, before this step */
	uint32_t i = 0;

	if (len < 16)
		return point_members_bytes(block, len, n, mem);
	for (size_t at = 0; at < len; at += 16) {
		size_t from = at + 16 <= len ? at : len - 16;
		unsigned skip = (unsigned)(at - from), nul, bad, nd;
		v16 c = *(const v16u *)(block + from);
		m16 nd16, isnul = (m16)(c == 0);

		bad = lane_bits(name_bad16(c, &nd16) & ~isnul) >> skip;
		nul = lane_bits(isnul) >> skip;
		nd = lane_bits(nd16 & ~isnul) >> skip;
		if (bad != 0)
			return -EBADMSG;
		while (nul != 0) {
			unsigned k = (unsigned)__builtin_ctz(nul);
			size_t l = at + k - pos;
			const char *s = block + pos;

			/* 1 to SNAP_NAME_MAX bytes, not "-...", "." or "..",
			 * not all digits. */
			if (l == 0 || l > SNAP_NAME_MAX || s[0] == '-' ||
			    (s[0] == '.' &&
			     (l == 1 || (l == 2 && s[1] == '.'))) ||
			    !(nondigit || (nd & ((1u << k) - 1)) != 0) ||
			    i == n)
				return -EBADMSG;
			mem[i++] = block + pos;
			pos = at + k + 1;
			nondigit = false;
			nul &= nul - 1;
			nd &= ~((2u << k) - 1);
		}
		nondigit |= nd != 0;
	}
	if (i != n || pos != len)
		return -EBADMSG;
	mem[n] = NULL;
	return 0;
}
#else
#define point_members point_members_bytes
#endif

int pack_group(const struct rec_group *g, struct group *gr, char *buf,
               size_t buflen)
{
	/* The member pointer array goes first, aligned; strings follow. */
	size_t pad =
	        buf ? (alignof(char *) - (uintptr_t)buf % alignof(char *)) %
	                        alignof(char *)
	            : 0;
	size_t ptrs = ((size_t)g->nmembers + 1) * sizeof(char *);
	/* nmembers <= SNAP_MEMBERS_MAX and the block is inside one record:
	 * the sum cannot overflow. */
	size_t need = pad + ptrs + g->members_len + g->name.len + 1 +
	              sizeof(NO_PASSWORD);
	char **mem;
	char *out;
	int r;

	if (buf == NULL || buflen < need)
		return -ERANGE;
	mem = (char **)(void *)(buf + pad);
	out = buf + pad + ptrs;
	if (g->members_len > 0)
		memcpy(out, g->members, g->members_len);
	r = point_members(out, g->members_len, g->nmembers, mem);
	if (r < 0)
		return r;
	out += g->members_len;
	gr->gr_mem = mem;
	gr->gr_name = put_str(&out, &g->name);
	gr->gr_passwd = put_lit(&out, NO_PASSWORD);
	gr->gr_gid = g->gid;
	return 0;
}

/* Copies the N bytes at SRC to DST, sixteen at a time, NUL-terminates
 * them, and adds to *BAD the lanes that break the field rules.  Reads and
 * writes up to 15 bytes past both. */
static inline void copy_field(char *dst, const uint8_t *src, size_t n, m16 *bad)
{
	size_t i = 0;
	v16 c;

	for (; i + 16 < n; i += 16) {
		c = *(const v16u *)(src + i);
		*(v16u *)(dst + i) = c;
		*bad |= field_bad16(c);
	}
	if (i < n) {
		c = *(const v16u *)(src + i);
		*(v16u *)(dst + i) = c;
		*bad |= field_bad16(c) & first_lanes(n - i);
	}
	dst[n] = '\0';
}

/* The same for a name of 1 to 32 bytes (checked by the caller): *BAD gets
 * the lanes that are no name byte, *NONDIGIT those that are no digit. */
static inline void copy_name(char *dst, const uint8_t *src, size_t n, m16 *bad,
                             m16 *nondigit)
{
	size_t i = 0;
	m16 nd, in;
	v16 c;

	if (n > 16) {
		c = *(const v16u *)src;
		*(v16u *)dst = c;
		*bad |= name_bad16(c, &nd);
		*nondigit |= nd;
		i = 16;
	}
	c = *(const v16u *)(src + i);
	*(v16u *)(dst + i) = c;
	in = first_lanes(n - i);
	*bad |= name_bad16(c, &nd) & in;
	*nondigit |= nd & in;
	dst[n] = '\0';
}

static inline uint32_t le32(const uint8_t *p)
{
	return rec_get_le32(p);
}

static inline size_t le16(const uint8_t *p)
{
	return (size_t)p[0] | (size_t)p[1] << 8;
}

static inline bool id_ok(uint32_t id, uint32_t id_min, uint32_t id_max)
{
	return id != 0 && id >= id_min && id <= id_max && id <= SNAP_ID_LIMIT;
}

/* What rec_decode_user() and pack_passwd() would say: for the cases the
 * fast path leaves to them. */
static __attribute__((noinline)) int pack_passwd_slow(
        const uint8_t *p, size_t len, uint32_t id_min, uint32_t id_max,
        struct passwd *pw, char *buf, size_t buflen)
{
	struct rec_user u;

	if (rec_decode_user(p, len, id_min, id_max, &u) < 0)
		return -EBADMSG;
	return pack_passwd(&u, pw, buf, buflen);
}

/* The string at *POS of the record P (LEN bytes): its length in *N and
 * where its bytes start; *POS moves past it.  False when it runs past the
 * end. */
static inline bool str_at(const uint8_t *p, size_t len, size_t *pos, size_t *at,
                          size_t *n)
{
	if (len - *pos < 2)
		return false;
	*n = le16(p + *pos);
	*at = *pos + 2;
	if (len - *at < *n)
		return false;
	*pos = *at + *n;
	return true;
}

int pack_passwd_record(const uint8_t *p, size_t len, size_t slack,
                       uint32_t id_min, uint32_t id_max, struct passwd *pw,
                       char *buf, size_t buflen)
{
	size_t pos = 9, need, name, nname, gecos, ngecos, home, nhome, shell,
	       nshell;
	uint32_t uid, gid, ngroups;
	m16 bad = {}, nondigit = {};
	char *out;

	if (len < pos || !str_at(p, len, &pos, &name, &nname) ||
	    !str_at(p, len, &pos, &gecos, &ngecos) ||
	    !str_at(p, len, &pos, &home, &nhome) ||
	    !str_at(p, len, &pos, &shell, &nshell) || len - pos < 4)
		return -EBADMSG;
	ngroups = le32(p + pos);
	uid = le32(p);
	gid = le32(p + 4);
	if (ngroups > REC_GROUPS_MAX || len - pos - 4 != (size_t)ngroups * 4 ||
	    !id_ok(uid, id_min, id_max) || !id_ok(gid, id_min, id_max) ||
	    nname == 0 || nname > SNAP_NAME_MAX || ngecos > SNAP_FIELD_MAX ||
	    nhome > SNAP_FIELD_MAX || nshell > SNAP_FIELD_MAX)
		return -EBADMSG;
	/* Each field is at most SNAP_FIELD_MAX bytes: no overflow. */
	need = nname + 1 + sizeof(NO_PASSWORD) + ngecos + 1 + nhome + 1 +
	       nshell + 1;
	if (slack < 16 || buf == NULL || buflen < need + 16)
		return pack_passwd_slow(p, len, id_min, id_max, pw, buf,
		                        buflen);
	/* Not "-..." (an option), not "." or "..". */
	if (p[name] == '-' ||
	    (p[name] == '.' &&
	     (nname == 1 || (nname == 2 && p[name + 1] == '.'))))
		return -EBADMSG;
	out = buf;
	copy_name(out, p + name, nname, &bad, &nondigit);
	out += nname + 1;
	memcpy(out, NO_PASSWORD, sizeof(NO_PASSWORD));
	out += sizeof(NO_PASSWORD);
	copy_field(out, p + gecos, ngecos, &bad);
	out += ngecos + 1;
	copy_field(out, p + home, nhome, &bad);
	out += nhome + 1;
	copy_field(out, p + shell, nshell, &bad);
	/* Every byte allowed, and the name not all digits. */
	if (any_lane(bad) || !any_lane(nondigit))
		return -EBADMSG;
	pw->pw_name = buf;
	pw->pw_passwd = buf + nname + 1;
	pw->pw_uid = uid;
	pw->pw_gid = gid;
	pw->pw_gecos = pw->pw_passwd + sizeof(NO_PASSWORD);
	pw->pw_dir = pw->pw_gecos + ngecos + 1;
	pw->pw_shell = pw->pw_dir + nhome + 1;
	return 0;
}

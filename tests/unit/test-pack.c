/* SPDX-License-Identifier: MIT */
/*
 * test-pack: the glibc packers at every buffer size, so that ERANGE comes
 * exactly when the buffer is one byte short, and never a write past it;
 * and pack_passwd_record() against rec_decode_user() and pack_passwd(),
 * on good records and on damaged ones, byte by byte.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "pack.h"
#include "test.h"

#define CANARY 0xa5

static void check_inside(const void *p, const char *buf, size_t len)
{
	CHECK((const char *)p >= buf && (const char *)p < buf + len);
}

static void test_passwd(void)
{
	struct snap_user u = {
	        "dave.smith",       200004,    200004, "Dave Smith,,,",
	        "/home/dave.smith", "/bin/sh", true};
	struct rec_buf b = {0};
	struct rec_user d;
	size_t need = 0;

	REQUIRE(rec_encode_user(&b, &u, NULL, 0) == 0);
	REQUIRE(rec_decode_user(b.data, b.len, 1, 300000, &d) == 0);
	for (size_t len = 0; len < 128; len++) {
		char buf[160];
		struct passwd pw;
		int r;

		memset(buf, CANARY, sizeof(buf));
		memset(&pw, 0, sizeof(pw));
		r = pack_passwd(&d, &pw, buf, len);
		for (size_t i = len; i < sizeof(buf); i++)
			CHECK(buf[i] == (char)CANARY);
		if (r == -ERANGE) {
			CHECK(pw.pw_name == NULL);
			continue;
		}
		CHECK_INT(r, 0);
		if (need == 0)
			need = len;
		CHECK_STR(pw.pw_name, "dave.smith");
		CHECK_STR(pw.pw_passwd, "*");
		CHECK_STR(pw.pw_gecos, "Dave Smith,,,");
		CHECK_STR(pw.pw_dir, "/home/dave.smith");
		CHECK_STR(pw.pw_shell, "/bin/sh");
		CHECK_INT(pw.pw_uid, 200004);
		check_inside(pw.pw_shell, buf, len);
	}
	/* Five strings and their NULs, nothing more. */
	CHECK_INT(need, strlen("dave.smith") + 1 + 2 + strlen("Dave Smith,,,") +
	                        1 + strlen("/home/dave.smith") + 1 + 8);
	CHECK_INT(pack_passwd(&d, &(struct passwd){0}, NULL, 0), -ERANGE);
	rec_buf_free(&b);
}

static void test_group_at(size_t offset)
{
	static const char *const members[] = {"alice", "bob", "dave.smith"};
	struct snap_group g = {"engineering", 210001, 3, members};
	struct rec_buf b = {0};
	struct rec_group d;
	size_t first_ok = 0;
	static char raw[512];

	REQUIRE(rec_encode_group(&b, &g) == 0);
	REQUIRE(rec_decode_group(b.data, b.len, 1, 300000, &d) == 0);
	for (size_t len = 0; len < 200; len++) {
		char *buf = raw + offset;
		struct group gr;
		int r;

		memset(raw, CANARY, sizeof(raw));
		memset(&gr, 0, sizeof(gr));
		r = pack_group(&d, &gr, buf, len);
		for (size_t i = offset + len; i < sizeof(raw); i++)
			CHECK(raw[i] == (char)CANARY);
		if (r == -ERANGE) {
			CHECK(gr.gr_mem == NULL);
			continue;
		}
		CHECK_INT(r, 0);
		if (first_ok == 0)
			first_ok = len;
		CHECK_STR(gr.gr_name, "engineering");
		CHECK_INT(gr.gr_gid, 210001);
		CHECK((uintptr_t)gr.gr_mem % sizeof(char *) == 0);
		check_inside(gr.gr_mem, buf, len);
		CHECK_STR(gr.gr_mem[0], "alice");
		CHECK_STR(gr.gr_mem[2], "dave.smith");
		CHECK(gr.gr_mem[3] == NULL);
		check_inside(gr.gr_mem[2], buf, len);
	}
	CHECK(first_ok > 0);
	rec_buf_free(&b);
}

static void test_empty_group(void)
{
	struct snap_group g = {"empty", 210003, 0, NULL};
	struct rec_buf b = {0};
	struct rec_group d;
	struct group gr;
	char buf[64];

	REQUIRE(rec_encode_group(&b, &g) == 0);
	REQUIRE(rec_decode_group(b.data, b.len, 1, 300000, &d) == 0);
	CHECK_INT(pack_group(&d, &gr, buf, sizeof(buf)), 0);
	CHECK(gr.gr_mem[0] == NULL);
	CHECK_STR(gr.gr_name, "empty");
	rec_buf_free(&b);
}

static void test_damaged_members(void)
{
	static const char *const members[] = {"alice", "bob"};
	struct snap_group g = {"g", 210001, 2, members};
	struct rec_buf b = {0};
	struct rec_group d;
	struct group gr;
	char buf[256];

	REQUIRE(rec_encode_group(&b, &g) == 0);
	/* Claim three members where two are stored. */
	b.data[4] = 3;
	REQUIRE(rec_decode_group(b.data, b.len, 1, 300000, &d) == 0);
	CHECK_INT(pack_group(&d, &gr, buf, sizeof(buf)), -EBADMSG);
	/* A member name that is not a valid name. */
	b.data[4] = 2;
	b.data[b.len - 3] = ':';
	REQUIRE(rec_decode_group(b.data, b.len, 1, 300000, &d) == 0);
	CHECK_INT(pack_group(&d, &gr, buf, sizeof(buf)), -EBADMSG);
	rec_buf_free(&b);
}

/* ---- pack_passwd_record() against decode and pack --------------------- */

#define ID_MIN 1000
#define ID_MAX 300000
#define SLACK  64

static unsigned compared, accepted;

/* pack_passwd_record() on REC (LEN bytes, followed by SLACK bytes of
 * everything a field may not hold when SLACKED) must say what
 * rec_decode_user() and pack_passwd() say, write nothing past BUFLEN and
 * point only into the buffer. */
static void compare_at(const uint8_t *rec, size_t len, bool slacked,
                       size_t buflen)
{
	static uint8_t mem[2 * SNAP_FIELD_MAX * 4];
	static char want_buf[8192], got_buf[8192 + 64];
	struct passwd want = {0}, got = {0};
	struct rec_user u;
	int want_rc, got_rc;

	REQUIRE(len + SLACK <= sizeof(mem) && buflen <= sizeof(want_buf));
	memcpy(mem, rec, len);
	for (size_t i = 0; i < SLACK; i++)
		mem[len + i] = i % 3 == 0 ? ':' : i % 3 == 1 ? 0 : 0x7f;
	want_rc = rec_decode_user(rec, len, ID_MIN, ID_MAX, &u);
	if (want_rc == 0)
		want_rc = pack_passwd(&u, &want, want_buf, buflen);
	memset(got_buf, CANARY, sizeof(got_buf));
	got_rc = pack_passwd_record(mem, len, slacked ? SLACK : 0, ID_MIN,
	                            ID_MAX, &got, got_buf, buflen);
	compared++;
	CHECK_INT(got_rc, want_rc);
	for (size_t i = buflen; i < sizeof(got_buf); i++)
		if (got_buf[i] != (char)CANARY) {
			CHECK(got_buf[i] == (char)CANARY);
			break;
		}
	if (got_rc != 0 || want_rc != 0)
		return;
	accepted++;
	CHECK_STR(got.pw_name, want.pw_name);
	CHECK_STR(got.pw_passwd, want.pw_passwd);
	CHECK_STR(got.pw_gecos, want.pw_gecos);
	CHECK_STR(got.pw_dir, want.pw_dir);
	CHECK_STR(got.pw_shell, want.pw_shell);
	CHECK_INT(got.pw_uid, want.pw_uid);
	CHECK_INT(got.pw_gid, want.pw_gid);
	check_inside(got.pw_name, got_buf, buflen);
	check_inside(got.pw_shell + strlen(got.pw_shell), got_buf, buflen);
}

/* Both paths of pack_passwd_record(): bytes to read past the record or
 * not, and a buffer of every size around what the answer needs (the
 * sixteen-at-a-time copy wants sixteen bytes more). */
static void compare(const uint8_t *rec, size_t len)
{
	struct rec_user u;
	size_t need = 1024;

	if (rec_decode_user(rec, len, ID_MIN, ID_MAX, &u) == 0)
		need = u.name.len + u.gecos.len + u.home.len + u.shell.len + 6;
	for (size_t b = need > 2 ? need - 2 : 0; b <= need + 18; b++) {
		compare_at(rec, len, true, b);
		compare_at(rec, len, false, b);
	}
	compare_at(rec, len, true, 8192);
	compare_at(rec, len, true, 0);
}

static void encode(struct rec_buf *b, const char *name, const char *gecos,
                   const char *home, const char *shell, uint32_t uid)
{
	struct snap_user u = {name, uid, uid, gecos, home, shell, true};
	static const uint32_t gids[] = {200100, 200200};

	rec_buf_reset(b);
	REQUIRE(rec_encode_user(b, &u, gids, 2) == 0);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	REQUIRE(s != NULL);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Fields of every length around the sixteen-byte steps, and names of
 * every length up to one past the limit. */
static void test_record_lengths(void)
{
	static const size_t lens[] = {0,  1,  7,  8,  15,   16,   17,
	                              31, 32, 33, 48, 1023, 1024, 1025};
	struct rec_buf b = {0};

	for (size_t n = 1; n <= SNAP_NAME_MAX + 1; n++) {
		char *name = repeat('a', n);

		name[n / 2] = n % 2 ? '.' : '_';
		encode(&b, name, "G", "/h", "/bin/sh", 200001);
		compare(b.data, b.len);
		free(name);
	}
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		char *f = repeat('x', lens[k]);

		encode(&b, "dave.smith", f, "/home/dave.smith", "/bin/sh",
		       200001);
		compare(b.data, b.len);
		encode(&b, "dave.smith", "Dave", f, "/bin/sh", 200001);
		compare(b.data, b.len);
		encode(&b, "dave.smith", "Dave", "/h", f, 200001);
		compare(b.data, b.len);
		free(f);
	}
	rec_buf_free(&b);
}

/* Names and ids the rules refuse, or just accept. */
static void test_record_rules(void)
{
	static const char *names[] = {
	        "-x",    ".",     "..",    "...",   ".x",
	        "x.",    "12345", "1234a", "0",     "a",
	        "A-Z_",  "a b",   "a:b",   "a@b",   "a[b",
	        "a`b",   "a{b",   "a/b",   "a\x80", "\xc3\xa9t\xc3\xa9",
	        "a\x7f", "a\tb",  "_",     "-",     "x-",
	        "9.9",   "9_",
	};
	static const uint32_t ids[] = {0,           1,          ID_MIN - 1,
	                               ID_MIN,      ID_MAX,     ID_MAX + 1,
	                               0x80000000u, 0xffffffffu};
	struct rec_buf b = {0};

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		encode(&b, names[k], "G", "/h", "/bin/sh", 200001);
		compare(b.data, b.len);
	}
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		encode(&b, "dave", "G", "/h", "/bin/sh", ids[k]);
		compare(b.data, b.len);
	}
	rec_buf_free(&b);
}

/* Every byte of a record replaced by bytes on either side of what the
 * rules allow, and every shorter record. */
static void test_record_damage(void)
{
	static const uint8_t vals[] = {0x00, 0x01, 0x09, 0x1f, 0x20, '!', '-',
	                               '.',  '/',  '0',  '9',  ':',  '@', 'A',
	                               'Z',  '[',  '_',  '`',  'a',  'z', '{',
	                               0x7f, 0x80, 0xc3, 0xff};
	struct rec_buf b = {0};
	uint8_t rec[256];

	encode(&b, "dave.smith99", "Dave Smith, Room 12", "/home/dave.smith",
	       "/bin/bash", 200001);
	REQUIRE(b.len <= sizeof(rec));
	for (size_t pos = 0; pos < b.len; pos++) {
		for (size_t k = 0; k < sizeof(vals); k++) {
			memcpy(rec, b.data, b.len);
			rec[pos] = vals[k];
			compare_at(rec, b.len, true, 1024);
			compare_at(rec, b.len, false, 1024);
		}
	}
	for (size_t len = 0; len < b.len; len++)
		compare(b.data, len);
	rec_buf_free(&b);
}

/* Random damage, a few bytes at a time, lengths included. */
static void test_record_random(void)
{
	struct rec_buf b = {0};
	uint64_t x = 0x9e3779b97f4a7c15u;
	uint8_t rec[256];

	encode(&b, "wei.thomas", "Wei Thomas", "/home/wei.thomas", "/bin/sh",
	       200002);
	for (int round = 0; round < 200000; round++) {
		memcpy(rec, b.data, b.len);
		for (int k = 0; k < 1 + round % 3; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			rec[(x >> 8) % b.len] = (uint8_t)x;
		}
		compare_at(rec, b.len, true, 1024);
	}
	rec_buf_free(&b);
}

/* ---- member blocks ----------------------------------------------------- */

static uint64_t rnd_state = 0x2545f4914f6cdd1du;

static unsigned rnd(unsigned n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state >> 11) % n;
}

/* What pack_group() must make of BLOCK (LEN bytes, N members): 0 when it
 * is exactly N valid names, each NUL-terminated. */
static int members_ref(const char *block, size_t len, uint32_t n)
{
	size_t pos = 0;
	uint32_t i = 0;

	while (pos < len) {
		const char *nul = memchr(block + pos, '\0', len - pos);

		if (nul == NULL || i == n ||
		    !snap_name_valid(block + pos, (size_t)(nul - block - pos)))
			return -EBADMSG;
		pos = (size_t)(nul - block) + 1;
		i++;
	}
	return i == n ? 0 : -EBADMSG;
}

/* Random member blocks, mostly valid names of every length around the
 * sixteen-byte steps, some with a byte no name may hold, a leading '-'
 * or '.', all digits, empty, or too long; pack_group() must accept
 * exactly the blocks the byte-at-a-time rules accept, and point at the
 * same names. */
static void test_members_random(void)
{
	static const char good[] =
	        "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789._-";
	static const char odd[] = ":@[`{/ \x01\x1f\x7f\x80\xff";
	static char buf[1 << 16];
	unsigned ok = 0, refused = 0;

	for (int round = 0; round < 20000; round++) {
		struct rec_buf b = {0};
		uint32_t n = rnd(40), claimed;
		struct rec_group g;
		struct group gr;
		size_t start;
		int want, got;

		rec_put_le32(&b, 200001);
		rec_put_le32(&b, 0); /* the count, set below */
		rec_put_str(&b, "staff", 5);
		start = b.len;
		for (uint32_t k = 0; k < n; k++) {
			unsigned l = rnd(8) == 0 ? rnd(36) : 1 + rnd(20);
			bool digits = rnd(20) == 0;

			for (unsigned j = 0; j < l; j++) {
				char c = digits ? (char)('0' + rnd(10))
				                : good[rnd(sizeof(good) - 1)];

				if (rnd(400) == 0)
					c = odd[rnd(sizeof(odd) - 1)];
				rec_put_u8(&b, (uint8_t)c);
			}
			rec_put_u8(&b, 0);
		}
		claimed = rnd(10) == 0 ? n + rnd(3) - 1 : n;
		REQUIRE(b.err == 0);
		b.data[4] = (uint8_t)claimed;
		b.data[5] = (uint8_t)(claimed >> 8);
		b.data[6] = (uint8_t)(claimed >> 16);
		b.data[7] = (uint8_t)(claimed >> 24);
		if (rec_decode_group(b.data, b.len, ID_MIN, ID_MAX, &g) < 0) {
			rec_buf_free(&b);
			continue;
		}
		want = members_ref((const char *)b.data + start, b.len - start,
		                   claimed);
		got = pack_group(&g, &gr, buf, sizeof(buf));
		CHECK_INT(got, want);
		if (got == 0 && want == 0) {
			const char *p = (const char *)b.data + start;

			ok++;
			for (uint32_t k = 0; k < claimed; k++) {
				CHECK_STR(gr.gr_mem[k], p);
				p += strlen(p) + 1;
			}
			CHECK(gr.gr_mem[claimed] == NULL);
			CHECK_STR(gr.gr_name, "staff");
		} else if (want < 0) {
			refused++;
		}
		rec_buf_free(&b);
	}
	CHECK(ok > 1000 && refused > 1000);
}

/* Each name the rules single out, at every place in blocks longer than
 * sixteen bytes, so that it falls on every lane of a step. */
static void test_members_rules(void)
{
	static const char *names[] = {
	        ".",
	        "..",
	        "...",
	        ".a",
	        "-a",
	        "a-",
	        "123",
	        "12a",
	        "0",
	        "a",
	        "_",
	        "a:b",
	        "a@",
	        "Z",
	        "abcdefghijklmnopqrstuvwxyz012345",  /* 32 bytes */
	        "abcdefghijklmnopqrstuvwxyz0123456", /* 33 */
	        "01234567890123456789012345678901",  /* 32 digits */
	};
	static char buf[4096];

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		for (unsigned before = 0; before < 20; before++) {
			struct rec_buf b = {0};
			struct rec_group g;
			struct group gr;
			size_t start;

			rec_put_le32(&b, 200001);
			rec_put_le32(&b, before + 2);
			rec_put_str(&b, "staff", 5);
			start = b.len;
			/* BEFORE bytes of one-letter members first. */
			for (unsigned j = 0; j < before / 2; j++)
				rec_put_bytes(&b, "x", 2);
			if (before % 2)
				rec_put_bytes(&b, "yy", 3);
			rec_put_bytes(&b, names[k], strlen(names[k]) + 1);
			rec_put_bytes(&b, "zzzzzzzzzzzzzzzzzz", 19);
			b.data[4] = (uint8_t)(before / 2 + before % 2 + 2);
			REQUIRE(rec_decode_group(b.data, b.len, ID_MIN, ID_MAX,
			                         &g) == 0);
			CHECK_INT(pack_group(&g, &gr, buf, sizeof(buf)),
			          members_ref((const char *)b.data + start,
			                      b.len - start, g.nmembers));
			rec_buf_free(&b);
		}
	}
}

int main(void)
{
	test_passwd();
	for (size_t off = 0; off < sizeof(char *); off++)
		test_group_at(off);
	test_empty_group();
	test_damaged_members();
	test_record_lengths();
	test_record_rules();
	test_record_damage();
	test_record_random();
	test_members_random();
	test_members_rules();
	/* The comparisons above must have met both answers. */
	CHECK(accepted > 100 && accepted < compared);
	return test_result();
}

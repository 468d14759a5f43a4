/* SPDX-License-Identifier: MIT */
/*
 * test-pack: the glibc packers at every buffer size, so that ERANGE comes
 * exactly when the buffer is one byte short, and never a write past it.
 */
#include <errno.h>
#include <stdint.h>

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

int main(void)
{
	test_passwd();
	for (size_t off = 0; off < sizeof(char *); off++)
		test_group_at(off);
	test_empty_group();
	test_damaged_members();
	return test_result();
}

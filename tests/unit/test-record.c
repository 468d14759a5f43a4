/* SPDX-License-Identifier: MIT */
/*
 * test-record: the record codec and the validators.
 */
#include <errno.h>

#include "record.h"
#include "test.h"

static void test_names(void)
{
	static const char *good[] = {
	        "alice", "a",       "dave.smith",
	        "x_y-z", "A1",      "_svc",
	        "1a",    ".hidden", "abcdefghijklmnopqrstuvwxyz012345"};
	static const char *bad[] = {"",
	                            "-alice",
	                            "123",
	                            "a:b",
	                            "a,b",
	                            "a/b",
	                            "a\nb",
	                            "a b",
	                            "a\tb",
	                            ".",
	                            "..",
	                            "ä",
	                            "abcdefghijklmnopqrstuvwxyz0123456",
	                            "a\x7f",
	                            "a@b"};

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		CHECK(snap_name_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(!snap_name_valid(bad[i], strlen(bad[i])));
	/* A NUL inside the counted bytes is not a name character. */
	CHECK(!snap_name_valid("ab\0c", 4));
	CHECK(!snap_name_valid(NULL, 0));
}

static void test_fields(void)
{
	CHECK(snap_field_valid("Jane Doe, Room 4", 16));
	CHECK(snap_field_valid("Zoë Ünal", strlen("Zoë Ünal")));
	CHECK(snap_field_valid("", 0));
	CHECK(!snap_field_valid("a:b", 3));
	CHECK(!snap_field_valid("a\nb", 3));
	CHECK(!snap_field_valid("a\rb", 3));
	CHECK(!snap_field_valid("a\0b", 3));
	CHECK(!snap_field_valid("\x1b[2J", 4));
}

static void test_ids(void)
{
	CHECK(!snap_id_valid(0, 0, 100));
	CHECK(snap_id_valid(1, 1, 100));
	CHECK(snap_id_valid(100, 1, 100));
	CHECK(!snap_id_valid(101, 1, 100));
	CHECK(!snap_id_valid(5, 10, 100));
	CHECK(!snap_id_valid(0x80000000u, 1, 0xffffffffu));
}

static void test_user_roundtrip(void)
{
	struct snap_user u = {"jane",       200001,      200002, "Jane Doe",
	                      "/home/jane", "/bin/bash", true};
	struct rec_buf b = {0};
	struct rec_user d;

	static const uint32_t gids[] = {210001, 210002};

	REQUIRE(rec_encode_user(&b, &u, gids, 2) == 0);
	CHECK_INT(rec_decode_user(b.data, b.len, 1000, 300000, &d), 0);
	CHECK_INT(d.ngroups, 2);
	CHECK_INT(rec_get_le32(d.gids + 4), 210002);
	CHECK_INT(d.uid, 200001);
	CHECK_INT(d.gid, 200002);
	CHECK(d.flags & REC_USER_ACTIVE);
	CHECK(d.name.len == 4 && memcmp(d.name.p, "jane", 4) == 0);
	CHECK(d.shell.len == 9 && memcmp(d.shell.p, "/bin/bash", 9) == 0);
	/* Every truncation, and one extra byte, is refused. */
	for (size_t n = 0; n < b.len; n++)
		CHECK_INT(rec_decode_user(b.data, n, 1000, 300000, &d),
		          -EBADMSG);
	rec_put_u8(&b, 0);
	CHECK_INT(rec_decode_user(b.data, b.len, 1000, 300000, &d), -EBADMSG);
	/* Out of the snapshot's range. */
	rec_buf_reset(&b);
	rec_encode_user(&b, &u, NULL, 0);
	CHECK_INT(rec_decode_user(b.data, b.len, 1000, 200000, &d), -EBADMSG);
	rec_buf_free(&b);
}

static void test_user_hostile(void)
{
	struct snap_user u = {"jane", 200001,    200001, "x",
	                      "/h",   "/bin/sh", true};
	struct rec_buf b = {0};
	struct rec_user d;

	u.name = "ja:ne";
	rec_buf_reset(&b);
	rec_encode_user(&b, &u, NULL, 0);
	CHECK_INT(rec_decode_user(b.data, b.len, 1, 300000, &d), -EBADMSG);
	u.name = "jane";
	u.gecos = "evil\nroot::0:0::/:/bin/sh";
	rec_buf_reset(&b);
	rec_encode_user(&b, &u, NULL, 0);
	CHECK_INT(rec_decode_user(b.data, b.len, 1, 300000, &d), -EBADMSG);
	u.gecos = "ok";
	u.uid = 0;
	rec_buf_reset(&b);
	rec_encode_user(&b, &u, NULL, 0);
	CHECK_INT(rec_decode_user(b.data, b.len, 0, 300000, &d), -EBADMSG);
	/* A length that points past the end. */
	u.uid = 200001;
	rec_buf_reset(&b);
	rec_encode_user(&b, &u, NULL, 0);
	b.data[9] = 0xff;
	CHECK_INT(rec_decode_user(b.data, b.len, 1, 300000, &d), -EBADMSG);
	/* A group count that claims more than is there. */
	rec_buf_reset(&b);
	rec_encode_user(&b, &u, NULL, 0);
	b.data[b.len - 4] = 1;
	CHECK_INT(rec_decode_user(b.data, b.len, 1, 300000, &d), -EBADMSG);
	rec_buf_free(&b);
}

static void test_group_roundtrip(void)
{
	static const char *const members[] = {"alice", "bob", "dave.smith"};
	struct snap_group g = {"engineering", 210001, 3, members};
	struct rec_buf b = {0};
	struct rec_group d;
	struct rec_str m;
	size_t pos = 0;
	int n = 0;

	REQUIRE(rec_encode_group(&b, &g) == 0);
	REQUIRE(rec_decode_group(b.data, b.len, 1, 300000, &d) == 0);
	CHECK_INT(d.gid, 210001);
	CHECK_INT(d.nmembers, 3);
	while (rec_member_next(&d, &pos, &m) == 0) {
		CHECK(m.len == strlen(members[n]) &&
		      memcmp(m.p, members[n], m.len) == 0);
		n++;
	}
	CHECK_INT(n, 3);
	CHECK_INT(rec_member_next(&d, &pos, &m), SNAP_NONE);
	/* Truncated member list: the decoder accepts the header, the walk
	 * refuses the damaged tail. */
	for (size_t len = 0; len < b.len; len++) {
		size_t p = 0;
		int r = rec_decode_group(b.data, len, 1, 300000, &d);

		if (r == 0) {
			uint32_t seen = 0;

			while ((r = rec_member_next(&d, &p, &m)) == 0)
				seen++;
			CHECK(r == -EBADMSG || seen < d.nmembers);
		}
	}
	rec_buf_free(&b);
}

static void test_meta(void)
{
	struct snap_meta m = {SNAP_FORMAT_VERSION,
	                      7,
	                      1700000000,
	                      1000,
	                      2000,
	                      3,
	                      2,
	                      4,
	                      "https://scim.example.com/scim"};
	struct snap_meta d;
	struct rec_buf b = {0};

	REQUIRE(rec_encode_meta(&b, &m) == 0);
	CHECK_INT(rec_decode_meta(b.data, b.len, &d), 0);
	CHECK_INT(d.generation, 7);
	CHECK_INT(d.created, 1700000000);
	CHECK_INT(d.id_min, 1000);
	CHECK_INT(d.ngroups, 4);
	CHECK_STR(d.source, "https://scim.example.com/scim");
	for (size_t n = 0; n < b.len; n++)
		CHECK(rec_decode_meta(b.data, n, &d) < 0);
	b.data[0] ^= 1;
	CHECK_INT(rec_decode_meta(b.data, b.len, &d), -EBADMSG);
	b.data[0] ^= 1;
	b.data[SNAP_MAGIC_LEN] = 2;
	CHECK_INT(rec_decode_meta(b.data, b.len, &d), -EPROTONOSUPPORT);
	m.id_min = 0;
	rec_buf_reset(&b);
	rec_encode_meta(&b, &m);
	CHECK_INT(rec_decode_meta(b.data, b.len, &d), -EBADMSG);
	rec_buf_free(&b);
}

static void test_hashes(void)
{
	/* The hashes are part of the file format: they must never change. */
	CHECK_INT(rec_hash_name("", 0), 2166136261u);
	CHECK_INT(rec_hash_name("a", 1), 0xe40c292cu);
	CHECK(rec_hash_id(200001) != rec_hash_id(200002));
	CHECK_INT(rec_hash_id(0), 0);
}

int main(void)
{
	test_names();
	test_fields();
	test_ids();
	test_user_roundtrip();
	test_user_hostile();
	test_group_roundtrip();
	test_meta();
	test_hashes();
	return test_result();
}

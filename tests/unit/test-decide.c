/* SPDX-License-Identifier: MIT */
/*
 * pam-decide: every row of pam_scim's decision, through pamscim_decide()
 * and pamscim_pam_code() on a private reader.  No root needed: the reader
 * trusts snapshots owned by the caller.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <security/_pam_types.h>

#include "pam-fixture.h"
#include "pamscim.h"
#include "test.h"

static char dir[64], snap_path[128], passwd_path[128];

static void build(int64_t created, const char *inactive)
{
	pam_fixture_publish(snap_path, created, inactive);
}

static void write_passwd(const char *text)
{
	FILE *fp = fopen(passwd_path, "we");

	REQUIRE(fp != NULL);
	fputs(text, fp);
	REQUIRE(fclose(fp) == 0);
}

static struct snap_reader *reader;

static enum pamscim_result decide_at(const struct pamscim_opts *o,
                                     const char *user, time_t now,
                                     struct pamscim_verdict *v)
{
	struct pamscim_env env = {reader, passwd_path, now};

	pamscim_decide(&env, o, user, v);
	return v->result;
}

static enum pamscim_result decide(const struct pamscim_opts *o,
                                  const char *user)
{
	struct pamscim_verdict v;

	return decide_at(o, user, time(NULL), &v);
}

static void parse(struct pamscim_opts *o, const char *arg)
{
	const char *argv[] = {arg};

	REQUIRE(pamscim_parse_args(o, arg ? 1 : 0, argv, NULL, NULL) == 0);
}

static void test_rows(void)
{
	struct pamscim_opts o;
	struct pamscim_verdict v;
	time_t now = time(NULL);

	parse(&o, NULL);
	build(now, "carol");
	CHECK_INT(decide_at(&o, "alice", now, &v), PAMSCIM_ACTIVE);
	CHECK_INT(v.account.uid, 200001);
	CHECK_INT(v.account.snapshot_generation, PAM_FIXTURE_GENERATION);
	CHECK_INT(v.age, 0);
	CHECK_INT(decide(&o, "bob"), PAMSCIM_ACTIVE);
	CHECK_INT(decide(&o, "carol"), PAMSCIM_SUSPENDED);
	CHECK_INT(decide(&o, "nosuch"), PAMSCIM_UNKNOWN);
	/* In the snapshot, but a local user of that name wins. */
	CHECK_INT(decide(&o, "daemon"), PAMSCIM_LOCAL);
	CHECK_INT(decide(&o, "root"), PAMSCIM_LOCAL);
	CHECK_INT(decide(&o, "ali"), PAMSCIM_UNKNOWN);
}

static void test_bad_names(void)
{
	static const char *const bad[] = {
	        "",     "-alice", "alice:x",
	        "a/b",  "a b",    "al\nce",
	        "1234", "..",     "abcdefghijklmnopqrstuvwxyz0123456",
	};
	struct pamscim_opts o;
	struct pamscim_verdict v;

	parse(&o, NULL);
	build(time(NULL), NULL);
	CHECK_INT(decide_at(&o, NULL, time(NULL), &v), PAMSCIM_BAD_NAME);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(decide(&o, bad[i]), PAMSCIM_BAD_NAME);
}

static void test_unavailable(void)
{
	struct pamscim_opts o;
	struct pamscim_verdict v;

	parse(&o, NULL);
	build(time(NULL), NULL);
	REQUIRE(chmod(snap_path, 0666) == 0);
	CHECK_INT(decide_at(&o, "alice", time(NULL), &v), PAMSCIM_UNAVAIL);
	CHECK_INT(v.err, -EPERM);
	/* Local users are answered without the snapshot. */
	CHECK_INT(decide(&o, "root"), PAMSCIM_LOCAL);
	REQUIRE(unlink(snap_path) == 0);
	CHECK_INT(decide_at(&o, "alice", time(NULL), &v), PAMSCIM_UNAVAIL);
	CHECK_INT(v.err, -ENOENT);
	CHECK_INT(decide(&o, "nosuch"), PAMSCIM_UNAVAIL);
	/* A damaged file. */
	FILE *fp = fopen(snap_path, "we");
	REQUIRE(fp != NULL);
	fputs("not an lmdb file", fp);
	fclose(fp);
	REQUIRE(chmod(snap_path, 0644) == 0);
	CHECK_INT(decide(&o, "alice"), PAMSCIM_UNAVAIL);
	/* And back. */
	build(time(NULL), NULL);
	CHECK_INT(decide(&o, "alice"), PAMSCIM_ACTIVE);
}

static void test_max_age(void)
{
	struct pamscim_opts o;
	struct pamscim_verdict v;
	time_t now = time(NULL);

	build(now - 1000, "carol");
	parse(&o, NULL); /* no limit */
	CHECK_INT(decide_at(&o, "alice", now, &v), PAMSCIM_ACTIVE);
	CHECK_INT(v.age, 1000);
	parse(&o, "max_age=999");
	CHECK_INT(decide_at(&o, "alice", now, &v), PAMSCIM_STALE);
	CHECK_INT(v.age, 1000);
	/* A known suspension holds even in a stale snapshot. */
	CHECK_INT(decide_at(&o, "carol", now, &v), PAMSCIM_SUSPENDED);
	CHECK_INT(decide_at(&o, "nosuch", now, &v), PAMSCIM_UNKNOWN);
	parse(&o, "max_age=1000");
	CHECK_INT(decide_at(&o, "alice", now, &v), PAMSCIM_ACTIVE);
	/* From the future: counts as new. */
	build(now + 5000, NULL);
	parse(&o, "max_age=1");
	CHECK_INT(decide_at(&o, "alice", now, &v), PAMSCIM_ACTIVE);
	CHECK_INT(v.age, 0);
}

static void test_allow_groups(void)
{
	struct pamscim_opts o;

	build(time(NULL), "carol");
	parse(&o, "allow_groups=ops");
	CHECK_INT(decide(&o, "alice"), PAMSCIM_NOT_ALLOWED);
	CHECK_INT(decide(&o, "bob"), PAMSCIM_ACTIVE);
	CHECK_INT(decide(&o, "carol"), PAMSCIM_SUSPENDED);
	CHECK_INT(decide(&o, "nosuch"), PAMSCIM_UNKNOWN);
	parse(&o, "allow_groups=nosuchgroup,ops,engineering");
	CHECK_INT(decide(&o, "alice"), PAMSCIM_ACTIVE);
	/* Through the primary group. */
	parse(&o, "allow_groups=alice");
	CHECK_INT(decide(&o, "alice"), PAMSCIM_ACTIVE);
	CHECK_INT(decide(&o, "bob"), PAMSCIM_NOT_ALLOWED);
	parse(&o, "allow_groups=nosuchgroup");
	CHECK_INT(decide(&o, "alice"), PAMSCIM_NOT_ALLOWED);
}

static void test_pam_codes(void)
{
	static const struct {
		enum pamscim_result r;
		int plain, ign_user, ign_unavail, ign_unusable;
	} rows[] = {
	        {PAMSCIM_ACTIVE, PAM_SUCCESS, PAM_SUCCESS, PAM_SUCCESS,
	         PAM_SUCCESS},
	        {PAMSCIM_SUSPENDED, PAM_PERM_DENIED, PAM_PERM_DENIED,
	         PAM_PERM_DENIED, PAM_PERM_DENIED},
	        {PAMSCIM_NOT_ALLOWED, PAM_PERM_DENIED, PAM_PERM_DENIED,
	         PAM_PERM_DENIED, PAM_PERM_DENIED},
	        {PAMSCIM_UNKNOWN, PAM_USER_UNKNOWN, PAM_IGNORE,
	         PAM_USER_UNKNOWN, PAM_USER_UNKNOWN},
	        {PAMSCIM_LOCAL, PAM_USER_UNKNOWN, PAM_IGNORE, PAM_USER_UNKNOWN,
	         PAM_USER_UNKNOWN},
	        {PAMSCIM_BAD_NAME, PAM_USER_UNKNOWN, PAM_IGNORE,
	         PAM_USER_UNKNOWN, PAM_USER_UNKNOWN},
	        /* ignore_unusable_snapshot: no snapshot to ask, but a stale
	         * one still answers and still fails. */
	        {PAMSCIM_UNAVAIL, PAM_AUTHINFO_UNAVAIL, PAM_AUTHINFO_UNAVAIL,
	         PAM_IGNORE, PAM_IGNORE},
	        {PAMSCIM_STALE, PAM_AUTHINFO_UNAVAIL, PAM_AUTHINFO_UNAVAIL,
	         PAM_IGNORE, PAM_AUTHINFO_UNAVAIL},
	};
	struct pamscim_opts plain, iu, ia, is;

	parse(&plain, NULL);
	parse(&iu, "ignore_unknown_user");
	parse(&ia, "ignore_authinfo_unavail");
	parse(&is, "ignore_unusable_snapshot");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK_INT(pamscim_pam_code(rows[i].r, &plain), rows[i].plain);
		CHECK_INT(pamscim_pam_code(rows[i].r, &iu), rows[i].ign_user);
		CHECK_INT(pamscim_pam_code(rows[i].r, &ia),
		          rows[i].ign_unavail);
		CHECK_INT(pamscim_pam_code(rows[i].r, &is),
		          rows[i].ign_unusable);
		CHECK(strlen(pamscim_result_str(rows[i].r)) > 0);
	}
}

static void test_local_user(void)
{
	char text[2048];

	/* The second piece of a long line starts with "zed:", but it is not
	 * the start of a line. */
	memset(text, 'x', 1023);
	snprintf(text + 1023, sizeof(text) - 1023,
	         "zed:x:1:1::/:/bin/sh\nmallory:x:2:2::/:/bin/sh\n");
	write_passwd(text);
	CHECK_INT(pamscim_local_user(passwd_path, "zed"), 0);
	CHECK_INT(pamscim_local_user(passwd_path, "mallory"), 1);
	write_passwd("root:x:0:0::/root:/bin/sh\n"
	             "alice2:x:5:5::/:/bin/sh\n"
	             "+@netgroup\n"
	             "no-newline-at-end:x:9:9::/:/bin/sh");
	CHECK_INT(pamscim_local_user(passwd_path, "root"), 1);
	CHECK_INT(pamscim_local_user(passwd_path, "alice"), 0);
	CHECK_INT(pamscim_local_user(passwd_path, "alice2"), 1);
	CHECK_INT(pamscim_local_user(passwd_path, "no-newline-at-end"), 1);
	CHECK_INT(pamscim_local_user(passwd_path, "netgroup"), 0);
	CHECK_INT(pamscim_local_user(passwd_path, ""), 0);
	CHECK_INT(pamscim_local_user("/nonexistent/passwd", "root"), -ENOENT);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/pam-decide.XXXXXX",
	         tmp != NULL && tmp[0] == '/' && strlen(tmp) < 32 ? tmp
	                                                          : "/tmp");
	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(snap_path, sizeof(snap_path), "%s/cache.mdb", dir);
	snprintf(passwd_path, sizeof(passwd_path), "%s/passwd", dir);
	write_passwd("root:x:0:0:root:/root:/bin/bash\n"
	             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n");
	REQUIRE(snap_reader_new(snap_path, getuid(), &reader) == 0);

	test_rows();
	test_bad_names();
	test_unavailable();
	test_max_age();
	test_allow_groups();
	test_pam_codes();
	test_local_user();

	snap_reader_free(reader);
	unlink(snap_path);
	unlink(passwd_path);
	rmdir(dir);
	return test_result();
}

/* SPDX-License-Identifier: MIT */
/*
 * test-reader: the writer and the reader together, without glibc.
 *
 * Snapshots are built with the real writer in a private directory and read
 * back through a private reader whose owner is the test's own uid, so this
 * runs unprivileged; the root-only cases (wrong owner) run when root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "record.h"
#include "snap.h"
#include "test.h"

#define ID_MIN  200000
#define ID_MAX  299999
#define NSTRESS 100

static char dir[64], path[128];

/* Builds and publishes the fixture directory at generation GEN; the gecos
 * and home of every person carry GEN so that readers can tell generations
 * apart and spot a mix. */
static int publish(const char *where, uint64_t gen, size_t extra_users)
{
	static const char *const eng[] = {"alice", "bob", "dave.smith"};
	static const char *const ops[] = {"bob", "carol"};
	struct snap_meta meta = {.generation = gen, .created = 1700000000};
	struct snap_writer *w;
	char err[256], gecos[64], home[64], name[32];
	int rc;

	strcpy(meta.source, "https://bridge.test/scim");
	REQUIRE(snap_writer_new(ID_MIN, ID_MAX, &w) == 0);
	const char *names[] = {"alice", "bob", "carol", "dave.smith"};
	for (uint32_t i = 0; i < 4; i++) {
		snprintf(gecos, sizeof(gecos), "gen %llu",
		         (unsigned long long)gen);
		snprintf(home, sizeof(home), "/home/g%llu/%s",
		         (unsigned long long)gen, names[i]);
		struct snap_user u = {names[i], 200001 + i,  200001 + i, gecos,
		                      home,     "/bin/bash", i != 2};
		struct snap_group g = {names[i], 200001 + i, 0, NULL};

		REQUIRE(snap_writer_add_user(w, &u, err, sizeof(err)) == 0);
		REQUIRE(snap_writer_add_group(w, &g, err, sizeof(err)) == 0);
	}
	for (uint32_t i = 0; i < extra_users; i++) {
		snprintf(name, sizeof(name), "user%u", i);
		snprintf(gecos, sizeof(gecos), "gen %llu",
		         (unsigned long long)gen);
		snprintf(home, sizeof(home), "/home/g%llu/%s",
		         (unsigned long long)gen, name);
		struct snap_user u = {name, 201000 + i, 201000 + i, gecos,
		                      home, "/bin/sh",  true};
		REQUIRE(snap_writer_add_user(w, &u, err, sizeof(err)) == 0);
	}
	struct snap_group g1 = {"engineering", 210001, 3, eng};
	struct snap_group g2 = {"ops", 210002, 2, ops};
	struct snap_group g3 = {"empty", 210003, 0, NULL};
	REQUIRE(snap_writer_add_group(w, &g1, err, sizeof(err)) == 0);
	REQUIRE(snap_writer_add_group(w, &g2, err, sizeof(err)) == 0);
	REQUIRE(snap_writer_add_group(w, &g3, err, sizeof(err)) == 0);
	rc = snap_writer_publish(w, where, &meta, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "publish: %s\n", err);
	snap_writer_free(w);
	return rc;
}

static struct snap_reader *reader_for(const char *p)
{
	struct snap_reader *r;

	REQUIRE(snap_reader_new(p, geteuid(), &r) == 0);
	return r;
}

/* A reader that copies what it reads, as the NSS and PAM modules' does. */
static struct snap_reader *copying_reader_for(const char *p)
{
	struct snap_reader *r;

	REQUIRE(snap_reader_new_copying(p, geteuid(), &r) == 0);
	return r;
}

static void test_lookups(struct snap_reader *r)
{
	struct passwd pw;
	struct group gr;
	struct snap_meta m;
	char buf[1024];

	CHECK_INT(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)), 0);
	CHECK_INT(pw.pw_uid, 200001);
	CHECK_STR(pw.pw_dir, "/home/g1/alice");
	CHECK_INT(snap_getpwnam(r, "nobody-here", &pw, buf, sizeof(buf)),
	          SNAP_NONE);
	CHECK_INT(snap_getpwnam(r, "a:b", &pw, buf, sizeof(buf)), SNAP_NONE);
	CHECK_INT(snap_getpwnam(r, "", &pw, buf, sizeof(buf)), SNAP_NONE);
	CHECK_INT(snap_getpwnam(r, "alice", &pw, buf, 5), -ERANGE);
	CHECK_INT(snap_getpwuid(r, 200004, &pw, buf, sizeof(buf)), 0);
	CHECK_STR(pw.pw_name, "dave.smith");
	CHECK_INT(snap_getpwuid(r, 0, &pw, buf, sizeof(buf)), SNAP_NONE);
	CHECK_INT(snap_getpwuid(r, 200999, &pw, buf, sizeof(buf)), SNAP_NONE);
	CHECK_INT(snap_getpwuid(r, 4000000000u, &pw, buf, sizeof(buf)),
	          SNAP_NONE);
	CHECK_INT(snap_getgrnam(r, "engineering", &gr, buf, sizeof(buf)), 0);
	CHECK_INT(gr.gr_gid, 210001);
	CHECK_STR(gr.gr_mem[1], "bob");
	CHECK_INT(snap_getgrgid(r, 210003, &gr, buf, sizeof(buf)), 0);
	CHECK_STR(gr.gr_name, "empty");
	CHECK(gr.gr_mem[0] == NULL);
	CHECK_INT(snap_getgrgid(r, 210009, &gr, buf, sizeof(buf)), SNAP_NONE);
	CHECK_INT(snap_get_meta(r, &m), 0);
	CHECK_INT(m.nusers, 4);
	CHECK_INT(m.nactive, 3);
	CHECK_INT(m.ngroups, 7);
	CHECK_STR(m.source, "https://bridge.test/scim");
}

static void test_enumeration(struct snap_reader *r)
{
	struct snap_cursor c = {0};
	struct passwd pw;
	struct group gr;
	char buf[1024];
	int n = 0;

	/* A short buffer returns ERANGE and the same entry comes next. */
	CHECK_INT(snap_getpwent(r, &c, &pw, buf, 4), -ERANGE);
	CHECK_INT(snap_getpwent(r, &c, &pw, buf, sizeof(buf)), 0);
	CHECK_STR(pw.pw_name, "alice");
	n = 1;
	while (snap_getpwent(r, &c, &pw, buf, sizeof(buf)) == 0) {
		/* A point lookup in the middle leaves the cursor alone. */
		struct passwd other;
		char obuf[512];

		CHECK_INT(snap_getpwnam(r, "alice", &other, obuf, sizeof(obuf)),
		          0);
		n++;
	}
	CHECK_INT(n, 4);
	CHECK_STR(pw.pw_name, "dave.smith");
	CHECK_INT(snap_getpwent(r, &c, &pw, buf, sizeof(buf)), SNAP_NONE);

	memset(&c, 0, sizeof(c));
	n = 0;
	while (snap_getgrent(r, &c, &gr, buf, sizeof(buf)) == 0)
		n++;
	CHECK_INT(n, 7);
	CHECK_STR(gr.gr_name, "empty");
}

static void test_initgroups(struct snap_reader *r)
{
	long int start = 0, size = 1;
	gid_t *groups = malloc(sizeof(gid_t));

	REQUIRE(groups != NULL);
	/* bob: engineering and ops; his primary gid is skipped by glibc. */
	CHECK_INT(snap_initgroups(r, "bob", 200002, &start, &size, &groups, 0),
	          0);
	CHECK_INT(start, 2);
	CHECK(size >= 2);
	CHECK_INT(groups[0], 210001);
	CHECK_INT(groups[1], 210002);
	/* Already listed gids are not repeated; SKIP is skipped. */
	start = 1;
	groups[0] = 210002;
	CHECK_INT(snap_initgroups(r, "bob", 210001, &start, &size, &groups, 0),
	          0);
	CHECK_INT(start, 1);
	/* The caller's limit stops the list without an error. */
	start = 0;
	CHECK_INT(snap_initgroups(r, "bob", 0, &start, &size, &groups, 1), 0);
	CHECK_INT(start, 1);
	start = 0;
	CHECK_INT(snap_initgroups(r, "empty-handed", 0, &start, &size, &groups,
	                          0),
	          SNAP_NONE);
	CHECK_INT(start, 0);
	free(groups);
}

static void test_accounts(struct snap_reader *r)
{
	struct snap_account a;

	CHECK_INT(snap_get_account(r, "alice", &a), 0);
	CHECK(a.active);
	CHECK_INT(a.uid, 200001);
	CHECK_INT(a.snapshot_created, 1700000000);
	CHECK_INT(snap_get_account(r, "carol", &a), 0);
	CHECK(!a.active);
	CHECK_INT(snap_get_account(r, "mallory", &a), SNAP_NONE);
	CHECK_INT(snap_user_in_group(r, "alice", "engineering"), 0);
	CHECK_INT(snap_user_in_group(r, "alice", "alice"), 0);
	CHECK_INT(snap_user_in_group(r, "alice", "ops"), SNAP_NONE);
	CHECK_INT(snap_user_in_group(r, "alice", "nosuch"), SNAP_NONE);
	CHECK_INT(snap_user_in_group(r, "nosuch", "ops"), SNAP_NONE);
}

/* The next lookup after a publish returns sees the new file. */
static void test_republish(struct snap_reader *r)
{
	struct passwd pw;
	char buf[512];

	REQUIRE(publish(path, 2, 0) == 0);
	CHECK_INT(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)), 0);
	CHECK_STR(pw.pw_gecos, "gen 2");
}

static void test_fork(struct snap_reader *r)
{
	struct passwd pw;
	char buf[512];
	int status;
	pid_t pid;

	REQUIRE(snap_getpwnam(r, "bob", &pw, buf, sizeof(buf)) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int ok = snap_getpwnam(r, "bob", &pw, buf, sizeof(buf)) == 0 &&
		         pw.pw_uid == 200002;
		_exit(ok ? 0 : 1);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_INT(snap_getpwnam(r, "bob", &pw, buf, sizeof(buf)), 0);
}

/* Every descriptor the reader opened is close-on-exec. */
static void test_cloexec(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		char target[256] = "";
		ssize_t n;
		char link[64];

		if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0)
			target[n] = '\0';
		if (strstr(target, dir) != NULL)
			CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	}
	closedir(d);
}

static int open_status(const char *p)
{
	struct snap_reader *r = reader_for(p);
	struct snap_meta m;
	int rc = snap_get_meta(r, &m);

	snap_reader_free(r);
	return rc;
}

static void copy_file(const char *from, const char *to, off_t len)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "head -c %lld '%s' >'%s' && chmod 644 '%s'",
	         (long long)len, from, to, to);
	REQUIRE(system(cmd) == 0);
}

/* A file LMDB accepts whose meta record says format version 99. */
static void write_future_version(const char *p)
{
	struct snap_meta m = {99, 1, 1, ID_MIN, ID_MAX, 0, 0, 0, "future"};
	struct rec_buf b = {0};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {4, (void *)"meta"}, v;

	rec_encode_meta(&b, &m);
	v.mv_size = b.len;
	v.mv_data = b.data;
	REQUIRE(mdb_env_create(&env) == 0);
	REQUIRE(mdb_env_open(env, p, MDB_NOSUBDIR | MDB_NOLOCK, 0644) == 0);
	REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	REQUIRE(mdb_dbi_open(txn, NULL, 0, &dbi) == 0);
	REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
	REQUIRE(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
	rec_buf_free(&b);
}

static void test_untrusted_and_damaged(void)
{
	char p[256], link[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/missing.mdb", dir);
	CHECK_INT(open_status(p), -ENOENT);
	CHECK_INT(open_status("relative/cache.mdb"), -EINVAL);

	REQUIRE(chmod(path, 0666) == 0);
	CHECK_INT(open_status(path), -EPERM);
	REQUIRE(chmod(path, 0664) == 0);
	CHECK_INT(open_status(path), -EPERM);
	REQUIRE(chmod(path, 0644) == 0);
	CHECK_INT(open_status(path), 0);

	REQUIRE(chmod(dir, 0777) == 0);
	CHECK_INT(open_status(path), -EPERM);
	REQUIRE(chmod(dir, 0755) == 0);

	snprintf(link, sizeof(link), "%s/link.mdb", dir);
	REQUIRE(symlink(path, link) == 0);
	CHECK_INT(open_status(link), -ELOOP);

	REQUIRE(stat(path, &st) == 0);
	snprintf(p, sizeof(p), "%s/truncated.mdb", dir);
	copy_file(path, p, st.st_size / 2);
	CHECK_INT(open_status(p), -EBADMSG);
	copy_file(path, p, 100);
	CHECK_INT(open_status(p), -EBADMSG);
	copy_file(path, p, 0);
	CHECK(open_status(p) < 0);

	snprintf(p, sizeof(p), "%s/garbage.mdb", dir);
	copy_file("/dev/urandom", p, 65536);
	CHECK_INT(open_status(p), -EBADMSG);

	snprintf(p, sizeof(p), "%s/future.mdb", dir);
	write_future_version(p);
	CHECK_INT(open_status(p), -EPROTONOSUPPORT);

	if (geteuid() == 0) {
		REQUIRE(chown(path, 1, 1) == 0);
		CHECK_INT(open_status(path), -EPERM);
		REQUIRE(chown(path, 0, 0) == 0);
	}
}

/* Longer than the interval at which threads recheck their snapshot. */
static void recheck_pause(void)
{
	struct timespec ts = {0, 20L * 1000000};

	nanosleep(&ts, NULL);
}

/* A live reader notices a file made writable in place. */
static void test_untrusted_in_place(struct snap_reader *r)
{
	struct passwd pw;
	char buf[512];

	CHECK_INT(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)), 0);
	REQUIRE(chmod(path, 0646) == 0);
	recheck_pause();
	CHECK_INT(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)), -EPERM);
	REQUIRE(chmod(path, 0644) == 0);
	CHECK_INT(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)), 0);
}

/* A snapshot truncated in place under a live reader gives errors, never
 * SIGBUS: at once for what the reader had not read yet, for everything
 * once the change is seen, and a snapshot published over it is read. */
static void test_truncated_in_place(void)
{
	char p[160], buf[512], name[32];
	struct passwd pw;
	struct snap_reader *r;
	int refused = 0, other = 0;

	snprintf(p, sizeof(p), "%s/truncated-live.mdb", dir);
	REQUIRE(publish(p, 7, 3000) == 0);
	r = copying_reader_for(p);
	CHECK_INT(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)), 0);
	REQUIRE(truncate(p, 4096) == 0);
	for (int i = 0; i < 3000; i++) {
		int rc;

		snprintf(name, sizeof(name), "user%d", i);
		rc = snap_getpwnam(r, name, &pw, buf, sizeof(buf));
		refused += rc == -EBADMSG;
		other += rc != 0 && rc != -EBADMSG;
	}
	CHECK(refused > 0);
	CHECK_INT(other, 0);
	recheck_pause();
	CHECK_INT(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)), -EBADMSG);
	CHECK_INT(snap_getpwuid(r, 200001, &pw, buf, sizeof(buf)), -EBADMSG);
	CHECK_INT(open_status(p), -EBADMSG);
	REQUIRE(truncate(p, 0) == 0);
	recheck_pause();
	CHECK(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)) < 0);
	REQUIRE(publish(p, 8, 0) == 0);
	CHECK_INT(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)), 0);
	CHECK_STR(pw.pw_gecos, "gen 8");
	snap_reader_free(r);
}

/* The reader reads LMDB's pages itself: bytes changed at random in the
 * meta pages, the root leaf and anywhere else, and random truncations,
 * give an answer or an error, never a crash (run under ASan and UBSan in
 * the sanitized build). */
static void test_damaged_pages(void)
{
	static uint8_t good[1 << 20], bad[1 << 20];
	char p[160], src[160], buf[2048];
	unsigned seed = 42;
	struct passwd pw;
	struct group gr;
	size_t n;
	FILE *fp;

	snprintf(src, sizeof(src), "%s/pages.mdb", dir);
	snprintf(p, sizeof(p), "%s/damaged.mdb", dir);
	REQUIRE(publish(src, 3, 300) == 0);
	fp = fopen(src, "rbe");
	REQUIRE(fp != NULL);
	n = fread(good, 1, sizeof(good), fp);
	fclose(fp);
	REQUIRE(n > 3 * 4096 && n < sizeof(good));
	for (int it = 0; it < 400; it++) {
		struct snap_cursor c = {0};
		struct snap_reader *r;
		size_t len = n;
		int fd;

		memcpy(bad, good, n);
		for (int k = 1 + rand_r(&seed) % 6; k > 0; k--) {
			size_t at = (size_t)rand_r(&seed) %
			            (rand_r(&seed) % 3 ? 3 * 4096 : n);
			bad[at] = (uint8_t)rand_r(&seed);
		}
		if (rand_r(&seed) % 8 == 0)
			len = (size_t)rand_r(&seed) % n;
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		REQUIRE(fd >= 0 && write(fd, bad, len) == (ssize_t)len);
		close(fd);
		r = copying_reader_for(p);
		CHECK(snap_getpwnam(r, "alice", &pw, buf, sizeof(buf)) <= 1);
		CHECK(snap_getgrgid(r, 210001, &gr, buf, sizeof(buf)) <= 1);
		for (int e = 0; e < 400; e++)
			if (snap_getpwent(r, &c, &pw, buf, sizeof(buf)) != 0)
				break;
		snap_reader_free(r);
	}
}

static void test_writer_refusals(void)
{
	struct snap_writer *w;
	char err[256];
	struct stat before, after;
	struct snap_meta meta = {.generation = 9};
	struct snap_user u = {"eve",       200050,    200050, "Eve",
	                      "/home/eve", "/bin/sh", true};
	struct snap_user dup = {"eve2",      200050,    200050, "Eve",
	                        "/home/eve", "/bin/sh", true};
	static const char *const ghost[] = {"ghost"};
	struct snap_group g = {"ghosts", 210050, 1, ghost};

	REQUIRE(snap_writer_new(ID_MIN, ID_MAX, &w) == 0);
	u.name = "ev:e";
	CHECK_INT(snap_writer_add_user(w, &u, err, sizeof(err)), -EINVAL);
	u.name = "eve";
	u.uid = 0;
	CHECK_INT(snap_writer_add_user(w, &u, err, sizeof(err)), -EINVAL);
	u.uid = 200050;
	u.gecos = "x\ny";
	CHECK_INT(snap_writer_add_user(w, &u, err, sizeof(err)), -EINVAL);
	u.gecos = "Eve";
	u.home = "relative";
	CHECK_INT(snap_writer_add_user(w, &u, err, sizeof(err)), -EINVAL);
	u.home = "/home/eve";
	CHECK_INT(snap_writer_add_user(w, &u, err, sizeof(err)), 0);
	CHECK_INT(snap_writer_add_user(w, &dup, err, sizeof(err)), 0);

	/* A refused publish leaves the live file exactly as it was. */
	REQUIRE(stat(path, &before) == 0);
	CHECK_INT(snap_writer_publish(w, path, &meta, err, sizeof(err)),
	          -EINVAL);
	CHECK(strstr(err, "200050") != NULL);
	snap_writer_free(w);

	REQUIRE(snap_writer_new(ID_MIN, ID_MAX, &w) == 0);
	CHECK_INT(snap_writer_add_user(w, &u, err, sizeof(err)), 0);
	CHECK_INT(snap_writer_add_group(w, &g, err, sizeof(err)), 0);
	CHECK_INT(snap_writer_publish(w, path, &meta, err, sizeof(err)),
	          -EINVAL);
	CHECK(strstr(err, "ghost") != NULL);
	snap_writer_free(w);

	REQUIRE(stat(path, &after) == 0);
	CHECK(before.st_ino == after.st_ino &&
	      before.st_mtime == after.st_mtime);
	CHECK_INT(snap_writer_new(0, 10, &w), -EINVAL);
	CHECK_INT(snap_writer_new(10, 0x80000000u, &w), -EINVAL);
}

/* ---- a borrowing writer: members by address and by content ---------- */

/* The gids snap_initgroups() lists for USER, skipping none. */
static long int gids_of(struct snap_reader *r, const char *user, gid_t *out,
                        long int max)
{
	long int start = 0, size = max;
	gid_t *groups = malloc((size_t)max * sizeof(gid_t));

	REQUIRE(groups != NULL);
	if (snap_initgroups(r, user, 0, &start, &size, &groups, max) != 0)
		start = 0;
	memcpy(out, groups, (size_t)start * sizeof(gid_t));
	free(groups);
	return start;
}

/* Members are usually the user's own name string (scim-cache interns
 * names), sometimes an equal copy; either way the same snapshot comes out,
 * every check still applies, and each user's gids are ascending and
 * listed once. */
static void test_borrowing_writer(void)
{
	char p[160], err[256], copy_alice[] = "alice", copy_bob[] = "bob";
	const char *alice = "alice", *bob = "bob", *carol = "carol";
	struct snap_user u[3] = {
	        {alice, 200001, 200001, "A", "/home/alice", "/bin/sh", true},
	        {bob, 200002, 200002, "B", "/home/bob", "/bin/sh", true},
	        {carol, 200003, 200003, "C", "/home/carol", "/bin/sh", false},
	};
	/* Added before carol exists, out of gid order, one repeat. */
	const char *late[] = {carol, bob, copy_bob};
	const char *high[] = {alice, copy_alice, bob};
	const char *low[] = {bob};
	const char *bad[] = {alice, "not:a:name"};
	struct snap_group g[3] = {{"late", 210003, 3, late},
	                          {"high", 210002, 3, high},
	                          {"low", 210001, 1, low}};
	struct snap_group gbad = {"bad", 210009, 2, bad};
	struct snap_meta meta = {.generation = 3, .created = 1700000000};
	struct snap_writer *w;
	struct snap_reader *r;
	struct group gr;
	char buf[1024];
	gid_t gids[8];

	snprintf(p, sizeof(p), "%s/borrow.mdb", dir);
	strcpy(meta.source, "borrowing");
	REQUIRE(snap_writer_new_borrowing(ID_MIN, ID_MAX, &w) == 0);
	CHECK_INT(snap_writer_add_user(w, &u[0], err, sizeof(err)), 0);
	CHECK_INT(snap_writer_add_user(w, &u[1], err, sizeof(err)), 0);
	CHECK_INT(snap_writer_add_group(w, &g[0], err, sizeof(err)), 0);
	CHECK_INT(snap_writer_add_group(w, &gbad, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "invalid member") != NULL);
	/* A member not yet a user is refused at publish, not before. */
	CHECK_INT(snap_writer_publish(w, p, &meta, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "member carol is not a user") != NULL);
	CHECK_INT(snap_writer_add_user(w, &u[2], err, sizeof(err)), 0);
	CHECK_INT(snap_writer_add_group(w, &g[1], err, sizeof(err)), 0);
	CHECK_INT(snap_writer_add_group(w, &g[2], err, sizeof(err)), 0);
	CHECK_INT(snap_writer_publish(w, p, &meta, err, sizeof(err)), 0);
	/* A second publish of the same writer gives the same answers. */
	CHECK_INT(snap_writer_publish(w, p, &meta, err, sizeof(err)), 0);

	r = reader_for(p);
	CHECK_INT(gids_of(r, "bob", gids, 8), 3);
	CHECK_INT(gids[0], 210001);
	CHECK_INT(gids[1], 210002);
	CHECK_INT(gids[2], 210003);
	CHECK_INT(gids_of(r, "alice", gids, 8), 1);
	CHECK_INT(gids[0], 210002);
	CHECK_INT(gids_of(r, "carol", gids, 8), 1);
	CHECK_INT(gids[0], 210003);
	CHECK_INT(snap_getgrnam(r, "late", &gr, buf, sizeof(buf)), 0);
	CHECK_STR(gr.gr_mem[0], "carol");
	CHECK_STR(gr.gr_mem[2], "bob");
	CHECK(gr.gr_mem[3] == NULL);
	snap_reader_free(r);

	/* Names given twice, by copy, are still refused. */
	u[2].name = copy_alice;
	u[2].uid = u[2].gid = 200009;
	CHECK_INT(snap_writer_add_user(w, &u[2], err, sizeof(err)), 0);
	CHECK_INT(snap_writer_publish(w, p, &meta, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "user name alice twice") != NULL);
	snap_writer_free(w);
}

/* ---- eight threads against fifty publishes ---------------------------- */

static atomic_int stop, failures, lookups;
static struct snap_reader *shared;

/* An answer must be right for its name and from a single generation. */
static bool consistent(const struct passwd *pw)
{
	unsigned long long g1, g2;
	char name[64];

	if (sscanf(pw->pw_gecos, "gen %llu", &g1) != 1 ||
	    sscanf(pw->pw_dir, "/home/g%llu/%63s", &g2, name) != 2)
		return false;
	return g1 == g2 && strcmp(name, pw->pw_name) == 0;
}

static void *lookup_thread(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char buf[512], name[32];
	struct passwd pw;

	while (!atomic_load(&stop)) {
		unsigned i = rand_r(&seed) % NSTRESS;
		int rc;

		snprintf(name, sizeof(name), "user%u", i);
		rc = i % 2 ? snap_getpwnam(shared, name, &pw, buf, sizeof(buf))
		           : snap_getpwuid(shared, 201000 + i, &pw, buf,
		                           sizeof(buf));
		if (rc != 0 || pw.pw_uid != 201000 + i || !consistent(&pw))
			atomic_fetch_add(&failures, 1);
		atomic_fetch_add(&lookups, 1);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[8];

	REQUIRE(publish(path, 100, NSTRESS) == 0);
	shared = reader_for(path);
	for (int i = 0; i < 8; i++)
		REQUIRE(pthread_create(&t[i], NULL, lookup_thread,
		                       (void *)(uintptr_t)(i + 1)) == 0);
	for (int gen = 101; gen <= 150; gen++)
		REQUIRE(publish(path, (uint64_t)gen, NSTRESS) == 0);
	atomic_store(&stop, 1);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	printf("threads: %d lookups over 50 publishes, %d failed\n",
	       atomic_load(&lookups), atomic_load(&failures));
	CHECK_INT(atomic_load(&failures), 0);
	CHECK(atomic_load(&lookups) > 0);
	snap_reader_free(shared);
}

/* Publishes people with the uids IDS (N, ascending), each named after
 * its uid, GEN in the gecos. */
static void publish_ids(const char *where, uint64_t gen, const uint32_t *ids,
                        size_t n)
{
	struct snap_meta meta = {.generation = gen, .created = 1700000000};
	struct snap_writer *w;
	char err[256], gecos[32], name[32];

	strcpy(meta.source, "https://bridge.test/scim");
	REQUIRE(snap_writer_new(ID_MIN, ID_MAX, &w) == 0);
	snprintf(gecos, sizeof(gecos), "gen %llu", (unsigned long long)gen);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "u%u", ids[i]);
		struct snap_user u = {name,    ids[i],    ids[i], gecos,
		                      "/home", "/bin/sh", true};
		struct snap_group g = {name, ids[i], 0, NULL};

		REQUIRE(snap_writer_add_user(w, &u, err, sizeof(err)) == 0);
		REQUIRE(snap_writer_add_group(w, &g, err, sizeof(err)) == 0);
	}
	REQUIRE(snap_writer_publish(w, where, &meta, err, sizeof(err)) == 0);
	snap_writer_free(w);
}

/* A cursor goes on in a snapshot published in the middle of an
 * enumeration at the first uid past the last one it returned, whether
 * entries were added or removed before it: nothing returned twice,
 * nothing past it skipped. */
static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static void test_cursor_across_publish(void)
{
	static uint32_t a[400], b[400];
	char p[160], buf[512];
	struct passwd pw;

	snprintf(p, sizeof(p), "%s/cursor.mdb", dir);
	for (int shift = -30; shift <= 30; shift += 15) {
		struct snap_cursor c = {0}, other;
		struct snap_reader *r;
		uint32_t last = 0;
		size_t na = 0, nb = 0, k;

		for (uint32_t id = 201000; id < 201600; id += 2)
			a[na++] = id;
		publish_ids(p, 1, a, na);
		r = copying_reader_for(p);
		for (int e = 0; e < 100; e++) {
			REQUIRE(snap_getpwent(r, &c, &pw, buf, sizeof(buf)) ==
			        0);
			CHECK(pw.pw_uid > last);
			last = pw.pw_uid;
		}
		/* Odd uids added before the cursor (SHIFT > 0) or even ones
		 * removed (SHIFT < 0), and the uid right after the cursor's
		 * last added. */
		for (k = 0; k < na; k++)
			if (shift >= 0 || k >= (size_t)-shift)
				b[nb++] = a[k];
		for (k = 0; shift > 0 && k < (size_t)shift; k++)
			b[nb++] = a[k] + 1;
		b[nb++] = last + 1;
		qsort(b, nb, sizeof(b[0]), cmp_u32);
		publish_ids(p, 2, b, nb);
		recheck_pause();
		/* Another enumeration has read the new file's tables first. */
		memset(&other, 0, sizeof(other));
		CHECK_INT(snap_getpwent(r, &other, &pw, buf, sizeof(buf)), 0);
		CHECK_INT(pw.pw_uid, b[0]);
		for (k = 0; k < nb && b[k] <= last; k++)
			;
		while (snap_getpwent(r, &c, &pw, buf, sizeof(buf)) == 0) {
			REQUIRE(k < nb);
			CHECK_INT(pw.pw_uid, b[k]);
			CHECK_STR(pw.pw_gecos, "gen 2");
			k++;
		}
		CHECK_INT(k, nb);
		snap_reader_free(r);
	}
}

int main(void)
{
	struct snap_reader *r;

	strcpy(dir, "/tmp/nss-scim-reader.XXXXXX");
	REQUIRE(mkdtemp(dir) != NULL);
	REQUIRE(chmod(dir, 0755) == 0);
	snprintf(path, sizeof(path), "%s/cache.mdb", dir);
	REQUIRE(publish(path, 1, 0) == 0);

	r = reader_for(path);
	test_lookups(r);
	test_enumeration(r);
	test_initgroups(r);
	test_accounts(r);
	test_cloexec();
	test_fork(r);
	test_untrusted_in_place(r);
	test_republish(r);
	snap_reader_free(r);
	test_untrusted_and_damaged();
	test_truncated_in_place();
	test_cursor_across_publish();
	test_damaged_pages();
	test_writer_refusals();
	test_borrowing_writer();
	test_threads();

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return test_result();
}

/* SPDX-License-Identifier: MIT */
/*
 * fuzz-reader.c: the snapshot reader (cache/reader.c) on arbitrary bytes
 * as a snapshot file.  Each input is written to a file in a private
 * directory and read through the real paths: the open with its trust
 * checks, the meta pages and the B-tree of LMDB's format, the tables,
 * every point lookup, enumeration with short buffers, initgroups and the
 * PAM queries; once by a copying reader (the one inside every process)
 * and once by a mapping one (scim-cache's).  Seeds are real snapshots
 * made by tests/helpers/mksnap (seed-reader.sh).
 *
 * Beyond "no crash, no sanitizer report" it checks what the reader
 * promises its callers (snap.h): no uid or gid 0 and no empty name is
 * ever returned, and a cursor is not moved by a short buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENUM_MAX 4096 /* entries enumerated per kind and input */

static char dir[] = "/tmp/fuzz-reader.XXXXXX";
static char path[sizeof(dir) + 16];
static char buf[1 << 16];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	if (path[0] != '\0')
		return;
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/cache.mdb", dir);
	atexit(cleanup);
}

static int write_snapshot(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;

	if (fd < 0)
		abort();
	/* Exactly 0644 whatever the umask: the reader refuses a file that
	 * others may write. */
	if (fchmod(fd, 0644) < 0)
		abort();
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	close(fd);
	return 0;
}

static void check_pw(const struct passwd *pw)
{
	if (pw->pw_uid == 0 || pw->pw_gid == 0 || pw->pw_name == NULL ||
	    pw->pw_name[0] == '\0' || pw->pw_dir == NULL ||
	    pw->pw_shell == NULL || pw->pw_gecos == NULL)
		abort();
}

static void check_gr(const struct group *gr)
{
	if (gr->gr_gid == 0 || gr->gr_name == NULL || gr->gr_name[0] == '\0' ||
	    gr->gr_mem == NULL)
		abort();
	for (char **m = gr->gr_mem; *m != NULL; m++)
		if (**m == '\0')
			abort();
}

/* A buffer length that is sometimes too short, from the entry's number. */
static size_t buflen_for(unsigned i)
{
	static const size_t lens[] = {sizeof(buf), 8, 64, 200, sizeof(buf)};

	return lens[i % (sizeof(lens) / sizeof(lens[0]))];
}

/* Looks up by name and by number what an enumeration returned, so that the
 * hash probes run on names and ids the file itself holds. */
static void users(struct snap_reader *r)
{
	struct snap_cursor c = {0};
	struct passwd pw;
	struct snap_account acct;
	char name[SNAP_NAME_MAX + 1];
	long int start = 0, size = 0;
	gid_t *groups = NULL;

	for (unsigned i = 0; i < ENUM_MAX; i++) {
		struct snap_cursor before = c;
		uid_t uid;
		int rc = snap_getpwent(r, &c, &pw, buf, buflen_for(i));

		if (rc == -ERANGE) {
			if (memcmp(&before, &c, sizeof(c)) != 0)
				abort(); /* a short buffer moved the cursor */
			continue;
		}
		if (rc != 0)
			break;
		check_pw(&pw);
		snprintf(name, sizeof(name), "%s", pw.pw_name);
		uid = pw.pw_uid;
		if (snap_getpwnam(r, name, &pw, buf, sizeof(buf)) == 0)
			check_pw(&pw);
		if (snap_getpwuid(r, uid, &pw, buf, sizeof(buf)) == 0)
			check_pw(&pw);
		snap_get_account(r, name, &acct);
		if (i < 64) {
			start = 0;
			snap_initgroups(r, name, 0, &start, &size, &groups,
			                i % 2 ? 3 : 0);
			snap_user_in_group(r, name, name);
		}
	}
	free(groups);
}

static void groups(struct snap_reader *r)
{
	struct snap_cursor c = {0};
	struct group gr;
	char name[SNAP_NAME_MAX + 1];

	for (unsigned i = 0; i < ENUM_MAX; i++) {
		struct snap_cursor before = c;
		gid_t gid;
		int rc = snap_getgrent(r, &c, &gr, buf, buflen_for(i));

		if (rc == -ERANGE) {
			if (memcmp(&before, &c, sizeof(c)) != 0)
				abort();
			continue;
		}
		if (rc != 0)
			break;
		check_gr(&gr);
		snprintf(name, sizeof(name), "%s", gr.gr_name);
		gid = gr.gr_gid;
		if (snap_getgrnam(r, name, &gr, buf, sizeof(buf)) == 0)
			check_gr(&gr);
		if (snap_getgrgid(r, gid, &gr, buf, sizeof(buf)) == 0)
			check_gr(&gr);
	}
}

/* The lookups a first lookup in a fresh process makes, before anything is
 * enumerated: a name and a number the seeds hold, and a miss. */
static void points(struct snap_reader *r)
{
	static const char *const names[] = {"ann", "bo", "eng", "nobody-here"};
	struct passwd pw;
	struct group gr;
	struct snap_meta m;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (snap_getpwnam(r, names[i], &pw, buf, sizeof(buf)) == 0)
			check_pw(&pw);
		if (snap_getgrnam(r, names[i], &gr, buf, sizeof(buf)) == 0)
			check_gr(&gr);
	}
	if (snap_getpwuid(r, 1001, &pw, buf, sizeof(buf)) == 0)
		check_pw(&pw);
	if (snap_getgrgid(r, 1003, &gr, buf, 16) == 0)
		check_gr(&gr);
	snap_get_meta(r, &m);
}

static void read_all(bool copying)
{
	struct snap_reader *r;
	int rc = copying ? snap_reader_new_copying(path, geteuid(), &r)
	                 : snap_reader_new(path, geteuid(), &r);

	if (rc != 0)
		abort();
	points(r);
	users(r);
	groups(r);
	snap_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	write_snapshot(data, size);
	read_all(true);
	read_all(false);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * test-safedir: the writer refuses to write where anyone else could swap
 * a name under it, and never follows a link to do it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safedir.h"
#include "snap.h"
#include "test.h"

static char top[] = "/tmp/nss-scim-safedir.XXXXXX";

static void path(char *out, const char *rel)
{
	snprintf(out, 512, "%s/%s", top, rel);
}

static void make_dir(const char *rel, mode_t mode)
{
	char p[512];

	path(p, rel);
	REQUIRE(mkdir(p, 0700) == 0);
	REQUIRE(chmod(p, mode) == 0);
}

/* Publishes one person at REL; returns the writer's code, error in ERR. */
static int publish(const char *rel, char *err, size_t errlen)
{
	struct snap_user u = {"eve",       1879048200, 1879048200, "Eve",
	                      "/home/eve", "/bin/sh",  true};
	struct snap_meta meta = {.generation = 1, .created = 1};
	struct snap_writer *w;
	char p[512];
	int rc;

	path(p, rel);
	snprintf(meta.source, sizeof(meta.source), "test");
	REQUIRE(snap_writer_new(1879048192, 2147352575, &w) == 0);
	REQUIRE(snap_writer_add_user(w, &u, err, errlen) == 0);
	rc = snap_writer_publish(w, p, &meta, err, errlen);
	snap_writer_free(w);
	return rc;
}

/* Nothing but what the test made is in REL. */
static int entries(const char *rel)
{
	char cmd[600];
	FILE *f;
	int n = 0, c;

	snprintf(cmd, sizeof(cmd), "ls -A '%s/%s'", top, rel);
	f = popen(cmd, "r");
	REQUIRE(f != NULL);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	pclose(f);
	return n;
}

static void refused(const char *rel, int want, const char *why)
{
	char err[512] = "";

	CHECK_INT(publish(rel, err, sizeof(err)), want);
	if (strstr(err, why) == NULL) {
		fprintf(stderr, "%s: error '%s' lacks '%s'\n", rel, err, why);
		test_failures++;
	}
}

int main(void)
{
	char err[512], p[512], q[512];
	struct stat st;
	int fd;

	REQUIRE(mkdtemp(top) != NULL);
	REQUIRE(chmod(top, 0755) == 0);
	make_dir("ok", 0755);
	make_dir("open", 0777);
	make_dir("sticky", 01777);
	make_dir("group", 0775);
	make_dir("sticky/below", 0755);
	make_dir("open/below", 0755);
	make_dir("real", 0755);
	path(p, "real");
	path(q, "link");
	REQUIRE(symlink(p, q) == 0);

	/* A trusted directory: published, mode 0644, nothing else left. */
	CHECK_INT(publish("ok/cache.mdb", err, sizeof(err)), 0);
	path(p, "ok/cache.mdb");
	REQUIRE(stat(p, &st) == 0);
	CHECK_INT(st.st_mode & 07777, 0644);
	CHECK_INT(entries("ok"), 1);

	/* Another user could swap names in these. */
	refused("open/cache.mdb", -EPERM, "writable by group or others");
	refused("group/cache.mdb", -EPERM, "writable by group or others");
	refused("sticky/cache.mdb", -EPERM, "writable by group or others");
	refused("open/below/cache.mdb", -EPERM, "/open is writable");
	CHECK_INT(entries("open"), 1);
	CHECK_INT(entries("open/below"), 0);
	CHECK_INT(entries("group"), 0);
	/* Below a sticky ancestor (/tmp), as the reader allows. */
	CHECK_INT(publish("sticky/below/cache.mdb", err, sizeof(err)), 0);
	/* A link on the way is not followed. */
	refused("link/cache.mdb", -ELOOP, "symbolic link");
	CHECK_INT(entries("real"), 0);

	/* make_dirs' walk: creates with the mode asked for, refuses below
	 * an open directory or through a link. */
	path(p, "ok/a/b");
	fd = safedir_open(p, true, 0750, err, sizeof(err));
	REQUIRE(fd >= 0);
	close(fd);
	REQUIRE(stat(p, &st) == 0);
	CHECK_INT(st.st_mode & 07777, 0750);
	path(p, "open/new");
	CHECK_INT(safedir_open(p, true, 0755, err, sizeof(err)), -EPERM);
	CHECK_INT(entries("open"), 1);
	path(p, "link/new");
	CHECK_INT(safedir_open(p, true, 0755, err, sizeof(err)), -ELOOP);
	CHECK_INT(entries("real"), 0);
	path(p, "ok/cache.mdb/x");
	CHECK_INT(safedir_open(p, true, 0755, err, sizeof(err)), -ENOTDIR);

	snprintf(p, sizeof(p), "rm -rf '%s'", top);
	CHECK_INT(system(p), 0);
	return test_result();
}

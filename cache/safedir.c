/* SPDX-License-Identifier: MIT */
/*
 * safedir.c: see safedir.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "safedir.h"

/* Checks the directory open at FD, which is PATH, as the last component
 * (LAST) or an ancestor. */
static int check(int fd, const char *path, bool last, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return set_error(err, errlen, -errno, "%s: %s", path,
		                 strerror(errno));
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return set_error(
		        err, errlen, -EPERM,
		        "%s is owned by uid %u, not root; refusing to write "
		        "below it",
		        path, (unsigned)st.st_uid);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    (last || !(st.st_mode & S_ISVTX)))
		return set_error(
		        err, errlen, -EPERM,
		        "%s is writable by group or others; refusing to "
		        "write below it",
		        path);
	return 0;
}

/* O_DIRECTORY|O_NOFOLLOW on a link fails with ENOTDIR or ELOOP; say
 * which it was. */
static bool is_link(int parent, const char *name)
{
	struct stat st;
	int saved = errno;
	bool link = fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	            S_ISLNK(st.st_mode);

	errno = saved;
	return link;
}

/* Opens NAME below PARENT (which is PATH up to NAME), making it first when
 * CREATE and it is missing. */
static int step(int parent, const char *name, const char *path, bool create,
                mode_t mode, char *err, size_t errlen)
{
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(parent, name, flags);

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
			return set_error(err, errlen, -errno,
			                 "cannot create %s: %s", path,
			                 strerror(errno));
		fd = openat(parent, name, flags);
		/* mkdirat obeys the umask; the mode asked for is the one
		 * the directory must have. */
		if (fd >= 0 && fchmod(fd, mode) < 0) {
			close(fd);
			return set_error(err, errlen, -errno, "chmod %s: %s",
			                 path, strerror(errno));
		}
	}
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR) &&
	    is_link(parent, name))
		return set_error(err, errlen, -ELOOP,
		                 "%s is a symbolic link; refusing to follow it",
		                 path);
	if (fd < 0)
		return set_error(err, errlen, -errno, "%s: %s", path,
		                 strerror(errno));
	return fd;
}

int safedir_open(const char *dir, bool create, mode_t mode, char *err,
                 size_t errlen)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);
	char *p = path + 1;
	int fd, rc;

	if (dir[0] != '/' || len >= sizeof(path))
		return set_error(err, errlen, -EINVAL,
		                 "%s: not an absolute path", dir);
	memcpy(path, dir, len + 1);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return set_error(err, errlen, -errno, "/: %s", strerror(errno));
	p += strspn(p, "/");
	rc = check(fd, "/", *p == '\0', err, errlen);
	/* PATH is cut after each component in turn, so that messages name
	 * the directory in question. */
	while (rc == 0 && *p != '\0') {
		char *end = p + strcspn(p, "/");
		char c = *end;
		int child;

		*end = '\0';
		child = step(fd, p, path, create, mode, err, errlen);
		close(fd);
		if (child < 0) {
			*end = c;
			return child;
		}
		fd = child;
		rc = check(fd, path, c == '\0', err, errlen);
		*end = c;
		p = end + strspn(end, "/");
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

/* SPDX-License-Identifier: MIT */
/*
 * local.c: see local.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local.h"
#include "util.h"

#define LOCAL_FILE_MAX (64u << 20)

/* NAME:x:ID:...; the third field (and, for passwd, the fourth) are ids. */
static int parse_line(struct localdb *db, char *line, bool is_group)
{
	char *f[4] = {0};
	size_t n = 0;
	uint32_t id;
	int r;

	if (line[0] == '\0' || line[0] == '#' || line[0] == '+' ||
	    line[0] == '-')
		return 0;
	f[n++] = line;
	for (char *p = line; *p && n < 4; p++)
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	if (n < 3 || f[0][0] == '\0')
		return 0;
	if (n == 4)
		f[3][strcspn(f[3], ":")] = '\0';
	r = strmap_put(is_group ? &db->groups : &db->users, f[0], 0);
	if (r == 0 && parse_u32(f[2], 0, UINT32_MAX, &id) == 0)
		r = numset_add(&db->ids, id);
	if (r == 0 && !is_group && n == 4 &&
	    parse_u32(f[3], 0, UINT32_MAX, &id) == 0)
		r = numset_add(&db->ids, id);
	return r;
}

int localdb_parse(struct localdb *db, const char *text, size_t len,
                  bool is_group)
{
	const char *p = text, *end = text + len;
	int r = 0;

	while (r == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = strndup(p, n);

		if (line == NULL)
			return -ENOMEM;
		r = parse_line(db, line, is_group);
		free(line);
		p += n + 1;
	}
	return r;
}

static int load_one(struct localdb *db, const char *path, bool is_group,
                    char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	/* Not read_file(): these may legitimately be symlinks. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	r = fd < 0 ? -errno : read_fd(fd, LOCAL_FILE_MAX, &text, &len);
	if (fd >= 0)
		close(fd);
	if (r == 0) {
		db->digest = fnv1a(db->digest, text, len);
		r = localdb_parse(db, text, len, is_group);
	}
	if (r < 0)
		snprintf(err, errlen, "reading %s: %s", path, strerror(-r));
	free(text);
	return r;
}

int localdb_load(struct localdb *db, const char *passwd, const char *group,
                 char *err, size_t errlen)
{
	int r;

	*db = (struct localdb){.digest = FNV1A_INIT};
	r = load_one(db, passwd, false, err, errlen);
	if (r == 0)
		r = load_one(db, group, true, err, errlen);
	if (r < 0)
		localdb_free(db);
	return r;
}

void localdb_free(struct localdb *db)
{
	strmap_free(&db->users);
	strmap_free(&db->groups);
	numset_free(&db->ids);
}

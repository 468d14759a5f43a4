/* SPDX-License-Identifier: MIT */
/*
 * mksnap: build a snapshot with the real writer from passwd- and
 * group-format text files, so that tests never carry binary fixtures.
 *
 *   mksnap --passwd FILE --group FILE [--inactive NAME,...] [--generation N]
 *          [--id-min N] [--id-max N] [--source TEXT] [--created EPOCH] OUT
 *
 * --created sets the meta record's creation time (default: now), so that
 * tests can build a snapshot that is already old.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snap.h"

#define MAX_MEMBERS 200000

static int usage(void)
{
	fprintf(stderr, "usage: mksnap --passwd FILE --group FILE "
	                "[--inactive NAMES] [--generation N] [--id-min N] "
	                "[--id-max N] [--source TEXT] [--created EPOCH] OUT\n");
	return 2;
}

static uint32_t num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v > UINT32_MAX) {
		fprintf(stderr, "mksnap: bad number '%s'\n", s);
		exit(2);
	}
	return (uint32_t)v;
}

/* Splits LINE at ':' into at most N fields; returns how many. */
static int split(char *line, char **f, int n)
{
	int i = 0;

	line[strcspn(line, "\n")] = '\0';
	f[i++] = line;
	for (char *p = line; *p && i < n; p++) {
		if (*p == ':') {
			*p = '\0';
			f[i++] = p + 1;
		}
	}
	return i;
}

static bool listed(const char *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n == len && strncmp(p, name, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

static int add_users(struct snap_writer *w, const char *path,
                     const char *inactive)
{
	char line[8192], err[256], *f[7];
	FILE *fp = fopen(path, "re");
	int rc = 0;

	if (fp == NULL)
		return -errno;
	while (rc == 0 && fgets(line, sizeof(line), fp)) {
		struct snap_user u;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (split(line, f, 7) != 7) {
			fprintf(stderr, "mksnap: %s: bad line\n", path);
			rc = -EINVAL;
			break;
		}
		u = (struct snap_user){f[0],
		                       num(f[2]),
		                       num(f[3]),
		                       f[4],
		                       f[5],
		                       f[6],
		                       !listed(inactive, f[0])};
		rc = snap_writer_add_user(w, &u, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "mksnap: %s\n", err);
	}
	fclose(fp);
	return rc;
}

static int add_groups(struct snap_writer *w, const char *path)
{
	static char line[1 << 22];
	static const char *members[MAX_MEMBERS];
	char err[256], *f[4];
	FILE *fp = fopen(path, "re");
	int rc = 0;

	if (fp == NULL)
		return -errno;
	while (rc == 0 && fgets(line, sizeof(line), fp)) {
		struct snap_group g = {0};

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (split(line, f, 4) != 4) {
			fprintf(stderr, "mksnap: %s: bad line\n", path);
			rc = -EINVAL;
			break;
		}
		for (char *m = strtok(f[3], ","); m && g.nmembers < MAX_MEMBERS;
		     m = strtok(NULL, ","))
			members[g.nmembers++] = m;
		g.name = f[0];
		g.gid = num(f[2]);
		g.members = members;
		rc = snap_writer_add_group(w, &g, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "mksnap: %s\n", err);
	}
	fclose(fp);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"passwd", required_argument, NULL, 'p'},
	        {"group", required_argument, NULL, 'g'},
	        {"inactive", required_argument, NULL, 'i'},
	        {"generation", required_argument, NULL, 'n'},
	        {"id-min", required_argument, NULL, 'a'},
	        {"id-max", required_argument, NULL, 'b'},
	        {"source", required_argument, NULL, 's'},
	        {"created", required_argument, NULL, 'c'},
	        {NULL, 0, NULL, 0},
	};
	const char *pw = NULL, *gr = NULL, *inactive = NULL;
	struct snap_meta meta = {.generation = 1, .created = -1};
	uint32_t id_min = 1, id_max = SNAP_ID_LIMIT;
	struct snap_writer *w = NULL;
	char err[512];
	int c, rc;

	snprintf(meta.source, sizeof(meta.source), "mksnap");
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pw = optarg;
			break;
		case 'g':
			gr = optarg;
			break;
		case 'i':
			inactive = optarg;
			break;
		case 'n':
			meta.generation = num(optarg);
			break;
		case 'a':
			id_min = num(optarg);
			break;
		case 'b':
			id_max = num(optarg);
			break;
		case 'c':
			meta.created = num(optarg);
			break;
		case 's':
			snprintf(meta.source, sizeof(meta.source), "%s",
			         optarg);
			break;
		default:
			return usage();
		}
	}
	if (!pw || !gr || optind != argc - 1)
		return usage();
	if (meta.created < 0)
		meta.created = (int64_t)time(NULL);
	rc = snap_writer_new(id_min, id_max, &w);
	if (rc == 0)
		rc = add_users(w, pw, inactive);
	if (rc == 0)
		rc = add_groups(w, gr);
	if (rc == 0) {
		rc = snap_writer_publish(w, argv[optind], &meta, err,
		                         sizeof(err));
		if (rc < 0)
			fprintf(stderr, "mksnap: %s\n", err);
	} else if (rc != -EINVAL) {
		fprintf(stderr, "mksnap: %s\n", strerror(-rc));
	}
	snap_writer_free(w);
	return rc < 0 ? 1 : 0;
}

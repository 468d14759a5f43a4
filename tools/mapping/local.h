/* SPDX-License-Identifier: MIT */
/*
 * local.h: the names and numbers of the local /etc/passwd and /etc/group,
 * read from the files themselves (never through NSS, which would ask our
 * own module back).  A SCIM entry that would use any of them is skipped.
 */
#ifndef SCIM_LOCAL_H
#define SCIM_LOCAL_H

#include <stdbool.h>
#include <stdint.h>

#include "table.h"

struct localdb {
	struct strmap users;  /* names in the passwd file */
	struct strmap groups; /* names in the group file */
	struct numset ids;    /* every uid and gid in either file */
	uint64_t digest;      /* FNV-1a-64 of both files' bytes */
};

/* Reads PASSWD and GROUP.  Returns 0, or a negative errno with a one-line
 * reason in ERR (a missing file is an error: without it we cannot know
 * what not to shadow).  Malformed lines are ignored. */
int localdb_load(struct localdb *db, const char *passwd, const char *group,
                 char *err, size_t errlen);

/* Parses passwd-format (IS_GROUP false) or group-format text. */
int localdb_parse(struct localdb *db, const char *text, size_t len,
                  bool is_group);

void localdb_free(struct localdb *db);

#endif
